/** A filter rejects hosts that cannot take a request; its reason completes "N hosts …" in a failure. */
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

export interface HostFilter {
  /** Stable name, reported in `FilterRejection.filter`. */
  name: string;
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
