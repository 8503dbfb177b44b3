/**
 * The in-memory fleet: every host by id, the host of every claimed server, and per region and pool the
 * bucket indexes that find a best-fit NUMA node without scanning the fleet. Pools: standard hosts keyed by
 * free cores (per node and per host), and GPU hosts per GPU model keyed by free GPUs of that model. Only
 * active hosts are indexed; every host of a region stays listed for explanations and capacity.
 */
import { BucketIndex, type BucketEntry } from './bucket-index.ts';
import type { StructuralAnswer } from './filters/index.ts';
import { nodeKey, type Scorer } from './scorers/index.ts';
import {
  applyClaim,
  freeCoresTotal,
  freeGpusOnNode,
  freeGpusTotal,
  removeClaim,
  type Claim,
  type HostState,
} from './host-state.ts';

export interface IndexEntry extends BucketEntry {
  host: HostState;
  /** Node position, or -1 for the host-level entry. */
  node: number;
  pool: PoolIndex;
}

export interface PoolIndex {
  /** `standard`, or `gpu:<model>`. */
  name: string;
  gpuModel: string | null;
  /** One entry per NUMA node of each active host. */
  nodes: BucketIndex<IndexEntry>;
  /** One entry per active host (for demands that must span nodes). */
  hosts: BucketIndex<IndexEntry>;
  maxThreadsPerCore: number;
  /** What every candidate of this pool passes without asking the filters (see `StructuralAnswer`). */
  answers: ReadonlySet<StructuralAnswer>;
  /** Units of the largest product of the pool: node keys carry their host's free units modulo this. */
  align: number;
  /** Node key orders per scorer and demand, for the current largest key (see scorers/scorer.ts). */
  orders: Map<Scorer, Map<number, readonly number[]>>;
  ordersMaxFree: number;
}

export interface RegionIndex {
  code: string;
  /** Every host of the region, whatever its state. */
  hosts: HostState[];
  standard: PoolIndex;
  gpu: Map<string, PoolIndex>;
}

export interface FleetIndexOptions {
  /** Also index GPU hosts in the standard pool (off by default: GPU hosts are kept for GPU products). */
  vpsOnGpuHosts: boolean;
  /** Cores of the largest VPS product (its vCPUs over 2 threads per core): the standard pool's `align`. */
  alignCores: number;
}

export function isGpuHost(host: HostState): boolean {
  return host.kind === 'gpu' || host.layout.gpus.length > 0;
}

export class FleetIndex {
  readonly hosts = new Map<string, HostState>();
  readonly serverHost = new Map<string, HostState>();
  readonly regions = new Map<string, RegionIndex>();
  readonly #options: FleetIndexOptions;

  constructor(options: FleetIndexOptions) {
    this.#options = options;
  }

  /** Adds a host or replaces the view of one. */
  put(host: HostState): void {
    this.drop(host.id);
    this.hosts.set(host.id, host);
    for (const serverId of host.claims.keys()) this.serverHost.set(serverId, host);
    const region = this.#region(host.region);
    region.hosts.push(host);
    if (host.state !== 'active') return;
    const pools: PoolIndex[] = [];
    if (!isGpuHost(host) || this.#options.vpsOnGpuHosts) pools.push(region.standard);
    if (isGpuHost(host)) {
      for (const model of host.layout.gpuModels) {
        let pool = region.gpu.get(model);
        if (!pool) region.gpu.set(model, (pool = createPool(`gpu:${model}`, model, 1)));
        pools.push(pool);
      }
    }
    const entries: IndexEntry[] = [];
    for (const pool of pools) {
      pool.maxThreadsPerCore = Math.max(pool.maxThreadsPerCore, host.threadsPerCore);
      host.nodes.forEach((_, node) => entries.push({ host, node, pool, key: 0, slot: -1 }));
      entries.push({ host, node: -1, pool, key: 0, slot: -1 });
    }
    host.indexEntries = entries;
    for (const entry of entries) (entry.node < 0 ? entry.pool.hosts : entry.pool.nodes).insert(entry, keyOf(entry));
  }

  drop(hostId: string): void {
    const host = this.hosts.get(hostId);
    if (!host) return;
    for (const entry of host.indexEntries) (entry.node < 0 ? entry.pool.hosts : entry.pool.nodes).remove(entry);
    host.indexEntries = [];
    for (const serverId of host.claims.keys())
      if (this.serverHost.get(serverId) === host) this.serverHost.delete(serverId);
    const region = this.regions.get(host.region);
    if (region) region.hosts.splice(region.hosts.indexOf(host), 1);
    this.hosts.delete(hostId);
  }

  /** Re-files a host after its free resources changed. */
  rekey(host: HostState): void {
    for (const entry of host.indexEntries)
      (entry.node < 0 ? entry.pool.hosts : entry.pool.nodes).rekey(entry, keyOf(entry));
  }

  claim(host: HostState, serverId: string, claim: Claim): void {
    applyClaim(host, serverId, claim);
    this.serverHost.set(serverId, host);
    this.rekey(host);
  }

  unclaim(host: HostState, serverId: string): Claim | null {
    const claim = removeClaim(host, serverId);
    if (this.serverHost.get(serverId) === host) this.serverHost.delete(serverId);
    this.rekey(host);
    return claim;
  }

  #region(code: string): RegionIndex {
    let region = this.regions.get(code);
    if (!region) {
      region = { code, hosts: [], standard: createPool('standard', null, this.#options.alignCores), gpu: new Map() };
      this.regions.set(code, region);
    }
    return region;
  }
}

const standardAnswers: ReadonlySet<StructuralAnswer> = new Set(['active_state', 'pool', 'free_cores', 'layout']);
const gpuAnswers: ReadonlySet<StructuralAnswer> = new Set(['active_state', 'pool', 'free_gpus', 'layout']);

function createPool(name: string, gpuModel: string | null, align: number): PoolIndex {
  return {
    name,
    gpuModel,
    nodes: new BucketIndex(),
    hosts: new BucketIndex(),
    maxThreadsPerCore: 1,
    answers: gpuModel === null ? standardAnswers : gpuAnswers,
    align: Math.max(1, align),
    orders: new Map(),
    ordersMaxFree: -1,
  };
}

/** The node keys a scorer visits, best first, for a demand of `need` units on one node of this pool. */
export function nodeOrderOf(pool: PoolIndex, scorer: Scorer, need: number): readonly number[] {
  const maxFree = Math.floor((pool.nodes.buckets.length - 1) / pool.align);
  if (maxFree !== pool.ordersMaxFree) {
    pool.orders.clear();
    pool.ordersMaxFree = maxFree;
  }
  let byNeed = pool.orders.get(scorer);
  if (!byNeed) pool.orders.set(scorer, (byNeed = new Map()));
  let order = byNeed.get(need);
  if (!order) byNeed.set(need, (order = scorer.nodeOrder(need, maxFree, pool.align)));
  return order;
}

function keyOf(entry: IndexEntry): number {
  const { host, node, pool } = entry;
  if (pool.gpuModel === null) {
    const hostFree = freeCoresTotal(host);
    return node < 0 ? hostFree : nodeKey(host.nodes[node].freeCores.length, hostFree % pool.align, pool.align);
  }
  return node < 0 ? freeGpusTotal(host, pool.gpuModel) : freeGpusOnNode(host, node, pool.gpuModel);
}
