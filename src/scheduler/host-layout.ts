/**
 * What never changes about a host between two reads of its row: its topology and the lookups derived from
 * it (the node and sibling threads of every core, the node of every VF and GPU, what is sellable). Hosts of
 * one shape share one layout, so that a fleet of 100,000 hosts holds a few layouts and only the small
 * mutable part per host (`HostState`).
 */
import type { HostTopology } from '../inventory/index.ts';

export interface LayoutNode {
  numaId: number;
  /** Sellable core ids (no thread in the host reserve), ascending. */
  sellableCores: readonly number[];
  sellableMemoryMiB: number;
  /** First global VF slot of this node's NICs and how many there are (NIC order). */
  vfStart: number;
  vfCount: number;
}

export interface LayoutGpu {
  pciAddress: string;
  model: string;
  /** Position of its NUMA node in `nodes`. */
  node: number;
}

export interface HostLayout {
  topology: HostTopology;
  threadsPerCore: number;
  nodes: readonly LayoutNode[];
  /** Per core id: node position (undefined for reserved or unknown cores). */
  coreNode: readonly (number | undefined)[];
  /** Per core id: its sibling threads, first thread first. */
  coreThreads: readonly (readonly number[] | undefined)[];
  /** Per thread id: its core id. */
  threadCore: readonly (number | undefined)[];
  gpus: readonly LayoutGpu[];
  gpuModels: readonly string[];
  /** Every VF, grouped by node (node order), NIC order inside a node; a VF's index here is its slot. */
  vfs: readonly string[];
  vfSlot: ReadonlyMap<string, number>;
  sellableDiskGiB: number;
}

export function layoutOfTopology(topology: HostTopology): HostLayout {
  const reserved = new Set(topology.reservedThreads);
  const coreNode: (number | undefined)[] = [];
  const coreThreads: (readonly number[] | undefined)[] = [];
  const threadCore: (number | undefined)[] = [];
  const positionOf = (numaId: number) =>
    Math.max(
      0,
      topology.numaNodes.findIndex((node) => node.id === numaId),
    );
  const vfs: string[] = [];
  const nodes: LayoutNode[] = topology.numaNodes.map((numa, position) => {
    const sellableCores: number[] = [];
    for (const core of numa.cores) {
      for (const thread of core.threads) threadCore[thread] = core.id;
      if (core.threads.some((thread) => reserved.has(thread))) continue;
      coreNode[core.id] = position;
      coreThreads[core.id] = core.threads;
      sellableCores.push(core.id);
    }
    sellableCores.sort((a, b) => a - b);
    const vfStart = vfs.length;
    for (const nic of topology.nics)
      if (positionOf(nic.numaNode) === position) for (const vf of nic.vfs) vfs.push(vf.pciAddress);
    return {
      numaId: numa.id,
      sellableCores,
      sellableMemoryMiB: Math.max(0, numa.memoryMiB - topology.reservedMemoryMiBPerNode),
      vfStart,
      vfCount: vfs.length - vfStart,
    };
  });
  const firstCore = topology.numaNodes.flatMap((node) => node.cores)[0];
  const gpus = topology.gpus.map((gpu) => ({
    pciAddress: gpu.pciAddress,
    model: gpu.model,
    node: positionOf(gpu.numaNode),
  }));
  return {
    topology,
    threadsPerCore: firstCore ? firstCore.threads.length : 1,
    nodes,
    coreNode,
    coreThreads,
    threadCore,
    gpus,
    gpuModels: [...new Set(gpus.map((gpu) => gpu.model))],
    vfs,
    vfSlot: new Map(vfs.map((address, slot) => [address, slot])),
    sellableDiskGiB: topology.diskGiB,
  };
}

/** Parses topology JSON once per distinct text: hosts of one shape share the layout. */
export function createLayoutCache(): (topologyJson: string) => HostLayout {
  const layouts = new Map<string, HostLayout>();
  return (topologyJson) => {
    let layout = layouts.get(topologyJson);
    if (!layout) {
      layout = layoutOfTopology(JSON.parse(topologyJson) as HostTopology);
      layouts.set(topologyJson, layout);
    }
    return layout;
  };
}
