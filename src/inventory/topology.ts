/**
 * The hardware model of a hypervisor host: sockets → NUMA nodes → cores → sibling threads, memory per NUMA
 * node, GPUs and SR-IOV NICs with their NUMA node, and the host reserve (threads and memory the
 * hypervisor keeps). Real agents fill it from /sys; the simulated fleet from its shapes. The wire schema
 * (with its bounds) is the contract's; checks a schema cannot express are in topology-check.ts.
 */
import type { HostTopology } from '../contract/topology.ts';

export type {
  CoreTopology,
  GpuDevice,
  HostTopology,
  NumaNodeTopology,
  SriovNic,
  SriovVf,
} from '../contract/topology.ts';

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
