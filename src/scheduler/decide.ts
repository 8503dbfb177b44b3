/**
 * The decision, in memory and without side effects: the best NUMA node (or fewest nodes) for a demand,
 * found through the region's pool index in the scorer's order. Every candidate the index yields must pass
 * every filter of the list that its pool does not answer structurally (`filtersToRun`), then the layout
 * search: one node first; only when no single node fits anywhere are multi-node layouts tried.
 */
import { coresFor, type Demand } from './demand.ts';
import { busy, filtersToRun, type FilterContext, type HostFilter, type StructuralAnswer } from './filters/index.ts';
import { nodeOrderOf, type FleetIndex, type IndexEntry, type PoolIndex } from './fleet-index.ts';
import { freeGpusOnNode, hostFree, type HostState } from './host-state.ts';
import { fitOnHost, type NodeChoice } from './numa-fit.ts';
import type { Scorer } from './scorers/index.ts';

export interface Decision {
  host: HostState;
  choice: NodeChoice;
}

export interface DecideResult {
  decision: Decision | null;
  /** True when a busy host (pending writes of another open transaction) was passed over. */
  sawBusy: boolean;
}

/** The filter list, and per kind of pool the filters a decision must run itself (computed once). */
export interface FilterPlan {
  readonly filters: readonly HostFilter[];
  checks(pool: PoolIndex): readonly HostFilter[];
}

export function createFilterPlan(filters: readonly HostFilter[]): FilterPlan {
  const byAnswers = new Map<ReadonlySet<StructuralAnswer>, readonly HostFilter[]>();
  return {
    filters,
    checks(pool) {
      let checks = byAnswers.get(pool.answers);
      if (!checks) byAnswers.set(pool.answers, (checks = filtersToRun(filters, pool.answers)));
      return checks;
    },
  };
}

export function poolFor(fleet: FleetIndex, region: string, demand: Demand): PoolIndex | null {
  const index = fleet.regions.get(region);
  if (!index) return null;
  return demand.gpuModel === null ? index.standard : (index.gpu.get(demand.gpuModel) ?? null);
}

/** The key a demand needs in a pool: free cores on a node, or free GPUs of the model. */
export function demandKey(pool: PoolIndex, demand: Demand): number {
  return pool.gpuModel === null ? coresFor(demand.vcpus, pool.maxThreadsPerCore) : demand.gpuCount;
}

export function decide(fleet: FleetIndex, context: FilterContext, scorer: Scorer, plan: FilterPlan): DecideResult {
  const { demand } = context;
  const pool = poolFor(fleet, context.request.region, demand);
  if (!pool) return { decision: null, sawBusy: false };
  const checks = plan.checks(pool);
  let sawBusy = false;
  const passes = (host: HostState): boolean => {
    for (let i = 0; i < checks.length; i++) {
      if (checks[i].rejects(host, context)) {
        if (checks[i] === busy) sawBusy = true;
        return false;
      }
    }
    return true;
  };
  const need = demandKey(pool, demand);
  const onOneNode = (entry: IndexEntry) => nodeFits(entry.host, entry.node, demand) && passes(entry.host);
  const order = nodeOrderOf(pool, scorer, need);
  const node = scorer.lookahead
    ? lowestCost(pool, order, onOneNode, scorer.lookahead, demand)
    : pool.nodes.findInOrder(order, onOneNode);
  if (node) {
    const choice: NodeChoice = {
      nodes: [node.node],
      cores: [coresFor(demand.vcpus, node.host.threadsPerCore)],
      memoryMiB: [demand.memoryMiB],
      gpus: [demand.gpuCount],
      vfs: [demand.vfs],
    };
    return { decision: { host: node.host, choice }, sawBusy };
  }
  let spanned: NodeChoice | null = null;
  const onSeveralNodes = (entry: IndexEntry) => {
    if (entry.host.nodes.length < 2 || !passes(entry.host)) return false;
    spanned = fitOnHost(hostFree(entry.host, demand.gpuModel), demand);
    return spanned !== null;
  };
  const host =
    scorer.hostWalk === 'ascending'
      ? pool.hosts.findAscending(need, onSeveralNodes)
      : pool.hosts.findDescending(need, onSeveralNodes);
  if (host && spanned) return { decision: { host: host.host, choice: spanned }, sawBusy };
  return { decision: null, sawBusy };
}

/** The cheapest of the first feasible nodes in key order, by a scorer's lookahead cost. */
function lowestCost(
  pool: PoolIndex,
  order: readonly number[],
  feasible: (entry: IndexEntry) => boolean,
  lookahead: NonNullable<Scorer['lookahead']>,
  demand: Demand,
): IndexEntry | null {
  let best: IndexEntry | null = null;
  let bestCost = Infinity;
  let seen = 0;
  pool.nodes.findInOrder(order, (entry) => {
    if (!feasible(entry)) return false;
    const state = entry.host.nodes[entry.node];
    const layout = entry.host.layout.nodes[entry.node];
    const cost = lookahead.cost(
      {
        threadsPerCore: entry.host.threadsPerCore,
        freeCores: state.freeCores.length,
        freeMemoryMiB: state.freeMemoryMiB,
        sellableCores: layout.sellableCores.length,
        sellableMemoryMiB: layout.sellableMemoryMiB,
      },
      demand,
    );
    if (cost < bestCost) {
      best = entry;
      bestCost = cost;
    }
    return ++seen >= lookahead.candidates;
  });
  return best;
}

/** Whether one NUMA node of the host takes the whole demand, devices included. */
export function nodeFits(host: HostState, node: number, demand: Demand): boolean {
  const numa = host.nodes[node];
  return (
    numa.freeCores.length >= coresFor(demand.vcpus, host.threadsPerCore) &&
    numa.freeMemoryMiB >= demand.memoryMiB &&
    host.freeDiskGiB >= demand.diskGiB &&
    numa.freeVfs >= demand.vfs &&
    (demand.gpuCount === 0 || freeGpusOnNode(host, node, demand.gpuModel as string) >= demand.gpuCount)
  );
}
