/**
 * Volumes: create (quota, optional placement on an operator's host), list, show, attach, detach, resize and
 * delete. Each mutation is one transaction: the volume row (locked on PostgreSQL), the quota, the disk
 * claim on the host (the scheduler, guarded by the host's generation), the action and the event. Agents
 * converge hosts to it (sync.ts).
 */
import type { Db, DialectName, Tx, TxHooks } from '../db/index.ts';
import { inTransaction, isUniqueViolation } from '../db/index.ts';
import { conflict, filteredKeysetPage, newId, notFound, VmcError, type Clock, pageLimitOf } from '../core/index.ts';
import type { EventInput, EventRecorder } from '../events/index.ts';
import type { CatalogService } from '../catalog/index.ts';
import type { PlacementScheduler } from '../scheduler/index.ts';
import { requireProject, type IdentityService, type Principal } from '../identity/index.ts';
import {
  matchesSelector,
  parseSelector,
  validateLabels,
  type ResourceAction,
  type ResourceActions,
  type DiskKeyVault,
  type ServerRef,
} from '../compute/index.ts';
import type {
  ActionAccepted,
  CreateVolumeBody,
  EventPayloads,
  ListVolumesQuery,
  Volume,
  VolumeCreated,
  VolumeList,
  VolumeStatus,
} from '../contract/index.ts';
import { createVolumeStore, type VolumeRecord, type VolumeSourceRecord } from './store.ts';
import { volumeView } from './views.ts';
import { defaultVolumeBackend, volumeBackendPolicies } from './backends.ts';
import type { VolumeActionTarget } from './volume-status.ts';

type VolumeEventType = Extract<keyof EventPayloads, `volume.${string}`>;

/** What the volumes domain needs of servers (compute). */
export interface VolumeServers {
  findServer(q: Tx | Db, projectId: string, ref: string, options?: { lock?: boolean }): Promise<ServerRef | null>;
  serverRefs(q: Tx | Db, serverIds: readonly string[]): Promise<Map<string, ServerRef>>;
}

export interface VolumesDeps {
  db: Db;
  dialect: DialectName;
  clock: Clock;
  events: EventRecorder;
  catalog: CatalogService;
  scheduler: PlacementScheduler;
  identity: IdentityService;
  actions: ResourceActions;
  servers: VolumeServers;
  /** A host of a region by name or id (operators' `host`), or null. */
  findHost(region: string, ref: string): Promise<{ id: string; name: string } | null>;
  /** Makes each volume's LUKS key (sealed in the key store); absent: volumes are created plain. */
  volumeKeys?: DiskKeyVault;
  /** Told after commit which hosts have new desired state, so their agents act at once. */
  onDesiredStateChanged?: (hostId: string) => void;
  /** A backup of the project (null: none, or another project's); absent: volumes are not made from backups. */
  findBackup?: (projectId: string, backupId: string) => Promise<VolumeBackupSource | null>;
  /** The up, active hosts of a region with their free disk (where a volume from a backup may be placed). */
  hostsInRegion?: (region: string) => Promise<{ id: string; name: string; freeDiskGiB: number }[]>;
  /** The names of a server's disk snapshots on its host; null when the host's driver has none (simulated hosts). */
  snapshotsOf?: (hostId: string, serverId: string) => Promise<string[] | null>;
}

/** What the volumes domain needs of a backup to make a volume from it. */
export interface VolumeBackupSource {
  id: string;
  status: string;
  region: string;
  remoteRegion: string | null;
  localSnapshot: string | null;
  remoteSnapshot: string | null;
  diskBytes: number | null;
  /** The volumes it read with the server's disk. */
  volumes: { volumeId: string; diskBytes: number }[];
}

const GiB = 1024 ** 3;

/** A source resolved before the create transaction: what to record, the disk it needs, where it goes. */
interface ResolvedSource {
  record: VolumeSourceRecord;
  minSizeGiB: number;
  /** The host it must go on (a snapshot: the server's), or null: any up host of the region. */
  hostId: string | null;
}

const encodeCursor = (id: string) => Buffer.from(id).toString('base64url');
function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString();
  if (!/^vol_[0-9a-z]{26}$/.test(id))
    throw new VmcError('invalid', 'cursor is not valid', {
      fields: [{ field: 'cursor', message: 'not a cursor returned by this API' }],
    });
  return id;
}

export function createVolumeService(deps: VolumesDeps) {
  const { db, clock } = deps;
  const store = createVolumeStore(db, deps.dialect);

  const notify = (hooks: TxHooks, hostId: string | null) => {
    if (hostId && deps.onDesiredStateChanged) hooks.afterCommit(() => deps.onDesiredStateChanged!(hostId));
  };

  const recordEvent = <T extends VolumeEventType>(
    tx: Tx,
    hooks: TxHooks,
    type: T,
    volume: { id: string; projectId: string },
    data: EventPayloads[T],
  ) =>
    deps.events.record(tx, hooks, {
      type,
      projectId: volume.projectId,
      resourceType: 'volume',
      resourceId: volume.id,
      data,
    } as EventInput<T>);

  const startAction = (tx: Tx, volume: VolumeRecord, command: string, target: VolumeActionTarget) =>
    deps.actions.start(tx, {
      projectId: volume.projectId,
      resourceType: 'volume',
      resourceId: volume.id,
      command,
      target: target as unknown as Record<string, unknown>,
    });

  /** Claims the volume's disk on a host, or refuses with the scheduler's explanation (disk included). */
  async function claimOn(tx: Tx, hooks: TxHooks, volume: VolumeRecord, hostId: string, sizeGiB: number) {
    const outcome = await deps.scheduler.claimDisk(tx, hooks, { claimId: volume.id, hostId, diskGiB: sizeGiB });
    if (!outcome.ok)
      throw new VmcError('conflict', outcome.failure.message, {
        reason: 'no_capacity',
        details: { placement: outcome.failure },
      });
  }

  /** Loads a live volume for a mutation, its row locked; a running action of another command refuses. */
  async function forMutation(
    tx: Tx,
    projectId: string,
    ref: string,
    command: string,
  ): Promise<{ volume: VolumeRecord; same: ResourceAction | null }> {
    const volume = await store.liveVolume(tx, projectId, ref, { lock: true });
    if (!volume || volume.desiredState === 'deleted') throw notFound('volume', ref);
    const running = await deps.actions.running(tx, volume.id);
    const same = running.find((a) => a.command === command) ?? null;
    if (!same && running.length > 0)
      throw conflict(
        `volume ${volume.name} is busy with action ${running[0].id} (${running[0].command}); wait for it`,
        {
          reason: 'locked',
          details: { action_id: running[0].id },
        },
      );
    return { volume, same };
  }

  async function accepted(tx: Tx, action: ResourceAction): Promise<ActionAccepted> {
    return { action: await deps.actions.view(tx, action.id) };
  }

  /** Finishes an action at once when nothing has to happen on a host. */
  async function finishNow(tx: Tx, hooks: TxHooks, action: ResourceAction) {
    await deps.actions.finish(tx, hooks, action, { ok: true });
  }

  /** Checks a volume's source (nothing written) and says what it needs; the caller's project only. */
  async function resolveSource(projectId: string, body: CreateVolumeBody, region: string): Promise<ResolvedSource> {
    if (body.from_backup !== undefined) {
      const backup = deps.findBackup ? await deps.findBackup(projectId, body.from_backup) : null;
      if (!backup)
        throw new VmcError('not_found', `backup ${body.from_backup} was not found`, {
          reason: 'backup_not_found',
          details: { resource: 'backup', id: body.from_backup },
        });
      if (backup.status !== 'succeeded')
        throw conflict(`backup ${backup.id} is ${backup.status}: only a succeeded backup fills a volume`, {
          reason: 'backup_not_restorable',
        });
      const snapshot =
        region === backup.region ? backup.localSnapshot : region === backup.remoteRegion ? backup.remoteSnapshot : null;
      if (!snapshot) {
        const copies = [
          backup.localSnapshot ? backup.region : null,
          backup.remoteSnapshot ? backup.remoteRegion : null,
        ].filter((c): c is string => c !== null);
        throw new VmcError('invalid', `backup ${backup.id} has no copy in ${region.toUpperCase()}`, {
          reason: 'backup_not_in_region',
          fields: [{ field: 'region', message: `copies: ${copies.join(', ') || 'none'}` }],
        });
      }
      const wantedVolume = body.backup_volume_id ?? null;
      const part = wantedVolume === null ? null : backup.volumes.find((v) => v.volumeId === wantedVolume);
      if (part === undefined)
        throw new VmcError('invalid', `backup ${backup.id} holds no volume ${wantedVolume}`, {
          reason: 'backup_volume_missing',
          fields: [
            {
              field: 'backup_volume_id',
              message: `volumes in the backup: ${backup.volumes.map((v) => v.volumeId).join(', ') || 'none'}`,
            },
          ],
        });
      return {
        record: {
          kind: 'backup',
          backupId: backup.id,
          repositoryRegion: region,
          repositorySnapshot: snapshot,
          backupVolumeId: wantedVolume,
        },
        minSizeGiB: Math.max(1, Math.ceil(((part ? part.diskBytes : backup.diskBytes) ?? 0) / GiB)),
        hostId: null,
      };
    }
    const wanted = body.from_snapshot!;
    const server = await deps.servers.findServer(db, projectId, wanted.server);
    if (!server || server.deleted || server.desiredState === 'deleted') throw notFound('server', wanted.server);
    if (server.region !== region)
      throw conflict(
        `server ${server.name} is in ${server.region.toUpperCase()}: a volume from its snapshot is made in its region`,
        { reason: 'region_mismatch' },
      );
    if (server.hostId === null)
      throw conflict(`server ${server.name} has no host (its host was forgotten)`, { reason: 'server_not_placed' });
    const names = deps.snapshotsOf ? await deps.snapshotsOf(server.hostId, server.id) : null;
    if (names === null)
      throw conflict(`the host of server ${server.name} cannot copy disk snapshots (a simulated host)`, {
        reason: 'snapshots_unsupported',
      });
    if (!names.includes(wanted.name))
      throw new VmcError('conflict', `server ${server.name} has no snapshot ${wanted.name}`, {
        reason: 'snapshot_not_found',
        details: { resource: 'snapshot', id: wanted.name },
      });
    const product = await deps.catalog.getProduct(server.product).catch(() => null);
    const diskGiB = server.diskGiB ?? product?.disk_gib ?? 1;
    return {
      record: { kind: 'snapshot', serverId: server.id, snapshotName: wanted.name },
      minSizeGiB: diskGiB,
      hostId: server.hostId,
    };
  }

  /** The server a volume made from a backup is for (row locked): of the project and region, placed, live. */
  async function serverToAttach(tx: Tx, projectId: string, ref: string, region: string) {
    const server = await deps.servers.findServer(tx, projectId, ref, { lock: true });
    if (!server || server.deleted) throw notFound('server', ref);
    if (server.desiredState === 'deleted')
      throw conflict(`server ${server.name} is being deleted`, { reason: 'server_deleting' });
    if (server.region !== region)
      throw conflict(
        `server ${server.name} is in ${server.region.toUpperCase()}: a volume attaches only to servers of its region`,
        { reason: 'region_mismatch' },
      );
    if (server.hostId === null)
      throw conflict(`server ${server.name} has no host (its host was forgotten)`, { reason: 'server_not_placed' });
    return { id: server.id, hostId: server.hostId };
  }

  /**
   * Places a volume made from a backup on one of `hosts` (the region's up hosts, read before the
   * transaction) with room, most free disk first; the claim is the scheduler's, guarded as always.
   */
  async function placeAnywhere(
    tx: Tx,
    hooks: TxHooks,
    volume: VolumeRecord,
    region: string,
    candidates: { id: string; freeDiskGiB: number }[],
  ): Promise<string> {
    const hosts = [...candidates].sort((a, b) => b.freeDiskGiB - a.freeDiskGiB || a.id.localeCompare(b.id));
    for (const host of hosts) {
      if (host.freeDiskGiB < volume.sizeGiB) continue;
      const outcome = await deps.scheduler.claimDisk(tx, hooks, {
        claimId: volume.id,
        hostId: host.id,
        diskGiB: volume.sizeGiB,
      });
      if (outcome.ok) return host.id;
    }
    throw new VmcError(
      'conflict',
      `no up host in ${region.toUpperCase()} has ${volume.sizeGiB} GiB of free disk for the volume`,
      { reason: 'no_capacity' },
    );
  }

  const nameTaken = (name: string) =>
    conflict(`a volume named ${name} already exists in this project`, {
      reason: 'name_taken',
      fields: [{ field: 'name', message: 'already used' }],
    });

  return {
    async createVolume(principal: Principal, body: CreateVolumeBody): Promise<VolumeCreated> {
      let projectId: string;
      const operator = principal.kind === 'operator';
      if (operator) {
        if (!body.project_id)
          throw new VmcError('invalid', 'an operator names the project of the volume (project_id)', {
            fields: [{ field: 'project_id', message: 'required with an operator token' }],
          });
        projectId = body.project_id;
      } else {
        projectId = requireProject(principal, 'member').projectId;
        if (body.host !== undefined || (body.project_id !== undefined && body.project_id !== projectId))
          throw new VmcError('forbidden', 'only operators choose the host or the project of a volume', {
            reason: 'operator_only',
          });
      }
      const labels = body.labels === undefined ? {} : validateLabels(body.labels);
      const region = await deps.catalog.getRegionRecord(body.region.toLowerCase()).catch(() => {
        throw new VmcError('invalid', `unknown region ${body.region}`, {
          reason: 'unknown_region',
          fields: [{ field: 'region', message: `unknown region ${body.region}` }],
        });
      });
      let host: { id: string; name: string } | null = null;
      if (body.host !== undefined) {
        host = await deps.findHost(region.code, body.host);
        if (!host)
          throw new VmcError('invalid', `no host ${body.host} in ${region.code.toUpperCase()}`, {
            reason: 'unknown_host',
            fields: [{ field: 'host', message: 'no such host in the region' }],
          });
      }
      if (body.from_backup !== undefined && body.from_snapshot !== undefined)
        throw new VmcError('invalid', 'a volume has one source: from_backup or from_snapshot, not both', {
          reason: 'source_conflict',
          fields: [{ field: 'from_snapshot', message: 'not with from_backup' }],
        });
      if (body.server !== undefined && body.from_backup === undefined)
        throw new VmcError(
          'invalid',
          'server (made for that server and attached) goes with from_backup; an empty volume is attached once created',
          {
            fields: [{ field: 'server', message: 'only with from_backup' }],
          },
        );
      if (body.backup_volume_id !== undefined && body.from_backup === undefined)
        throw new VmcError(
          'invalid',
          'backup_volume_id picks one volume of a backup: give the backup in from_backup too',
          {
            fields: [{ field: 'backup_volume_id', message: 'only with from_backup' }],
          },
        );
      const hasSource = body.from_backup !== undefined || body.from_snapshot !== undefined;
      if (!hasSource && body.size_gib === undefined)
        throw new VmcError('invalid', 'an empty volume needs its size (size_gib)', {
          fields: [{ field: 'size_gib', message: 'required without from_backup or from_snapshot' }],
        });
      if (hasSource && host)
        throw new VmcError('invalid', 'a volume with a source is placed by its source: no host', {
          reason: 'source_conflict',
          fields: [{ field: 'host', message: 'not with from_backup or from_snapshot' }],
        });
      const source = hasSource ? await resolveSource(projectId, body, region.code) : null;
      if (source && body.size_gib !== undefined && body.size_gib < source.minSizeGiB)
        throw new VmcError(
          'invalid',
          `the source disk is ${source.minSizeGiB} GiB: the volume must hold it (size_gib at least ${source.minSizeGiB})`,
          {
            reason: 'volume_too_small',
            fields: [{ field: 'size_gib', message: `must be at least ${source.minSizeGiB}` }],
          },
        );
      const sizeGiB = body.size_gib ?? source!.minSizeGiB;
      // Read before the transaction (inside it, only `tx`): where a volume from a backup may go.
      const candidates =
        source && source.hostId === null && deps.hostsInRegion ? await deps.hostsInRegion(region.code) : [];
      const backend = volumeBackendPolicies[defaultVolumeBackend];
      try {
        return await inTransaction(db, async (tx, hooks) => {
          const now = clock.nowIso();
          const volume: VolumeRecord = {
            id: newId('volume', clock.nowMs()),
            projectId,
            name: body.name,
            region: region.code,
            backend: backend.name,
            sizeGiB,
            hostId: null,
            serverId: null,
            desiredState: 'present',
            status: host || source ? 'creating' : 'available',
            observedSizeGiB: 0,
            observedServerId: null,
            labels,
            errorMessage: null,
            keySecretId: deps.volumeKeys ? await deps.volumeKeys.create(tx) : null,
            version: 1,
            createdAt: now,
            updatedAt: now,
          };
          await store.insert(tx, volume);
          if (host && backend.hostLocal) {
            await claimOn(tx, hooks, volume, host.id, volume.sizeGiB);
            volume.hostId = host.id;
            await store.change(tx, volume.id, { hostId: host.id }, { nowIso: now, bumpVersion: false });
          }
          const attachTo =
            body.server === undefined ? null : await serverToAttach(tx, projectId, body.server, region.code);
          if (source) {
            // Placed at once where its source is: the server's host, or an up host of a region with a copy
            // (the host of the server it is for, when one is named).
            const hostId = source.hostId ?? attachTo?.hostId ?? null;
            if (hostId !== null) await claimOn(tx, hooks, volume, hostId, volume.sizeGiB);
            volume.hostId = hostId ?? (await placeAnywhere(tx, hooks, volume, region.code, candidates));
            volume.serverId = attachTo?.id ?? null;
            await store.change(
              tx,
              volume.id,
              { hostId: volume.hostId, serverId: volume.serverId },
              { nowIso: now, bumpVersion: false },
            );
            await store.insertSource(tx, volume.id, source.record, now);
          }
          await deps.identity.reserveQuota(tx, projectId, { volumes: 1, volume_gib: volume.sizeGiB });
          const action = await startAction(tx, volume, 'create', { status: attachTo ? 'attached' : 'available' });
          await recordEvent(tx, hooks, 'volume.created', volume, {
            name: volume.name,
            size_gib: volume.sizeGiB,
            region: volume.region,
            host_id: volume.hostId,
            action_id: action.id,
          });
          // Created detached with no host: nothing to do anywhere until its first attach.
          if (!volume.hostId) await finishNow(tx, hooks, action);
          notify(hooks, volume.hostId);
          return {
            volume: volumeView(volume, { operator, source: source?.record ?? null }),
            action: (await accepted(tx, action)).action,
          };
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw nameTaken(body.name);
        throw error;
      }
    },

    /** The volumes attached to a server now (a backup of the server reads them). */
    async attachedTo(serverId: string): Promise<{ volumeId: string; name: string; sizeGiB: number }[]> {
      return (await store.ofServer(db, serverId))
        .filter((v) => v.desiredState !== 'deleted')
        .map((v) => ({ volumeId: v.id, name: v.name, sizeGiB: v.sizeGiB }));
    },

    namesTaken(projectId: string, names: readonly string[]): Promise<Set<string>> {
      return store.namesTaken(db, projectId, names);
    },

    /**
     * A volume made from one volume of a backup on a server's host, attached to that server (a restore to a
     * new server), in the caller's transaction: quota, disk claimed on the host, the source recorded, an
     * action that ends when the host reports it attached. Returns its id.
     */
    async restoreFor(
      tx: Tx,
      hooks: TxHooks,
      input: {
        projectId: string;
        name: string;
        sizeGiB: number;
        server: { id: string; hostId: string; region: string };
        backupId: string;
        backupVolumeId: string;
        repositoryRegion: string;
        repositorySnapshot: string;
      },
    ): Promise<string> {
      const now = clock.nowIso();
      const backend = volumeBackendPolicies[defaultVolumeBackend];
      const volume: VolumeRecord = {
        id: newId('volume', clock.nowMs()),
        projectId: input.projectId,
        name: input.name,
        region: input.server.region,
        backend: backend.name,
        sizeGiB: input.sizeGiB,
        hostId: input.server.hostId,
        serverId: input.server.id,
        desiredState: 'present',
        status: 'creating',
        observedSizeGiB: 0,
        observedServerId: null,
        labels: {},
        errorMessage: null,
        keySecretId: deps.volumeKeys ? await deps.volumeKeys.create(tx) : null,
        version: 1,
        createdAt: now,
        updatedAt: now,
      };
      await store.insert(tx, volume);
      await claimOn(tx, hooks, volume, input.server.hostId, volume.sizeGiB);
      await store.insertSource(
        tx,
        volume.id,
        {
          kind: 'backup',
          backupId: input.backupId,
          repositoryRegion: input.repositoryRegion,
          repositorySnapshot: input.repositorySnapshot,
          backupVolumeId: input.backupVolumeId,
        },
        now,
      );
      await deps.identity.reserveQuota(tx, input.projectId, { volumes: 1, volume_gib: volume.sizeGiB });
      const action = await startAction(tx, volume, 'create', { status: 'attached' });
      await recordEvent(tx, hooks, 'volume.created', volume, {
        name: volume.name,
        size_gib: volume.sizeGiB,
        region: volume.region,
        host_id: volume.hostId,
        action_id: action.id,
      });
      notify(hooks, volume.hostId);
      return volume.id;
    },

    /** The volume being made from this backup now (a backup it reads is not deleted meanwhile), or null. */
    volumeFillingFrom(q: Tx | Db, backupId: string): Promise<string | null> {
      return store.fillingFromBackup(q, backupId);
    },

    async listVolumes(principal: Principal, query: ListVolumesQuery): Promise<VolumeList> {
      const caller = requireProject(principal, 'viewer');
      const limit = pageLimitOf(query.limit);
      const selector = query.label_selector ? parseSelector(query.label_selector) : [];
      const after = query.cursor ? decodeCursor(query.cursor) : null;
      const { page, nextAfterId } = await filteredKeysetPage({
        limit,
        afterId: after,
        read: (afterId, batch) =>
          store.list({
            projectId: caller.projectId,
            afterId,
            limit: batch,
            name: query.name,
            region: query.region?.toLowerCase(),
            serverId: query.server_id,
          }),
        keep: selector.length > 0 ? (row) => matchesSelector(row.labels, selector) : undefined,
      });
      const sources = await store.sourcesOf(
        db,
        page.map((v) => v.id),
      );
      return {
        volumes: page.map((v) => volumeView(v, { source: sources.get(v.id) ?? null })),
        next_cursor: nextAfterId ? encodeCursor(nextAfterId) : null,
      };
    },

    async getVolume(principal: Principal, ref: string): Promise<{ volume: Volume }> {
      const caller = requireProject(principal, 'viewer');
      const volume = await store.liveVolume(db, caller.projectId, ref);
      if (!volume) throw notFound('volume', ref);
      const sources = await store.sourcesOf(db, [volume.id]);
      return { volume: volumeView(volume, { source: sources.get(volume.id) ?? null }) };
    },

    async attach(principal: Principal, ref: string, serverRef: string): Promise<ActionAccepted> {
      const caller = requireProject(principal, 'member');
      return inTransaction(db, async (tx, hooks) => {
        const { volume, same } = await forMutation(tx, caller.projectId, ref, 'attach');
        const server = await deps.servers.findServer(tx, caller.projectId, serverRef, { lock: true });
        if (!server) throw notFound('server', serverRef);
        if (same && volume.serverId === server.id) return accepted(tx, same);
        if (volume.serverId === server.id) {
          const action = await startAction(tx, volume, 'attach', { status: 'attached' });
          if (volume.status === 'attached') await finishNow(tx, hooks, action);
          return accepted(tx, action);
        }
        if (volume.serverId !== null)
          throw conflict(`volume ${volume.name} is attached to another server; detach it first`, {
            reason: 'volume_attached',
            details: { server_id: volume.serverId },
          });
        if (server.desiredState === 'deleted' || server.deleted)
          throw conflict(`server ${server.name} is being deleted`, { reason: 'server_deleting' });
        if (server.region !== volume.region)
          throw conflict(
            `volume ${volume.name} is in ${volume.region.toUpperCase()} and server ${server.name} in ${server.region.toUpperCase()}: a volume attaches only to servers of its region`,
            { reason: 'region_mismatch' },
          );
        if (server.hostId === null)
          throw conflict(`server ${server.name} has no host (its host was forgotten)`, { reason: 'server_not_placed' });
        const now = clock.nowIso();
        let hostId = volume.hostId;
        if (volumeBackendPolicies[volume.backend].hostLocal) {
          if (hostId === null) {
            // First attach of a volume created detached: placed on the server's host, its disk claimed there.
            await claimOn(tx, hooks, volume, server.hostId, volume.sizeGiB);
            hostId = server.hostId;
          } else if (hostId !== server.hostId) {
            throw conflict(
              `volume ${volume.name} is a local volume on another host than server ${server.name}: it attaches only to servers on its host`,
              { reason: 'host_mismatch' },
            );
          }
        }
        await store.change(
          tx,
          volume.id,
          { hostId, serverId: server.id, status: 'attaching', errorMessage: null },
          { nowIso: now },
        );
        const action = await startAction(tx, volume, 'attach', { status: 'attached' });
        await recordEvent(tx, hooks, 'volume.attaching', volume, {
          server_id: server.id,
          host_id: hostId ?? server.hostId,
          action_id: action.id,
        });
        notify(hooks, hostId);
        return accepted(tx, action);
      });
    },

    async detach(principal: Principal, ref: string): Promise<ActionAccepted> {
      const caller = requireProject(principal, 'member');
      return inTransaction(db, async (tx, hooks) => {
        const { volume, same } = await forMutation(tx, caller.projectId, ref, 'detach');
        if (same) return accepted(tx, same);
        if (volume.serverId === null)
          throw conflict(`volume ${volume.name} is not attached`, { reason: 'not_attached' });
        const placedOnHost = volume.observedServerId !== null;
        const status: VolumeStatus = placedOnHost ? 'detaching' : 'available';
        await store.change(tx, volume.id, { serverId: null, status, errorMessage: null }, { nowIso: clock.nowIso() });
        const action = await startAction(tx, volume, 'detach', { status: 'available' });
        await recordEvent(tx, hooks, 'volume.detaching', volume, { server_id: volume.serverId, action_id: action.id });
        if (!placedOnHost) await finishNow(tx, hooks, action);
        notify(hooks, volume.hostId);
        return accepted(tx, action);
      });
    },

    async resize(principal: Principal, ref: string, sizeGiB: number): Promise<ActionAccepted> {
      const caller = requireProject(principal, 'member');
      return inTransaction(db, async (tx, hooks) => {
        const { volume, same } = await forMutation(tx, caller.projectId, ref, 'resize');
        if (same && volume.sizeGiB === sizeGiB) return accepted(tx, same);
        if (same) throw conflict(`volume ${volume.name} is being resized already`, { reason: 'locked' });
        if (sizeGiB <= volume.sizeGiB)
          throw new VmcError(
            'invalid',
            `volume ${volume.name} is ${volume.sizeGiB} GiB: volumes only grow (ask for more than ${volume.sizeGiB} GiB)`,
            {
              reason: 'volume_shrink',
              fields: [{ field: 'size_gib', message: `must be more than ${volume.sizeGiB}` }],
            },
          );
        if (volume.hostId !== null && volumeBackendPolicies[volume.backend].hostLocal) {
          // The claim grows in place: released and made again at the new size, in this transaction.
          await deps.scheduler.release(tx, hooks, volume.id);
          await claimOn(tx, hooks, volume, volume.hostId, sizeGiB);
        }
        await deps.identity.reserveQuota(tx, volume.projectId, { volume_gib: sizeGiB - volume.sizeGiB });
        const steady: VolumeStatus = volume.serverId ? 'attached' : 'available';
        const onHost = volume.hostId !== null;
        await store.change(
          tx,
          volume.id,
          { sizeGiB, ...(onHost && volume.status === steady ? { status: 'resizing' as const } : {}) },
          { nowIso: clock.nowIso() },
        );
        const action = await startAction(tx, volume, 'resize', { status: steady, sizeGiB });
        await recordEvent(tx, hooks, 'volume.resizing', volume, {
          from_gib: volume.sizeGiB,
          to_gib: sizeGiB,
          action_id: action.id,
        });
        if (!onHost) await finishNow(tx, hooks, action);
        notify(hooks, volume.hostId);
        return accepted(tx, action);
      });
    },

    async delete(principal: Principal, ref: string): Promise<ActionAccepted> {
      const caller = requireProject(principal, 'member');
      return inTransaction(db, async (tx, hooks) => {
        const { volume, same } = await forMutation(tx, caller.projectId, ref, 'delete');
        if (same) return accepted(tx, same);
        if (volume.serverId !== null || volume.observedServerId !== null)
          throw conflict(`volume ${volume.name} is attached to a server; detach it first`, {
            reason: 'volume_attached',
            details: { server_id: volume.serverId ?? volume.observedServerId },
          });
        const now = clock.nowIso();
        const action = await startAction(tx, volume, 'delete', { status: 'deleted' });
        await recordEvent(tx, hooks, 'volume.deleting', volume, { action_id: action.id });
        if (volume.hostId === null) {
          // Never placed: no host has anything of it.
          await store.change(
            tx,
            volume.id,
            { desiredState: 'deleted', status: 'deleted', deletedAt: now },
            { nowIso: now },
          );
          await deps.identity.releaseQuota(tx, volume.projectId, { volumes: 1, volume_gib: volume.sizeGiB });
          await recordEvent(tx, hooks, 'volume.deleted', volume, { from: volume.status, to: 'deleted' });
          await finishNow(tx, hooks, action);
        } else {
          await store.change(tx, volume.id, { desiredState: 'deleted', status: 'deleting' }, { nowIso: now });
        }
        notify(hooks, volume.hostId);
        return accepted(tx, action);
      });
    },
  };
}

export type VolumeService = ReturnType<typeof createVolumeService>;
