/**
 * A filter rejects hosts that cannot take a request; its reason completes "N hosts …" in a failure. The
 * ordered list of filters (`filters/index.ts`) is the one definition of what a host must pass: `explain`
 * judges every host of a region by it, and `decide` runs it on every candidate the fleet index yields,
 * except the filters the index already answers for that pool (`answeredBy`).
 */
import type { Demand } from '../demand.ts';
import type { HostState } from '../host-state.ts';
import type { PlacementRequest } from '../types.ts';

export interface FilterContext {
  request: PlacementRequest;
  demand: Demand;
  /** Whole cores the demand takes on the region's usual host (for words only; fits use each host's SMT). */
  coresNeeded: number;
  avoidHostIds: ReadonlySet<string>;
  /** The request's placement group when its policy is `spread` (no two members on one host). */
  spreadGroupId: string | null;
  /** The transaction asking; hosts with pending writes of another open transaction are busy. */
  owner: object | null;
  vpsOnGpuHosts: boolean;
}

/**
 * What the decision guarantees of every candidate without asking the filter:
 * - `active_state`: the fleet index holds only active hosts;
 * - `pool`: a pool holds only hosts eligible for its demands (standard, or GPU hosts of one model);
 * - `free_cores`: the standard pool files nodes by free cores and only nodes with the cores needed are
 *   visited (the layout search then counts them with the host's own threads per core);
 * - `free_gpus`: a GPU pool files nodes by free GPUs of its model, likewise;
 * - `layout`: the decision's NUMA layout search (one node, else the fewest nodes) checks cores, memory,
 *   GPUs and VFs per node and the host's disk, so it answers those filters and `numa_fit` itself.
 */
export type StructuralAnswer = 'active_state' | 'pool' | 'free_cores' | 'free_gpus' | 'layout';

export interface HostFilter {
  /** Stable name, reported in `FilterRejection.filter`. */
  name: string;
  /**
   * `capacity`: the host lacks free resources (it counts towards the largest size still available);
   * `eligibility`: the host cannot take this request whatever is free.
   */
  kind: 'eligibility' | 'capacity';
  /** Set when the decision answers this filter structurally in pools that give that answer (see above). */
  answeredBy?: StructuralAnswer;
  rejects(host: HostState, context: FilterContext): boolean;
  /** Words after "N hosts", e.g. `are draining`, `lack 8 free cores`. */
  reason(context: FilterContext): string;
}

export function formatMiB(mib: number): string {
  return mib % 1024 === 0 ? `${mib / 1024} GiB` : `${mib} MiB`;
}

export function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}
