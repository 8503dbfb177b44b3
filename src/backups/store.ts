/** The only code that names the backups domain's tables. Rows are mapped to records here, once. */
import type { Selectable } from 'kysely';
import type { Db, DialectName, Tx } from '../db/index.ts';
import { backupTablesOf, type BackupPoliciesTable, type BackupRestoresTable, type BackupsTable } from './tables.ts';
import type { RetentionPolicy } from './retention.ts';

export interface PolicyRecord extends RetentionPolicy {
  scopeId: string;
  projectId: string;
  everyMinutes: number;
  remoteRegion: string | null;
  remoteKeepDays: number;
  enabled: boolean;
  updatedAt: string;
}

export interface ScheduleRecord {
  serverId: string;
  projectId: string;
  serverName: string;
  region: string;
  nextRunAtMs: number;
}

/** A volume a backup read with its server's disk. */
export interface BackupVolumeRecord {
  backupId: string;
  volumeId: string;
  volumeName: string;
  sizeGiB: number;
  kind: 'full' | 'incremental';
  diskBytes: number;
  readBytes: number;
}

export type BackupRecord = {
  id: string;
  projectId: string;
  serverId: string;
  serverName: string;
  region: string;
  product: string;
  image: string;
  status: 'pending' | 'running' | 'succeeded' | 'failed';
  trigger: 'schedule' | 'manual';
  kind: 'full' | 'incremental' | null;
  consistency: 'crash' | 'application' | null;
  hostId: string | null;
  diskBytes: number | null;
  readBytes: number | null;
  storedBytes: number | null;
  durationMs: number | null;
  localSnapshot: string | null;
  remoteRegion: string | null;
  remoteSnapshot: string | null;
  verifiedAt: string | null;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  takenAtMs: number | null;
  deletedAt: string | null;
};

export type RestoreRecord = {
  id: string;
  projectId: string;
  backupId: string;
  mode: 'to_new' | 'in_place';
  serverId: string;
  region: string;
  status: 'pending' | 'running' | 'succeeded' | 'failed';
  durationMs: number | null;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
};

const num = (v: number | string | null) => (v === null ? null : Number(v));

const policyOf = (r: Selectable<BackupPoliciesTable>): PolicyRecord => ({
  scopeId: r.scope_id,
  projectId: r.project_id,
  everyMinutes: Number(r.every_minutes),
  keepLast: Number(r.keep_last),
  keepHourly: Number(r.keep_hourly),
  keepDaily: Number(r.keep_daily),
  keepWeekly: Number(r.keep_weekly),
  keepMonthly: Number(r.keep_monthly),
  remoteRegion: r.remote_region,
  remoteKeepDays: Number(r.remote_keep_days),
  enabled: Number(r.enabled) === 1,
  updatedAt: r.updated_at,
});

const backupOf = (r: Selectable<BackupsTable>): BackupRecord => ({
  id: r.id,
  projectId: r.project_id,
  serverId: r.server_id,
  serverName: r.server_name,
  region: r.region,
  product: r.product,
  image: r.image,
  status: r.status as BackupRecord['status'],
  trigger: r.trigger as BackupRecord['trigger'],
  kind: r.kind as BackupRecord['kind'],
  consistency: r.consistency as BackupRecord['consistency'],
  hostId: r.host_id,
  diskBytes: num(r.disk_bytes),
  readBytes: num(r.read_bytes),
  storedBytes: num(r.stored_bytes),
  durationMs: num(r.duration_ms),
  localSnapshot: r.local_snapshot,
  remoteRegion: r.remote_region,
  remoteSnapshot: r.remote_snapshot,
  verifiedAt: r.verified_at,
  error: r.error,
  createdAt: r.created_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  takenAtMs: num(r.taken_at_ms),
  deletedAt: r.deleted_at,
});

const restoreOf = (r: Selectable<BackupRestoresTable>): RestoreRecord => ({
  id: r.id,
  projectId: r.project_id,
  backupId: r.backup_id,
  mode: r.mode as RestoreRecord['mode'],
  serverId: r.server_id,
  region: r.region,
  status: r.status as RestoreRecord['status'],
  durationMs: num(r.duration_ms),
  error: r.error,
  createdAt: r.created_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

function backupRow(b: BackupRecord): BackupsTable {
  return {
    id: b.id,
    project_id: b.projectId,
    server_id: b.serverId,
    server_name: b.serverName,
    region: b.region,
    product: b.product,
    image: b.image,
    status: b.status,
    trigger: b.trigger,
    kind: b.kind,
    consistency: b.consistency,
    host_id: b.hostId,
    disk_bytes: b.diskBytes,
    read_bytes: b.readBytes,
    stored_bytes: b.storedBytes,
    duration_ms: b.durationMs,
    local_snapshot: b.localSnapshot,
    remote_region: b.remoteRegion,
    remote_snapshot: b.remoteSnapshot,
    verified_at: b.verifiedAt,
    error: b.error,
    created_at: b.createdAt,
    started_at: b.startedAt,
    finished_at: b.finishedAt,
    taken_at_ms: b.takenAtMs,
    deleted_at: b.deletedAt,
  };
}

export type BackupChange = Partial<Omit<BackupRecord, 'id' | 'projectId' | 'serverId'>>;

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export function createBackupStore(_dialect: DialectName) {
  const t = backupTablesOf;
  return {
    async policy(q: Tx | Db, scopeId: string): Promise<PolicyRecord | null> {
      const row = await t(q)
        .selectFrom('backup_policies')
        .selectAll()
        .where('scope_id', '=', scopeId)
        .executeTakeFirst();
      return row ? policyOf(row) : null;
    },

    async policies(q: Tx | Db, scopeIds: readonly string[]): Promise<Map<string, PolicyRecord>> {
      if (scopeIds.length === 0) return new Map();
      const rows = await t(q)
        .selectFrom('backup_policies')
        .selectAll()
        .where('scope_id', 'in', [...scopeIds])
        .execute();
      return new Map(rows.map((r) => [r.scope_id, policyOf(r)]));
    },

    async upsertPolicy(q: Tx | Db, p: PolicyRecord): Promise<void> {
      const row = {
        scope_id: p.scopeId,
        project_id: p.projectId,
        every_minutes: p.everyMinutes,
        keep_last: p.keepLast,
        keep_hourly: p.keepHourly,
        keep_daily: p.keepDaily,
        keep_weekly: p.keepWeekly,
        keep_monthly: p.keepMonthly,
        remote_region: p.remoteRegion,
        remote_keep_days: p.remoteKeepDays,
        enabled: p.enabled ? 1 : 0,
        updated_at: p.updatedAt,
      };
      const { scope_id: _scope, ...update } = row;
      await t(q)
        .insertInto('backup_policies')
        .values(row)
        .onConflict((oc) => oc.column('scope_id').doUpdateSet(update))
        .execute();
    },

    async deletePolicy(q: Tx | Db, scopeId: string): Promise<void> {
      await t(q).deleteFrom('backup_policies').where('scope_id', '=', scopeId).execute();
    },

    async schedule(q: Tx | Db, serverId: string): Promise<ScheduleRecord | null> {
      const r = await t(q)
        .selectFrom('backup_schedules')
        .selectAll()
        .where('server_id', '=', serverId)
        .executeTakeFirst();
      return r
        ? {
            serverId: r.server_id,
            projectId: r.project_id,
            serverName: r.server_name,
            region: r.region,
            nextRunAtMs: Number(r.next_run_at_ms),
          }
        : null;
    },

    /** Adds the server to the schedule (no-op when it is there: events are delivered at least once). */
    async insertSchedule(q: Tx | Db, s: ScheduleRecord, createdAt: string): Promise<void> {
      await t(q)
        .insertInto('backup_schedules')
        .values({
          server_id: s.serverId,
          project_id: s.projectId,
          server_name: s.serverName,
          region: s.region,
          next_run_at_ms: s.nextRunAtMs,
          created_at: createdAt,
        })
        .onConflict((oc) => oc.column('server_id').doNothing())
        .execute();
    },

    async deleteSchedule(q: Tx | Db, serverId: string): Promise<void> {
      await t(q).deleteFrom('backup_schedules').where('server_id', '=', serverId).execute();
    },

    async setNextRun(q: Tx | Db, serverId: string, nextRunAtMs: number): Promise<void> {
      await t(q)
        .updateTable('backup_schedules')
        .set({ next_run_at_ms: nextRunAtMs })
        .where('server_id', '=', serverId)
        .execute();
    },

    /** Schedules due at `nowMs`, oldest first (the index on next_run_at_ms: only what is due is read). */
    async dueSchedules(q: Tx | Db, nowMs: number, limit: number): Promise<ScheduleRecord[]> {
      const rows = await t(q)
        .selectFrom('backup_schedules')
        .selectAll()
        .where('next_run_at_ms', '<=', nowMs)
        .orderBy('next_run_at_ms')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        serverId: r.server_id,
        projectId: r.project_id,
        serverName: r.server_name,
        region: r.region,
        nextRunAtMs: Number(r.next_run_at_ms),
      }));
    },

    async scheduledServers(q: Tx | Db, projectId: string | null): Promise<ScheduleRecord[]> {
      let query = t(q).selectFrom('backup_schedules').selectAll();
      if (projectId) query = query.where('project_id', '=', projectId);
      const rows = await query.execute();
      return rows.map((r) => ({
        serverId: r.server_id,
        projectId: r.project_id,
        serverName: r.server_name,
        region: r.region,
        nextRunAtMs: Number(r.next_run_at_ms),
      }));
    },

    async insertBackup(q: Tx | Db, b: BackupRecord): Promise<void> {
      await t(q).insertInto('backups').values(backupRow(b)).execute();
    },

    async updateBackup(
      q: Tx | Db,
      id: string,
      change: BackupChange,
      expectStatus?: BackupRecord['status'],
    ): Promise<boolean> {
      const set = Object.fromEntries(Object.entries(change).map(([k, v]) => [snake(k), v])) as Partial<BackupsTable>;
      let query = t(q).updateTable('backups').set(set).where('id', '=', id);
      if (expectStatus) query = query.where('status', '=', expectStatus);
      const result = await query.executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async deleteBackupRow(q: Tx | Db, id: string): Promise<void> {
      await t(q).deleteFrom('backup_volumes').where('backup_id', '=', id).execute();
      await t(q).deleteFrom('backups').where('id', '=', id).execute();
    },

    async insertBackupVolumes(q: Tx | Db, volumes: readonly BackupVolumeRecord[]): Promise<void> {
      if (volumes.length === 0) return;
      await t(q)
        .insertInto('backup_volumes')
        .values(
          volumes.map((v) => ({
            backup_id: v.backupId,
            volume_id: v.volumeId,
            volume_name: v.volumeName,
            size_gib: v.sizeGiB,
            kind: v.kind,
            disk_bytes: v.diskBytes,
            read_bytes: v.readBytes,
          })),
        )
        .execute();
    },

    /** The volumes each backup read, by backup id (in volume id order). */
    async volumesOf(q: Tx | Db, backupIds: readonly string[]): Promise<Map<string, BackupVolumeRecord[]>> {
      const out = new Map<string, BackupVolumeRecord[]>();
      if (backupIds.length === 0) return out;
      const rows = await t(q)
        .selectFrom('backup_volumes')
        .selectAll()
        .where('backup_id', 'in', backupIds)
        .orderBy('volume_id')
        .execute();
      for (const r of rows) {
        const list = out.get(r.backup_id) ?? [];
        list.push({
          backupId: r.backup_id,
          volumeId: r.volume_id,
          volumeName: r.volume_name,
          sizeGiB: r.size_gib,
          kind: r.kind === 'incremental' ? 'incremental' : 'full',
          diskBytes: Number(r.disk_bytes),
          readBytes: Number(r.read_bytes),
        });
        out.set(r.backup_id, list);
      }
      return out;
    },

    async backup(q: Tx | Db, id: string): Promise<BackupRecord | null> {
      const row = await t(q).selectFrom('backups').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? backupOf(row) : null;
    },

    async lockBackup(q: Tx, id: string, dialect: DialectName): Promise<BackupRecord | null> {
      let query = t(q).selectFrom('backups').selectAll().where('id', '=', id);
      if (dialect === 'postgres') query = query.forUpdate();
      const row = await query.executeTakeFirst();
      return row ? backupOf(row) : null;
    },

    /** Visible backups of a project (not deleted), newest first, keyset by id. */
    async listBackups(
      q: Tx | Db,
      filter: { projectId: string; serverId?: string; beforeId?: string | null; limit: number },
    ): Promise<BackupRecord[]> {
      let query = t(q)
        .selectFrom('backups')
        .selectAll()
        .where('project_id', '=', filter.projectId)
        .where('deleted_at', 'is', null);
      if (filter.serverId) query = query.where('server_id', '=', filter.serverId);
      if (filter.beforeId) query = query.where('id', '<', filter.beforeId);
      const rows = await query.orderBy('id', 'desc').limit(filter.limit).execute();
      return rows.map(backupOf);
    },

    /** Every backup row of a server (deleted ones included: their copies may still need removing). */
    async backupsOfServer(q: Tx | Db, serverId: string): Promise<BackupRecord[]> {
      const rows = await t(q)
        .selectFrom('backups')
        .selectAll()
        .where('server_id', '=', serverId)
        .orderBy('id', 'desc')
        .execute();
      return rows.map(backupOf);
    },

    async activeBackupOf(q: Tx | Db, serverId: string): Promise<BackupRecord | null> {
      const row = await t(q)
        .selectFrom('backups')
        .selectAll()
        .where('server_id', '=', serverId)
        .where('status', 'in', ['pending', 'running'])
        .executeTakeFirst();
      return row ? backupOf(row) : null;
    },

    async backupsWithStatus(q: Tx | Db, status: BackupRecord['status'], limit: number): Promise<BackupRecord[]> {
      const rows = await t(q)
        .selectFrom('backups')
        .selectAll()
        .where('status', '=', status)
        .orderBy('created_at')
        .limit(limit)
        .execute();
      return rows.map(backupOf);
    },

    /** Backups to verify: succeeded, never verified or verified longest ago, oldest first. */
    async verifyCandidates(q: Tx | Db, limit: number): Promise<BackupRecord[]> {
      const rows = await t(q)
        .selectFrom('backups')
        .selectAll()
        .where('status', '=', 'succeeded')
        .where('deleted_at', 'is', null)
        .orderBy('verified_at', 'asc')
        .orderBy('id', 'asc')
        .limit(limit)
        .execute();
      return rows.map(backupOf);
    },

    /** Servers with a deleted backup whose copies remain: their next prune removes them. */
    /** Queues snapshots to forget (in the transaction that dropped their copies); a queued one stays once. */
    async queueForgets(
      q: Tx | Db,
      forgets: readonly { region: string; snapshot: string; backupId: string }[],
      createdAt: string,
    ): Promise<void> {
      if (forgets.length === 0) return;
      await t(q)
        .insertInto('backup_forgets')
        .values(
          forgets.map((f) => ({
            region: f.region,
            snapshot: f.snapshot,
            backup_id: f.backupId,
            attempts: 0,
            last_error: null,
            created_at: createdAt,
          })),
        )
        .onConflict((oc) => oc.columns(['region', 'snapshot']).doNothing())
        .execute();
    },

    /** Queued forgets, oldest first, grouped by the caller. */
    async pendingForgets(q: Tx | Db, limit: number): Promise<{ region: string; snapshot: string; attempts: number }[]> {
      return t(q)
        .selectFrom('backup_forgets')
        .select(['region', 'snapshot', 'attempts'])
        .orderBy('created_at')
        .orderBy('snapshot')
        .limit(limit)
        .execute();
    },

    async forgotten(q: Tx | Db, region: string, snapshots: readonly string[]): Promise<void> {
      if (snapshots.length === 0) return;
      await t(q)
        .deleteFrom('backup_forgets')
        .where('region', '=', region)
        .where('snapshot', 'in', [...snapshots])
        .execute();
    },

    async forgetFailed(q: Tx | Db, region: string, snapshots: readonly string[], error: string): Promise<void> {
      if (snapshots.length === 0) return;
      await t(q)
        .updateTable('backup_forgets')
        .set((eb) => ({ attempts: eb('attempts', '+', 1), last_error: error.slice(0, 500) }))
        .where('region', '=', region)
        .where('snapshot', 'in', [...snapshots])
        .execute();
    },

    async serversWithDeletedBackups(q: Tx | Db, limit: number): Promise<string[]> {
      const rows = await t(q)
        .selectFrom('backups')
        .select('server_id')
        .distinct()
        .where('deleted_at', 'is not', null)
        .limit(limit)
        .execute();
      return rows.map((r) => r.server_id);
    },

    /** Per server: the newest restorable backup's time (ms). */
    async newestRestorable(q: Tx | Db, projectId: string | null): Promise<Map<string, number>> {
      let query = t(q)
        .selectFrom('backups')
        .select(['server_id', (eb) => eb.fn.max('taken_at_ms').as('newest')])
        .where('status', '=', 'succeeded')
        .where('deleted_at', 'is', null)
        .groupBy('server_id');
      if (projectId) query = query.where('project_id', '=', projectId);
      const rows = await query.execute();
      return new Map(rows.map((r) => [r.server_id, Number(r.newest)]));
    },

    async insertRestore(q: Tx | Db, r: RestoreRecord): Promise<void> {
      await t(q)
        .insertInto('backup_restores')
        .values({
          id: r.id,
          project_id: r.projectId,
          backup_id: r.backupId,
          mode: r.mode,
          server_id: r.serverId,
          region: r.region,
          status: r.status,
          duration_ms: r.durationMs,
          error: r.error,
          created_at: r.createdAt,
          started_at: r.startedAt,
          finished_at: r.finishedAt,
        })
        .execute();
    },

    async updateRestore(
      q: Tx | Db,
      id: string,
      change: Partial<RestoreRecord>,
      expectStatus?: RestoreRecord['status'],
    ): Promise<boolean> {
      const set = Object.fromEntries(
        Object.entries(change).map(([k, v]) => [snake(k), v]),
      ) as Partial<BackupRestoresTable>;
      let query = t(q).updateTable('backup_restores').set(set).where('id', '=', id);
      if (expectStatus) query = query.where('status', '=', expectStatus);
      const result = await query.executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async restore(q: Tx | Db, id: string): Promise<RestoreRecord | null> {
      const row = await t(q).selectFrom('backup_restores').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? restoreOf(row) : null;
    },

    async restoresWithStatus(q: Tx | Db, status: RestoreRecord['status'], limit: number): Promise<RestoreRecord[]> {
      const rows = await t(q)
        .selectFrom('backup_restores')
        .selectAll()
        .where('status', '=', status)
        .orderBy('created_at')
        .limit(limit)
        .execute();
      return rows.map(restoreOf);
    },

    async activeRestoreOfBackup(q: Tx | Db, backupId: string): Promise<RestoreRecord | null> {
      const row = await t(q)
        .selectFrom('backup_restores')
        .selectAll()
        .where('backup_id', '=', backupId)
        .where('status', 'in', ['pending', 'running'])
        .executeTakeFirst();
      return row ? restoreOf(row) : null;
    },

    /** Per server: the duration of its last finished restore (ms). */
    async lastRestoreDurations(q: Tx | Db, projectId: string | null): Promise<Map<string, number>> {
      let query = t(q)
        .selectFrom('backup_restores')
        .select(['server_id', 'duration_ms', 'finished_at'])
        .where('status', '=', 'succeeded');
      if (projectId) query = query.where('project_id', '=', projectId);
      const rows = await query.orderBy('finished_at').execute();
      const out = new Map<string, number>();
      for (const r of rows) out.set(r.server_id, Number(r.duration_ms));
      return out;
    },
  };
}

export type BackupStore = ReturnType<typeof createBackupStore>;
