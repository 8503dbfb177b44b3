/** Enough free resources on the host as a whole, one dimension per filter. */
import { coresFor } from '../demand.ts';
import { freeCoresTotal, freeGpusTotal } from '../host-state.ts';
import { formatMiB, plural, type HostFilter } from './filter.ts';

export const gpuCapacity: HostFilter = {
  name: 'gpu_capacity',
  rejects: (host, { demand }) => demand.gpuCount > 0 && freeGpusTotal(host, demand.gpuModel) < demand.gpuCount,
  reason: ({ demand }) => `lack ${plural(demand.gpuCount, `free ${demand.gpuModel} GPU`, `free ${demand.gpuModel} GPUs`)}`,
};

export const coreCapacity: HostFilter = {
  name: 'cores',
  rejects: (host, { demand }) => freeCoresTotal(host) < coresFor(demand.vcpus, host.threadsPerCore),
  reason: ({ coresNeeded }) => `lack ${plural(coresNeeded, 'free core', 'free cores')}`,
};

export const memoryCapacity: HostFilter = {
  name: 'memory',
  rejects: (host, { demand }) => host.nodes.reduce((sum, node) => sum + node.freeMemoryMiB, 0) < demand.memoryMiB,
  reason: ({ demand }) => `lack ${formatMiB(demand.memoryMiB)} of free memory`,
};

export const diskCapacity: HostFilter = {
  name: 'disk',
  rejects: (host, { demand }) => host.freeDiskGiB < demand.diskGiB,
  reason: ({ demand }) => `lack ${demand.diskGiB} GiB of free disk`,
};

export const sriovCapacity: HostFilter = {
  name: 'sriov',
  rejects: (host, { demand }) => host.nodes.reduce((sum, node) => sum + node.freeVfs.length, 0) < demand.vfs,
  reason: ({ demand }) => `lack ${plural(demand.vfs, 'free SR-IOV VF', 'free SR-IOV VFs')}`,
};
