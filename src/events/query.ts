import { sql, type Kysely } from 'kysely';
import { dialectOfDb, type Db, type DialectName } from '../db/index.ts';
import { VmcError } from '../core/index.ts';
import type { Event } from '../contract/events.ts';
import type { EventsTable } from './tables.ts';
import {
  cursorOf,
  parseStreamCursor,
  readOrdered,
  resolveStreamCursor,
  type OrderedRow,
  type StreamCursor,
} from './ordered-read.ts';

/** An event as the stream carries it, untyped (the typed form is `Event` of src/contract/events.ts). */
export interface EventView {
  seq: number;
  id: string;
  at: string;
  type: string;
  project_id: string | null;
  resource: { type: string; id: string };
  data: Record<string, unknown>;
}

export type EventRow = Omit<EventsTable, 'seq' | 'tx_id'> & OrderedRow;

export function eventViewOf(row: EventRow): Event {
  return {
    seq: Number(row.seq),
    id: row.id,
    at: row.at,
    type: row.type,
    project_id: row.project_id,
    resource: { type: row.resource_type, id: row.resource_id },
    data: JSON.parse(row.data_json),
  } as Event;
}

/** Reads events after a cursor, in stream order (src/events/ordered-read.ts). */
export async function readEvents(
  q: Kysely<unknown>,
  dialect: DialectName,
  filter: {
    after: StreamCursor;
    limit: number;
    projectId?: string | null;
    types?: string[];
    /** Only events of this resource (index `events_by_resource`, migration 036) and/or resource type. */
    resourceId?: string;
    resourceType?: string;
    /** Only events recorded at or after this time (ISO-8601), and before `untilAt`. */
    sinceAt?: string;
    untilAt?: string;
  },
): Promise<{ events: Event[]; last: StreamCursor; cursors: StreamCursor[] }> {
  const where = [];
  if (filter.projectId != null) where.push(sql`project_id = ${filter.projectId}`);
  if (filter.types && filter.types.length > 0)
    where.push(sql`type in (${sql.join(filter.types.map((t) => sql`${t}`))})`);
  if (filter.resourceId !== undefined) where.push(sql`resource_id = ${filter.resourceId}`);
  if (filter.resourceType !== undefined) where.push(sql`resource_type = ${filter.resourceType}`);
  if (filter.sinceAt) where.push(sql`at >= ${filter.sinceAt}`);
  if (filter.untilAt) where.push(sql`at < ${filter.untilAt}`);
  const after = await resolveStreamCursor(q, dialect, 'events', filter.after);
  const rows = await readOrdered<EventRow>(q, dialect, { table: 'events', after, limit: filter.limit, where });
  return {
    events: rows.map(eventViewOf),
    last: rows.length > 0 ? cursorOf(rows[rows.length - 1]) : after,
    /** Each event's place in the stream (its resume point). */
    cursors: rows.map(cursorOf),
  };
}

/**
 * `GET /v1/events`: the event stream in order. `after` is the `last` of the previous answer, the seq of the
 * last event read: seq is unique, so it names that event's place (tx_id, seq) in the stream, looked up by
 * primary key. The cursor text `<tx>.<seq>` (ordered-read.ts) is accepted too.
 */
export async function listEvents(
  db: Db,
  filter: {
    projectId: string | null;
    after: number | string;
    limit: number;
    types?: string[];
    resourceId?: string;
    resourceType?: string;
  },
  dialect: DialectName = dialectOfDb(db),
): Promise<{ events: Event[]; last: number }> {
  if (typeof filter.after === 'number' && (!Number.isInteger(filter.after) || filter.after < 0))
    throw new VmcError('invalid', 'after must be a sequence number ≥ 0', {
      fields: [{ field: 'after', message: 'must be an integer ≥ 0' }],
    });
  if (!Number.isInteger(filter.limit) || filter.limit < 1 || filter.limit > 1000)
    throw new VmcError('invalid', 'limit must be 1 to 1000', {
      fields: [{ field: 'limit', message: 'must be 1 to 1000' }],
    });
  const after = parseStreamCursor(String(filter.after));
  const page = await readEvents(db as unknown as Kysely<unknown>, dialect, { ...filter, after });
  return { events: page.events, last: page.last.seq };
}

/** The stream's end now: the cursor of its last settled event (what a live reader starts after). */
export async function streamHead(q: Kysely<unknown>, dialect: DialectName): Promise<StreamCursor> {
  if (dialect === 'sqlite') {
    const { rows } = await sql<{ seq: number | null }>`select max(seq) as seq from events`.execute(q);
    return { txId: '0', seq: Number(rows[0]?.seq ?? 0) };
  }
  const { rows } = await sql<{ tx_id: string; seq: number }>`select tx_id, seq from events
    where tx_id < pg_snapshot_xmin(pg_current_snapshot()) order by tx_id desc, seq desc limit 1`.execute(q);
  return rows.length > 0 ? { txId: String(rows[0].tx_id), seq: Number(rows[0].seq) } : { txId: '0', seq: 0 };
}
