/** The only code that names the volumes domain's table, `volumes`. JSON columns are typed here, once. */
import type { Selectable } from 'kysely';
import type { Db, DialectName, Tx } from '../db/index.ts';
import type { Labels, VolumeBackend, VolumeStatus } from '../contract/index.ts';
import type { VolumeSourcesTable, VolumesTable } from './tables.ts';

export type VolumeDesiredState = 'present' | 'deleted';

/** What a volume was made from (table `volume_sources`). */
export type VolumeSourceRecord =
  | {
      kind: 'backup';
      backupId: string;
      repositoryRegion: string;
      repositorySnapshot: string;
      /** Which volume of the backup; null: the backed-up server's disk. */
      backupVolumeId: string | null;
    }
  | { kind: 'snapshot'; serverId: string; snapshotName: string };

const sourceOf = (r: Selectable<VolumeSourcesTable>): VolumeSourceRecord =>
  r.kind === 'backup'
    ? {
        kind: 'backup',
        backupId: r.backup_id ?? '',
        repositoryRegion: r.repository_region ?? '',
        repositorySnapshot: r.repository_snapshot ?? '',
        backupVolumeId: r.backup_volume_id,
      }
    : { kind: 'snapshot', serverId: r.server_id ?? '', snapshotName: r.snapshot_name ?? '' };

export interface VolumeRecord {
  id: string;
  projectId: string;
  name: string;
  region: string;
  backend: VolumeBackend;
  sizeGiB: number;
  hostId: string | null;
  serverId: string | null;
  desiredState: VolumeDesiredState;
  status: VolumeStatus;
  observedSizeGiB: number;
  observedServerId: string | null;
  labels: Labels;
  errorMessage: string | null;
  /** The sealed secret of its LUKS key (null: plain, made before encryption or without a key store). */
  keySecretId: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

const volumeOf = (r: Selectable<VolumesTable>): VolumeRecord => ({
  id: r.id,
  projectId: r.project_id,
  name: r.name,
  region: r.region,
  backend: r.backend as VolumeBackend,
  sizeGiB: Number(r.size_gib),
  hostId: r.host_id,
  serverId: r.server_id,
  desiredState: r.desired_state as VolumeDesiredState,
  status: r.status as VolumeStatus,
  observedSizeGiB: Number(r.observed_size_gib),
  observedServerId: r.observed_server_id,
  labels: JSON.parse(r.labels_json) as Labels,
  errorMessage: r.error_message,
  keySecretId: r.key_secret_id,
  version: Number(r.version),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** The fields a change may set on a volume. */
export interface VolumeChange {
  sizeGiB?: number;
  hostId?: string | null;
  serverId?: string | null;
  desiredState?: VolumeDesiredState;
  status?: VolumeStatus;
  observedSizeGiB?: number;
  observedServerId?: string | null;
  errorMessage?: string | null;
  keySecretId?: string | null;
  deletedAt?: string;
}

const columnsOf = (change: VolumeChange) => ({
  ...(change.sizeGiB !== undefined && { size_gib: change.sizeGiB }),
  ...(change.hostId !== undefined && { host_id: change.hostId }),
  ...(change.serverId !== undefined && { server_id: change.serverId }),
  ...(change.desiredState !== undefined && { desired_state: change.desiredState }),
  ...(change.status !== undefined && { status: change.status }),
  ...(change.observedSizeGiB !== undefined && { observed_size_gib: change.observedSizeGiB }),
  ...(change.observedServerId !== undefined && { observed_server_id: change.observedServerId }),
  ...(change.errorMessage !== undefined && { error_message: change.errorMessage }),
  ...(change.keySecretId !== undefined && { key_secret_id: change.keySecretId }),
  ...(change.deletedAt !== undefined && { deleted_at: change.deletedAt }),
});

export interface VolumeListFilter {
  projectId: string;
  afterId: string | null;
  limit: number;
  name?: string;
  region?: string;
  serverId?: string;
}

export function createVolumeStore(db: Db, dialect: DialectName) {
  return {
    async insert(tx: Tx, v: VolumeRecord): Promise<void> {
      await tx
        .insertInto('volumes')
        .values({
          id: v.id,
          project_id: v.projectId,
          name: v.name,
          region: v.region,
          backend: v.backend,
          size_gib: v.sizeGiB,
          host_id: v.hostId,
          server_id: v.serverId,
          desired_state: v.desiredState,
          status: v.status,
          observed_size_gib: v.observedSizeGiB,
          observed_server_id: v.observedServerId,
          labels_json: JSON.stringify(v.labels),
          error_message: v.errorMessage,
          key_secret_id: v.keySecretId,
          version: v.version,
          created_at: v.createdAt,
          updated_at: v.updatedAt,
          deleted_at: null,
        })
        .execute();
    },

    /** A live volume of the project by id or name (locked for update on PostgreSQL with `lock`), or null. */
    async liveVolume(
      q: Tx | Db,
      projectId: string,
      ref: string,
      options: { lock?: boolean } = {},
    ): Promise<VolumeRecord | null> {
      let query = q
        .selectFrom('volumes')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('deleted_at', 'is', null)
        .where((eb) => (ref.startsWith('vol_') ? eb('id', '=', ref) : eb('name', '=', ref)));
      if (options.lock && dialect === 'postgres') query = query.forUpdate();
      const row = await query.executeTakeFirst();
      return row ? volumeOf(row) : null;
    },

    /** One page of a project's live volumes in id order, after `afterId`. */
    async list(filter: VolumeListFilter): Promise<VolumeRecord[]> {
      let q = db
        .selectFrom('volumes')
        .selectAll()
        .where('project_id', '=', filter.projectId)
        .where('deleted_at', 'is', null)
        .orderBy('id')
        .limit(filter.limit);
      if (filter.afterId) q = q.where('id', '>', filter.afterId);
      if (filter.name) q = q.where('name', '=', filter.name);
      if (filter.region) q = q.where('region', '=', filter.region);
      if (filter.serverId) q = q.where('server_id', '=', filter.serverId);
      return (await q.execute()).map(volumeOf);
    },

    /** The live volumes placed on a host (deleting ones included: the host still has them). */
    async onHost(q: Tx | Db, hostId: string): Promise<VolumeRecord[]> {
      const rows = await q
        .selectFrom('volumes')
        .selectAll()
        .where('host_id', '=', hostId)
        .where('deleted_at', 'is', null)
        .orderBy('id')
        .execute();
      return rows.map(volumeOf);
    },

    /** Which of these names live volumes of the project have. */
    async namesTaken(q: Tx | Db, projectId: string, names: readonly string[]): Promise<Set<string>> {
      if (names.length === 0) return new Set();
      const rows = await q
        .selectFrom('volumes')
        .select('name')
        .where('project_id', '=', projectId)
        .where('deleted_at', 'is', null)
        .where('name', 'in', names)
        .execute();
      return new Set(rows.map((r) => r.name));
    },

    /** The live volumes attached (or being attached) to a server. */
    async ofServer(q: Tx | Db, serverId: string): Promise<VolumeRecord[]> {
      const rows = await q
        .selectFrom('volumes')
        .selectAll()
        .where('server_id', '=', serverId)
        .where('deleted_at', 'is', null)
        .orderBy('id')
        .execute();
      return rows.map(volumeOf);
    },

    async insertSource(tx: Tx, volumeId: string, source: VolumeSourceRecord, nowIso: string): Promise<void> {
      await tx
        .insertInto('volume_sources')
        .values({
          volume_id: volumeId,
          kind: source.kind,
          backup_id: source.kind === 'backup' ? source.backupId : null,
          repository_region: source.kind === 'backup' ? source.repositoryRegion : null,
          repository_snapshot: source.kind === 'backup' ? source.repositorySnapshot : null,
          backup_volume_id: source.kind === 'backup' ? source.backupVolumeId : null,
          server_id: source.kind === 'snapshot' ? source.serverId : null,
          snapshot_name: source.kind === 'snapshot' ? source.snapshotName : null,
          created_at: nowIso,
        })
        .execute();
    },

    /** The sources of these volumes (one batched read); a volume made empty has none. */
    async sourcesOf(q: Tx | Db, volumeIds: readonly string[]): Promise<Map<string, VolumeSourceRecord>> {
      if (volumeIds.length === 0) return new Map();
      const rows = await q.selectFrom('volume_sources').selectAll().where('volume_id', 'in', volumeIds).execute();
      return new Map(rows.map((r) => [r.volume_id, sourceOf(r)]));
    },

    /** A live volume its host has not made yet (never reported) whose source is this backup, or null. */
    async fillingFromBackup(q: Tx | Db, backupId: string): Promise<string | null> {
      const row = await q
        .selectFrom('volume_sources')
        .innerJoin('volumes', 'volumes.id', 'volume_sources.volume_id')
        .select('volumes.id')
        .where('volume_sources.backup_id', '=', backupId)
        .where('volumes.deleted_at', 'is', null)
        .where('volumes.desired_state', '=', 'present')
        .where('volumes.observed_size_gib', '=', 0)
        .executeTakeFirst();
      return row?.id ?? null;
    },

    async byId(q: Tx | Db, id: string): Promise<VolumeRecord | null> {
      const row = await q.selectFrom('volumes').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? volumeOf(row) : null;
    },

    /** Applies a change; bumps the version unless `bumpVersion` is false. */
    async change(
      tx: Tx,
      id: string,
      change: VolumeChange,
      options: { nowIso: string; bumpVersion?: boolean },
    ): Promise<void> {
      await tx
        .updateTable('volumes')
        .set((eb) => ({
          ...columnsOf(change),
          ...(options.bumpVersion === false ? {} : { version: eb('version', '+', 1) }),
          updated_at: options.nowIso,
        }))
        .where('id', '=', id)
        .execute();
    },
  };
}

export type VolumeStore = ReturnType<typeof createVolumeStore>;
