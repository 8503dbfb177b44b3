/**
 * Draining: every server of a host is placed again through the same engine, avoiding the source, one
 * transaction per server (release the old claim, place, let the caller record the move). A server that
 * cannot move keeps its claim and is reported with the engine's explanation.
 */
import { inTransaction, type Db, type Tx, type TxHooks } from '../db/index.ts';
import type { PlacementEngine } from './scheduler.ts';
import type { Placement, PlacementFailure, PlacementRequest } from './types.ts';

export interface DrainMove {
  serverId: string;
  fromHostId: string;
  placement: Placement;
}

export interface DrainStuck {
  serverId: string;
  /** Why no host takes it (null when the move failed for another reason, see `error`). */
  failure: PlacementFailure | null;
  error: string | null;
}

export interface DrainReport {
  hostId: string;
  moved: DrainMove[];
  stuck: DrainStuck[];
}

/** Records a move in the caller's domain (server host, migration action) inside the move's transaction. */
export type MoveServer = (tx: Tx, hooks: TxHooks, move: DrainMove) => Promise<void>;

class Stuck extends Error {
  readonly failure: PlacementFailure;
  constructor(failure: PlacementFailure) {
    super(failure.message);
    this.failure = failure;
  }
}

class DryRun extends Error {}

/** The placement requests of a host's servers (from the database), largest first. */
export async function requestsOnHost(db: Db | Tx, hostId: string): Promise<PlacementRequest[]> {
  const host = await db.selectFrom('hosts').select(['region', 'topology_json']).where('id', '=', hostId).executeTakeFirst();
  if (!host) return [];
  const gpuModels = new Map<string, string>(
    (JSON.parse(host.topology_json) as { gpus: Array<{ pciAddress: string; model: string }> }).gpus.map((gpu) => [gpu.pciAddress, gpu.model]),
  );
  const rows = await db
    .selectFrom('allocations as a')
    .leftJoin('servers as s', 's.id', 'a.server_id')
    .select(['a.server_id', 'a.threads_json', 'a.memory_mib', 'a.disk_gib', 'a.gpus_json', 'a.vfs_json', 's.project_id', 's.placement_group_id'])
    .where('a.host_id', '=', hostId)
    .execute();
  const requests = rows.map((row): PlacementRequest => {
    const gpus = JSON.parse(row.gpus_json) as string[];
    return {
      serverId: row.server_id,
      projectId: row.project_id ?? '',
      region: host.region,
      family: gpus.length > 0 ? 'gpu' : 'vps',
      vcpus: (JSON.parse(row.threads_json) as number[]).length,
      memoryMiB: Number(row.memory_mib),
      diskGiB: Number(row.disk_gib),
      gpuModel: gpus.length > 0 ? (gpuModels.get(gpus[0]) ?? null) : null,
      gpuCount: gpus.length,
      sriovVfs: (JSON.parse(row.vfs_json) as string[]).length,
      placementGroupId: row.placement_group_id ?? null,
      avoidHostIds: [hostId],
    };
  });
  return requests.sort((a, b) => b.gpuCount - a.gpuCount || b.vcpus - a.vcpus || b.memoryMiB - a.memoryMiB);
}

export async function drainHost(engine: PlacementEngine, db: Db, hostId: string, moveServer?: MoveServer): Promise<DrainReport> {
  const report: DrainReport = { hostId, moved: [], stuck: [] };
  for (const request of await requestsOnHost(db, hostId)) {
    try {
      const move = await inTransaction(db, async (tx, hooks) => {
        await engine.release(tx, hooks, request.serverId);
        const outcome = await engine.place(tx, hooks, request);
        if (!outcome.ok) throw new Stuck(outcome.failure);
        const done: DrainMove = { serverId: request.serverId, fromHostId: hostId, placement: outcome.placement };
        await moveServer?.(tx, hooks, done);
        return done;
      });
      report.moved.push(move);
    } catch (error) {
      if (error instanceof Stuck) report.stuck.push({ serverId: request.serverId, failure: error.failure, error: null });
      else report.stuck.push({ serverId: request.serverId, failure: null, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return report;
}

/** What a drain would do now: the same placements in one transaction that is then rolled back. */
export async function planDrain(engine: PlacementEngine, db: Db, hostId: string): Promise<DrainReport> {
  const report: DrainReport = { hostId, moved: [], stuck: [] };
  try {
    await inTransaction(db, async (tx, hooks) => {
      for (const request of await requestsOnHost(tx, hostId)) {
        await engine.release(tx, hooks, request.serverId);
        const outcome = await engine.place(tx, hooks, request);
        if (outcome.ok) report.moved.push({ serverId: request.serverId, fromHostId: hostId, placement: outcome.placement });
        else report.stuck.push({ serverId: request.serverId, failure: outcome.failure, error: null });
      }
      throw new DryRun('plan only');
    });
  } catch (error) {
    if (!(error instanceof DryRun)) throw error;
  }
  return report;
}
