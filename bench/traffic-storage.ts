/**
 * `node bench/traffic-storage.ts [--servers 50] [--json]`: what a server-month of 5-minute samples costs on
 * disk, measured: a 30-day month (8 640 slots) of the traffic model for N servers written through the
 * traffic store, plus its hourly and daily rollups, on SQLite (file pages) and PostgreSQL (TEST_DATABASE_URL or
 * DATABASE_URL: pg_total_relation_size, indexes included). docs/traffic.md extrapolates to 420 000 servers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { openDatabase, migrateToLatest, type DatabaseHandle } from '../src/db/index.ts';
import { createTrafficService, slotCounters } from '../src/traffic/index.ts';
import { createEventBus, createLogger, systemClock } from '../src/core/index.ts';
import { createEventRecorder } from '../src/events/index.ts';

const args = process.argv.slice(2);
const servers = Number(args[args.indexOf('--servers') + 1]) || 50;
const json = args.includes('--json');
const start = Date.UTC(2026, 10, 1);
const slots = 8640;

async function run(dialect: 'sqlite' | 'postgres') {
  let handle: DatabaseHandle;
  let cleanup: () => Promise<void>;
  const dir = mkdtempSync(join(tmpdir(), 'bench-traffic-'));
  if (dialect === 'sqlite') {
    handle = await openDatabase({ url: join(dir, 't.sqlite') });
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const url = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL!;
    const schema = `bench_${randomBytes(4).toString('hex')}`;
    handle = await openDatabase({ url, pgSchema: schema });
    cleanup = async () => {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`drop schema if exists "${schema}" cascade`);
      await admin.end();
    };
  }
  try {
    await migrateToLatest(handle);
    const traffic = createTrafficService({
      db: handle.db,
      clock: systemClock,
      log: createLogger({ level: 'silent' }),
      events: createEventRecorder({ bus: createEventBus(), clock: systemClock }),
      includedTiBOf: async () => 1,
      requireServer: async () => ({ id: '', name: '' }),
    });
    const ids = Array.from({ length: servers }, (_, i) => `srv_t${String(i).padStart(6, '0')}`);
    const t0 = performance.now();
    for (let s = 0; s < slots; s += 288) {
      const batch: Parameters<typeof traffic.ingestSamples>[0][number][] = [];
      for (let slot = start / 300_000 + s; slot < start / 300_000 + s + 288; slot++)
        for (const id of ids)
          batch.push({ serverId: id, projectId: 'prj_bench', slot, ...slotCounters('bench', id, slot) });
      await traffic.ingestSamples(batch);
    }
    const ingestMs = performance.now() - t0;
    await traffic.rollupRange(start, start + 30 * 86_400_000);
    const size = async (table: string) => {
      if (dialect === 'postgres') {
        const { rows } = await sql<{
          size: string;
        }>`select pg_total_relation_size(${table}::regclass)::text as size`.execute(handle.db);
        return Number(rows[0].size);
      }
      const { rows } = await sql<{
        size: number;
      }>`select sum(pgsize) as size from dbstat where name = ${table} or name in (select name from sqlite_master where tbl_name = ${table} and type = 'index')`.execute(
        handle.db,
      );
      return Number(rows[0].size);
    };
    if (dialect === 'postgres') await sql`vacuum analyze`.execute(handle.db);
    const samples = await size('traffic_samples');
    const rollups = await size('traffic_rollups');
    return {
      dialect,
      servers,
      samples_rows: servers * slots,
      samples_bytes_per_server_month: Math.round(samples / servers),
      bytes_per_sample: Math.round(samples / (servers * slots)),
      rollups_bytes_per_server_month: Math.round(rollups / servers),
      ingest_samples_per_s: Math.round((servers * slots) / (ingestMs / 1000)),
    };
  } finally {
    await handle.close();
    await cleanup();
  }
}

const results = [await run('sqlite')];
if (process.env.DATABASE_URL?.startsWith('postgres') || process.env.TEST_DATABASE_URL)
  results.push(await run('postgres'));
console.log(json ? JSON.stringify({ bench: 'traffic-storage', results }, null, 2) : results);
