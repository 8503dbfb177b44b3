import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Every host pass reads the primary IPs of its servers by `server_id IN (…) OR observed_server_id IN (…)`;
 * with no index on `observed_server_id` that OR scanned the whole table (two rows per server), so creates
 * slowed down as the fleet filled (bench:api, docs/benchmarks.md). With both columns indexed, SQLite and
 * PostgreSQL answer the OR from the two indexes.
 */
export function addressIndexesMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await sql`create index primary_ips_by_observed_server on primary_ips (observed_server_id) where observed_server_id is not null`.execute(
        db,
      );
      await sql`create index primary_ips_by_server on primary_ips (server_id) where server_id is not null`.execute(db);
    },
    async down(db: Kysely<unknown>) {
      await sql`drop index primary_ips_by_server`.execute(db);
      await sql`drop index primary_ips_by_observed_server`.execute(db);
    },
  };
}
