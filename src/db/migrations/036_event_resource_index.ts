import { sql, type Kysely, type Migration } from 'kysely';

/**
 * `GET /v1/events?resource_id=…` (a server's events on its page, an attack's on its own) reads the events of
 * one resource in stream order: `resource_id = ? [and project_id = ?]` ordered by `(tx_id, seq)` after a
 * cursor (src/events/ordered-read.ts). Without an index that walked the project's whole stream. With
 * `(resource_id, project_id, tx_id, seq)` both dialects seek to the resource and read its events in order
 * (SQLite: tx_id is always 0, so seq order; PostgreSQL: the row comparison `(tx_id, seq) > (…)` on the
 * index's tail). The resource leads so that an operator's filter (no project) is served too.
 */
export function eventResourceIndexMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await sql`create index events_by_resource on events (resource_id, project_id, tx_id, seq)`.execute(db);
    },
    async down(db: Kysely<unknown>) {
      await sql`drop index events_by_resource`.execute(db);
    },
  };
}
