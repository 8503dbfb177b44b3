import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../connection.ts';

/**
 * Several replicas on one database: console tickets live in the database (a ticket issued by one replica
 * is taken by whichever replica the WebSocket reaches), and request counters of the rate limit are shared
 * (one row per caller and window). On PostgreSQL the counters are UNLOGGED: they are not worth a WAL
 * write per request, and a crash that empties them only forgives the current minute.
 */
export function replicasMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('console_tickets')
        .addColumn('ticket_hash', 'text', (c) => c.primaryKey())
        .addColumn('server_id', 'text', (c) => c.notNull())
        .addColumn('token_id', 'text', (c) => c.notNull())
        .addColumn('principal', 'text', (c) => c.notNull())
        .addColumn('read_only', 'integer', (c) => c.notNull())
        .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('console_tickets_expiry').on('console_tickets').column('expires_at_ms').execute();

      const unlogged = dialect === 'postgres' ? sql`unlogged` : sql``;
      await sql`create ${unlogged} table rate_limit_windows (
        key text not null,
        window_start_ms bigint not null,
        count integer not null,
        primary key (key, window_start_ms)
      )`.execute(db);
    },
  };
}
