import { sql, type Kysely, type Migration } from 'kysely';

/**
 * SSH keys: a project's saved OpenSSH public keys (`ssh_keys`), unique by name and by fingerprint within
 * the project; servers copy the public key at create, so deleting a key changes no server.
 */
export function sshKeysMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const text = 'text' as const;
      await db.schema
        .createTable('ssh_keys')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('project_id', text, (c) => c.notNull())
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('public_key', text, (c) => c.notNull())
        .addColumn('fingerprint', text, (c) => c.notNull())
        .addColumn('type', text, (c) => c.notNull())
        .addColumn('bits', 'integer', (c) => c.notNull())
        .addColumn('labels_json', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('updated_at', text, (c) => c.notNull())
        .execute();
      await sql`create unique index ssh_keys_project_name on ssh_keys (project_id, name)`.execute(db);
      await sql`create unique index ssh_keys_project_fingerprint on ssh_keys (project_id, fingerprint)`.execute(db);
    },
  };
}
