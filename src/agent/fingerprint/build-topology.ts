/**
 * Assembles the HostTopology from what the fingerprint read: logical CPUs with their package, core and
 * node; NUMA nodes with memory; PCI GPUs and SR-IOV NICs. Cores get host-unique ids in (package, core)
 * order; the host reserve is the first `reservedCoresPerNode` cores of each node (all their threads).
 */
import type { CoreTopology, GpuDevice, HostTopology, NumaNodeTopology, SriovNic } from '../../inventory/index.ts';

export interface LogicalCpu {
  thread: number;
  packageId: number;
  coreId: number;
  node: number;
}

export interface NodeMemory {
  node: number;
  memoryMiB: number;
}

export interface TopologyPolicy {
  reservedCoresPerNode: number;
  reservedMemoryMiBPerNode: number;
  diskGiB: number;
}

export function buildTopology(
  cpus: LogicalCpu[],
  nodes: NodeMemory[],
  gpus: GpuDevice[],
  nics: SriovNic[],
  policy: TopologyPolicy,
): HostTopology {
  const coreKey = (cpu: LogicalCpu) => `${cpu.packageId}:${cpu.coreId}`;
  const coresByKey = new Map<string, { packageId: number; coreId: number; node: number; threads: number[] }>();
  for (const cpu of [...cpus].sort((a, b) => a.thread - b.thread)) {
    const key = coreKey(cpu);
    const core = coresByKey.get(key) ?? { packageId: cpu.packageId, coreId: cpu.coreId, node: cpu.node, threads: [] };
    core.threads.push(cpu.thread);
    coresByKey.set(key, core);
  }
  const orderedCores = [...coresByKey.values()].sort((a, b) => a.packageId - b.packageId || a.coreId - b.coreId);
  const nodeIds = [...new Set([...nodes.map((node) => node.node), ...orderedCores.map((core) => core.node)])].sort(
    (a, b) => a - b,
  );
  const numaNodes: NumaNodeTopology[] = nodeIds.map((id) => ({
    id,
    memoryMiB: nodes.find((node) => node.node === id)?.memoryMiB ?? 0,
    cores: [] as CoreTopology[],
  }));
  orderedCores.forEach((core, index) => {
    numaNodes.find((node) => node.id === core.node)!.cores.push({ id: index, threads: core.threads });
  });
  const reservedThreads = numaNodes.flatMap((node) =>
    node.cores.slice(0, policy.reservedCoresPerNode).flatMap((core) => core.threads),
  );
  return {
    sockets: new Set(orderedCores.map((core) => core.packageId)).size,
    numaNodes,
    reservedThreads: reservedThreads.sort((a, b) => a - b),
    reservedMemoryMiBPerNode: policy.reservedMemoryMiBPerNode,
    diskGiB: policy.diskGiB,
    gpus,
    nics,
  };
}
