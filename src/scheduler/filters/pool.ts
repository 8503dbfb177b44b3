/** GPU hosts are kept for GPU products (unless configured otherwise); GPU products need their model. */
import { hasGpuModel } from '../host-state.ts';
import { isGpuHost } from '../fleet-index.ts';
import type { HostFilter } from './filter.ts';

export const pool: HostFilter = {
  name: 'pool',
  kind: 'eligibility',
  answeredBy: 'pool',
  rejects: (host, { demand, vpsOnGpuHosts }) =>
    demand.gpuModel === null ? isGpuHost(host) && !vpsOnGpuHosts : !isGpuHost(host),
  reason: ({ demand }) => (demand.gpuModel === null ? 'are reserved for GPU products' : 'have no GPUs'),
};

export const gpuModel: HostFilter = {
  name: 'gpu_model',
  kind: 'eligibility',
  answeredBy: 'pool',
  rejects: (host, { demand }) => demand.gpuModel !== null && !hasGpuModel(host, demand.gpuModel),
  reason: ({ demand }) => `have no ${demand.gpuModel} GPUs`,
};
