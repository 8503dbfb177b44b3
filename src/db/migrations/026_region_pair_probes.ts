import type { Kysely, Migration } from 'kysely';

/**
 * Agent telemetry, continued (src/telemetry, docs/status-page.md):
 * - `host_region_probe_rollups`: what each host measured towards the few hosts of another region it was
 *   given, one row per host, hour and peer region (sent, received, the round-trip histogram); kept 90 days.
 *   A region pair's figures are the sums of both directions' rows.
 * - `host_cpu_steal_rollups`: each host's CPU steal per hour (steal seconds of the CPUs' time over the
 *   seconds reported), kept 90 days.
 * New tables rather than a `peer_region` in the primary key of `host_probe_rollups` (024): SQLite cannot
 * change a primary key in place, and the intra-region rows keep their meaning untouched.
 */
export function regionPairProbesMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const text = 'text' as const;
      const big = 'bigint' as const;
      const real = 'double precision' as const;
      await db.schema
        .createTable('host_region_probe_rollups')
        .addColumn('host_id', text, (c) => c.notNull())
        .addColumn('hour_ms', big, (c) => c.notNull())
        .addColumn('peer_region', text, (c) => c.notNull())
        .addColumn('region', text, (c) => c.notNull())
        .addColumn('method', text, (c) => c.notNull()) // sockets | model
        .addColumn('sent', big, (c) => c.notNull())
        .addColumn('received', big, (c) => c.notNull())
        .addColumn('histogram_json', text, (c) => c.notNull())
        .addColumn('peers', 'integer', (c) => c.notNull())
        .addColumn('updated_ms', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('host_region_probe_rollups_pk', ['host_id', 'hour_ms', 'peer_region'])
        .execute();
      await db.schema
        .createIndex('host_region_probe_rollups_hour')
        .on('host_region_probe_rollups')
        .column('hour_ms')
        .execute();
      await db.schema
        .createTable('host_cpu_steal_rollups')
        .addColumn('host_id', text, (c) => c.notNull())
        .addColumn('hour_ms', big, (c) => c.notNull())
        .addColumn('region', text, (c) => c.notNull())
        .addColumn('method', text, (c) => c.notNull()) // procfs | model
        .addColumn('period_seconds', real, (c) => c.notNull())
        .addColumn('steal_seconds', real, (c) => c.notNull())
        .addColumn('updated_ms', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('host_cpu_steal_rollups_pk', ['host_id', 'hour_ms'])
        .execute();
      await db.schema
        .createIndex('host_cpu_steal_rollups_hour')
        .on('host_cpu_steal_rollups')
        .column('hour_ms')
        .execute();
    },
  };
}
