/**
 * The cost of shared rate-limit counters on PostgreSQL (src/identity/shared-rate-counter.ts): one UPSERT
 * per request on an UNLOGGED table, against `select 1` (a bare round trip) for scale.
 *
 *   DATABASE_URL=postgres://… node bench/rate-limit.ts [--json]
 *
 * Runs on a fresh database (dropped at the end). Rows: op, concurrency, keys, perSec, meanMs.
 */
import { createBenchDatabase } from './lib/api-database.ts';
import { openDatabase, migrateToLatest } from '../src/db/index.ts';
import { createSharedRateCounter } from '../src/identity/index.ts';
import { sql } from 'kysely';

const adminUrl = process.env.DATABASE_URL;
if (!adminUrl?.startsWith('postgres')) {
  console.error('set DATABASE_URL=postgres://…');
  process.exit(2);
}
const asJson = process.argv.includes('--json');
const database = await createBenchDatabase(adminUrl);
const handle = await openDatabase({ url: database.url });
try {
  await migrateToLatest(handle);
  const counter = createSharedRateCounter({ db: handle.db });
  const requests = 5000;
  const run = async (op: string, concurrency: number, keys: number, send: (worker: number) => Promise<unknown>) => {
    let issued = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async (_, worker) => {
        while (issued++ < requests) await send(worker);
      }),
    );
    const elapsedMs = performance.now() - started;
    const row = {
      op,
      concurrency,
      keys,
      perSec: Math.round((requests / elapsedMs) * 1000),
      meanMs: Math.round(((elapsedMs * concurrency) / requests) * 1000) / 1000,
    };
    console.log(asJson ? JSON.stringify(row) : Object.values(row).join('\t'));
  };
  for (const concurrency of [1, 8, 64]) {
    await run('select 1', concurrency, 0, () => sql`select 1`.execute(handle.db));
    await run('upsert', concurrency, 1, () => counter.increment('one-token', 0));
    await run('upsert', concurrency, concurrency, (w) => counter.increment(`token-${w}`, 0));
  }
} finally {
  await handle.close();
  await database.drop();
}
