/** The resources exist on the host but cannot be laid out on NUMA nodes with memory and devices local. */
import { hostFree } from '../host-state.ts';
import { fitOnHost } from '../numa-fit.ts';
import type { HostFilter } from './filter.ts';

export const numaFit: HostFilter = {
  name: 'numa_fit',
  kind: 'capacity',
  answeredBy: 'layout',
  rejects: (host, { demand }) => fitOnHost(hostFree(host, demand.gpuModel), demand) === null,
  reason: () => 'cannot lay out the cores with their memory and devices on the same NUMA nodes',
};
