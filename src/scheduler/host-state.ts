/**
 * The scheduler's in-memory view of one host: its topology, what is free on each NUMA node, and the claims
 * on it. It mirrors the `hosts` row (state, generation) and the host's `allocations` rows; the database
 * stays the truth and the generation says whether this view is current.
 */
import type { HostTopology } from '../inventory/topology.ts';
import type { Demand } from './demand.ts';
import { splitMemoryMiB, type HostFree, type NodeChoice } from './numa-fit.ts';
import { pickLowest, threadsForVcpus } from './pinning.ts';
import type { Placement } from './types.ts';

export type HostStateName = 'active' | 'maintenance' | 'draining' | 'down';
export type HostKind = 'standard' | 'gpu';

export interface NodeState {
  numaId: number;
  /** Free sellable core ids, ascending. */
  freeCores: number[];
  sellableCores: number;
  freeMemoryMiB: number;
  sellableMemoryMiB: number;
  /** Free VF PCI addresses on this node's NICs, in NIC order. */
  freeVfs: string[];
  vfCount: number;
}

export interface GpuState {
  pciAddress: string;
  model: string;
  /** Position of its NUMA node in `nodes`. */
  node: number;
  claimedBy: string | null;
}

export interface Claim {
  placement: Placement;
  placementGroupId: string | null;
}

export interface HostState {
  id: string;
  name: string;
  region: string;
  kind: HostKind;
  state: HostStateName;
  /** Generation of the hosts row this view matches; -1 when unknown (the next claim reloads first). */
  generation: number;
  topology: HostTopology;
  threadsPerCore: number;
  nodes: NodeState[];
  /** Per core id: node position and sibling threads (undefined for reserved or unknown cores). */
  coreNode: number[];
  coreThreads: number[][];
  /** Per thread id: its core id. */
  threadCore: number[];
  gpus: GpuState[];
  vfNode: Map<string, number>;
  freeDiskGiB: number;
  sellableDiskGiB: number;
  claims: Map<string, Claim>;
  /** Members of placement groups on this host. */
  groupCounts: Map<string, number>;
  /** The open transaction of this process holding pending writes on this host, if any. */
  owner: object | null;
  /** Claims decided on this view and not yet written (the view may not be reread meanwhile). */
  pendingWrites: number;
  /** Being reread from the database: no decision may use it until the fresh view replaces it. */
  reloading: boolean;
}

export interface HostRecord {
  id: string;
  name: string;
  region: string;
  kind: string;
  state: string;
  generation: number;
  topology: HostTopology;
}

export function createHostState(record: HostRecord): HostState {
  const topology = record.topology;
  const reserved = new Set(topology.reservedThreads);
  const coreNode: number[] = [];
  const coreThreads: number[][] = [];
  const threadCore: number[] = [];
  const nodes: NodeState[] = topology.numaNodes.map((numa, position) => {
    const freeCores: number[] = [];
    for (const core of numa.cores) {
      for (const thread of core.threads) threadCore[thread] = core.id;
      if (core.threads.some((thread) => reserved.has(thread))) continue;
      coreNode[core.id] = position;
      coreThreads[core.id] = core.threads;
      freeCores.push(core.id);
    }
    freeCores.sort((a, b) => a - b);
    const sellableMemoryMiB = Math.max(0, numa.memoryMiB - topology.reservedMemoryMiBPerNode);
    return { numaId: numa.id, freeCores, sellableCores: freeCores.length, freeMemoryMiB: sellableMemoryMiB, sellableMemoryMiB, freeVfs: [], vfCount: 0 };
  });
  const nodeOf = (numaId: number) => Math.max(0, nodes.findIndex((node) => node.numaId === numaId));
  const vfNode = new Map<string, number>();
  for (const nic of topology.nics) {
    const node = nodeOf(nic.numaNode);
    for (const vf of nic.vfs) {
      nodes[node].freeVfs.push(vf.pciAddress);
      nodes[node].vfCount++;
      vfNode.set(vf.pciAddress, node);
    }
  }
  const firstCore = topology.numaNodes.flatMap((node) => node.cores)[0];
  return {
    id: record.id,
    name: record.name,
    region: record.region,
    kind: record.kind === 'gpu' ? 'gpu' : 'standard',
    state: (['active', 'maintenance', 'draining', 'down'].includes(record.state) ? record.state : 'down') as HostStateName,
    generation: record.generation,
    topology,
    threadsPerCore: firstCore ? firstCore.threads.length : 1,
    nodes,
    coreNode,
    coreThreads,
    threadCore,
    gpus: topology.gpus.map((gpu) => ({ pciAddress: gpu.pciAddress, model: gpu.model, node: nodeOf(gpu.numaNode), claimedBy: null })),
    vfNode,
    freeDiskGiB: topology.diskGiB,
    sellableDiskGiB: topology.diskGiB,
    claims: new Map(),
    groupCounts: new Map(),
    owner: null,
    pendingWrites: 0,
    reloading: false,
  };
}

export function freeCoresTotal(host: HostState): number {
  let total = 0;
  for (const node of host.nodes) total += node.freeCores.length;
  return total;
}

export function freeGpusOnNode(host: HostState, node: number, model: string): number {
  let count = 0;
  for (const gpu of host.gpus) if (gpu.node === node && gpu.claimedBy === null && gpu.model === model) count++;
  return count;
}

export function freeGpusTotal(host: HostState, model: string | null): number {
  let count = 0;
  for (const gpu of host.gpus) if (gpu.claimedBy === null && (model === null || gpu.model === model)) count++;
  return count;
}

export function hasGpuModel(host: HostState, model: string): boolean {
  return host.gpus.some((gpu) => gpu.model === model);
}

/** Free counts for the fit functions, for one demand's GPU model. */
export function hostFree(host: HostState, gpuModel: string | null): HostFree {
  return {
    threadsPerCore: host.threadsPerCore,
    freeCores: host.nodes.map((node) => node.freeCores.length),
    freeMemoryMiB: host.nodes.map((node) => node.freeMemoryMiB),
    freeGpus: host.nodes.map((_, i) => (gpuModel === null ? 0 : freeGpusOnNode(host, i, gpuModel))),
    freeVfs: host.nodes.map((node) => node.freeVfs.length),
    freeDiskGiB: host.freeDiskGiB,
  };
}

/** The exact resources a node choice turns into on this host right now (nothing is changed). */
export function pinPlacement(host: HostState, choice: NodeChoice, demand: Demand): Placement {
  const cores: number[] = [];
  const gpus: string[] = [];
  const vfs: string[] = [];
  choice.nodes.forEach((node, i) => {
    cores.push(...pickLowest(host.nodes[node].freeCores, choice.cores[i]));
    let gpusWanted = choice.gpus[i];
    for (const gpu of host.gpus) {
      if (gpusWanted === 0) break;
      if (gpu.node === node && gpu.claimedBy === null && gpu.model === demand.gpuModel) {
        gpus.push(gpu.pciAddress);
        gpusWanted--;
      }
    }
    vfs.push(...host.nodes[node].freeVfs.slice(0, choice.vfs[i]));
  });
  const siblings = cores.map((core) => host.coreThreads[core]);
  return {
    hostId: host.id,
    threads: threadsForVcpus(siblings, demand.vcpus),
    coreThreads: siblings.flat(),
    numaNodes: choice.nodes.map((node) => host.nodes[node].numaId).sort((a, b) => a - b),
    memoryMiB: demand.memoryMiB,
    diskGiB: demand.diskGiB,
    gpus,
    vfs,
  };
}

/** Cores (ids) of a placement's threads, in first-seen order. */
export function coresOfThreads(host: HostState, threads: readonly number[]): number[] {
  const cores: number[] = [];
  for (const thread of threads) {
    const core = host.threadCore[thread];
    if (core !== undefined && !cores.includes(core)) cores.push(core);
  }
  return cores;
}

/** Memory per node position of a placement, as `splitMemoryMiB` re-derives it from its cores. */
export function memoryByNode(host: HostState, cores: readonly number[], memoryMiB: number): Map<number, number> {
  const coresPerNode = new Map<number, number>();
  for (const core of cores) {
    const node = host.coreNode[core];
    if (node !== undefined) coresPerNode.set(node, (coresPerNode.get(node) ?? 0) + 1);
  }
  const nodes = [...coresPerNode.keys()].sort((a, b) => a - b);
  const shares = splitMemoryMiB(memoryMiB, nodes.map((node) => coresPerNode.get(node) as number));
  return new Map(nodes.map((node, i) => [node, shares[i]]));
}

/** Records a claim in this view: its cores, memory, disk, GPUs and VFs stop being free. Idempotent per server. */
export function applyClaim(host: HostState, serverId: string, claim: Claim): void {
  if (host.claims.has(serverId)) return;
  const { placement } = claim;
  const cores = coresOfThreads(host, placement.threads);
  for (const core of cores) {
    const node = host.coreNode[core];
    if (node !== undefined) removeSorted(host.nodes[node].freeCores, core);
  }
  for (const [node, mib] of memoryByNode(host, cores, placement.memoryMiB)) host.nodes[node].freeMemoryMiB -= mib;
  host.freeDiskGiB -= placement.diskGiB;
  for (const address of placement.gpus) {
    const gpu = host.gpus.find((candidate) => candidate.pciAddress === address);
    if (gpu) gpu.claimedBy = serverId;
  }
  for (const address of placement.vfs) {
    const node = host.vfNode.get(address);
    if (node === undefined) continue;
    const list = host.nodes[node].freeVfs;
    const at = list.indexOf(address);
    if (at >= 0) list.splice(at, 1);
  }
  host.claims.set(serverId, claim);
  if (claim.placementGroupId) host.groupCounts.set(claim.placementGroupId, (host.groupCounts.get(claim.placementGroupId) ?? 0) + 1);
}

/** Forgets a claim: its resources are free again. Idempotent per server. */
export function removeClaim(host: HostState, serverId: string): Claim | null {
  const claim = host.claims.get(serverId);
  if (!claim) return null;
  const { placement } = claim;
  const cores = coresOfThreads(host, placement.threads);
  for (const core of cores) {
    const node = host.coreNode[core];
    if (node !== undefined) insertSorted(host.nodes[node].freeCores, core);
  }
  for (const [node, mib] of memoryByNode(host, cores, placement.memoryMiB)) host.nodes[node].freeMemoryMiB += mib;
  host.freeDiskGiB += placement.diskGiB;
  for (const gpu of host.gpus) if (gpu.claimedBy === serverId) gpu.claimedBy = null;
  for (const address of placement.vfs) {
    const node = host.vfNode.get(address);
    if (node === undefined) continue;
    const list = host.nodes[node].freeVfs;
    if (!list.includes(address)) list.push(address);
    list.sort(comparePci);
  }
  host.claims.delete(serverId);
  const group = claim.placementGroupId;
  if (group) {
    const left = (host.groupCounts.get(group) ?? 1) - 1;
    if (left > 0) host.groupCounts.set(group, left);
    else host.groupCounts.delete(group);
  }
  return claim;
}

function comparePci(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function removeSorted(list: number[], value: number): void {
  const at = list.indexOf(value);
  if (at >= 0) list.splice(at, 1);
}

function insertSorted(list: number[], value: number): void {
  let at = list.length;
  while (at > 0 && list[at - 1] > value) at--;
  if (list[at - 1] === value) return;
  list.splice(at, 0, value);
}
