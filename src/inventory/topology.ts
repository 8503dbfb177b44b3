/**
 * The hardware model of a hypervisor host: sockets → NUMA nodes → cores → sibling threads, memory per NUMA
 * node, GPUs and SR-IOV NICs with their NUMA node, and the host reserve (threads and memory the
 * hypervisor keeps). Real agents fill it from /sys; the simulated fleet from its shapes.
 */
export interface HostTopology {
  sockets: number;
  numaNodes: NumaNodeTopology[];
  /** Host thread ids kept for the hypervisor (QEMU emulator threads, IRQs, the agent): never sold. */
  reservedThreads: number[];
  /** Memory kept for the hypervisor on each NUMA node, MiB. */
  reservedMemoryMiBPerNode: number;
  /** Local NVMe given to guests, GiB. */
  diskGiB: number;
  gpus: GpuDevice[];
  nics: SriovNic[];
}

export interface NumaNodeTopology {
  id: number;
  memoryMiB: number;
  cores: CoreTopology[];
}

export interface CoreTopology {
  /** Core id unique on the host. */
  id: number;
  /** Host thread (logical CPU) ids of this core's SMT siblings, first thread first. */
  threads: number[];
}

export interface GpuDevice {
  pciAddress: string;
  model: string;
  numaNode: number;
  iommuGroup: number | null;
}

export interface SriovNic {
  name: string;
  pciAddress: string;
  numaNode: number;
  speedGbps: number;
  vfs: SriovVf[];
}

export interface SriovVf {
  index: number;
  pciAddress: string;
}

export function threadCount(topology: HostTopology): number {
  let count = 0;
  for (const node of topology.numaNodes) for (const core of node.cores) count += core.threads.length;
  return count;
}

export function memoryMiBTotal(topology: HostTopology): number {
  return topology.numaNodes.reduce((sum, node) => sum + node.memoryMiB, 0);
}

/** Threads a guest may be pinned to: every thread minus the host reserve. */
export function sellableThreadCount(topology: HostTopology): number {
  return threadCount(topology) - topology.reservedThreads.length;
}

export function sellableMemoryMiB(topology: HostTopology): number {
  return memoryMiBTotal(topology) - topology.reservedMemoryMiBPerNode * topology.numaNodes.length;
}
