/**
 * The placement pipeline's filters, in the order a host is judged: a rejected host counts against the
 * first filter that rejects it. The fast path (the fleet index) yields only active hosts of the right pool
 * with enough free cores or GPUs on a node, runs `candidateFilters` on each, then the NUMA fit.
 */
import { busy } from './busy.ts';
import { coreCapacity, diskCapacity, gpuCapacity, memoryCapacity, sriovCapacity } from './capacity.ts';
import type { HostFilter } from './filter.ts';
import { hostDown, hostDraining, maintenance } from './host-state.ts';
import { numaFit } from './numa-fit.ts';
import { avoidHosts, placementGroup } from './placement-group.ts';
import { gpuModel, pool } from './pool.ts';

export type { FilterContext, HostFilter } from './filter.ts';
export { formatMiB, plural } from './filter.ts';

export const pipeline: readonly HostFilter[] = [
  hostDown,
  hostDraining,
  maintenance,
  pool,
  gpuModel,
  avoidHosts,
  placementGroup,
  busy,
  gpuCapacity,
  coreCapacity,
  memoryCapacity,
  diskCapacity,
  sriovCapacity,
  numaFit,
];

/** The filters the index does not answer by itself, run on every candidate it yields. */
export const candidateFilters: readonly HostFilter[] = [avoidHosts, placementGroup, busy];
