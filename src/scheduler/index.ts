/**
 * The scheduler domain: the placement engine (exact claims, NUMA, GPUs, SR-IOV, placement groups,
 * explainable failures), capacity, the placement audit and host draining.
 */
import type { Db, DialectName } from '../db/index.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import { defaultProducts } from '../catalog/index.ts';
import type { HostTopology } from '../inventory/index.ts';
import { auditAllocations, type PlacementViolation } from './audit.ts';
import { capacityReport, type CapacityProduct, type RegionCapacity } from './capacity.ts';
import { drainHost, planDrain, type DrainReport, type MoveServer } from './drain.ts';
import { createPlacementEngine, type DecisionObservation } from './scheduler.ts';
import type { HostState } from './host-state.ts';
import type { Scheduler } from './types.ts';

export type * from './types.ts';
export type { PlacementViolation, ViolationKind } from './audit.ts';
export type { Availability, CapacityProduct, ProductCapacity, RegionCapacity, Utilization } from './capacity.ts';
export type { DrainMove, DrainReport, DrainStuck, MoveServer } from './drain.ts';
export type { DecisionObservation } from './scheduler.ts';

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
}

export interface AuditReport {
  hosts: number;
  allocations: number;
  violations: PlacementViolation[];
}

export interface PlacementScheduler extends Scheduler {
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
  const engine = createPlacementEngine(deps);
  const products = deps.products ?? defaultProducts;
  let loaded = false;
  const ensureLoaded = async () => {
    if (!loaded) await engine.reload();
    loaded = true;
  };
  return {
    place: engine.place,
    release: engine.release,
    refreshHost: engine.refreshHost,
    async reload() {
      await engine.reload();
      loaded = true;
    },
    async capacity(region) {
      await ensureLoaded();
      const regions = new Map<string, readonly HostState[]>();
      for (const [code, index] of engine.fleet.regions) if (region === undefined || code === region) regions.set(code, index.hosts);
      return capacityReport(regions, products, { vpsOnGpuHosts: deps.vpsOnGpuHosts ?? false });
    },
    async auditPlacement() {
      const hosts = await deps.db.selectFrom('hosts').select(['id', 'topology_json']).execute();
      const allocations = await deps.db.selectFrom('allocations').selectAll().execute();
      const servers = await deps.db.selectFrom('servers').select(['id', 'deleted_at']).execute();
      const violations = auditAllocations(
        hosts.map((host) => ({ id: host.id, topology: JSON.parse(host.topology_json) as HostTopology })),
        allocations.map((row) => ({
          serverId: row.server_id,
          hostId: row.host_id,
          threads: JSON.parse(row.threads_json) as number[],
          numaNodes: JSON.parse(row.numa_nodes_json) as number[],
          memoryMiB: Number(row.memory_mib),
          diskGiB: Number(row.disk_gib),
          gpus: JSON.parse(row.gpus_json) as string[],
          vfs: JSON.parse(row.vfs_json) as string[],
        })),
        new Map(servers.map((server) => [server.id, { id: server.id, deletedAt: server.deleted_at }])),
      );
      return { hosts: hosts.length, allocations: allocations.length, violations };
    },
    drainHost: (hostId, moveServer) => drainHost(engine, deps.db, hostId, moveServer),
    planDrain: (hostId) => planDrain(engine, deps.db, hostId),
  };
}
