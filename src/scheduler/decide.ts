/**
 * The decision, in memory and without side effects: the best NUMA node (or fewest nodes) for a demand,
 * found through the region's pool index in the scorer's order. Candidates pass `candidateFilters`, then
 * the NUMA fit on their node; only when no single node fits anywhere are multi-node layouts tried.
 */
import { coresFor, type Demand } from './demand.ts';
import { candidateFilters, type FilterContext } from './filters/index.ts';
import type { FleetIndex, IndexEntry, PoolIndex } from './fleet-index.ts';
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

export function poolFor(fleet: FleetIndex, region: string, demand: Demand): PoolIndex | null {
  const index = fleet.regions.get(region);
  if (!index) return null;
  return demand.gpuModel === null ? index.standard : (index.gpu.get(demand.gpuModel) ?? null);
}

/** The key a demand needs in a pool: free cores on a node, or free GPUs of the model. */
export function demandKey(pool: PoolIndex, demand: Demand): number {
  return pool.gpuModel === null ? coresFor(demand.vcpus, pool.maxThreadsPerCore) : demand.gpuCount;
}

export function decide(fleet: FleetIndex, context: FilterContext, scorer: Scorer): DecideResult {
  const { demand } = context;
  const pool = poolFor(fleet, context.request.region, demand);
  if (!pool) return { decision: null, sawBusy: false };
  let sawBusy = false;
  const passes = (host: HostState): boolean => {
    for (const filter of candidateFilters) {
      if (filter.rejects(host, context)) {
        if (filter.name === 'busy') sawBusy = true;
        return false;
      }
    }
    return true;
  };
  const need = demandKey(pool, demand);
  const onOneNode = (entry: IndexEntry) => nodeFits(entry.host, entry.node, demand) && passes(entry.host);
  const node =
    scorer.walk === 'ascending' ? pool.nodes.findAscending(need, onOneNode) : pool.nodes.findDescending(need, onOneNode);
  if (node) {
    const choice: NodeChoice = { nodes: [node.node], cores: [coresFor(demand.vcpus, node.host.threadsPerCore)], memoryMiB: [demand.memoryMiB], gpus: [demand.gpuCount], vfs: [demand.vfs] };
    return { decision: { host: node.host, choice }, sawBusy };
  }
  let spanned: NodeChoice | null = null;
  const onSeveralNodes = (entry: IndexEntry) => {
    if (entry.host.nodes.length < 2 || !passes(entry.host)) return false;
    spanned = fitOnHost(hostFree(entry.host, demand.gpuModel), demand);
    return spanned !== null;
  };
  const host =
    scorer.walk === 'ascending' ? pool.hosts.findAscending(need, onSeveralNodes) : pool.hosts.findDescending(need, onSeveralNodes);
  if (host && spanned) return { decision: { host: host.host, choice: spanned }, sawBusy };
  return { decision: null, sawBusy };
}

/** Whether one NUMA node of the host takes the whole demand, devices included. */
export function nodeFits(host: HostState, node: number, demand: Demand): boolean {
  const numa = host.nodes[node];
  return (
    numa.freeCores.length >= coresFor(demand.vcpus, host.threadsPerCore) &&
    numa.freeMemoryMiB >= demand.memoryMiB &&
    host.freeDiskGiB >= demand.diskGiB &&
    numa.freeVfs.length >= demand.vfs &&
    (demand.gpuCount === 0 || freeGpusOnNode(host, node, demand.gpuModel as string) >= demand.gpuCount)
  );
}
