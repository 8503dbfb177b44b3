import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Volumes: the `volumes` table (one row per volume, its attachment to a server in the same row: a volume
 * is attached to at most one server), and the volume quotas and usage of projects. A local volume's disk
 * space is claimed on its host by the scheduler like a server's (an `allocations` row keyed by `vol_…`,
 * with no threads).
 */
export function volumesMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const text = 'text' as const;
      const int = 'integer' as const;
      await db.schema
        .createTable('volumes')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('project_id', text, (c) => c.notNull())
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('region', text, (c) => c.notNull())
        .addColumn('backend', text, (c) => c.notNull())
        .addColumn('size_gib', int, (c) => c.notNull())
        .addColumn('host_id', text)
        .addColumn('server_id', text)
        .addColumn('desired_state', text, (c) => c.notNull())
        .addColumn('status', text, (c) => c.notNull())
        .addColumn('observed_size_gib', int, (c) => c.notNull().defaultTo(0))
        .addColumn('observed_server_id', text)
        .addColumn('labels_json', text, (c) => c.notNull())
        .addColumn('error_message', text)
        .addColumn('version', int, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('updated_at', text, (c) => c.notNull())
        .addColumn('deleted_at', text)
        .execute();
      await sql`create unique index volumes_project_name on volumes (project_id, name) where deleted_at is null`.execute(
        db,
      );
      await db.schema.createIndex('volumes_project_id').on('volumes').columns(['project_id', 'id']).execute();
      await db.schema.createIndex('volumes_host').on('volumes').column('host_id').execute();
      await db.schema.createIndex('volumes_server').on('volumes').column('server_id').execute();

      for (const [column, initial] of [
        ['quota_volumes', 100],
        ['quota_volume_gib', 10_240],
        ['used_volumes', 0],
        ['used_volume_gib', 0],
      ] as const) {
        await db.schema
          .alterTable('projects')
          .addColumn(column, int, (c) => c.notNull().defaultTo(initial))
          .execute();
      }
    },
  };
}
