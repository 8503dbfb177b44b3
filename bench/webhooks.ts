/**
 * `npm run bench:webhooks -- [--events 20000] [--fail-rate 0.5] [--database-url postgres://…] [--json]`:
 * one control plane replica delivers signed webhooks to a local receiver. Events are recorded through the
 * real recorder (each fans out to a delivery row in its transaction, 500 events per transaction, spread
 * over `--resources` resources (default 2,000)); the replica's delivery worker signs (Standard Webhooks) and POSTs them. The receiver
 * counts 2xx answers by webhook-id; with `--fail-rate` it answers 500 to that share of requests at random
 * and the worker retries (a fast schedule here: 50 ms, 100 ms, 200 ms, 400 ms… instead of 5 s, 5 min…).
 * Prints deliveries/s (events recorded → every delivery acknowledged), attempts, and what was lost (must
 * be 0) or duplicated.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createControlPlane } from '../src/app.ts';
import { inTransaction } from '../src/db/index.ts';
import { fork } from 'node:child_process';
import { once } from 'node:events';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const events = Number(option('events', '20000'));
const failRate = Number(option('fail-rate', '0'));
const databaseUrl = option('database-url', '');
const resources = Number(option('resources', '2000'));
const json = args.includes('--json');

const dataDir = mkdtempSync(join(tmpdir(), 'vmcloud-bench-webhooks-'));
const receiverProcess = fork(join(import.meta.dirname, 'lib', 'webhook-receiver-process.ts'), [String(failRate)]);
const [{ url: receiverUrl }] = (await once(receiverProcess, 'message')) as [{ url: string }];
const count = async () => {
  receiverProcess.send({ type: 'count' });
  const [answer] = (await once(receiverProcess, 'message')) as [{ delivered: number; duplicated: number }];
  return answer;
};
const cp = await createControlPlane({
  databaseUrl: databaseUrl || join(dataDir, 'vmcloud.sqlite'),
  pgSchema: databaseUrl ? `bench_webhooks_${Date.now()}` : undefined,
  dataDir,
  fleet: 'none',
  fleetScale: 1,
  rateLimitPerMinute: 0,
  logLevel: 'silent',
  webhookAllowPrivate: true,
  webhooks: {
    retryScheduleMs: Array.from({ length: 20 }, (_, i) => Math.min(50 * 2 ** i, 2000)),
    batchSize: 500,
    parallelBatches: 4,
    pollIntervalMs: 20,
  },
});
const secrets = (await cp.bootstrap())!;
await cp.startBackground();
await cp.api.listen({ port: 0, host: '127.0.0.1' });
const address = cp.api.server.address();
const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
const made = await fetch(`${url}/v1/webhooks`, {
  method: 'POST',
  headers: { authorization: `Bearer ${secrets.projectToken}`, 'content-type': 'application/json' },
  body: JSON.stringify({ url: receiverUrl, events: ['server.*'] }),
});
if (made.status !== 201) throw new Error(`webhook create: ${made.status} ${await made.text()}`);

// Phase 1: the events are recorded (with their delivery rows) while the worker is paused; phase 2: the
// worker drains the backlog. deliveries_per_s is phase 2: what one replica sends.
await cp.services.webhookWorker.stop();
const recordStarted = performance.now();
const perTransaction = 500;
for (let i = 0; i < events; i += perTransaction) {
  await inTransaction(cp.db, async (tx, hooks) => {
    for (let j = i; j < Math.min(events, i + perTransaction); j++)
      await cp.services.events.record(tx, hooks, {
        type: 'server.started',
        projectId: secrets.projectId,
        resourceType: 'server',
        resourceId: `srv_bench${String(j % resources).padStart(5, '0')}`,
        data: { from: 'starting', to: 'running' },
      });
  });
}
const recordedMs = performance.now() - recordStarted;
const started = performance.now();
cp.services.webhookWorker.start();
const deadline = Date.now() + 600_000;
// The webhook.created event of the endpoint itself is not in its filters: only the bench's events count.
let counted = await count();
while (counted.delivered < events && Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 20));
  counted = await count();
}
const elapsedMs = performance.now() - started;
const duplicates = counted.duplicated;
const result = {
  database: cp.dialect,
  events,
  fail_rate: failRate,
  delivered: counted.delivered,
  lost: events - counted.delivered,
  duplicated: duplicates,
  recorded_in_ms: Math.round(recordedMs),
  events_recorded_per_s: Math.round((events / recordedMs) * 1000),
  elapsed_ms: Math.round(elapsedMs),
  deliveries_per_s: Math.round((counted.delivered / elapsedMs) * 1000),
};
await cp.close();
receiverProcess.send({ type: 'close' });
rmSync(dataDir, { recursive: true, force: true });
if (json) console.log(JSON.stringify(result));
else
  console.log(
    `${result.delivered}/${events} delivered (${result.lost} lost, ${result.duplicated} duplicated) in ${result.elapsed_ms} ms on ${result.database}: ${result.deliveries_per_s} deliveries/s (fail rate ${failRate})`,
  );
process.exit(result.lost === 0 ? 0 : 1);
