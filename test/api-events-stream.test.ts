/**
 * `GET /v1/events/stream` (Server-Sent Events) on SQLite and PostgreSQL: a project's events as they
 * happen, resumed with Last-Event-ID after a cut without loss or repetition; another tenant sees none of
 * them; no token → 401 problem+json; a stream whose token is revoked ends at its next heartbeat; a stream
 * filtered by resource carries that resource's events only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSse, type SseMessage } from '../src/client/index.ts';
import { startTestControlPlane, testDialects, until } from './helpers.ts';

interface Stream {
  messages: SseMessage[];
  close(): void;
  done: Promise<void>;
}

async function openStream(url: string, token: string, lastEventId?: string, query = ''): Promise<Stream> {
  const controller = new AbortController();
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (lastEventId) headers['last-event-id'] = lastEventId;
  const response = await fetch(`${url}/v1/events/stream${query}`, { headers, signal: controller.signal });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type')!, /^text\/event-stream/);
  const messages: SseMessage[] = [];
  const done = (async () => {
    try {
      for await (const message of parseSse(response.body as unknown as AsyncIterable<Uint8Array>))
        messages.push(message);
    } catch {
      // aborted
    }
  })();
  return { messages, close: () => controller.abort(), done };
}

const typesOf = (messages: SseMessage[], id: string) =>
  messages
    .map((m) => JSON.parse(m.data) as { type: string; resource: { id: string } })
    .filter((e) => e.resource.id === id)
    .map((e) => e.type);

for (const dialect of testDialects()) {
  test(`the event stream as Server-Sent Events, resumable (${dialect})`, { timeout: 60_000 }, async (t) => {
    const cp = await startTestControlPlane(dialect);
    t.after(() => cp.dispose());
    const refused = await fetch(`${cp.url}/v1/events/stream`);
    assert.equal(refused.status, 401);
    assert.equal(((await refused.json()) as { code: string }).code, 'unauthenticated');

    const other = await cp.call('POST', '/v1/projects', {
      token: cp.secrets.operatorToken,
      body: { name: 'other', owner_email: 'other@example.com' },
    });
    const stranger = await openStream(cp.url, other.body.secret);
    const first = await openStream(cp.url, cp.secrets.projectToken);
    t.after(() => (first.close(), stranger.close()));

    const created = await cp.call('POST', '/v1/servers', {
      body: { name: 'streamed', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
    });
    const serverId: string = created.body.server.id;
    await cp.waitForAction(created.body.action.id);
    await until('started seen live', () => typesOf(first.messages, serverId).includes('server.started'));
    first.close();
    await first.done;
    const resumeFrom = first.messages.at(-1)!.id!;
    assert.ok(resumeFrom);

    // While nobody listens: the server stops. Resuming after the last id received gets exactly what followed.
    const stop = await cp.call('POST', `/v1/servers/${serverId}/actions/stop`, { body: {} });
    await cp.waitForAction(stop.body.action.id);
    const second = await openStream(cp.url, cp.secrets.projectToken, resumeFrom);
    t.after(() => second.close());
    await until('stopped seen after resuming', () => typesOf(second.messages, serverId).includes('server.stopped'));
    const seenTwice = second.messages.filter((m) => first.messages.some((f) => f.id === m.id));
    assert.deepEqual(seenTwice, [], 'nothing repeated');
    const all = [...first.messages, ...second.messages].map(
      (m) => JSON.parse(m.data) as { seq: number; project_id: string },
    );
    assert.ok(
      all.every((e) => e.project_id === cp.secrets.projectId),
      'only the project’s events',
    );
    assert.deepEqual(typesOf(second.messages, serverId).slice(0, 1), ['server.stopping']);

    assert.equal(typesOf(stranger.messages, serverId).length, 0, 'another tenant sees none of it');
    assert.ok(!stranger.messages.some((m) => m.data.includes(serverId)));
  });
}

for (const dialect of testDialects()) {
  test(`a stream whose token is revoked ends at its next heartbeat (${dialect})`, { timeout: 60_000 }, async (t) => {
    const cp = await startTestControlPlane(dialect, { eventStreamHeartbeatMs: 200 });
    t.after(() => cp.dispose());
    const created = await cp.call('POST', '/v1/tokens', { body: { name: 'short-lived', role: 'viewer' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const kept = await openStream(cp.url, cp.secrets.projectToken);
    const revoked = await openStream(cp.url, created.body.secret);
    t.after(() => (kept.close(), revoked.close()));
    let revokedEnded = false;
    void revoked.done.then(() => (revokedEnded = true));
    let keptEnded = false;
    void kept.done.then(() => (keptEnded = true));
    // Both streams outlive several heartbeats while their tokens are valid.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(revokedEnded, false, 'a valid token keeps its stream');

    const revoke = await cp.call('DELETE', `/v1/tokens/${created.body.token.id}`);
    assert.ok(revoke.status < 300, JSON.stringify(revoke.body));
    await until('the revoked token’s stream ends', () => revokedEnded);
    assert.equal(
      (await fetch(`${cp.url}/v1/events/stream`, { headers: { authorization: `Bearer ${created.body.secret}` } }))
        .status,
      401,
    );

    // The other stream still delivers.
    const server = await cp.call('POST', '/v1/servers', {
      body: { name: 'after-revoke', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
    });
    await until('the kept stream sees the new server', () => typesOf(kept.messages, server.body.server.id).length > 0);
    assert.equal(keptEnded, false);
  });
}

for (const dialect of testDialects()) {
  test(`a stream filtered by resource: that server's events only (${dialect})`, { timeout: 60_000 }, async (t) => {
    const cp = await startTestControlPlane(dialect);
    t.after(() => cp.dispose());
    const create = async (name: string) => {
      const created = await cp.call('POST', '/v1/servers', {
        body: { name, product: 'vps-nano', region: 'fra1', image: 'debian-12' },
      });
      await cp.waitForAction(created.body.action.id);
      return created.body.server.id as string;
    };
    const [mine, theirs] = await Promise.all([create('watched'), create('ignored')]);
    const stream = await openStream(cp.url, cp.secrets.projectToken, undefined, `?after=0&resource_id=${mine}`);
    t.after(() => stream.close());
    await until('the watched server started', () => typesOf(stream.messages, mine).includes('server.started'));
    const stop = await cp.call('POST', `/v1/servers/${theirs}/actions/stop`, { body: {} });
    await cp.waitForAction(stop.body.action.id);
    const stopMine = await cp.call('POST', `/v1/servers/${mine}/actions/stop`, { body: {} });
    await cp.waitForAction(stopMine.body.action.id);
    await until('the watched server stopped', () => typesOf(stream.messages, mine).includes('server.stopped'));
    const events = stream.messages.map((m) => JSON.parse(m.data) as { resource: { id: string } });
    assert.ok(events.length >= 4);
    assert.deepEqual(
      events.filter((e) => e.resource.id !== mine),
      [],
      'nothing of another resource (the other server, its actions)',
    );
    assert.equal(typesOf(stream.messages, mine)[0], 'server.created', 'from the start of the stream');
  });
}
