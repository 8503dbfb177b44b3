/**
 * PlaceBench: seed-shaped fleets (standard + GPU hosts) filled with the catalog mix until the first failure
 * of each region's pool, then churn at 80% core load. Every claim is committed to the database (group
 * commit: one transaction per batch of placements, SQLite with synchronous=FULL).
 *
 *   node bench/placement.ts [--json] [--hosts 50,1000,5000,20000] [--db sqlite|postgres|both]
 *                           [--batch 2000] [--churn-per-host 5] [--seed 1] [--scorer NAME]
 *                           [--phases churn,audit,memory]   (the fill always runs; `--phases ''` for only it)
 *
 * `--scales` is another name for `--hosts`. PostgreSQL runs when --db says so or DATABASE_URL is set (a
 * private schema, dropped afterwards); TEST_DATABASE_URL is used when DATABASE_URL is not set.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import {
  inTransaction,
  migrateToLatest,
  openDatabase,
  type DatabaseHandle,
  type DialectName,
} from '../src/db/index.ts';
import { createScheduler, type PlacementRequest } from '../src/scheduler/index.ts';
import { scorers } from '../src/scheduler/scorers/index.ts';
import {
  insertHosts,
  insertProject,
  insertRegions,
  insertServers,
  markServersDeleted,
  type FixtureServer,
} from '../src/scheduler/store/fixtures.ts';
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
  scorer: string;
  /** Phases after the fill: churn (and stranding), audit, memory (a second scheduler's full reload). */
  phases: string[];
}

function parseOptions(argv: string[]): Options {
  const value = (name: string) => {
    const at = argv.indexOf(name);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const db = value('--db') ?? (process.env.DATABASE_URL ? 'both' : 'sqlite');
  const scorer = value('--scorer') ?? 'default';
  if (scorer !== 'default' && !(scorer in scorers))
    throw new Error(`--scorer: one of default, ${Object.keys(scorers).join(', ')}`);
  return {
    json: argv.includes('--json'),
    scales: (value('--hosts') ?? value('--scales') ?? '50,1000,5000,20000').split(',').map(Number),
    dbs: db === 'both' ? ['sqlite', 'postgres'] : [db as DialectName],
    batch: Number(value('--batch') ?? 2000),
    churnPerHost: Number(value('--churn-per-host') ?? 5),
    seed: Number(value('--seed') ?? 1),
    scorer,
    phases: (value('--phases') ?? 'churn,audit,memory').split(',').filter(Boolean),
  };
}

// Heap figures need a full collection first: expose gc() without a command-line flag.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
const heapMiB = () => {
  collectGarbage();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

interface ScaleResult {
  db: DialectName;
  scorer: string;
  hosts: number;
  gpuHosts: number;
  servers: number;
  decisionsPerSec: number;
  placementsPerSec: number;
  fillSeconds: number;
  /** CPU time of this process during the fill (user + system): less sensitive to other load than wall time. */
  fillCpuSeconds: number;
  /** Placements of the fill that found no host (requests sent to a pool in the batch where it filled up). */
  fillFailures: number;
  /** Time spent explaining failures (fill and churn), seconds. */
  explainSeconds: number;
  decisionP50Us: number;
  decisionP99Us: number;
  decisionP999Us: number;
  packingPct: number;
  gpuUtilPct: number;
  churnEvents: number | null;
  churnFailedArrivals: number | null;
  strandingPct: number | null;
  auditViolations: number | null;
  /** Seconds per phase: rows of hosts, first load of the fleet, churn, capacity(), audit, a full reload. */
  setupSeconds: number;
  loadSeconds: number;
  churnSeconds: number | null;
  capacitySeconds: number | null;
  auditSeconds: number | null;
  reloadSeconds: number | null;
  /** Heap of a fleet index loaded with every claim after the fill and churn (a second scheduler's reload). */
  fleetIndexMiB: number | null;
  fleetIndexMiBPer1000Hosts: number | null;
  peakRssMiB: number;
}

async function openBenchDatabase(
  dialect: DialectName,
): Promise<{ handle: DatabaseHandle; dispose: () => Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'vmcloud-bench-'));
    const handle = await openDatabase({ url: join(dir, 'bench.sqlite') });
    await sql`PRAGMA synchronous = FULL`.execute(handle.db);
    await migrateToLatest(handle);
    return {
      handle,
      dispose: async () => {
        await handle.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
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

/** The benchmark's live servers as parallel arrays: millions of them, so no object per server. */
class LiveServers {
  readonly #ids: string[] = [];
  readonly #regions: string[] = [];
  readonly #products: ProductDefinition[] = [];
  readonly #cores: number[] = [];

  get length(): number {
    return this.#ids.length;
  }

  push(server: Live): void {
    this.#ids.push(server.serverId);
    this.#regions.push(server.region);
    this.#products.push(server.product);
    this.#cores.push(server.cores);
  }

  /** Removes the server at `at`, moving the last one into its place. */
  take(at: number): Live {
    const taken = {
      serverId: this.#ids[at],
      region: this.#regions[at],
      product: this.#products[at],
      cores: this.#cores[at],
    };
    const last = this.#ids.length - 1;
    this.#ids[at] = this.#ids[last];
    this.#regions[at] = this.#regions[last];
    this.#products[at] = this.#products[last];
    this.#cores[at] = this.#cores[last];
    this.#ids.pop();
    this.#regions.pop();
    this.#products.pop();
    this.#cores.pop();
    return taken;
  }
}

async function runScale(hostCount: number, dialect: DialectName, options: Options): Promise<ScaleResult> {
  const random = createRandom(options.seed + hostCount);
  const phases = new Set(options.phases);
  const { handle, dispose } = await openBenchDatabase(dialect);
  const { db } = handle;
  try {
    const setupStarted = performance.now();
    const fleet = seedShapedFleet(hostCount);
    await insertRegions(db);
    await insertHosts(db, fleet);
    await insertProject(db, 'prj_bench');
    const setupSeconds = (performance.now() - setupStarted) / 1000;
    const decisionUs: number[] = [];
    let decisionTotalUs = 0;
    let explainTotalUs = 0;
    const scorer = options.scorer === 'default' ? undefined : scorers[options.scorer as keyof typeof scorers];
    const scheduler = createScheduler({
      db,
      dialect,
      scorer,
      onDecision: ({ durationUs, ok, explainUs }) => {
        decisionTotalUs += durationUs;
        explainTotalUs += explainUs;
        if (ok) decisionUs.push(durationUs);
      },
    });
    const loadStarted = performance.now();
    await scheduler.reload();
    const loadSeconds = (performance.now() - loadStarted) / 1000;

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
        const sellableCores =
          t.numaNodes.reduce((sum, node) => sum + node.cores.length, 0) - t.reservedThreads.length / 2;
        poolOf(host.region, null).size += sellableCores;
        freeMemoryMiB.set(
          host.region,
          (freeMemoryMiB.get(host.region) ?? 0) +
            t.numaNodes.reduce((s, n) => s + n.memoryMiB - t.reservedMemoryMiBPerNode, 0),
        );
        freeDiskGiB.set(host.region, (freeDiskGiB.get(host.region) ?? 0) + t.diskGiB);
      } else {
        for (const gpu of t.gpus) poolOf(host.region, gpu.model).size++;
      }
    }
    const poolsByProduct = new Map<ProductDefinition, Map<string, Pool | undefined>>(
      catalogMix.map(({ product }) => [
        product,
        new Map(product.regions.map((region) => [region, pools.get(`${region}|${product.gpuModel ?? 'vps'}`)])),
      ]),
    );
    const poolFor = (product: ProductDefinition, region: string) => poolsByProduct.get(product)?.get(region);
    const regionsFor = (product: ProductDefinition, open: boolean) =>
      product.regions.filter((region) => {
        const pool = poolFor(product, region);
        return pool && pool.size > 0 && (!open || pool.usedAtFirstFailure === null);
      });

    let serial = 0;
    let servers = 0;
    const vpsLive = new LiveServers();
    const newRequest = (product: ProductDefinition, region: string): PlacementRequest => ({
      // Shaped like the product's ids (src/core/ids.ts): prefix, 10 time-ordered chars, 16 more; so ids grow
      // as real ones do and the rows append to their indexes.
      serverId: `srv_${(serial++).toString(32).padStart(10, '0')}placebench000000`,
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
    let fillFailures = 0;
    const fillStarted = performance.now();
    const fillCpuStarted = process.cpuUsage();
    for (;;) {
      const mix = catalogMix.filter(({ product }) => regionsFor(product, true).length > 0);
      if (mix.length === 0) break;
      // What is open changes only between batches: the choices of a batch are drawn from fixed tables.
      const mixProducts = mix.map((m) => m.product);
      const mixWeights = mix.map((m) => m.weight);
      const openRegions = new Map(
        mixProducts.map((product) => {
          const regions = regionsFor(product, true);
          return [product, { regions, weights: regions.map((r) => (poolFor(product, r) as Pool).size) }];
        }),
      );
      const requests: Array<{ request: PlacementRequest; product: ProductDefinition }> = [];
      for (let i = 0; i < options.batch; i++) {
        const product = random.pick(mixProducts, mixWeights);
        const { regions, weights } = openRegions.get(product) as { regions: string[]; weights: number[] };
        const region = random.pick(regions, weights);
        requests.push({ request: newRequest(product, region), product });
      }
      const serverRows = requests.map(({ request, product }): FixtureServer => ({
        id: request.serverId,
        projectId: 'prj_bench',
        region: request.region,
        product: product.code,
      }));
      await inTransaction(db, async (tx, hooks) => {
        await insertServers(tx, serverRows);
        // Concurrent place() calls in one transaction: decided one by one, in order, written together.
        const outcomes = await Promise.all(requests.map(({ request }) => scheduler.place(tx, hooks, request)));
        requests.forEach(({ request, product }, i) => {
          const outcome = outcomes[i];
          const pool = poolFor(product, request.region) as Pool;
          if (outcome.ok) {
            const cores = outcome.placement.coreThreads.length / 2;
            account(request, product, cores, 1);
            servers++;
            if (product.family === 'vps')
              vpsLive.push({ serverId: request.serverId, region: request.region, product, cores });
          } else {
            fillFailures++;
            if (pool.usedAtFirstFailure === null) pool.usedAtFirstFailure = pool.used;
          }
        });
      });
    }
    const fillSeconds = (performance.now() - fillStarted) / 1000;
    const fillCpu = process.cpuUsage(fillCpuStarted);
    const fillCpuSeconds = (fillCpu.user + fillCpu.system) / 1e6;
    const sum = (filter: (pool: Pool) => boolean, pick: (pool: Pool) => number) =>
      [...pools.values()].filter(filter).reduce((total, pool) => total + pick(pool), 0);
    const isVps = (pool: Pool) => pool.gpuModel === null && pool.size > 0;
    const isGpu = (pool: Pool) => pool.gpuModel !== null && pool.size > 0;
    const packingPct = (100 * sum(isVps, (p) => p.usedAtFirstFailure ?? p.used)) / sum(isVps, (p) => p.size);
    const gpuUtilPct = (100 * sum(isGpu, (p) => p.usedAtFirstFailure ?? p.used)) / sum(isGpu, (p) => p.size);
    const sorted = Float64Array.from(decisionUs).sort();
    const decisionCount = decisionUs.length;

    // Phase 2: churn at 80% core load on the standard pools (VPS products only), then stranding.
    const runChurn = async () => {
      const churnStarted = performance.now();
      const vpsMix = catalogMix.filter(({ product }) => product.family === 'vps');
      const vpsProducts = vpsMix.map((m) => m.product);
      const vpsWeights = vpsMix.map((m) => m.weight);
      const vpsRegions = new Map(
        vpsProducts.map((product) => {
          const regions = regionsFor(product, false);
          return [product, { regions, weights: regions.map((r) => (poolFor(product, r) as Pool).size) }];
        }),
      );
      const loadPct = () => (100 * sum(isVps, (p) => p.used)) / sum(isVps, (p) => p.size);
      const removeRandom = async (count: number) => {
        const gone: Live[] = [];
        for (let i = 0; i < count && vpsLive.length > 0; i++) gone.push(vpsLive.take(random.int(vpsLive.length)));
        await inTransaction(db, async (tx, hooks) => {
          // Concurrent release() calls in one transaction are written together, as placements are.
          await Promise.all(gone.map((server) => scheduler.release(tx, hooks, server.serverId)));
          for (const server of gone)
            account({ region: server.region } as PlacementRequest, server.product, server.cores, -1);
          await markServersDeleted(
            tx,
            gone.map((server) => server.serverId),
          );
        });
      };
      while (loadPct() > 80)
        await removeRandom(
          Math.max(1, Math.min(options.batch, Math.ceil((vpsLive.length * (loadPct() - 80)) / loadPct()))),
        );
      const churnEvents = options.churnPerHost * hostCount;
      let failedArrivals = 0;
      for (let done = 0; done < churnEvents;) {
        const arrivals: Array<{ request: PlacementRequest; product: ProductDefinition }> = [];
        let departures = 0;
        let projected = loadPct();
        const perCore = 100 / sum(isVps, (p) => p.size);
        for (let i = 0; i < options.batch && done < churnEvents; i++, done++) {
          if (projected < 80) {
            const product = random.pick(vpsProducts, vpsWeights);
            const { regions, weights } = vpsRegions.get(product) as { regions: string[]; weights: number[] };
            const region = random.pick(regions, weights);
            arrivals.push({ request: newRequest(product, region), product });
            projected += perCore * Math.ceil(product.vcpus / 2);
          } else {
            departures++;
            projected -= perCore * 2;
          }
        }
        if (departures > 0) await removeRandom(departures);
        await inTransaction(db, async (tx, hooks) => {
          await insertServers(
            tx,
            arrivals.map(({ request, product }) => ({
              id: request.serverId,
              projectId: 'prj_bench',
              region: request.region,
              product: product.code,
            })),
          );
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
      const churnSeconds = (performance.now() - churnStarted) / 1000;
      // Stranding of the largest VPS product: 1 − placeable now / aggregate bound (free cores, memory, disk).
      const capacityStarted = performance.now();
      const capacity = await scheduler.capacity();
      const capacitySeconds = (performance.now() - capacityStarted) / 1000;
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
      return { churnEvents, failedArrivals, churnSeconds, capacitySeconds, strandingPct };
    };
    const churn = phases.has('churn') ? await runChurn() : null;

    const auditStarted = performance.now();
    const audit = phases.has('audit') ? await scheduler.auditPlacement() : null;
    const auditSeconds = (performance.now() - auditStarted) / 1000;

    // The fleet index's memory: a second scheduler reads every host and claim; its heap is the difference.
    const measureMemory = async () => {
      const heapBefore = heapMiB();
      const reloadStarted = performance.now();
      const second = createScheduler({ db, dialect });
      await second.reload();
      const reloadSeconds = (performance.now() - reloadStarted) / 1000;
      return { reloadSeconds, fleetIndexMiB: heapMiB() - heapBefore };
    };
    const memory = phases.has('memory') ? await measureMemory() : null;
    const optional = (value: number | undefined, digits: number) => (value === undefined ? null : round(value, digits));
    return {
      db: dialect,
      scorer: options.scorer,
      hosts: hostCount,
      gpuHosts: fleet.filter((host) => host.topology.gpus.length > 0).length,
      servers,
      decisionsPerSec: Math.round(decisionCount / (decisionTotalUs / 1e6)),
      placementsPerSec: Math.round(servers / fillSeconds),
      fillSeconds: round(fillSeconds, 2),
      fillCpuSeconds: round(fillCpuSeconds, 2),
      fillFailures,
      explainSeconds: round(explainTotalUs / 1e6, 2),
      decisionP50Us: round(percentile(sorted, 50), 2),
      decisionP99Us: round(percentile(sorted, 99), 2),
      decisionP999Us: round(percentile(sorted, 99.9), 2),
      packingPct: round(packingPct, 2),
      gpuUtilPct: round(gpuUtilPct, 2),
      churnEvents: churn?.churnEvents ?? null,
      churnFailedArrivals: churn?.failedArrivals ?? null,
      strandingPct: optional(churn?.strandingPct, 2),
      auditViolations: audit?.violations.length ?? null,
      setupSeconds: round(setupSeconds, 2),
      loadSeconds: round(loadSeconds, 2),
      churnSeconds: optional(churn?.churnSeconds, 2),
      capacitySeconds: optional(churn?.capacitySeconds, 2),
      auditSeconds: audit ? round(auditSeconds, 2) : null,
      reloadSeconds: optional(memory?.reloadSeconds, 2),
      fleetIndexMiB: optional(memory?.fleetIndexMiB, 1),
      fleetIndexMiBPer1000Hosts: optional(memory ? (1000 * memory.fleetIndexMiB) / hostCount : undefined, 2),
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    await dispose();
  }
}

const options = parseOptions(process.argv.slice(2));
if (!options.json)
  console.log(
    `PlaceBench v1 · Node ${process.version} · ${cpus().length} cores · batch ${options.batch} · seed ${options.seed} · scorer ${options.scorer}`,
  );
for (const scale of options.scales) {
  for (const dialect of options.dbs) {
    const result = await runScale(scale, dialect, options);
    if (options.json) console.log(JSON.stringify(result));
    else
      console.log(
        Object.entries(result)
          .map(([k, v]) => `${k}=${v}`)
          .join(' '),
      );
  }
}
