import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../connection.ts';

/**
 * Traffic accounting, flow logs and DDoS protection (docs/traffic.md):
 * - `traffic_servers`: what the accounting knows of each server it has seen (project, product, address), kept
 *   after the server is deleted so that its month can still be billed;
 * - `traffic_samples`: one row per server per 5-minute slot (the slot is the idempotency key), kept 35 days;
 *   on SQLite a WITHOUT ROWID table (the primary key is the row: no second copy of the key);
 * - `traffic_rollups`: hourly and daily sums, kept 13 months; `traffic_months`: a closed month per server and
 *   per project, with its 95th percentiles (computed before the raw samples are gone);
 * - `flow_log_settings` per project and `flow_log_partitions`, the registry of the per-day flow tables
 *   (`flow_logs_YYYYMMDD`, created on demand by the flow-log store and dropped whole by retention);
 * - `ddos_settings` (tier, custom rules, per-address thresholds), `ddos_attacks` (incidents) and
 *   `ddos_addresses` (the learned baseline and open attack of each public address).
 */
export function trafficMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const text = 'text' as const;
      const big = 'bigint' as const;
      const int = 'integer' as const;
      await db.schema
        .createTable('traffic_servers')
        .addColumn('server_id', text, (c) => c.primaryKey())
        .addColumn('project_id', text, (c) => c.notNull())
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('region', text, (c) => c.notNull())
        .addColumn('product', text, (c) => c.notNull())
        .addColumn('ipv4', text)
        .addColumn('host_id', text)
        .addColumn('first_seen_ms', big, (c) => c.notNull())
        .addColumn('last_seen_ms', big, (c) => c.notNull())
        .addColumn('gone_ms', big)
        .execute();
      await db.schema.createIndex('traffic_servers_project').on('traffic_servers').column('project_id').execute();
      await db.schema.createIndex('traffic_servers_ipv4').on('traffic_servers').column('ipv4').execute();

      let samples = db.schema
        .createTable('traffic_samples')
        .addColumn('server_id', text, (c) => c.notNull())
        .addColumn('slot', int, (c) => c.notNull())
        .addColumn('project_id', text, (c) => c.notNull())
        .addColumn('rx_bytes', big, (c) => c.notNull())
        .addColumn('tx_bytes', big, (c) => c.notNull())
        .addColumn('rx_packets', big, (c) => c.notNull())
        .addColumn('tx_packets', big, (c) => c.notNull())
        .addColumn('rx_unmetered_bytes', big, (c) => c.notNull())
        .addColumn('tx_unmetered_bytes', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('traffic_samples_pk', ['server_id', 'slot']);
      if (dialect === 'sqlite') samples = samples.modifyEnd(sql`without rowid`);
      await samples.execute();
      await db.schema
        .createIndex('traffic_samples_project_slot')
        .on('traffic_samples')
        .columns(['project_id', 'slot'])
        .execute();
      await db.schema.createIndex('traffic_samples_slot').on('traffic_samples').column('slot').execute();

      let rollups = db.schema
        .createTable('traffic_rollups')
        .addColumn('server_id', text, (c) => c.notNull())
        .addColumn('period', text, (c) => c.notNull()) // hour | day
        .addColumn('start_ms', big, (c) => c.notNull())
        .addColumn('project_id', text, (c) => c.notNull())
        .addColumn('rx_bytes', big, (c) => c.notNull())
        .addColumn('tx_bytes', big, (c) => c.notNull())
        .addColumn('rx_packets', big, (c) => c.notNull())
        .addColumn('tx_packets', big, (c) => c.notNull())
        .addColumn('rx_unmetered_bytes', big, (c) => c.notNull())
        .addColumn('tx_unmetered_bytes', big, (c) => c.notNull())
        .addColumn('samples', int, (c) => c.notNull())
        .addPrimaryKeyConstraint('traffic_rollups_pk', ['server_id', 'period', 'start_ms']);
      if (dialect === 'sqlite') rollups = rollups.modifyEnd(sql`without rowid`);
      await rollups.execute();
      await db.schema
        .createIndex('traffic_rollups_start')
        .on('traffic_rollups')
        .columns(['period', 'start_ms'])
        .execute();

      await db.schema
        .createTable('traffic_months')
        .addColumn('scope_id', text, (c) => c.notNull()) // srv_… or prj_…
        .addColumn('month', text, (c) => c.notNull())
        .addColumn('project_id', text, (c) => c.notNull())
        .addColumn('product', text)
        .addColumn('rx_bytes', big, (c) => c.notNull())
        .addColumn('tx_bytes', big, (c) => c.notNull())
        .addColumn('rx_unmetered_bytes', big, (c) => c.notNull())
        .addColumn('tx_unmetered_bytes', big, (c) => c.notNull())
        .addColumn('included_bytes', big, (c) => c.notNull())
        .addColumn('p95_in_bps', big, (c) => c.notNull())
        .addColumn('p95_out_bps', big, (c) => c.notNull())
        .addColumn('samples', int, (c) => c.notNull())
        .addColumn('closed_at', text, (c) => c.notNull())
        .addPrimaryKeyConstraint('traffic_months_pk', ['scope_id', 'month'])
        .execute();
      await db.schema
        .createIndex('traffic_months_project')
        .on('traffic_months')
        .columns(['project_id', 'month'])
        .execute();

      await db.schema
        .createTable('flow_log_settings')
        .addColumn('project_id', text, (c) => c.primaryKey())
        .addColumn('enabled', int, (c) => c.notNull())
        .addColumn('server_ids_json', text, (c) => c.notNull())
        .addColumn('retention_days', int, (c) => c.notNull())
        .addColumn('updated_at', text, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('flow_log_partitions')
        .addColumn('day', text, (c) => c.primaryKey()) // YYYY-MM-DD (UTC)
        .addColumn('table_name', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('ddos_settings')
        .addColumn('project_id', text, (c) => c.primaryKey())
        .addColumn('tier', text, (c) => c.notNull())
        .addColumn('rules_json', text, (c) => c.notNull())
        .addColumn('thresholds_json', text, (c) => c.notNull())
        .addColumn('version', int, (c) => c.notNull())
        .addColumn('updated_at', text, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('ddos_attacks')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('project_id', text, (c) => c.notNull())
        .addColumn('server_id', text)
        .addColumn('address', text, (c) => c.notNull())
        .addColumn('tier', text, (c) => c.notNull())
        .addColumn('status', text, (c) => c.notNull()) // active | ended
        .addColumn('vector', text, (c) => c.notNull())
        .addColumn('detected_by', text, (c) => c.notNull()) // fast_path | counters
        .addColumn('started_at', text, (c) => c.notNull())
        .addColumn('ended_at', text)
        .addColumn('peak_pps', big, (c) => c.notNull())
        .addColumn('peak_bps', big, (c) => c.notNull())
        .addColumn('dropped_packets', big, (c) => c.notNull())
        .addColumn('actions_json', text, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('ddos_attacks_project').on('ddos_attacks').columns(['project_id', 'id']).execute();
      await db.schema.createIndex('ddos_attacks_status').on('ddos_attacks').columns(['status', 'address']).execute();
      await db.schema
        .createTable('ddos_addresses')
        .addColumn('address', text, (c) => c.primaryKey())
        .addColumn('state_json', text, (c) => c.notNull())
        .addColumn('updated_at', text, (c) => c.notNull())
        .execute();
    },
  };
}
