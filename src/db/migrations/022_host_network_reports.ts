import type { Kysely, Migration } from 'kysely';

/**
 * The last network report of each host's agent (`host_network_reports`: what its data plane had in place —
 * private ports, public routes, firewall versions — as JSON, and when it said so), kept so that any
 * control-plane replica can show an operator a host's desired network state beside what the host has.
 */
export function hostNetworkReportsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('host_network_reports')
        .addColumn('host_id', 'text', (c) => c.primaryKey())
        .addColumn('observed_json', 'text', (c) => c.notNull())
        .addColumn('reported_at', 'text', (c) => c.notNull())
        .execute();
    },
  };
}
