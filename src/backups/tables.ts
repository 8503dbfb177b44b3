/** Row types of the backups domain's tables (migration 007). src/db/schema.ts assembles them. */
import type { Kysely } from 'kysely';

export interface BackupPoliciesTable {
  /** The server (`srv_…`) or the project (`prj_…`) the policy is for. */
  scope_id: string;
  project_id: string;
  every_minutes: number;
  keep_last: number;
  keep_hourly: number;
  keep_daily: number;
  keep_weekly: number;
  keep_monthly: number;
  remote_region: string | null;
  remote_keep_days: number;
  enabled: number;
  updated_at: string;
}

export interface BackupSchedulesTable {
  server_id: string;
  project_id: string;
  server_name: string;
  region: string;
  next_run_at_ms: number;
  created_at: string;
}

export interface BackupsTable {
  id: string;
  project_id: string;
  server_id: string;
  server_name: string;
  region: string;
  product: string;
  image: string;
  status: string;
  trigger: string;
  kind: string | null;
  consistency: string | null;
  host_id: string | null;
  disk_bytes: number | null;
  read_bytes: number | null;
  stored_bytes: number | null;
  duration_ms: number | null;
  local_snapshot: string | null;
  remote_region: string | null;
  remote_snapshot: string | null;
  verified_at: string | null;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  taken_at_ms: number | null;
  deleted_at: string | null;
}

export interface BackupRestoresTable {
  id: string;
  project_id: string;
  backup_id: string;
  mode: string;
  server_id: string;
  region: string;
  status: string;
  duration_ms: number | null;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

/** A snapshot to forget in a region's repository (migration 016): removed once forgotten. */
export interface BackupForgetsTable {
  region: string;
  snapshot: string;
  backup_id: string;
  attempts: number;
  last_error: string | null;
  created_at: string;
}

/** A volume a backup read with its server's disk (migration 034). */
export interface BackupVolumesTable {
  backup_id: string;
  volume_id: string;
  /** The volume's name and size when it was backed up. */
  volume_name: string;
  size_gib: number;
  kind: string;
  disk_bytes: number;
  read_bytes: number;
}

export interface BackupTables {
  backup_policies: BackupPoliciesTable;
  backup_schedules: BackupSchedulesTable;
  backups: BackupsTable;
  backup_restores: BackupRestoresTable;
  backup_forgets: BackupForgetsTable;
  backup_volumes: BackupVolumesTable;
}

export const backupTablesOf = (q: unknown) => q as Kysely<BackupTables>;
