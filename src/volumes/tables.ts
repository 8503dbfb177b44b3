/** Row type of the volumes domain's table (src/db/schema.ts includes it as `volumes`). */
export interface VolumesTable {
  id: string;
  project_id: string;
  name: string;
  region: string;
  /** `local` (a qcow2 file on `host_id`); see docs/adr/0006-volume-backends.md. */
  backend: string;
  /** The size asked for (grow only). */
  size_gib: number;
  /** The host holding a local volume; null until it is placed (first attach, or an operator's host). */
  host_id: string | null;
  /** The server it is (to be) attached to; null: detached. */
  server_id: string | null;
  /** `present` or `deleted`. */
  desired_state: string;
  status: string;
  /** What its host last reported: size, and the server it is attached to there. */
  observed_size_gib: number;
  observed_server_id: string | null;
  labels_json: string;
  error_message: string | null;
  /** The sealed secret holding the volume's LUKS key (migration 025); null: a plain volume. */
  key_secret_id: string | null;
  version: number;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

/** What a volume was made from (migration 031); no row: an empty volume. */
export interface VolumeSourcesTable {
  volume_id: string;
  /** `backup` or `snapshot`. */
  kind: string;
  backup_id: string | null;
  /** The region whose repository the host reads the backup from, and the restic snapshot there. */
  repository_region: string | null;
  repository_snapshot: string | null;
  /** Which volume of the backup (migration 034); null: the backed-up server's disk. */
  backup_volume_id: string | null;
  server_id: string | null;
  snapshot_name: string | null;
  created_at: string;
}
