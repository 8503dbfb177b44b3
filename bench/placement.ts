/**
 * PlaceBench: seed-shaped fleets (standard + GPU hosts) filled with the catalog mix until the first failure
 * of each region's pool, then churn at 80% core load. Every claim is committed to the database (group
 * commit: one transaction per batch of placements, SQLite with synchronous=FULL).
 *
 *   node bench/placement.ts [--json] [--scales 50,1000,5000,20000] [--db sqlite|postgres|both]
 *                           [--batch 2000] [--churn-per-host 5] [--seed 1]
 *
 * PostgreSQL runs when --db says so or DATABASE_URL is set (a private schema, dropped afterwards).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { inTransaction, migrateToLatest, openDatabase, type DatabaseHandle, type DialectName } from '../src/db/index.ts';
import { createScheduler, type PlacementRequest } from '../src/scheduler/index.ts';
import { insertHosts, insertProject, insertRegions, insertServers, type FixtureServer } from '../src/scheduler/fixtures.ts';
import { seedShapedFleet } from './lib/fleet.ts';
import { createRandom } from './lib/random.ts';
import { percentile, round } from './lib/stats.ts';
import { catalogMix, largestVps } from './lib/workload.ts';
import type { ProductDefinition } from '../src/catalog/vmcloud-defaults.ts';

interface Options {
  json: boolean;
  scales: number[];
  dbs: DialectName[];
  batch: number;
  churnPerHost: number;
  seed: number;
}

function parseOptions(argv: string[]): Options {
  const value = (name: string) => {
    const at = argv.indexOf(name);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const db = value('--db') ?? (process.env.DATABASE_URL ? 'both' : 'sqlite');
  return {
    json: argv.includes('--json'),
    scales: (value('--scales') ?? '50,1000,5000,20000').split(',').map(Number),
    dbs: db === 'both' ? ['sqlite', 'postgres'] : [db as DialectName],
    batch: Number(value('--batch') ?? 2000),
    churnPerHost: Number(value('--churn-per-host') ?? 5),
    seed: Number(value('--seed') ?? 1),
  };
}

interface ScaleResult {
  hosts: number;
  gpuHosts: number;
  servers: number;
  decisionsPerSec: number;
  placementsPerSec: number;
  fillSeconds: number;
  decisionP50Us: number;
  decisionP99Us: number;
  decisionP999Us: number;
  packingPct: number;
  gpuUtilPct: number;
  churnEvents: number;
  churnFailedArrivals: number;
  strandingPct: number;
  auditViolations: number;
  auditSeconds: number;
  db: DialectName;
}

async function openBenchDatabase(dialect: DialectName): Promise<{ handle: DatabaseHandle; dispose: () => Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'vmcloud-bench-'));
    const handle = await openDatabase({ url: join(dir, 'bench.sqlite') });
    await sql`PRAGMA synchronous = FULL`.execute(handle.db);
    await migrateToLatest(handle);
    return { handle, dispose: async () => { await handle.close(); rmSync(dir, { recursive: true, force: true }); } };
  }
  const url = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('set DATABASE_URL=postgres://… to benchmark PostgreSQL');
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const handle = await openDatabase({ url, pgSchema: schema, poolSize: 4 });
  await migrateToLatest(handle);
  return {
    handle,
    dispose: async () => {
      await handle.close();
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`drop schema if exists "${schema}" cascade`);
      await admin.end();
    },
  };
}

interface Pool {
  key: string;
  region: string;
  gpuModel: string | null;
  /** Sellable cores (standard pool) or GPUs (GPU pool). */
  size: number;
  used: number;
  usedAtFirstFailure: number | null;
}

interface Live {
  serverId: string;
  region: string;
  product: ProductDefinition;
  cores: number;
}

async function runScale(hostCount: number, dialect: DialectName, options: Options): Promise<ScaleResult> {
  const random = createRandom(options.seed + hostCount);
  const { handle, dispose } = await openBenchDatabase(dialect);
  const { db } = handle;
  try {
    const fleet = seedShapedFleet(hostCount);
    await insertRegions(db);
    await insertHosts(db, fleet);
    await insertProject(db, 'prj_bench');
    const decisionUs: number[] = [];
    let decisionTotalUs = 0;
    const scheduler = createScheduler({
      db,
      dialect,
      onDecision: ({ durationUs, ok }) => {
        decisionTotalUs += durationUs;
        if (ok) decisionUs.push(durationUs);
      },
    });
    await scheduler.reload();

    // Pools: standard cores per region, GPUs per region and model.
    const pools = new Map<string, Pool>();
    const poolOf = (region: string, gpuModel: string | null) => {
      const key = `${region}|${gpuModel ?? 'vps'}`;
      let pool = pools.get(key);
      if (!pool) pools.set(key, (pool = { key, region, gpuModel, size: 0, used: 0, usedAtFirstFailure: null }));
      return pool;
    };
    const freeMemoryMiB = new Map<string, number>();
    const freeDiskGiB = new Map<string, number>();
    for (const host of fleet) {
      const t = host.topology;
      if (t.gpus.length === 0) {
        const sellableCores = t.numaNodes.reduce((sum, node) => sum + node.cores.length, 0) - t.reservedThreads.length / 2;
        poolOf(host.region, null).size += sellableCores;
        freeMemoryMiB.set(host.region, (freeMemoryMiB.get(host.region) ?? 0) + t.numaNodes.reduce((s, n) => s + n.memoryMiB - t.reservedMemoryMiBPerNode, 0));
        freeDiskGiB.set(host.region, (freeDiskGiB.get(host.region) ?? 0) + t.diskGiB);
      } else {
        for (const gpu of t.gpus) poolOf(host.region, gpu.model).size++;
      }
    }
    const poolFor = (product: ProductDefinition, region: string) => pools.get(`${region}|${product.gpuModel ?? 'vps'}`);
    const regionsFor = (product: ProductDefinition, open: boolean) =>
      product.regions.filter((region) => {
        const pool = poolFor(product, region);
        return pool && pool.size > 0 && (!open || pool.usedAtFirstFailure === null);
      });

    let serial = 0;
    const live: Live[] = [];
    const newRequest = (product: ProductDefinition, region: string): PlacementRequest => ({
      serverId: `srv_${(serial++).toString(36)}`,
      projectId: 'prj_bench',
      region,
      family: product.family,
      vcpus: product.vcpus,
      memoryMiB: product.memoryMiB,
      diskGiB: product.diskGiB,
      gpuModel: product.gpuModel,
      gpuCount: product.gpuCount,
      sriovVfs: 0,
      placementGroupId: null,
    });
    const account = (request: PlacementRequest, product: ProductDefinition, cores: number, sign: 1 | -1) => {
      const pool = poolFor(product, request.region) as Pool;
      pool.used += sign * (product.gpuModel ? product.gpuCount : cores);
      if (!product.gpuModel) {
        freeMemoryMiB.set(request.region, (freeMemoryMiB.get(request.region) ?? 0) - sign * product.memoryMiB);
        freeDiskGiB.set(request.region, (freeDiskGiB.get(request.region) ?? 0) - sign * product.diskGiB);
      }
    };

    // Phase 1: fill until every pool has failed once.
    const fillStarted = performance.now();
    for (;;) {
      const mix = catalogMix.filter(({ product }) => regionsFor(product, true).length > 0);
      if (mix.length === 0) break;
      const requests: Array<{ request: PlacementRequest; product: ProductDefinition }> = [];
      for (let i = 0; i < options.batch; i++) {
        const product = random.pick(mix.map((m) => m.product), mix.map((m) => m.weight));
        const regions = regionsFor(product, true);
        const region = random.pick(regions, regions.map((r) => (poolFor(product, r) as Pool).size));
        requests.push({ request: newRequest(product, region), product });
      }
      await inTransaction(db, async (tx, hooks) => {
        await insertServers(tx, requests.map(({ request, product }): FixtureServer => ({ id: request.serverId, projectId: 'prj_bench', region: request.region, product: product.code })));
        // Concurrent place() calls in one transaction: decided one by one, in order, written together.
        const outcomes = await Promise.all(requests.map(({ request }) => scheduler.place(tx, hooks, request)));
        requests.forEach(({ request, product }, i) => {
          const outcome = outcomes[i];
          const pool = poolFor(product, request.region) as Pool;
          if (outcome.ok) {
            const cores = outcome.placement.coreThreads.length / 2;
            account(request, product, cores, 1);
            live.push({ serverId: request.serverId, region: request.region, product, cores });
          } else if (pool.usedAtFirstFailure === null) pool.usedAtFirstFailure = pool.used;
        });
      });
    }
    const fillSeconds = (performance.now() - fillStarted) / 1000;
    const servers = live.length;
    const sum = (filter: (pool: Pool) => boolean, pick: (pool: Pool) => number) =>
      [...pools.values()].filter(filter).reduce((total, pool) => total + pick(pool), 0);
    const isVps = (pool: Pool) => pool.gpuModel === null && pool.size > 0;
    const isGpu = (pool: Pool) => pool.gpuModel !== null && pool.size > 0;
    const packingPct = (100 * sum(isVps, (p) => p.usedAtFirstFailure ?? p.used)) / sum(isVps, (p) => p.size);
    const gpuUtilPct = (100 * sum(isGpu, (p) => p.usedAtFirstFailure ?? p.used)) / sum(isGpu, (p) => p.size);
    const sorted = Float64Array.from(decisionUs).sort();
    const decisionCount = decisionUs.length;

    // Phase 2: churn at 80% core load on the standard pools (VPS products only).
    const vpsMix = catalogMix.filter(({ product }) => product.family === 'vps');
    const vpsLive = live.filter((server) => server.product.family === 'vps');
    const loadPct = () => (100 * sum(isVps, (p) => p.used)) / sum(isVps, (p) => p.size);
    const removeRandom = async (count: number) => {
      const gone: Live[] = [];
      for (let i = 0; i < count && vpsLive.length > 0; i++) {
        const at = random.int(vpsLive.length);
        gone.push(vpsLive[at]);
        vpsLive[at] = vpsLive[vpsLive.length - 1];
        vpsLive.pop();
      }
      await inTransaction(db, async (tx, hooks) => {
        for (const server of gone) {
          await scheduler.release(tx, hooks, server.serverId);
          account({ region: server.region } as PlacementRequest, server.product, server.cores, -1);
        }
        for (let start = 0; start < gone.length; start += 500) {
          await tx.updateTable('servers').set({ deleted_at: '2026-01-02T00:00:00.000Z' }).where('id', 'in', gone.slice(start, start + 500).map((s) => s.serverId)).execute();
        }
      });
    };
    while (loadPct() > 80) await removeRandom(Math.max(1, Math.min(options.batch, Math.ceil(vpsLive.length * (loadPct() - 80) / loadPct()))));
    const churnEvents = options.churnPerHost * hostCount;
    let failedArrivals = 0;
    for (let done = 0; done < churnEvents; ) {
      const arrivals: Array<{ request: PlacementRequest; product: ProductDefinition }> = [];
      let departures = 0;
      let projected = loadPct();
      const perCore = 100 / sum(isVps, (p) => p.size);
      for (let i = 0; i < options.batch && done < churnEvents; i++, done++) {
        if (projected < 80) {
          const product = random.pick(vpsMix.map((m) => m.product), vpsMix.map((m) => m.weight));
          const regions = regionsFor(product, false);
          const region = random.pick(regions, regions.map((r) => (poolFor(product, r) as Pool).size));
          arrivals.push({ request: newRequest(product, region), product });
          projected += perCore * Math.ceil(product.vcpus / 2);
        } else {
          departures++;
          projected -= perCore * 2;
        }
      }
      if (departures > 0) await removeRandom(departures);
      await inTransaction(db, async (tx, hooks) => {
        await insertServers(tx, arrivals.map(({ request, product }) => ({ id: request.serverId, projectId: 'prj_bench', region: request.region, product: product.code })));
        const outcomes = await Promise.all(arrivals.map(({ request }) => scheduler.place(tx, hooks, request)));
        arrivals.forEach(({ request, product }, i) => {
          const outcome = outcomes[i];
          if (!outcome.ok) {
            failedArrivals++;
            return;
          }
          const cores = outcome.placement.coreThreads.length / 2;
          account(request, product, cores, 1);
          vpsLive.push({ serverId: request.serverId, region: request.region, product, cores });
        });
      });
    }
    // Stranding of the largest VPS product: 1 − placeable now / aggregate bound (free cores, memory, disk).
    const capacity = await scheduler.capacity();
    let placeable = 0;
    let bound = 0;
    const need = Math.ceil(largestVps.vcpus / 2);
    for (const region of capacity) {
      const pool = pools.get(`${region.region}|vps`);
      if (!pool || pool.size === 0) continue;
      placeable += region.products.find((p) => p.product === largestVps.code)?.servers ?? 0;
      bound += Math.min(
        Math.floor((pool.size - pool.used) / need),
        Math.floor((freeMemoryMiB.get(region.region) ?? 0) / largestVps.memoryMiB),
        Math.floor((freeDiskGiB.get(region.region) ?? 0) / largestVps.diskGiB),
      );
    }
    const strandingPct = bound === 0 ? 0 : 100 * (1 - placeable / bound);

    const auditStarted = performance.now();
    const audit = await scheduler.auditPlacement();
    const auditSeconds = (performance.now() - auditStarted) / 1000;
    return {
      hosts: hostCount,
      gpuHosts: fleet.filter((host) => host.topology.gpus.length > 0).length,
      servers,
      decisionsPerSec: Math.round(decisionCount / (decisionTotalUs / 1e6)),
      placementsPerSec: Math.round(servers / fillSeconds),
      fillSeconds: round(fillSeconds, 2),
      decisionP50Us: round(percentile(sorted, 50), 2),
      decisionP99Us: round(percentile(sorted, 99), 2),
      decisionP999Us: round(percentile(sorted, 99.9), 2),
      packingPct: round(packingPct, 2),
      gpuUtilPct: round(gpuUtilPct, 2),
      churnEvents,
      churnFailedArrivals: failedArrivals,
      strandingPct: round(strandingPct, 2),
      auditViolations: audit.violations.length,
      auditSeconds: round(auditSeconds, 2),
      db: dialect,
    };
  } finally {
    await dispose();
  }
}

const options = parseOptions(process.argv.slice(2));
if (!options.json) console.log(`PlaceBench v0 · Node ${process.version} · ${cpus().length} cores · batch ${options.batch} · seed ${options.seed}`);
for (const scale of options.scales) {
  for (const dialect of options.dbs) {
    const result = await runScale(scale, dialect, options);
    if (options.json) console.log(JSON.stringify(result));
    else console.log(Object.entries(result).map(([k, v]) => `${k}=${v}`).join(' '));
  }
}
