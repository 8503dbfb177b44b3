import type { Kysely, Migration } from 'kysely';

/**
 * `volumes.key_secret_id`: each volume's LUKS key, a sealed secret of the key store (like
 * `servers.disk_key_secret_id`); null for volumes made before encryption and on simulated-only installs.
 * (Custom images from a server, designed in docs/storage-lifecycle.md, get a migration of their own.)
 */
export function volumeKeysMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('volumes').addColumn('key_secret_id', 'text').execute();
    },
  };
}
