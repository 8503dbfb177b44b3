import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../connection.ts';

/**
 * The outbox: events carry the id of the transaction that wrote them (PostgreSQL), so that readers see them
 * in an order no later commit can insert into (src/events/ordered-read.ts); consumers keep their cursor in
 * `event_consumers`; leases get a fencing generation (src/db/lease.ts).
 */
export function outboxMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>) {
      if (dialect === 'postgres') {
        // Rows written before this migration take its transaction id: they are all committed already.
        await sql`alter table events add column tx_id xid8 not null default pg_current_xact_id()`.execute(db);
      } else {
        // One writer at a time: seq order is commit order, the transaction id is not needed (always 0).
        await db.schema
          .alterTable('events')
          .addColumn('tx_id', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
      }
      await db.schema.createIndex('events_stream_order').on('events').columns(['tx_id', 'seq']).execute();

      await db.schema
        .createTable('event_consumers')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('cursor', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .alterTable('leases')
        .addColumn('generation', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  };
}
