/**
 * The scheduler's in-memory view of one host: what is free on each NUMA node and the claims on it, over the
 * host's shared layout. It mirrors the `hosts` row (state, generation) and the host's `allocations` rows;
 * the database stays the truth and the generation says whether this view is current.
 */
import type { Demand } from './demand.ts';
import type { IndexEntry } from './fleet-index.ts';
import type { HostLayout } from './host-layout.ts';
import { splitMemoryMiB, type HostFree, type NodeChoice } from './numa-fit.ts';
import { pickLowest, threadsForVcpus } from './pinning.ts';
import type { Placement } from './types.ts';

export type HostStateName = 'active' | 'maintenance' | 'draining' | 'down';
export type HostKind = 'standard' | 'gpu';

export interface NodeState {
  /** Free sellable core ids, ascending. */
  freeCores: number[];
  freeMemoryMiB: number;
  freeVfs: number;
}

/**
 * One server's claim on a host, compact (millions of them live in memory): whole cores in vCPU order, the
 * devices by address, and what the audit re-derives the rest from.
 */
export interface Claim {
  cores: readonly number[];
  vcpus: number;
  memoryMiB: number;
  diskGiB: number;
  gpus: readonly string[];
  vfs: readonly string[];
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
  layout: HostLayout;
  threadsPerCore: number;
  nodes: NodeState[];
  /** Free cores and memory over all nodes (kept with the nodes: filters and the index read them often). */
  freeCoreCount: number;
  freeMemoryMiB: number;
  /** Per GPU of the layout: the server holding it, or null. */
  gpuHolders: (string | null)[];
  /** Per VF slot of the layout: 1 when claimed (null while no VF is claimed). */
  vfTaken: Uint8Array | null;
  freeDiskGiB: number;
  /** The images the host can boot (its agent's report); null: every image of the catalog. */
  images: ReadonlySet<string> | null;
  claims: Map<string, Claim>;
  /** Members of placement groups on this host. */
  groupCounts: Map<string, number>;
  /** The open transaction of this process holding pending writes on this host, if any. */
  owner: object | null;
  /** Claims decided on this view and not yet written (the view may not be reread meanwhile). */
  pendingWrites: number;
  /** Being reread from the database: no decision may use it until the fresh view replaces it. */
  reloading: boolean;
  /** This view's entries in the fleet index (empty when not indexed). */
  indexEntries: IndexEntry[];
}

export interface HostRecord {
  id: string;
  name: string;
  region: string;
  kind: string;
  state: string;
  generation: number;
  layout: HostLayout;
  /** The image slugs the host can boot; null or absent: every image of the catalog. */
  images?: readonly string[] | null;
}

const states: readonly string[] = ['active', 'maintenance', 'draining', 'down'];
const none: readonly string[] = [];

export function createHostState(record: HostRecord): HostState {
  const { layout } = record;
  return {
    id: record.id,
    name: record.name,
    region: record.region,
    kind: record.kind === 'gpu' ? 'gpu' : 'standard',
    state: (states.includes(record.state) ? record.state : 'down') as HostStateName,
    generation: record.generation,
    layout,
    threadsPerCore: layout.threadsPerCore,
    nodes: layout.nodes.map((node) => ({
      freeCores: node.sellableCores.slice(),
      freeMemoryMiB: node.sellableMemoryMiB,
      freeVfs: node.vfCount,
    })),
    freeCoreCount: layout.nodes.reduce((sum, node) => sum + node.sellableCores.length, 0),
    freeMemoryMiB: layout.nodes.reduce((sum, node) => sum + node.sellableMemoryMiB, 0),
    gpuHolders: layout.gpus.map(() => null),
    vfTaken: null,
    freeDiskGiB: layout.sellableDiskGiB,
    images: record.images ? new Set(record.images) : null,
    claims: new Map(),
    groupCounts: new Map(),
    owner: null,
    pendingWrites: 0,
    reloading: false,
    indexEntries: [],
  };
}

export function freeCoresTotal(host: HostState): number {
  return host.freeCoreCount;
}

export function freeMemoryMiBTotal(host: HostState): number {
  return host.freeMemoryMiB;
}

export function freeVfsTotal(host: HostState): number {
  let total = 0;
  for (const node of host.nodes) total += node.freeVfs;
  return total;
}

export function freeGpusOnNode(host: HostState, node: number, model: string): number {
  const gpus = host.layout.gpus;
  let count = 0;
  for (let i = 0; i < gpus.length; i++)
    if (gpus[i].node === node && host.gpuHolders[i] === null && gpus[i].model === model) count++;
  return count;
}

export function freeGpusTotal(host: HostState, model: string | null): number {
  const gpus = host.layout.gpus;
  let count = 0;
  for (let i = 0; i < gpus.length; i++)
    if (host.gpuHolders[i] === null && (model === null || gpus[i].model === model)) count++;
  return count;
}

export function hasGpuModel(host: HostState, model: string): boolean {
  return host.layout.gpuModels.includes(model);
}

/** Free counts for the fit functions, for one demand's GPU model. */
export function hostFree(host: HostState, gpuModel: string | null): HostFree {
  return {
    threadsPerCore: host.threadsPerCore,
    freeCores: host.nodes.map((node) => node.freeCores.length),
    freeMemoryMiB: host.nodes.map((node) => node.freeMemoryMiB),
    freeGpus: host.nodes.map((_, i) => (gpuModel === null ? 0 : freeGpusOnNode(host, i, gpuModel))),
    freeVfs: host.nodes.map((node) => node.freeVfs),
    freeDiskGiB: host.freeDiskGiB,
  };
}

/** The exact resources a node choice turns into on this host right now, as a claim (nothing is changed). */
export function pinClaim(host: HostState, choice: NodeChoice, demand: Demand, placementGroupId: string | null): Claim {
  const { layout } = host;
  let cores: number[];
  let gpus: string[] | readonly string[] = none;
  let vfs: string[] | readonly string[] = none;
  if (choice.nodes.length === 1) cores = pickLowest(host.nodes[choice.nodes[0]].freeCores, choice.cores[0]);
  else {
    cores = [];
    choice.nodes.forEach((node, i) => cores.push(...pickLowest(host.nodes[node].freeCores, choice.cores[i])));
  }
  if (demand.gpuCount > 0) {
    const taken: string[] = [];
    choice.nodes.forEach((node, i) => {
      let wanted = choice.gpus[i];
      for (let g = 0; g < layout.gpus.length && wanted > 0; g++) {
        const gpu = layout.gpus[g];
        if (gpu.node === node && host.gpuHolders[g] === null && gpu.model === demand.gpuModel) {
          taken.push(gpu.pciAddress);
          wanted--;
        }
      }
    });
    gpus = taken;
  }
  if (demand.vfs > 0) {
    const taken: string[] = [];
    choice.nodes.forEach((node, i) => {
      const { vfStart, vfCount } = layout.nodes[node];
      let wanted = choice.vfs[i];
      for (let slot = vfStart; slot < vfStart + vfCount && wanted > 0; slot++) {
        if (host.vfTaken?.[slot]) continue;
        taken.push(layout.vfs[slot]);
        wanted--;
      }
    });
    vfs = taken;
  }
  return {
    cores,
    vcpus: demand.vcpus,
    memoryMiB: demand.memoryMiB,
    diskGiB: demand.diskGiB,
    gpus,
    vfs,
    placementGroupId,
  };
}

/** What a caller sees of a claim: host threads per vCPU, whole-core threads, NUMA ids and devices. */
export function placementOf(host: HostState, claim: Claim): Placement {
  const { layout } = host;
  const siblings = claim.cores.map((core) => layout.coreThreads[core] ?? []);
  return {
    hostId: host.id,
    threads: threadsForVcpus(siblings, claim.vcpus),
    coreThreads: siblings.flat(),
    numaNodes: numaIdsOf(layout, claim.cores),
    memoryMiB: claim.memoryMiB,
    diskGiB: claim.diskGiB,
    gpus: [...claim.gpus],
    vfs: [...claim.vfs],
  };
}

/** NUMA node ids (ascending) that a claim's cores sit on. */
export function numaIdsOf(layout: HostLayout, cores: readonly number[]): number[] {
  const ids: number[] = [];
  for (const core of cores) {
    const node = layout.coreNode[core];
    if (node === undefined) continue;
    const id = layout.nodes[node].numaId;
    if (!ids.includes(id)) ids.push(id);
  }
  return ids.length > 1 ? ids.sort((a, b) => a - b) : ids;
}

/** Cores (ids) of a list of threads, in first-seen order. */
export function coresOfThreads(layout: HostLayout, threads: readonly number[]): number[] {
  const cores: number[] = [];
  for (const thread of threads) {
    const core = layout.threadCore[thread];
    if (core !== undefined && !cores.includes(core)) cores.push(core);
  }
  return cores;
}

/** Calls `each(node, mib)` with the memory a claim takes on each node, as `splitMemoryMiB` derives it. */
function forMemoryByNode(host: HostState, claim: Claim, each: (node: number, mib: number) => void): void {
  const { coreNode } = host.layout;
  const first = claim.cores.length > 0 ? coreNode[claim.cores[0]] : undefined;
  if (first === undefined) return;
  let oneNode = true;
  for (const core of claim.cores) if (coreNode[core] !== first) oneNode = false;
  if (oneNode) return each(first, claim.memoryMiB);
  const coresPerNode = new Map<number, number>();
  for (const core of claim.cores) {
    const node = coreNode[core];
    if (node !== undefined) coresPerNode.set(node, (coresPerNode.get(node) ?? 0) + 1);
  }
  const nodes = [...coresPerNode.keys()].sort((a, b) => a - b);
  const shares = splitMemoryMiB(
    claim.memoryMiB,
    nodes.map((node) => coresPerNode.get(node) as number),
  );
  nodes.forEach((node, i) => each(node, shares[i]));
}

/** Records a claim in this view: its cores, memory, disk, GPUs and VFs stop being free. Idempotent per server. */
export function applyClaim(host: HostState, serverId: string, claim: Claim): void {
  if (host.claims.has(serverId)) return;
  const { layout } = host;
  for (const core of claim.cores) {
    const node = layout.coreNode[core];
    if (node !== undefined && removeSorted(host.nodes[node].freeCores, core)) host.freeCoreCount--;
  }
  forMemoryByNode(host, claim, (node, mib) => {
    host.nodes[node].freeMemoryMiB -= mib;
    host.freeMemoryMiB -= mib;
  });
  host.freeDiskGiB -= claim.diskGiB;
  for (const address of claim.gpus) {
    const at = layout.gpus.findIndex((gpu) => gpu.pciAddress === address);
    if (at >= 0) host.gpuHolders[at] = serverId;
  }
  for (const address of claim.vfs) {
    const slot = layout.vfSlot.get(address);
    if (slot === undefined) continue;
    host.vfTaken ??= new Uint8Array(layout.vfs.length);
    if (host.vfTaken[slot]) continue;
    host.vfTaken[slot] = 1;
    host.nodes[nodeOfSlot(layout, slot)].freeVfs--;
  }
  host.claims.set(serverId, claim);
  const group = claim.placementGroupId;
  if (group) host.groupCounts.set(group, (host.groupCounts.get(group) ?? 0) + 1);
}

/** Forgets a claim: its resources are free again. Idempotent per server. */
export function removeClaim(host: HostState, serverId: string): Claim | null {
  const claim = host.claims.get(serverId);
  if (!claim) return null;
  const { layout } = host;
  for (const core of claim.cores) {
    const node = layout.coreNode[core];
    if (node !== undefined && insertSorted(host.nodes[node].freeCores, core)) host.freeCoreCount++;
  }
  forMemoryByNode(host, claim, (node, mib) => {
    host.nodes[node].freeMemoryMiB += mib;
    host.freeMemoryMiB += mib;
  });
  host.freeDiskGiB += claim.diskGiB;
  for (let i = 0; i < host.gpuHolders.length; i++) if (host.gpuHolders[i] === serverId) host.gpuHolders[i] = null;
  for (const address of claim.vfs) {
    const slot = layout.vfSlot.get(address);
    if (slot === undefined || !host.vfTaken?.[slot]) continue;
    host.vfTaken[slot] = 0;
    host.nodes[nodeOfSlot(layout, slot)].freeVfs++;
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

function nodeOfSlot(layout: HostLayout, slot: number): number {
  for (let node = 0; node < layout.nodes.length; node++) {
    const { vfStart, vfCount } = layout.nodes[node];
    if (slot >= vfStart && slot < vfStart + vfCount) return node;
  }
  return 0;
}

/** Removes a value from an ascending list; whether it was there. */
function removeSorted(list: number[], value: number): boolean {
  const at = list.indexOf(value);
  if (at < 0) return false;
  if (at === 0) list.shift();
  else list.splice(at, 1);
  return true;
}

/** Inserts a value into an ascending list; whether it was missing. */
function insertSorted(list: number[], value: number): boolean {
  let at = list.length;
  while (at > 0 && list[at - 1] > value) at--;
  if (list[at - 1] === value) return false;
  if (at === list.length) list.push(value);
  else list.splice(at, 0, value);
  return true;
}
