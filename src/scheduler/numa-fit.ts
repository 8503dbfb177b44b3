/**
 * NUMA fit, pure: which NUMA nodes of one host take a demand, and how many cores, MiB, GPUs and VFs come
 * from each. One node when any fits (best fit: the node with the fewest free cores); otherwise the fewest
 * nodes. Devices (GPUs, VFs) always sit on a node that also holds cores of the server, and memory is split
 * across nodes in proportion to the cores taken there (`splitMemoryMiB`), so the audit can re-derive it.
 */
import { coresFor, type Demand } from './demand.ts';

/** Free counts of one host, per NUMA node (by position), for one demand's GPU model. */
export interface HostFree {
  threadsPerCore: number;
  freeCores: number[];
  freeMemoryMiB: number[];
  /** Free GPUs of the demanded model per node (zeros when the demand has no GPU). */
  freeGpus: number[];
  freeVfs: number[];
  freeDiskGiB: number;
}

/** Which nodes (positions, ascending) and how much of each resource each gives. */
export interface NodeChoice {
  nodes: number[];
  cores: number[];
  memoryMiB: number[];
  gpus: number[];
  vfs: number[];
}

/** Memory of a server spread over its nodes in proportion to its cores there; the remainder goes to the first. */
export function splitMemoryMiB(memoryMiB: number, coresPerNode: readonly number[]): number[] {
  const totalCores = coresPerNode.reduce((sum, cores) => sum + cores, 0);
  if (coresPerNode.length === 1 || totalCores === 0) return coresPerNode.map((_, i) => (i === 0 ? memoryMiB : 0));
  const shares = coresPerNode.map((cores) => Math.floor((memoryMiB * cores) / totalCores));
  shares[0] += memoryMiB - shares.reduce((sum, share) => sum + share, 0);
  return shares;
}

export function fitsOnOneNode(free: HostFree, node: number, demand: Demand, coresNeeded: number): boolean {
  return (
    free.freeCores[node] >= coresNeeded &&
    free.freeMemoryMiB[node] >= demand.memoryMiB &&
    free.freeGpus[node] >= demand.gpuCount &&
    free.freeVfs[node] >= demand.vfs
  );
}

export function fitOnHost(free: HostFree, demand: Demand): NodeChoice | null {
  if (free.freeDiskGiB < demand.diskGiB) return null;
  const need = coresFor(demand.vcpus, free.threadsPerCore);
  const nodeCount = free.freeCores.length;
  let best = -1;
  for (let node = 0; node < nodeCount; node++) {
    if (!fitsOnOneNode(free, node, demand, need)) continue;
    if (best < 0 || free.freeCores[node] < free.freeCores[best]) best = node;
  }
  if (best >= 0) {
    return { nodes: [best], cores: [need], memoryMiB: [demand.memoryMiB], gpus: [demand.gpuCount], vfs: [demand.vfs] };
  }
  for (let size = 2; size <= Math.min(nodeCount, need); size++) {
    let bestChoice: NodeChoice | null = null;
    let bestLeftover = Infinity;
    for (const nodes of subsetsOfSize(nodeCount, size)) {
      const choice = spanNodes(free, nodes, demand, need);
      if (!choice) continue;
      const leftover = nodes.reduce((sum, node) => sum + free.freeCores[node], 0) - need;
      if (leftover < bestLeftover) {
        bestChoice = choice;
        bestLeftover = leftover;
      }
    }
    if (bestChoice) return bestChoice;
  }
  return null;
}

/** Cores over several nodes: one on each, the rest from the nodes with the most free; then memory and devices. */
function spanNodes(free: HostFree, nodes: number[], demand: Demand, need: number): NodeChoice | null {
  if (nodes.reduce((sum, node) => sum + free.freeCores[node], 0) < need) return null;
  if (nodes.some((node) => free.freeCores[node] === 0)) return null;
  const cores = nodes.map(() => 1);
  let remaining = need - nodes.length;
  const byFreeDesc = nodes.map((_, i) => i).sort((a, b) => free.freeCores[nodes[b]] - free.freeCores[nodes[a]]);
  for (const i of byFreeDesc) {
    const take = Math.min(remaining, free.freeCores[nodes[i]] - cores[i]);
    cores[i] += take;
    remaining -= take;
  }
  const memoryMiB = splitMemoryMiB(demand.memoryMiB, cores);
  if (memoryMiB.some((mib, i) => mib > free.freeMemoryMiB[nodes[i]])) return null;
  const gpus = takeDevices(
    demand.gpuCount,
    nodes.map((node) => free.freeGpus[node]),
    cores,
  );
  const vfs = takeDevices(
    demand.vfs,
    nodes.map((node) => free.freeVfs[node]),
    cores,
  );
  if (!gpus || !vfs) return null;
  return { nodes, cores, memoryMiB, gpus, vfs };
}

/** Devices from the nodes holding the most cores of the server first. */
function takeDevices(count: number, available: number[], cores: number[]): number[] | null {
  const taken = available.map(() => 0);
  let remaining = count;
  const order = cores.map((_, i) => i).sort((a, b) => cores[b] - cores[a]);
  for (const i of order) {
    const take = Math.min(remaining, available[i]);
    taken[i] = take;
    remaining -= take;
  }
  return remaining === 0 ? taken : null;
}

function* subsetsOfSize(n: number, size: number): Generator<number[]> {
  const subset: number[] = [];
  function* pick(start: number): Generator<number[]> {
    if (subset.length === size) {
      yield subset.slice();
      return;
    }
    for (let i = start; i < n; i++) {
      subset.push(i);
      yield* pick(i + 1);
      subset.pop();
    }
  }
  yield* pick(0);
}
