/**
 * The scheduler domain: the placement engine (exact claims, NUMA, GPUs, SR-IOV, placement groups,
 * explainable failures), capacity, the placement audit and host draining.
 */
import type { Db, DialectName } from '../db/index.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import { defaultProducts } from '../catalog/index.ts';
import { auditAllocations, type PlacementViolation } from './audit.ts';
import { capacityReport, type CapacityProduct, type RegionCapacity } from './capacity.ts';
import { drainHost, planDrain, type DrainReport, type MoveServer } from './drain.ts';
import { createPlacementEngine, type DecisionObservation, type PlacementEngine } from './scheduler.ts';
import type { HostFilter } from './filters/index.ts';
import type { HostState } from './host-state.ts';
import type { Scorer } from './scorers/index.ts';
import type { Scheduler } from './types.ts';
import { createPlacementReads, type PlacementReads } from './placements.ts';

export type * from './types.ts';
export { isDiskClaimId } from './types.ts';
export type { PlacementViolation, ViolationKind } from './audit.ts';
export type { Availability, CapacityProduct, ProductCapacity, RegionCapacity, Utilization } from './capacity.ts';
export type { DrainMove, DrainReport, DrainStuck, MoveServer } from './drain.ts';
export type { DecisionObservation } from './scheduler.ts';
export type { ServerPlacement, HostUsageCounts, PlacementReads } from './placements.ts';
export { wireCapacity, wireDrainReport, wirePlacementAudit, wirePlacementFailure } from './wire.ts';
export type { FilterContext, HostFilter, StructuralAnswer } from './filters/index.ts';
export { defaultFilters } from './filters/index.ts';
export type { NodeView, Scorer } from './scorers/index.ts';
export { aligned, alignedExact, bestFit, nodeAligned, scorers, spread, weighted } from './scorers/index.ts';

export interface SchedulerDeps {
  db: Db;
  dialect: DialectName;
  log?: Logger;
  clock?: Clock;
  /** Products whose capacity `capacity()` reports (default: the VMCloud catalog). */
  products?: readonly CapacityProduct[];
  /** Let VPS products use GPU hosts too (default false). */
  vpsOnGpuHosts?: boolean;
  /** Generation conflicts tolerated per placement before `unavailable` (default 20). */
  maxAttempts?: number;
  /** Called after every place() with the in-memory decision time (for metrics and the benchmark). */
  onDecision?: (observation: DecisionObservation) => void;
  /**
   * The filter list (default `defaultFilters`, in order). Decisions and failure explanations both follow
   * it: a filter added here is honoured by both.
   */
  filters?: readonly HostFilter[];
  /**
   * How placements outside spread groups choose among hosts that fit (default `alignedExact`: best fit
   * that leaves hosts' free cores in multiples of the largest VPS; see docs/scheduler.md).
   */
  scorer?: Scorer;
  /**
   * Cores of the largest VPS product (default: from `products`, its vCPUs over 2 threads per core). The
   * scorer keeps each host's free cores in multiples of it where it can, so that large servers still fit.
   */
  alignCores?: number;
}

export interface AuditReport {
  hosts: number;
  allocations: number;
  violations: PlacementViolation[];
}

export interface PlacementScheduler extends Scheduler, PlacementReads {
  /** Claims disk space alone on a named host (a local volume); `release` frees it. */
  claimDisk: PlacementEngine['claimDisk'];
  /** Reads one host again (new host, state change, topology change, deleted host). Call after commit. */
  refreshHost(hostId: string): Promise<void>;
  /** Reads every host and claim again. */
  reload(): Promise<void>;
  /** Per region: how many more servers of each product fit now, and utilization. */
  capacity(region?: string): Promise<RegionCapacity[]>;
  /** Re-derives usage from the allocations rows and lists every violated invariant (expected: none). */
  auditPlacement(): Promise<AuditReport>;
  /** Moves every server off a host through the engine, one transaction per server. */
  drainHost(hostId: string, moveServer?: MoveServer): Promise<DrainReport>;
  /** What drainHost would do now, without changing anything. */
  planDrain(hostId: string): Promise<DrainReport>;
}

export function createScheduler(deps: SchedulerDeps): PlacementScheduler {
  const products = deps.products ?? defaultProducts;
  const largestVpsVcpus = Math.max(0, ...products.filter((p) => p.family === 'vps').map((p) => p.vcpus));
  const engine = createPlacementEngine({
    ...deps,
    alignCores: deps.alignCores ?? Math.max(1, Math.ceil(largestVpsVcpus / 2)),
  });
  let loaded = false;
  const ensureLoaded = async () => {
    if (!loaded) await engine.reload();
    loaded = true;
  };
  return {
    ...createPlacementReads(deps.db),
    place: engine.place,
    release: engine.release,
    claimDisk: engine.claimDisk,
    refreshHost: engine.refreshHost,
    async reload() {
      await engine.reload();
      loaded = true;
    },
    async capacity(region) {
      await ensureLoaded();
      const regions = new Map<string, readonly HostState[]>();
      for (const [code, index] of engine.fleet.regions)
        if (region === undefined || code === region) regions.set(code, index.hosts);
      return capacityReport(regions, products, { vpsOnGpuHosts: deps.vpsOnGpuHosts ?? false });
    },
    async auditPlacement() {
      const violations: PlacementViolation[] = [];
      const counted = await engine.store.auditPages(deps.db, (page) =>
        violations.push(...auditAllocations(page.hosts, page.allocations, page.servers)),
      );
      return { hosts: counted.hosts, allocations: counted.allocations, violations };
    },
    drainHost: (hostId, moveServer) => drainHost(engine, deps.db, hostId, moveServer),
    planDrain: (hostId) => planDrain(engine, deps.db, hostId),
  };
}
