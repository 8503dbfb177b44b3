/**
 * The scheduler's filters, in the order a host is judged: the one definition of what a host must pass.
 * `explain` counts a rejected host against the first filter that rejects it; `decide` runs every filter
 * on each candidate the fleet index yields, except those the pool answers structurally (`answeredBy`),
 * so a filter added here is honoured by both.
 */
import { busy } from './busy.ts';
import { coreCapacity, diskCapacity, gpuCapacity, memoryCapacity, sriovCapacity } from './capacity.ts';
import type { HostFilter, StructuralAnswer } from './filter.ts';
import { hostDown, hostDraining, maintenance } from './host-state.ts';
import { imageOnHost } from './image.ts';
import { numaFit } from './numa-fit.ts';
import { avoidHosts, placementGroup } from './placement-group.ts';
import { gpuModel, pool } from './pool.ts';

export type { FilterContext, HostFilter, StructuralAnswer } from './filter.ts';
export { formatMiB, plural } from './filter.ts';
export { busy } from './busy.ts';

export const defaultFilters: readonly HostFilter[] = [
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
  imageOnHost,
];

/** The filters `decide` must run itself on a candidate of a pool that gives `answers`, in list order. */
export function filtersToRun(
  filters: readonly HostFilter[],
  answers: ReadonlySet<StructuralAnswer>,
): readonly HostFilter[] {
  return filters.filter((filter) => filter.answeredBy === undefined || !answers.has(filter.answeredBy));
}
