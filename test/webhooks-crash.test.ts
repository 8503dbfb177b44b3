/**
 * Chaos for webhooks: `vmcloud serve` killed with SIGKILL while it delivers to a slow receiver, then
 * restarted. Nothing is lost: every server event of the project reaches the receiver at least once (its
 * delivery rows were written with the event; leases of the killed replica run out and the deliveries are
 * sent again), and every delivery ends `succeeded`. Duplicates are allowed and counted: the delivery in
 * flight at the kill is one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { startServeProcess, stopProcess, readCliConfig, type ServeProcess } from './serve-process.ts';

async function api(url: string, token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: (await response.json().catch(() => null)) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  deadlineMs: number,
  describe?: () => string,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${describe ? `: ${describe()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

test('webhooks: kill -9 of the replica during delivery loses nothing (at least once; duplicates counted)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vmcloud-webhook-crash-'));
  // The receiver answers after 20 ms; its third request is held unanswered: the replica is killed while
  // that delivery is in flight (it must be sent again once the dead replica's lease runs out).
  const attemptsById = new Map<string, number>();
  const eventIds = new Set<string>();
  let midDelivery!: () => void;
  const deliveryInFlight = new Promise<void>((resolve) => (midDelivery = resolve));
  let held = false;
  const receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const id = String(request.headers['webhook-id']);
      attemptsById.set(id, (attemptsById.get(id) ?? 0) + 1);
      eventIds.add((JSON.parse(body) as { data: { event_id: string } }).data.event_id);
      if (!held && attemptsById.size >= 3) {
        held = true;
        midDelivery();
        return; // never answered: the replica dies waiting
      }
      setTimeout(() => response.writeHead(204).end(), 20);
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const env = {
    VMCLOUD_DATA_DIR: join(dir, 'data'),
    VMCLOUD_CONFIG: join(dir, 'cli.json'),
    VMCLOUD_WEBHOOK_ALLOW_PRIVATE: '1',
    PORT: '0',
    LOG_LEVEL: 'warn',
  };
  let serve: ServeProcess | null = null;
  t.after(async () => {
    if (serve) await stopProcess(serve.child, 'SIGKILL');
    receiver.closeAllConnections();
    receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  serve = await startServeProcess([], env);
  const token = readCliConfig(env.VMCLOUD_CONFIG).profiles.default.token!;
  const hook = await api(serve.url, token, 'POST', '/v1/webhooks', { url: hookUrl, events: ['server.*'] });
  assert.equal(hook.status, 201, JSON.stringify(hook.body));
  const endpointId = hook.body.webhook.id as string;

  const creates = await Promise.all(
    Array.from({ length: 12 }, (_, i) =>
      api(serve!.url, token, 'POST', '/v1/servers', {
        name: `hooked-${i}`,
        product: 'vps-nano',
        region: ['par1', 'fra1', 'ams1'][i % 3],
        image: 'debian-12',
      }),
    ),
  );
  for (const created of creates) assert.equal(created.status, 202, JSON.stringify(created.body));
  await deliveryInFlight;
  const receivedBeforeKill = attemptsById.size;
  await stopProcess(serve.child, 'SIGKILL');
  serve = await startServeProcess([], env);
  const url = serve.url;

  // Every server event of the project is received, and every delivery ends succeeded.
  let lastSeen = '';
  const serverEvents = await until(
    'every server event delivered',
    async () => {
      const page = await api(url, token, 'GET', '/v1/events?after=0&limit=1000');
      const ids = (page.body.events as { id: string; type: string }[])
        .filter((e) => e.type.startsWith('server.'))
        .map((e) => e.id);
      const deliveries = await api(url, token, 'GET', `/v1/webhooks/${endpointId}/deliveries?limit=500`);
      const statuses = (deliveries.body.deliveries as { status: string }[]).map((d) => d.status);
      const missing = ids.filter((id) => !eventIds.has(id));
      const counts: Record<string, number> = {};
      for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
      lastSeen = `events ${ids.length}, not received ${missing.length}, deliveries ${JSON.stringify(counts)}`;
      return ids.length > 0 && missing.length === 0 && statuses.every((s) => s === 'succeeded') ? ids : undefined;
    },
    60_000,
    () => lastSeen,
  );
  const deliveries = (await api(url, token, 'GET', `/v1/webhooks/${endpointId}/deliveries?limit=500`)).body
    .deliveries as { id: string; event_id: string }[];
  assert.equal(deliveries.length, serverEvents.length, 'one delivery per event');
  assert.ok(
    deliveries.every((d) => attemptsById.has(d.id)),
    'every delivery reached the receiver under its webhook-id',
  );
  const duplicates = [...attemptsById.values()].reduce((sum, n) => sum + n - 1, 0);
  assert.ok(duplicates >= 1, 'the delivery in flight at the kill was sent again');
  t.diagnostic(
    `events ${serverEvents.length}, received before the kill ${receivedBeforeKill}, duplicates ${duplicates}`,
  );
  await stopProcess(serve.child);
  serve = null;
});
