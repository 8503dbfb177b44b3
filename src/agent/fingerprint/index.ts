/** Host fingerprint from sysfs: CPU/NUMA topology, memory per node, GPUs and SR-IOV NICs. */
export { readHostFingerprint, readHostTopology } from './read-host-topology.ts';
export type { FingerprintOptions, HostFingerprint } from './read-host-topology.ts';
export { buildTopology } from './build-topology.ts';
export type { LogicalCpu, NodeMemory, TopologyPolicy } from './build-topology.ts';
export { diskGiBFree } from './disk-space.ts';
