import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Custom images made from a server's disk (docs/storage.md, "Custom images"): the `custom_images` table of
 * the custom-images domain (tenant data, not the public catalog's `images`), and the per-project quota
 * `custom_images` (default 20) with its usage.
 */
export function customImagesMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const text = 'text' as const;
      const int = 'integer' as const;
      await db.schema
        .createTable('custom_images')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('project_id', text, (c) => c.notNull())
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('region', text, (c) => c.notNull())
        .addColumn('status', text, (c) => c.notNull())
        .addColumn('source_server_id', text, (c) => c.notNull())
        .addColumn('source_host_id', text)
        .addColumn('source_image', text, (c) => c.notNull())
        .addColumn('os_family', text, (c) => c.notNull())
        .addColumn('os_version', text, (c) => c.notNull())
        .addColumn('requires_gpu', int, (c) => c.notNull())
        .addColumn('min_disk_gib', int, (c) => c.notNull())
        .addColumn('size_bytes', 'bigint')
        .addColumn('sha256', text)
        .addColumn('hosts_json', text, (c) => c.notNull())
        .addColumn('action_id', text)
        .addColumn('error_message', text)
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('updated_at', text, (c) => c.notNull())
        .addColumn('deleted_at', text)
        .execute();
      await sql`create unique index custom_images_project_name on custom_images (project_id, name) where deleted_at is null`.execute(
        db,
      );
      await db.schema
        .createIndex('custom_images_project_id')
        .on('custom_images')
        .columns(['project_id', 'id'])
        .execute();
      await db.schema.createIndex('custom_images_status').on('custom_images').column('status').execute();
      for (const [column, initial] of [
        ['quota_custom_images', 20],
        ['used_custom_images', 0],
      ] as const) {
        await db.schema
          .alterTable('projects')
          .addColumn(column, int, (c) => c.notNull().defaultTo(initial))
          .execute();
      }
    },
  };
}
