/**
 * Draining: every server of a host is placed again through the same engine, avoiding the source, one
 * transaction per server (release the old claim, place, let the caller record the move). A server that
 * cannot move keeps its claim and is reported with the engine's explanation.
 */
import { inTransaction, type Db, type Tx, type TxHooks } from '../db/index.ts';
import type { PlacementEngine } from './scheduler.ts';
import type { SchedulerStore } from './store/index.ts';
import { isDiskClaimId, type Placement, type PlacementFailure, type PlacementRequest } from './types.ts';

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

const busyRetries = 20;
const busyRetryDelayMs = 5;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** True when some host was passed over only because another transaction held it. */
function passedOverBusyHosts(failure: PlacementFailure): boolean {
  return failure.rejections.some((rejection) => rejection.filter === 'busy');
}

/** The placement requests of a host's servers (from its claims), largest first. */
export async function requestsOnHost(store: SchedulerStore, q: Db | Tx, hostId: string): Promise<PlacementRequest[]> {
  const host = await store.hostClaims(q, hostId);
  if (!host) return [];
  // Local volumes' disk claims stay with their host (their data is there); servers move.
  const servers = host.claims.filter((row) => !(isDiskClaimId(row.server_id) && row.threads_json === '[]'));
  const requests = servers.map((row): PlacementRequest => {
    const gpus = JSON.parse(row.gpus_json) as string[];
    return {
      serverId: row.server_id,
      projectId: row.project_id ?? '',
      region: host.region,
      family: gpus.length > 0 ? 'gpu' : 'vps',
      vcpus: (JSON.parse(row.threads_json) as number[]).length,
      memoryMiB: row.memory_mib,
      diskGiB: row.disk_gib,
      gpuModel: gpus.length > 0 ? (host.gpuModels.get(gpus[0]) ?? null) : null,
      gpuCount: gpus.length,
      sriovVfs: (JSON.parse(row.vfs_json) as string[]).length,
      placementGroupId: row.placement_group_id,
      avoidHostIds: [hostId],
    };
  });
  return requests.sort((a, b) => b.gpuCount - a.gpuCount || b.vcpus - a.vcpus || b.memoryMiB - a.memoryMiB);
}

export async function drainHost(
  engine: PlacementEngine,
  db: Db,
  hostId: string,
  moveServer?: MoveServer,
): Promise<DrainReport> {
  const report: DrainReport = { hostId, moved: [], stuck: [] };
  const moveOnce = (request: PlacementRequest) =>
    inTransaction(db, async (tx, hooks) => {
      await engine.release(tx, hooks, request.serverId);
      const outcome = await engine.place(tx, hooks, request);
      if (!outcome.ok) throw new Stuck(outcome.failure);
      const done: DrainMove = { serverId: request.serverId, fromHostId: hostId, placement: outcome.placement };
      await moveServer?.(tx, hooks, done);
      return done;
    });
  for (const request of await requestsOnHost(engine.store, db, hostId)) {
    try {
      let move: DrainMove | null = null;
      for (let attempt = 1; !move; attempt++) {
        try {
          move = await moveOnce(request);
        } catch (error) {
          // The move holds the source host, so the engine passes over hosts another transaction holds
          // rather than wait for them; when only those could take the server, try again shortly.
          if (!(error instanceof Stuck && passedOverBusyHosts(error.failure)) || attempt >= busyRetries) throw error;
          await sleep(busyRetryDelayMs * attempt);
        }
      }
      report.moved.push(move);
    } catch (error) {
      if (error instanceof Stuck)
        report.stuck.push({ serverId: request.serverId, failure: error.failure, error: null });
      else
        report.stuck.push({
          serverId: request.serverId,
          failure: null,
          error: error instanceof Error ? error.message : String(error),
        });
    }
  }
  return report;
}

/** What a drain would do now: the same placements in one transaction that is then rolled back. */
export async function planDrain(engine: PlacementEngine, db: Db, hostId: string): Promise<DrainReport> {
  const report: DrainReport = { hostId, moved: [], stuck: [] };
  try {
    await inTransaction(db, async (tx, hooks) => {
      for (const request of await requestsOnHost(engine.store, tx, hostId)) {
        await engine.release(tx, hooks, request.serverId);
        const outcome = await engine.place(tx, hooks, request);
        if (outcome.ok)
          report.moved.push({ serverId: request.serverId, fromHostId: hostId, placement: outcome.placement });
        else report.stuck.push({ serverId: request.serverId, failure: outcome.failure, error: null });
      }
      throw new DryRun('plan only');
    });
  } catch (error) {
    if (!(error instanceof DryRun)) throw error;
  }
  return report;
}
