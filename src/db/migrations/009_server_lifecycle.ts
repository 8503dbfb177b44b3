import type { Kysely, Migration } from 'kysely';

/**
 * The server lifecycle, completed: each server's disk key (a sealed secret of the key store), the disk
 * generation a rebuild bumps, an attached ISO, the disk's size when it outgrew its product (a disk never
 * shrinks: a resize to a smaller product keeps it), and the delete and rebuild protection flags.
 */
export function serverLifecycleMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('servers').addColumn('disk_key_secret_id', 'text').execute();
      await db.schema
        .alterTable('servers')
        .addColumn('disk_generation', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable('servers').addColumn('iso_image', 'text').execute();
      await db.schema.alterTable('servers').addColumn('disk_gib', 'integer').execute();
      await db.schema
        .alterTable('servers')
        .addColumn('delete_protection', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable('servers')
        .addColumn('rebuild_protection', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  };
}
