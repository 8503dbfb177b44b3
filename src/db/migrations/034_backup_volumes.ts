import type { Kysely, Migration } from 'kysely';

/**
 * `backup_volumes`: the volumes a backup read with its server's disk (docs/storage.md, "Volumes in
 * backups"), one row per volume: its name and size then (a restore to a new server recreates it under that
 * name), whether it was read in full or incrementally, its size and what was read of it. Their data is in
 * the backup's own restic snapshot (`volumes/<volume_id>/`). `volume_sources.backup_volume_id`: a volume
 * made from one of those (absent: from the server's disk).
 */
export function backupVolumesMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const text = 'text' as const;
      await db.schema
        .createTable('backup_volumes')
        .addColumn('backup_id', text, (c) => c.notNull())
        .addColumn('volume_id', text, (c) => c.notNull())
        .addColumn('volume_name', text, (c) => c.notNull())
        .addColumn('size_gib', 'integer', (c) => c.notNull())
        .addColumn('kind', text, (c) => c.notNull())
        .addColumn('disk_bytes', 'bigint', (c) => c.notNull())
        .addColumn('read_bytes', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('backup_volumes_pk', ['backup_id', 'volume_id'])
        .execute();
      await db.schema.alterTable('volume_sources').addColumn('backup_volume_id', text).execute();
    },
  };
}
