import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../connection.ts';

/**
 * Agent telemetry (src/telemetry, docs/observability.md):
 * - `host_probe_rollups`: what each host measured towards the other hosts of its region, one row per host
 *   and hour (sent, received, the round-trip histogram as a JSON array of counts); kept 90 days. A region's
 *   figures are the sums of its hosts' rows.
 * - `server_usage_minutes`: each server's CPU seconds and disk bytes/operations per minute of arrival,
 *   with the seconds they cover; kept 7 days, then folded into
 * - `server_usage_rollups`: the same per 5 minutes, kept 35 days.
 */
export function hostProbesMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const text = 'text' as const;
      const big = 'bigint' as const;
      const real = 'double precision' as const;
      await db.schema
        .createTable('host_probe_rollups')
        .addColumn('host_id', text, (c) => c.notNull())
        .addColumn('hour_ms', big, (c) => c.notNull())
        .addColumn('region', text, (c) => c.notNull())
        .addColumn('method', text, (c) => c.notNull()) // sockets | model
        .addColumn('sent', big, (c) => c.notNull())
        .addColumn('received', big, (c) => c.notNull())
        .addColumn('histogram_json', text, (c) => c.notNull())
        .addColumn('peers', 'integer', (c) => c.notNull())
        .addColumn('updated_ms', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('host_probe_rollups_pk', ['host_id', 'hour_ms'])
        .execute();
      await db.schema
        .createIndex('host_probe_rollups_region_hour')
        .on('host_probe_rollups')
        .columns(['region', 'hour_ms'])
        .execute();
      await db.schema.createIndex('host_probe_rollups_hour').on('host_probe_rollups').column('hour_ms').execute();

      for (const table of ['server_usage_minutes', 'server_usage_rollups']) {
        let create = db.schema
          .createTable(table)
          .addColumn('server_id', text, (c) => c.notNull())
          .addColumn('start_ms', big, (c) => c.notNull())
          .addColumn('host_id', text, (c) => c.notNull())
          .addColumn('seconds', real, (c) => c.notNull())
          .addColumn('cpu_seconds', real, (c) => c.notNull())
          .addColumn('disk_read_bytes', real, (c) => c.notNull())
          .addColumn('disk_write_bytes', real, (c) => c.notNull())
          .addColumn('disk_read_ops', real, (c) => c.notNull())
          .addColumn('disk_write_ops', real, (c) => c.notNull())
          .addPrimaryKeyConstraint(`${table}_pk`, ['server_id', 'start_ms']);
        if (dialect === 'sqlite') create = create.modifyEnd(sql`without rowid`);
        await create.execute();
        await db.schema.createIndex(`${table}_start`).on(table).column('start_ms').execute();
      }
    },
  };
}
