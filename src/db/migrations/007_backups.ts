import type { Kysely, Migration } from 'kysely';

/**
 * Backups: policies (per server, per project), the schedule (one row per live server, indexed by the next
 * run so the scheduler reads only what is due), backups with their local and remote copies, and restores.
 */
export function backupsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('backup_policies')
        .addColumn('scope_id', 'text', (c) => c.primaryKey()) // srv_… or prj_…
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('every_minutes', 'integer', (c) => c.notNull())
        .addColumn('keep_last', 'integer', (c) => c.notNull())
        .addColumn('keep_hourly', 'integer', (c) => c.notNull())
        .addColumn('keep_daily', 'integer', (c) => c.notNull())
        .addColumn('keep_weekly', 'integer', (c) => c.notNull())
        .addColumn('keep_monthly', 'integer', (c) => c.notNull())
        .addColumn('remote_region', 'text')
        .addColumn('remote_keep_days', 'integer', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('backup_schedules')
        .addColumn('server_id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('server_name', 'text', (c) => c.notNull())
        .addColumn('region', 'text', (c) => c.notNull())
        .addColumn('next_run_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('backup_schedules_due').on('backup_schedules').column('next_run_at_ms').execute();

      await db.schema
        .createTable('backups')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('server_id', 'text', (c) => c.notNull())
        .addColumn('server_name', 'text', (c) => c.notNull())
        .addColumn('region', 'text', (c) => c.notNull())
        .addColumn('product', 'text', (c) => c.notNull())
        .addColumn('image', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('trigger', 'text', (c) => c.notNull())
        .addColumn('kind', 'text')
        .addColumn('consistency', 'text')
        .addColumn('host_id', 'text')
        .addColumn('disk_bytes', 'bigint')
        .addColumn('read_bytes', 'bigint')
        .addColumn('stored_bytes', 'bigint')
        .addColumn('duration_ms', 'bigint')
        .addColumn('local_snapshot', 'text')
        .addColumn('remote_region', 'text')
        .addColumn('remote_snapshot', 'text')
        .addColumn('verified_at', 'text')
        .addColumn('error', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        /** When the disk was read (the point in time it restores to), ms. */
        .addColumn('taken_at_ms', 'bigint')
        /** Set when the tenant deleted it: hidden, its copies removed by the next prune. */
        .addColumn('deleted_at', 'text')
        .execute();
      await db.schema.createIndex('backups_server').on('backups').columns(['server_id', 'created_at']).execute();
      await db.schema.createIndex('backups_project').on('backups').columns(['project_id', 'id']).execute();
      await db.schema.createIndex('backups_status').on('backups').columns(['status', 'created_at']).execute();

      await db.schema
        .createTable('backup_restores')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('backup_id', 'text', (c) => c.notNull())
        .addColumn('mode', 'text', (c) => c.notNull())
        .addColumn('server_id', 'text', (c) => c.notNull())
        .addColumn('region', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('duration_ms', 'bigint')
        .addColumn('error', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        .execute();
      await db.schema.createIndex('backup_restores_status').on('backup_restores').columns(['status']).execute();
      await db.schema
        .createIndex('backup_restores_server')
        .on('backup_restores')
        .columns(['server_id', 'created_at'])
        .execute();
    },
  };
}
