import type { Kysely, Migration } from 'kysely';

/**
 * The status page (src/status): incidents and their updates, maintenance windows, each component's
 * current status with its hysteresis state, raw probe results (kept a few days) and daily rollups per
 * component (kept 90 days and more: the uptime bars), and the domain's settings (the canary project).
 */
export function statusMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('status_incidents')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('impact', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('components_json', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('resolved_at', 'text')
        .execute();
      await db.schema
        .createIndex('status_incidents_resolved')
        .on('status_incidents')
        .columns(['resolved_at'])
        .execute();
      await db.schema
        .createTable('status_incident_updates')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('incident_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('status_incident_updates_incident')
        .on('status_incident_updates')
        .columns(['incident_id', 'id'])
        .execute();
      await db.schema
        .createTable('status_maintenances')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('components_json', 'text', (c) => c.notNull())
        .addColumn('starts_at', 'text', (c) => c.notNull())
        .addColumn('ends_at', 'text', (c) => c.notNull())
        // The last phase announced by an event (scheduled, in_progress, completed, cancelled).
        .addColumn('announced', 'text', (c) => c.notNull())
        .addColumn('cancelled_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('status_maintenances_ends').on('status_maintenances').columns(['ends_at']).execute();
      await db.schema
        .createTable('status_components')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        // Hysteresis: the status seen lately that differs from `status`, and for how many passes in a row.
        .addColumn('candidate', 'text')
        .addColumn('candidate_count', 'integer', (c) => c.notNull())
        .addColumn('changed_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('status_probe_results')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('probe', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('at_ms', 'bigint', (c) => c.notNull())
        .addColumn('ok', 'integer', (c) => c.notNull())
        .addColumn('latency_ms', 'integer')
        .addColumn('detail', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('status_probe_results_target')
        .on('status_probe_results')
        .columns(['probe', 'target', 'at_ms'])
        .execute();
      await db.schema.createIndex('status_probe_results_at').on('status_probe_results').columns(['at_ms']).execute();
      await db.schema
        .createTable('status_daily_rollups')
        .addColumn('component', 'text', (c) => c.notNull())
        .addColumn('day', 'text', (c) => c.notNull())
        .addColumn('samples', 'integer', (c) => c.notNull())
        .addColumn('operational', 'integer', (c) => c.notNull())
        .addColumn('maintenance', 'integer', (c) => c.notNull())
        .addColumn('degraded', 'integer', (c) => c.notNull())
        .addColumn('partial', 'integer', (c) => c.notNull())
        .addColumn('major', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('status_daily_rollups_pk', ['component', 'day'])
        .execute();
      await db.schema
        .createTable('status_settings')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
  };
}
