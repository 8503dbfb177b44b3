/**
 * Row types of the events domain's tables. The database type (src/db/schema.ts) must include them:
 * `events: EventsTable` (replacing the old one, which lacks tx_id) and `event_consumers: EventConsumersTable`.
 */
import type { Generated, Kysely } from 'kysely';

export interface EventsTable {
  seq: Generated<number>;
  /** Writing transaction: xid8 as decimal text on PostgreSQL (column default pg_current_xact_id()); 0 on SQLite. */
  tx_id: Generated<string>;
  id: string;
  at: string;
  type: string;
  project_id: string | null;
  resource_type: string;
  resource_id: string;
  data_json: string;
}

/** Where each named consumer of the stream is: its cursor (src/events/ordered-read.ts text form). */
export interface EventConsumersTable {
  name: string;
  cursor: string;
  updated_at: string;
}

export interface EventTables {
  events: EventsTable;
  event_consumers: EventConsumersTable;
}

/** The events domain's typed view of a database handle or transaction. */
export const eventTablesOf = (q: { selectFrom: unknown }) => q as unknown as Kysely<EventTables>;
