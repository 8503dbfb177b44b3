import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Firewalls: a project's named rule sets (`firewalls`, the rules a JSON list replaced as a whole, with a
 * version bumped at each replacement), what each is applied to (`firewall_targets`: a server id or a
 * label selector), and the per-rule counters the hosts report (`firewall_counters`, one row per firewall,
 * server and rule position, of the rules version the host had).
 */
export function firewallsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const text = 'text' as const;
      await db.schema
        .createTable('firewalls')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('project_id', text, (c) => c.notNull())
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('labels_json', text, (c) => c.notNull())
        .addColumn('rules_json', text, (c) => c.notNull())
        .addColumn('rules_version', 'integer', (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('updated_at', text, (c) => c.notNull())
        .execute();
      await sql`create unique index firewalls_project_name on firewalls (project_id, name)`.execute(db);

      await db.schema
        .createTable('firewall_targets')
        .addColumn('firewall_id', text, (c) => c.notNull())
        .addColumn('project_id', text, (c) => c.notNull())
        /** `server` or `label_selector` */
        .addColumn('kind', text, (c) => c.notNull())
        /** the server id, or the selector text */
        .addColumn('target', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addPrimaryKeyConstraint('firewall_targets_pk', ['firewall_id', 'kind', 'target'])
        .execute();
      await db.schema
        .createIndex('firewall_targets_target')
        .on('firewall_targets')
        .columns(['kind', 'target'])
        .execute();
      await db.schema
        .createIndex('firewall_targets_project')
        .on('firewall_targets')
        .columns(['project_id', 'kind'])
        .execute();

      await db.schema
        .createTable('firewall_counters')
        .addColumn('firewall_id', text, (c) => c.notNull())
        .addColumn('server_id', text, (c) => c.notNull())
        .addColumn('rule_index', 'integer', (c) => c.notNull())
        .addColumn('rules_version', 'integer', (c) => c.notNull())
        .addColumn('packets', 'bigint', (c) => c.notNull())
        .addColumn('bytes', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', text, (c) => c.notNull())
        .addPrimaryKeyConstraint('firewall_counters_pk', ['firewall_id', 'server_id', 'rule_index'])
        .execute();
      await db.schema.createIndex('firewall_counters_server').on('firewall_counters').columns(['server_id']).execute();
    },
  };
}
