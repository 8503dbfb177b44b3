import type { Kysely, Migration } from 'kysely';

/**
 * `volume_sources`: what a volume was made from (docs/storage.md, "Volumes from a backup or a snapshot"),
 * one row per volume that has a source. `kind` `backup`: `backup_id`, and the copy the host reads
 * (`repository_region`, `repository_snapshot`: the restic snapshot in that region's repository); `snapshot`:
 * `server_id` and `snapshot_name` (an internal snapshot of that server's disk, on the volume's host). The
 * desired state of the volume's host carries it until the host has made the volume, across restarts.
 */
export function volumeSourcesMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const text = 'text' as const;
      await db.schema
        .createTable('volume_sources')
        .addColumn('volume_id', text, (c) => c.primaryKey())
        .addColumn('kind', text, (c) => c.notNull())
        .addColumn('backup_id', text)
        .addColumn('repository_region', text)
        .addColumn('repository_snapshot', text)
        .addColumn('server_id', text)
        .addColumn('snapshot_name', text)
        .addColumn('created_at', text, (c) => c.notNull())
        .execute();
    },
  };
}
