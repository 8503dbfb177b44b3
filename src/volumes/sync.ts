/**
 * The control plane's side of the agent protocol for volumes: the desired volumes of a host out, the
 * volumes it observes in. A report lists every volume of the host (the whole truth about them), in one
 * transaction: statuses, events, the actions they finish, and for a volume gone for good its disk claim
 * and quota given back. A volume attached to a server that was deleted is detached here.
 */
import type { Db, Tx, TxHooks } from '../db/index.ts';
import { dialectOfDb, inTransaction } from '../db/index.ts';
import type { Clock } from '../core/index.ts';
import type { EventRecorder } from '../events/index.ts';
import type { PlacementScheduler } from '../scheduler/index.ts';
import type { IdentityService } from '../identity/index.ts';
import type { DiskKeyVault, ResourceActions } from '../compute/index.ts';
import type { DesiredVolume, DesiredVolumeSource, ObservedVolume, VolumeStatus } from '../contract/index.ts';
import { createVolumeStore, type VolumeRecord, type VolumeSourceRecord } from './store.ts';
import { deriveVolumeStatus, judgeVolumeAction, type VolumeActionTarget } from './volume-status.ts';
import type { VolumeServers } from './service.ts';

const eventOfStatus: Partial<
  Record<VolumeStatus, 'volume.available' | 'volume.attached' | 'volume.deleted' | 'volume.error'>
> = {
  available: 'volume.available',
  attached: 'volume.attached',
  deleted: 'volume.deleted',
  error: 'volume.error',
};

export interface VolumeSyncDeps {
  db: Db;
  clock: Clock;
  events: EventRecorder;
  scheduler: PlacementScheduler;
  identity: IdentityService;
  actions: ResourceActions;
  servers: VolumeServers;
  /** Opens (for real hosts) and destroys (with the volume) each volume's LUKS key. */
  volumeKeys?: DiskKeyVault;
  /** A region's backup repository (url and password), for a real host filling a volume from a backup. */
  repositoryAccess?: (region: string) => Promise<{ region: string; url: string; password: string } | null>;
}

export function createVolumeSync(deps: VolumeSyncDeps) {
  const { db, clock } = deps;
  const store = createVolumeStore(db, dialectOfDb(db));

  async function settle(tx: Tx, hooks: TxHooks, volume: VolumeRecord, observed: ObservedVolume | null) {
    const status = deriveVolumeStatus({
      desired: volume.desiredState,
      sizeGiB: volume.sizeGiB,
      serverId: volume.serverId,
      placed: volume.hostId !== null,
      observed,
    });
    const observedSizeGiB = observed?.sizeGiB ?? 0;
    const observedServerId = observed?.serverId ?? null;
    const detail = observed?.state === 'failed' ? (observed.detail ?? 'the host could not do it') : null;
    const grown = volume.observedSizeGiB > 0 && observedSizeGiB > volume.observedSizeGiB;
    const changed =
      status !== volume.status ||
      observedSizeGiB !== volume.observedSizeGiB ||
      observedServerId !== volume.observedServerId ||
      detail !== volume.errorMessage;
    if (!changed) return;
    const nowIso = clock.nowIso();
    await store.change(
      tx,
      volume.id,
      {
        status,
        observedSizeGiB,
        observedServerId,
        errorMessage: detail,
        ...(status === 'deleted' ? { deletedAt: nowIso } : {}),
      },
      { nowIso, bumpVersion: false },
    );
    if (status === 'deleted') {
      await deps.scheduler.release(tx, hooks, volume.id);
      await deps.identity.releaseQuota(tx, volume.projectId, { volumes: 1, volume_gib: volume.sizeGiB });
      // Its data is gone from the host; the key goes too: any copy of those bytes left anywhere is unreadable.
      if (volume.keySecretId && deps.volumeKeys) {
        await deps.volumeKeys.destroy(tx, volume.keySecretId);
        await store.change(tx, volume.id, { keySecretId: null }, { nowIso, bumpVersion: false });
      }
    }
    const subject = { projectId: volume.projectId, resourceType: 'volume', resourceId: volume.id };
    // Back from resizing to where it was: `volume.resized` says it.
    const backFromResize = grown && volume.status === 'resizing' && (status === 'attached' || status === 'available');
    const type = status !== volume.status && !backFromResize ? eventOfStatus[status] : undefined;
    if (type)
      await deps.events.record(tx, hooks, {
        ...subject,
        type,
        data: { from: volume.status, to: status, ...(detail ? { detail } : {}) },
      });
    if (grown)
      await deps.events.record(tx, hooks, {
        ...subject,
        type: 'volume.resized',
        data: { from: `${volume.observedSizeGiB}`, to: `${observedSizeGiB}` },
      });
    for (const action of await deps.actions.running(tx, volume.id)) {
      const target = action.target as unknown as VolumeActionTarget;
      const verdict = judgeVolumeAction(target, status, observedSizeGiB, detail);
      if (verdict.done)
        await deps.actions.finish(
          tx,
          hooks,
          action,
          verdict.ok ? { ok: true } : { ok: false, code: verdict.code, message: verdict.message },
        );
      else if (verdict.progress !== action.progress) await deps.actions.progress(tx, action.id, verdict.progress);
    }
  }

  /** Volumes attached to servers that are gone for good are detached (their data stays). */
  async function detachFromDeletedServers(tx: Tx, volumes: VolumeRecord[]): Promise<void> {
    const attached = volumes.filter((v) => v.serverId !== null);
    if (attached.length === 0) return;
    const servers = await deps.servers.serverRefs(
      tx,
      attached.map((v) => v.serverId!),
    );
    for (const volume of attached) {
      const server = servers.get(volume.serverId!);
      if (server && !server.deleted) continue;
      await store.change(tx, volume.id, { serverId: null }, { nowIso: clock.nowIso() });
      volume.serverId = null;
    }
  }

  /** A source as the host reads it; a real host (`real`) gets the repository of a backup's copy. */
  async function desiredSource(source: VolumeSourceRecord, real: boolean): Promise<DesiredVolumeSource> {
    if (source.kind === 'snapshot')
      return { kind: 'snapshot', serverId: source.serverId, snapshot: source.snapshotName };
    const repository = real && deps.repositoryAccess ? await deps.repositoryAccess(source.repositoryRegion) : null;
    return {
      kind: 'backup',
      backupId: source.backupId,
      snapshot: source.repositorySnapshot,
      ...(source.backupVolumeId ? { volumeId: source.backupVolumeId } : {}),
      ...(repository ? { repository } : {}),
    };
  }

  return {
    /**
     * The desired volumes of a host, each with its key unwrapped (`keys: false` leaves keys out: simulated
     * hosts store nothing to encrypt). A volume being deleted needs no key any more.
     */
    async desiredFor(hostId: string, options: { keys?: boolean } = {}): Promise<DesiredVolume[]> {
      const out: DesiredVolume[] = [];
      const volumes = await store.onHost(db, hostId);
      // Sources go with volumes the host has not made yet (never reported): what to fill them with.
      const unmade = volumes.filter((v) => v.desiredState !== 'deleted' && v.observedSizeGiB === 0);
      const sources = await store.sourcesOf(
        db,
        unmade.map((v) => v.id),
      );
      for (const v of volumes) {
        const deleted = v.desiredState === 'deleted';
        const withKey = !deleted && options.keys !== false && v.keySecretId !== null && deps.volumeKeys;
        const source = sources.get(v.id);
        out.push({
          volumeId: v.id,
          sizeGiB: v.sizeGiB,
          serverId: deleted ? null : v.serverId,
          desired: deleted ? 'deleted' : 'present',
          ...(withKey ? { key: await deps.volumeKeys!.open(v.keySecretId!) } : {}),
          ...(source ? { source: await desiredSource(source, options.keys !== false) } : {}),
        });
      }
      return out;
    },

    /** Applies what a host reports about its volumes: `observed` lists every volume it has. */
    async applyReport(hostId: string, observed: ObservedVolume[]): Promise<void> {
      const byId = new Map(observed.map((o) => [o.volumeId, o]));
      await inTransaction(db, async (tx, hooks) => {
        const volumes = await store.onHost(tx, hostId);
        await detachFromDeletedServers(tx, volumes);
        for (const volume of volumes) await settle(tx, hooks, volume, byId.get(volume.id) ?? null);
      });
    },
  };
}

export type VolumeSync = ReturnType<typeof createVolumeSync>;
