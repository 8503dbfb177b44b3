/**
 * Settles a server in a new status inside a transaction: the row, the event of the change, the actions it
 * finishes — and, when the server is gone for good (`deleted`), its claim and its quota given back.
 * Shared by the agents' reports (host-sync.ts) and the recovery of dead hosts (host-recovery.ts).
 */
import type { Tx, TxHooks } from '../db/index.ts';
import type { Clock, EventType } from '../core/index.ts';
import type { EventRecorder } from '../events/index.ts';
import type { CatalogService } from '../catalog/index.ts';
import type { PlacementScheduler } from '../scheduler/index.ts';
import type { IdentityService } from '../identity/index.ts';
import type { ServerStatus } from '../contract/index.ts';
import { judgeAction } from './server-status.ts';
import type { Actions } from './actions.ts';
import type { ComputeStore, ServerRecord } from './store.ts';
import type { DiskKeyVault } from './disk-keys.ts';

const eventOfStatus: Partial<Record<ServerStatus, EventType>> = {
  running: 'server.started',
  stopped: 'server.stopped',
  deleted: 'server.deleted',
  error: 'server.error',
  unknown: 'server.unknown',
};

export interface SettlerDeps {
  clock: Clock;
  events: EventRecorder;
  scheduler: PlacementScheduler;
  catalog: CatalogService;
  identity: IdentityService;
  store: ComputeStore;
  actions: Actions;
  /** Disk keys: a deleted server's key is destroyed with it (its disk's bytes become unreadable). */
  diskKeys?: DiskKeyVault;
}

export type Settle = (
  tx: Tx,
  hooks: TxHooks,
  server: ServerRecord,
  status: ServerStatus,
  observedRebootGeneration: number,
  detail: string | null,
  operationFailed?: boolean,
) => Promise<void>;

export function createSettler(deps: SettlerDeps): Settle {
  const { clock, store, actions } = deps;
  return async function settle(
    tx: Tx,
    hooks: TxHooks,
    server: ServerRecord,
    status: ServerStatus,
    observedRebootGeneration: number,
    detail: string | null,
    operationFailed = false,
  ) {
    const changed =
      status !== server.status ||
      observedRebootGeneration !== server.observedRebootGeneration ||
      (status === 'error' && detail !== server.errorMessage);
    if (!changed) return;
    const nowIso = clock.nowIso();
    await store.changeServer(
      tx,
      server.id,
      {
        status,
        observedRebootGeneration,
        errorMessage: status === 'error' ? detail : null,
        ...(status === 'deleted' ? { deletedAt: nowIso } : {}),
      },
      { nowIso, bumpVersion: false },
    );
    if (status === 'deleted') {
      await deps.scheduler.release(tx, hooks, server.id);
      if (server.diskKeySecretId && deps.diskKeys) await deps.diskKeys.destroy(tx, server.diskKeySecretId);
      const product = await deps.catalog.productSpec(server.product);
      await deps.identity.releaseQuota(tx, server.projectId, {
        servers: 1,
        vcpus: product.vcpus,
        gpus: product.gpu?.count ?? 0,
      });
    }
    const type =
      status === 'running' && server.observedRebootGeneration < observedRebootGeneration
        ? 'server.rebooted'
        : eventOfStatus[status];
    if (type && status !== server.status) {
      await deps.events.record(tx, hooks, {
        type,
        projectId: server.projectId,
        resourceType: 'server',
        resourceId: server.id,
        data: { from: server.status, to: status, ...(detail ? { detail } : {}) },
      });
    }
    for (const action of await actions.running(tx, server.id)) {
      const verdict = judgeAction(action.target, status, observedRebootGeneration, detail, operationFailed);
      if (verdict.done)
        await actions.finish(
          tx,
          hooks,
          action,
          verdict.ok ? { ok: true } : { ok: false, code: verdict.code, message: verdict.message },
        );
      else if (verdict.progress !== action.progress) await actions.progress(tx, action.id, verdict.progress);
    }
  };
}
