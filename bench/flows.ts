/**
 * `npm run bench:flows -- --json`: flow-log ingest and query, measured on SQLite (always) and PostgreSQL
 * (DATABASE_URL or TEST_DATABASE_URL, else skipped), through the real store of src/flowlogs.
 *
 *  1. Ingest: `--ingest N` records (default 500 000) of the traffic model (2 000 servers of one project
 *     spread over one day), in calls of 10 000 — the shape of what agents send; records/s on one core.
 *  2. Query: a day table filled to `--day-rows N` (default 2 000 000) records over `--servers` servers
 *     (default 20 000), then one server's whole day (`server=&from=&to=`, its ~100 records) asked for
 *     `--queries` times (default 200) for random servers: p50/p95/max ms.
 *
 * At 1 billion stored records (30 days × 33 M/day) a query touches one day's table and walks its
 * (server_id, start_ms) B-tree: the cost grows with log(rows per day), not with the total (docs/traffic.md
 * has the extrapolation). Numbers go to docs/benchmarks.md.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, migrateToLatest, type DatabaseHandle } from '../src/db/index.ts';
import { createFlowLogStore, type FlowInput } from '../src/flowlogs/index.ts';
import { modelFlows } from '../src/traffic/index.ts';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const json = args.includes('--json');
const ingestCount = arg('--ingest', 500_000);
const dayRows = arg('--day-rows', 2_000_000);
const serverCount = arg('--servers', 20_000);
const queries = arg('--queries', 200);
const day = Date.UTC(2026, 10, 30);
const slot0 = day / 300_000;

function records(count: number, servers: number, projectOf: (i: number) => string, seed: string): FlowInput[] {
  const out: FlowInput[] = [];
  // Round-robin over servers and the day's 288 slots, 5 flows per (server, slot) call of the model.
  for (let k = 0; out.length < count; k++) {
    const s = k % servers;
    const slot = slot0 + ((Math.floor(k / servers) * 37 + s) % 288);
    out.push(
      ...modelFlows({
        seed,
        serverId: `srv_b${String(s).padStart(6, '0')}`,
        projectId: projectOf(s),
        address: `10.12.${(s >> 8) & 255}.${s & 255}`,
        slot,
        count: 5,
        bytes: 5_000_000,
        sitePeer: '10.11.0.9',
      }),
    );
  }
  return out.slice(0, count);
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

async function run(dialect: 'sqlite' | 'postgres') {
  let handle: DatabaseHandle;
  let cleanup: () => Promise<void>;
  let sizeOf: () => Promise<number>;
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'bench-flows-'));
    const file = join(dir, 'flows.sqlite');
    handle = await openDatabase({ url: file });
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
    sizeOf = async () => statSync(file).size + (statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0);
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
    sizeOf = async () => {
      const { rows } = await handle.db.executeQuery<{ size: string }>({
        sql: `select sum(pg_total_relation_size(c.oid))::text as size from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = current_schema() and c.relname like 'flow_logs_%' and c.relkind = 'r'`,
        parameters: [],
        query: { kind: 'RawNode' } as never,
        queryId: { queryId: 'size' } as never,
      });
      return Number(rows[0]?.size ?? 0);
    };
  }
  try {
    await migrateToLatest(handle);
    const store = createFlowLogStore({ db: handle.db, dialect });
    const now = new Date().toISOString();

    // 1. Ingest into a fresh day (the table created on first use, both indexes live).
    const batch = records(ingestCount, 2000, () => 'prj_ingest', 'ingest');
    const ingestDay = batch.map((f) => ({ ...f, startMs: f.startMs - 86_400_000, endMs: f.endMs - 86_400_000 }));
    await store.insert(ingestDay.slice(0, 10), now); // the day's table exists before the clock starts
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 10; i < ingestDay.length; i += 10_000) await store.insert(ingestDay.slice(i, i + 10_000), now);
    const ingestMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const ingestPerS = Math.round((ingestDay.length - 10) / (ingestMs / 1000));

    // 2. Fill one day to dayRows records over serverCount servers, then query single server-days.
    const fillStart = performance.now();
    for (let done = 0; done < dayRows; done += 200_000) {
      const part = records(Math.min(200_000, dayRows - done), serverCount, (s) => `prj_${s % 500}`, `fill${done}`);
      await store.insert(part, now);
    }
    const fillMs = performance.now() - fillStart;
    if (dialect === 'postgres')
      await handle.db.executeQuery({
        sql: 'analyze',
        parameters: [],
        query: { kind: 'RawNode' } as never,
        queryId: { queryId: 'a' } as never,
      });
    const times: number[] = [];
    let returned = 0;
    for (let q = 0; q < queries; q++) {
      const s = Math.floor((q * 7919) % serverCount);
      const t = performance.now();
      const rows = await store.query({
        projectId: `prj_${s % 500}`,
        serverIds: [`srv_b${String(s).padStart(6, '0')}`],
        fromMs: day,
        toMs: day + 86_400_000,
        limit: 1000,
      });
      times.push(performance.now() - t);
      returned += rows.length;
    }
    times.sort((a, b) => a - b);
    const bytes = await sizeOf();
    return {
      dialect,
      ingest: {
        records: ingestDay.length - 10,
        ms: Math.round(ingestMs),
        records_per_s: ingestPerS,
        /** Records per CPU-second of this process: what one core does, whatever else the machine runs. */
        records_per_cpu_s: Math.round((ingestDay.length - 10) / ((cpu.user + cpu.system) / 1e6)),
        cpu_user_ms: Math.round(cpu.user / 1000),
        cpu_system_ms: Math.round(cpu.system / 1000),
      },
      query: {
        day_rows: dayRows,
        servers: serverCount,
        queries,
        rows_per_query: Math.round(returned / queries),
        p50_ms: Number(pct(times, 0.5).toFixed(2)),
        p95_ms: Number(pct(times, 0.95).toFixed(2)),
        max_ms: Number(times.at(-1)!.toFixed(2)),
        fill_records_per_s: Math.round(dayRows / (fillMs / 1000)),
      },
      storage: { bytes, bytes_per_record: Math.round(bytes / (dayRows + ingestDay.length)) },
    };
  } finally {
    await handle.close();
    await cleanup();
  }
}

const results = [await run('sqlite')];
if (process.env.DATABASE_URL?.startsWith('postgres') || process.env.TEST_DATABASE_URL)
  results.push(await run('postgres'));
if (json) console.log(JSON.stringify({ bench: 'flows', results }, null, 2));
else
  for (const r of results)
    console.log(
      `${r.dialect}: ingest ${r.ingest.records_per_s} records/s wall, ${r.ingest.records_per_cpu_s} per CPU-second (${r.ingest.records} in ${r.ingest.ms} ms); ` +
        `one server-day of ${r.query.day_rows} rows: p50 ${r.query.p50_ms} ms, p95 ${r.query.p95_ms} ms, max ${r.query.max_ms} ms ` +
        `(${r.query.rows_per_query} rows/query); ${r.storage.bytes_per_record} bytes/record`,
    );
