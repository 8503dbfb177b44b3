/**
 * `npm run bench:billing -- --json [--servers 100000] [--dialect sqlite|postgres]`: rates and issues a month
 * for 100,000 servers with realistic churn, on a real database (SQLite file, or a fresh schema of
 * `DATABASE_URL`/`TEST_DATABASE_URL` for PostgreSQL).
 *
 * The month (March 2026) as the metering consumer leaves it: 5 servers per project (20,000 projects), 70 %
 * of servers alive all month (created before it), 30 % churned (created and/or deleted inside it at random
 * times), 10 % with a 20 GiB volume, 1 % with a platform outage of 5 to 300 minutes, projects on all three
 * SLA tiers, customers across the EU and beyond (billing details for half of them). Seeding is not timed;
 * `seconds` is the monthly run: load, rate, SLA credits, VAT, one issued invoice per project with its
 * gapless number and events, 100 projects per transaction.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openDatabase, migrateToLatest, inTransaction } from '../src/db/index.ts';
import { createEventBus, createManualClock, silentLogger } from '../src/core/index.ts';
import { createEventRecorder } from '../src/events/index.ts';
import { defaultProducts } from '../src/catalog/index.ts';
import { createAccountStore, createBillingService, createMeteringStore } from '../src/billing/index.ts';

const args = process.argv.slice(2);
const arg = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const servers = Number(arg('--servers') ?? 100_000);
const dialect = (arg('--dialect') ?? 'sqlite') as 'sqlite' | 'postgres';
const json = args.includes('--json');
const perProject = 5;

let seed = 42;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};
const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;

const dir = mkdtempSync(join(tmpdir(), 'vmcloud-bench-billing-'));
const pgUrl = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL;
if (dialect === 'postgres' && !pgUrl) throw new Error('--dialect postgres needs DATABASE_URL or TEST_DATABASE_URL');
const pgSchema = `bench_billing_${randomBytes(4).toString('hex')}`;
const handle = await openDatabase(
  dialect === 'postgres' ? { url: pgUrl!, pgSchema, poolSize: 4 } : { url: join(dir, 'bench.sqlite') },
);
try {
  await migrateToLatest(handle);
  const { db } = handle;
  const month = { start: Date.UTC(2026, 2, 1), end: Date.UTC(2026, 3, 1) };
  const clock = createManualClock(Date.UTC(2026, 3, 1, 0, 5));
  const events = createEventRecorder({ bus: createEventBus(), clock });
  const products = defaultProducts.map((p) => ({
    code: p.code,
    name: p.name,
    traffic_tib: p.trafficTiB,
    gpu: p.gpuModel ? { count: p.gpuCount } : null,
    price: { hourly_cents: p.priceHourlyCents, monthly_cents: p.priceMonthlyCents },
  }));
  const billing = createBillingService({
    db,
    dialect: handle.dialect,
    clock,
    log: silentLogger,
    events,
    products: async () => products,
  });
  await billing.ensureDefaultPrices();

  // ---- seed (not timed) ----
  const seedStart = performance.now();
  const metering = createMeteringStore();
  const accounts = createAccountStore();
  const vps = defaultProducts.filter((p) => p.family === 'vps').map((p) => p.code);
  const gpus = defaultProducts.filter((p) => p.family === 'gpu').map((p) => p.code);
  const regions = ['par1', 'fra1', 'ams1', 'lon1'];
  const countries: Array<[string, string | null]> = [
    ['EE', null],
    ['DE', null],
    ['DE', 'DE123456789'],
    ['FR', null],
    ['FR', 'FRAB123456789'],
    ['NL', 'NL123456789B01'],
    ['IT', null],
    ['ES', null],
    ['PL', null],
    ['FI', null],
    ['CH', null],
    ['US', null],
    ['GB', null],
  ];
  const usage = [];
  const downtime = [];
  let intervals = 0;
  const projects = Math.ceil(servers / perProject);
  for (let s = 0; s < servers; s++) {
    const projectId = `prj_bench${String(Math.floor(s / perProject)).padStart(7, '0')}`;
    const id = `srv_bench${String(s).padStart(7, '0')}`;
    const region = pick(regions);
    const product = random() < 0.03 ? pick(gpus) : pick(vps);
    const churned = random() < 0.3;
    const startMs =
      churned && random() < 0.7
        ? month.start + Math.floor(random() * (month.end - month.start))
        : month.start - 86_400_000 * (1 + Math.floor(random() * 300));
    const endMs = churned
      ? Math.min(month.end + 86_400_000, Math.max(startMs, month.start) + Math.floor(random() * 20 * 86_400_000))
      : null;
    usage.push({
      id: `use_${id}`,
      project_id: projectId,
      kind: 'server',
      resource_id: id,
      item: `product:${product}`,
      region,
      quantity_milli: 1000,
      started_at_ms: startMs,
      ended_at_ms: endMs && endMs < month.end ? endMs : null,
    });
    if (random() < 0.1)
      usage.push({
        id: `use_vol${s}`,
        project_id: projectId,
        kind: 'volume',
        resource_id: `vol_bench${s}`,
        item: 'volume_gib',
        region,
        quantity_milli: 20_000,
        started_at_ms: startMs,
        ended_at_ms: endMs && endMs < month.end ? endMs : null,
      });
    if (random() < 0.01) {
      const from = Math.max(startMs, month.start) + Math.floor(random() * 10 * 86_400_000);
      downtime.push({
        id: `dt_${id}`,
        project_id: projectId,
        server_id: id,
        region,
        host_id: 'host_bench',
        cause: 'host_down',
        started_at_ms: from,
        ended_at_ms: from + (5 + Math.floor(random() * 295)) * 60_000,
      });
    }
    if (usage.length >= 5000) {
      intervals += usage.length;
      await metering.insertUsageBatch(db, usage.splice(0));
    }
  }
  intervals += usage.length;
  await metering.insertUsageBatch(db, usage.splice(0));
  await metering.insertDowntimeBatch(db, downtime);
  await inTransaction(db, async (tx) => {
    for (let p = 0; p < projects; p += 2) {
      const [country, vatId] = pick(countries);
      await accounts.putAccount(tx, {
        project_id: `prj_bench${String(p).padStart(7, '0')}`,
        name: `Customer ${p}`,
        address: `Street ${p}\nTown`,
        country,
        vat_id: vatId,
        sla_tier: pick(['standard', 'standard', 'business', 'enterprise']),
        budget_cents: null,
        budget_notified_month: null,
        budget_notified_percent: 0,
        traffic_billing: p % 10 === 0 ? 'percentile95' : 'volume',
        updated_at: clock.nowIso(),
      });
    }
  });
  const seedSeconds = (performance.now() - seedStart) / 1000;

  // ---- the monthly run (timed) ----
  const started = performance.now();
  const result = await billing.runMonth('2026-03');
  const seconds = (performance.now() - started) / 1000;
  const out = {
    dialect,
    servers,
    projects,
    usageIntervals: intervals,
    downtimeIntervals: downtime.length,
    invoices: result.invoices,
    seconds: Math.round(seconds * 10) / 10,
    seedSeconds: Math.round(seedSeconds * 10) / 10,
    node: process.version,
  };
  if (json) console.log(JSON.stringify(out));
  else
    console.log(
      `${dialect}: ${servers} servers (${intervals} usage intervals, ${downtime.length} outages) in ${projects} projects → ${result.invoices} invoices issued in ${out.seconds} s (seeding ${out.seedSeconds} s)`,
    );
} finally {
  await handle.close();
  if (dialect === 'postgres') {
    const pg = (await import('pg')).default;
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`drop schema if exists "${pgSchema}" cascade`);
    await admin.end();
  }
  rmSync(dir, { recursive: true, force: true });
}
