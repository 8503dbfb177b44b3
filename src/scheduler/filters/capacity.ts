/** Enough free resources on the host as a whole, one dimension per filter. */
import { coresFor } from '../demand.ts';
import { freeCoresTotal, freeGpusTotal, freeMemoryMiBTotal, freeVfsTotal } from '../host-state.ts';
import { formatMiB, plural, type HostFilter } from './filter.ts';

export const gpuCapacity: HostFilter = {
  name: 'gpu_capacity',
  kind: 'capacity',
  answeredBy: 'free_gpus',
  rejects: (host, { demand }) => demand.gpuCount > 0 && freeGpusTotal(host, demand.gpuModel) < demand.gpuCount,
  reason: ({ demand }) =>
    `lack ${plural(demand.gpuCount, `free ${demand.gpuModel} GPU`, `free ${demand.gpuModel} GPUs`)}`,
};

export const coreCapacity: HostFilter = {
  name: 'cores',
  kind: 'capacity',
  answeredBy: 'free_cores',
  rejects: (host, { demand }) => freeCoresTotal(host) < coresFor(demand.vcpus, host.threadsPerCore),
  reason: ({ coresNeeded }) => `lack ${plural(coresNeeded, 'free core', 'free cores')}`,
};

export const memoryCapacity: HostFilter = {
  name: 'memory',
  kind: 'capacity',
  answeredBy: 'layout',
  rejects: (host, { demand }) => freeMemoryMiBTotal(host) < demand.memoryMiB,
  reason: ({ demand }) => `lack ${formatMiB(demand.memoryMiB)} of free memory`,
};

export const diskCapacity: HostFilter = {
  name: 'disk',
  kind: 'capacity',
  answeredBy: 'layout',
  rejects: (host, { demand }) => host.freeDiskGiB < demand.diskGiB,
  reason: ({ demand }) => `lack ${demand.diskGiB} GiB of free disk`,
};

export const sriovCapacity: HostFilter = {
  name: 'sriov',
  kind: 'capacity',
  answeredBy: 'layout',
  rejects: (host, { demand }) => demand.vfs > 0 && freeVfsTotal(host) < demand.vfs,
  reason: ({ demand }) => `lack ${plural(demand.vfs, 'free SR-IOV VF', 'free SR-IOV VFs')}`,
};
