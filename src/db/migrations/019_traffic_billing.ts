import type { Kysely, Migration } from 'kysely';

/**
 * A project's traffic plan: `volume` (included TiB, then overage per TiB) or `percentile95` (per Mbps of p95);
 * and an index to prune the metering consumer's applied-event ids by age.
 */
export function trafficBillingMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('billing_accounts')
        .addColumn('traffic_billing', 'text', (c) => c.notNull().defaultTo('volume'))
        .execute();
      await db.schema.createIndex('metered_events_at').on('metered_events').column('at_ms').execute();
    },
  };
}
