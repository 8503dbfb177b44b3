/**
 * Backups of server disks: policies (per server, and a project default), backups kept in the region's
 * repository with a copy in another region's, restores to a new server or in place, and the RPO/RTO the
 * tenant actually gets. Disks are what a backup holds; volumes join as a second kind of source later
 * (`source.kind`).
 */
import { Type, type Static } from 'typebox';
import {
  CursorQuery,
  IdParams,
  LimitQuery,
  Literals,
  NextCursor,
  Nullable,
  NullableTimestamp,
  RegionCode,
  Timestamp,
} from './common.ts';
import { defineOperation } from './operation.ts';

export const backupStatuses = ['pending', 'running', 'succeeded', 'failed'] as const;
export type BackupStatus = (typeof backupStatuses)[number];

/** Bounds of a policy: a schedule from 1 h to 7 days, counts up to a few years of backups. */
export const policyBounds = {
  everyMinutes: { min: 60, max: 7 * 24 * 60 },
  keep: { max: 1000 },
  remoteKeepDays: { min: 1, max: 3650 },
} as const;

const KeepCount = (description: string) => Type.Integer({ minimum: 0, maximum: policyBounds.keep.max, description });

export const BackupPolicyFields = {
  every_minutes: Type.Integer({
    minimum: policyBounds.everyMinutes.min,
    maximum: policyBounds.everyMinutes.max,
    description: 'minutes between scheduled backups (default 330: every 5 h 30 min, so that RPO < 6 h holds)',
  }),
  keep_last: KeepCount('local copies: the N newest backups'),
  keep_hourly: KeepCount('local copies: the newest backup of each of the last N hours with one'),
  keep_daily: KeepCount('local copies: the newest backup of each of the last N days with one'),
  keep_weekly: KeepCount('local copies: the newest backup of each of the last N ISO weeks with one'),
  keep_monthly: KeepCount('local copies: the newest backup of each of the last N months with one'),
  remote_region: Nullable(RegionCode),
  remote_keep_days: Type.Integer({
    minimum: policyBounds.remoteKeepDays.min,
    maximum: policyBounds.remoteKeepDays.max,
    description: 'remote copies older than this are deleted (the newest is always kept)',
  }),
  enabled: Type.Boolean({ description: 'false: no scheduled backups (on-demand ones still work)' }),
};

export const BackupPolicy = Type.Object({
  scope: Literals(['server', 'project', 'default'] as const, {
    description: 'where the effective policy comes from: the server, its project, or the product default',
  }),
  server_id: Nullable(Type.String()),
  ...BackupPolicyFields,
  remote_region: Nullable(RegionCode),
  offset_minutes: Nullable(
    Type.Integer({ description: "this server's place in the schedule: backups start at offset + k·every" }),
  ),
  next_run_at: NullableTimestamp,
});
export type BackupPolicy = Static<typeof BackupPolicy>;

export const SetBackupPolicyBody = Type.Object(
  {
    every_minutes: Type.Optional(BackupPolicyFields.every_minutes),
    keep_last: Type.Optional(BackupPolicyFields.keep_last),
    keep_hourly: Type.Optional(BackupPolicyFields.keep_hourly),
    keep_daily: Type.Optional(BackupPolicyFields.keep_daily),
    keep_weekly: Type.Optional(BackupPolicyFields.keep_weekly),
    keep_monthly: Type.Optional(BackupPolicyFields.keep_monthly),
    remote_region: Type.Optional(Nullable(RegionCode)),
    remote_keep_days: Type.Optional(BackupPolicyFields.remote_keep_days),
    enabled: Type.Optional(BackupPolicyFields.enabled),
  },
  { additionalProperties: false },
);
export type SetBackupPolicyBody = Static<typeof SetBackupPolicyBody>;

export const BackupVolume = Type.Object({
  volume_id: Type.String({ description: 'vol_… (the volume backed up; it may be gone since)' }),
  name: Type.String({ description: 'its name then' }),
  size_gib: Type.Integer({ description: 'its size then' }),
  kind: Literals(['full', 'incremental'] as const, { description: 'full: the whole volume was read' }),
  disk_bytes: Type.Integer({ description: 'size of the volume backed up' }),
  read_bytes: Type.Integer({ description: 'what this backup read from the volume' }),
});
export type BackupVolume = Static<typeof BackupVolume>;

export const Backup = Type.Object({
  id: Type.String({ description: 'bkp_…' }),
  project_id: Type.String(),
  source: Type.Object({
    kind: Type.Literal('server_disk', {
      description: "what was backed up: the server's disk, with the volumes attached then (`volumes`)",
    }),
    server_id: Type.String(),
    server_name: Type.String(),
  }),
  region: RegionCode,
  status: Literals(backupStatuses),
  trigger: Literals(['schedule', 'manual'] as const),
  kind: Nullable(Literals(['full', 'incremental'] as const, { description: 'full: the whole disk was read' })),
  consistency: Nullable(Literals(['crash', 'application'] as const)),
  disk_bytes: Nullable(Type.Integer({ description: "size of the server's disk backed up (volumes: in `volumes`)" })),
  read_bytes: Nullable(Type.Integer({ description: "what this backup read from the server's disk" })),
  stored_bytes: Nullable(Type.Integer({ description: 'new bytes this backup added to the repository' })),
  duration_ms: Nullable(Type.Integer()),
  location: Nullable(Literals(['local', 'remote', 'both'] as const)),
  remote_region: Nullable(RegionCode),
  verified_at: NullableTimestamp,
  error: Nullable(Type.String()),
  created_at: Timestamp,
  finished_at: NullableTimestamp,
  volumes: Type.Array(BackupVolume, {
    description:
      'the volumes attached to the server, read with its disk at the same point in time (a restore to a new server recreates them; `POST /v1/volumes` with `from_backup` and `backup_volume_id` makes one of them a volume)',
  }),
});
export type Backup = Static<typeof Backup>;

export const Restore = Type.Object({
  id: Type.String({ description: 'rst_…' }),
  backup_id: Type.String(),
  mode: Literals(['to_new', 'in_place'] as const),
  server_id: Type.String({ description: 'the server whose disk is restored (the new one for to_new)' }),
  region: RegionCode,
  status: Literals(['pending', 'running', 'succeeded', 'failed'] as const),
  duration_ms: Nullable(Type.Integer({ description: 'request to restored disk: the RTO measured' })),
  error: Nullable(Type.String()),
  created_at: Timestamp,
  finished_at: NullableTimestamp,
});
export type Restore = Static<typeof Restore>;

export const ListBackupsQuery = Type.Object(
  {
    server_id: Type.Optional(Type.String({ maxLength: 100 })),
    limit: Type.Optional(LimitQuery),
    cursor: Type.Optional(CursorQuery),
  },
  { additionalProperties: false },
);
export type ListBackupsQuery = Static<typeof ListBackupsQuery>;

export const RestoreBackupBody = Type.Object(
  {
    mode: Literals(['to_new', 'in_place'] as const),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$' })),
    region: Type.Optional(RegionCode),
  },
  { additionalProperties: false },
);
export type RestoreBackupBody = Static<typeof RestoreBackupBody>;

const Percentiles = Type.Object({ p50: Nullable(Type.Integer()), p99: Nullable(Type.Integer()) });

export const BackupStats = Type.Object({
  servers: Type.Array(
    Type.Object({
      server_id: Type.String(),
      region: RegionCode,
      rpo_now_s: Nullable(Type.Integer({ description: 'age of the newest restorable backup; null: none yet' })),
      last_rto_s: Nullable(Type.Integer({ description: "the last restore's duration" })),
      newest_backup_at: NullableTimestamp,
    }),
  ),
  regions: Type.Array(
    Type.Object({
      region: RegionCode,
      servers: Type.Integer(),
      servers_without_backup: Type.Integer(),
      rpo_s: Percentiles,
      rto_s: Percentiles,
    }),
  ),
  promise: Type.Object({ rpo_s: Type.Integer(), rto_s: Type.Integer() }),
});
export type BackupStats = Static<typeof BackupStats>;

const ServerParams = IdParams;
const BackupParams = IdParams;

export const getServerBackupPolicy = defineOperation({
  operationId: 'getServerBackupPolicy',
  method: 'GET',
  path: '/v1/servers/:id/backup-policy',
  tags: ['backups'],
  summary: "A server's effective backup policy",
  description: 'The server’s own policy, else its project’s default, else the product default (`scope` says which).',
  auth: 'project',
  params: ServerParams,
  status: 200,
  response: Type.Object({ policy: BackupPolicy }),
});

export const setServerBackupPolicy = defineOperation({
  operationId: 'setServerBackupPolicy',
  method: 'PUT',
  path: '/v1/servers/:id/backup-policy',
  tags: ['backups'],
  summary: "Set a server's backup policy",
  description:
    'Fields left out keep their effective value. The schedule takes effect at the next run; retention at the next prune. Owners and members.',
  auth: 'project',
  params: ServerParams,
  body: SetBackupPolicyBody,
  status: 200,
  response: Type.Object({ policy: BackupPolicy }),
  resource: 'server',
});

export const getProjectBackupPolicy = defineOperation({
  operationId: 'getProjectBackupPolicy',
  method: 'GET',
  path: '/v1/backup-policy',
  tags: ['backups'],
  summary: "The project's default backup policy",
  auth: 'project',
  status: 200,
  response: Type.Object({ policy: BackupPolicy }),
});

export const setProjectBackupPolicy = defineOperation({
  operationId: 'setProjectBackupPolicy',
  method: 'PUT',
  path: '/v1/backup-policy',
  tags: ['backups'],
  summary: "Set the project's default backup policy",
  description: 'Servers without their own policy follow it. Owners only.',
  auth: 'project',
  body: SetBackupPolicyBody,
  status: 200,
  response: Type.Object({ policy: BackupPolicy }),
  resource: 'project',
});

export const createBackup = defineOperation({
  operationId: 'createBackup',
  method: 'POST',
  path: '/v1/servers/:id/backups',
  tags: ['backups'],
  summary: 'Back up a server now',
  description:
    'Queues an on-demand backup (202); poll `GET /v1/backups/{id}` until `succeeded` or `failed`. One backup per server at a time (409 `backup_in_progress`).',
  auth: 'project',
  params: ServerParams,
  status: 202,
  response: Type.Object({ backup: Backup }),
  resource: 'server',
});

export const listBackups = defineOperation({
  operationId: 'listBackups',
  method: 'GET',
  path: '/v1/backups',
  tags: ['backups'],
  summary: 'List backups, newest first',
  description: 'Every backup listed with status `succeeded` is restorable (at least one copy exists).',
  auth: 'project',
  query: ListBackupsQuery,
  status: 200,
  response: Type.Object({ backups: Type.Array(Backup), next_cursor: NextCursor }),
});

export const getBackupStats = defineOperation({
  operationId: 'getBackupStats',
  method: 'GET',
  path: '/v1/backups/stats',
  tags: ['backups'],
  summary: 'RPO and RTO measured',
  description:
    'Per server: RPO now (age of the newest restorable backup) and the last restore’s duration (RTO measured); per region: p50/p99 over servers, beside the promise (RPO < 6 h, RTO < 1 h). A project token sees its servers; an operator token sees every server.',
  auth: 'project_or_operator',
  status: 200,
  response: BackupStats,
});

export const getBackup = defineOperation({
  operationId: 'getBackup',
  method: 'GET',
  path: '/v1/backups/:id',
  tags: ['backups'],
  summary: 'Show a backup',
  auth: 'project',
  params: BackupParams,
  status: 200,
  response: Type.Object({ backup: Backup }),
});

export const deleteBackup = defineOperation({
  operationId: 'deleteBackup',
  method: 'DELETE',
  path: '/v1/backups/:id',
  tags: ['backups'],
  summary: 'Delete a backup',
  description:
    'Removes it from the list at once and from the repositories at the next prune. Refused while it runs or a restore reads it (409).',
  auth: 'project',
  params: BackupParams,
  status: 204,
  resource: 'backup',
});

export const restoreBackup = defineOperation({
  operationId: 'restoreBackup',
  method: 'POST',
  path: '/v1/backups/:id/actions/restore',
  tags: ['backups'],
  summary: 'Restore a backup',
  description:
    '`to_new`: a new server named `name` (product and image of the original) in `region` (any region holding a copy: the backup’s own, or its remote region), its disk the backup’s. `in_place`: the server’s disk replaced by the backup’s; the server must be stopped (409 `server_running`). Poll `GET /v1/restores/{id}`.',
  auth: 'project',
  params: BackupParams,
  body: RestoreBackupBody,
  status: 202,
  response: Type.Object({ restore: Restore }),
  resource: 'backup',
});

export const getRestore = defineOperation({
  operationId: 'getRestore',
  method: 'GET',
  path: '/v1/restores/:id',
  tags: ['backups'],
  summary: 'Show a restore',
  auth: 'project',
  params: IdParams,
  status: 200,
  response: Type.Object({ restore: Restore }),
});

export const backupOperations = {
  getServerBackupPolicy,
  setServerBackupPolicy,
  getProjectBackupPolicy,
  setProjectBackupPolicy,
  createBackup,
  listBackups,
  getBackupStats,
  getBackup,
  deleteBackup,
  restoreBackup,
  getRestore,
};
