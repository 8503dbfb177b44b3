/** The only code that names the events domain's tables by name: `events` and `event_consumers`. */
import { eventTablesOf, type EventsTable } from './tables.ts';

type Queryable = { selectFrom: unknown };

export function insertEvent(q: Queryable, row: Omit<EventsTable, 'seq' | 'tx_id'>): Promise<unknown> {
  return eventTablesOf(q).insertInto('events').values(row).execute();
}

/** Several events in one statement (bulk work such as the monthly invoicing run), in the given order. */
export async function insertEvents(
  q: Queryable,
  rows: ReadonlyArray<Omit<EventsTable, 'seq' | 'tx_id'>>,
): Promise<void> {
  for (let i = 0; i < rows.length; i += 500)
    await eventTablesOf(q)
      .insertInto('events')
      .values(rows.slice(i, i + 500))
      .execute();
}

/** A consumer's stored cursor (text form of src/events/ordered-read.ts), or null before its first batch. */
export async function consumerCursor(q: Queryable, name: string): Promise<string | null> {
  const row = await eventTablesOf(q)
    .selectFrom('event_consumers')
    .select('cursor')
    .where('name', '=', name)
    .executeTakeFirst();
  return row?.cursor ?? null;
}

export async function saveConsumerCursor(q: Queryable, name: string, cursor: string, updatedAt: string): Promise<void> {
  await eventTablesOf(q)
    .insertInto('event_consumers')
    .values({ name, cursor, updated_at: updatedAt })
    .onConflict((oc) => oc.column('name').doUpdateSet({ cursor, updated_at: updatedAt }))
    .execute();
}

/** Every consumer's stored cursor (metrics: their lag). */
export async function consumerCursors(q: Queryable): Promise<Array<{ name: string; cursor: string }>> {
  return eventTablesOf(q).selectFrom('event_consumers').select(['name', 'cursor']).orderBy('name').execute();
}

/** The highest sequence number of the stream (0 when empty). */
export async function streamHeadSeq(q: Queryable): Promise<number> {
  const row = await eventTablesOf(q)
    .selectFrom('events')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .executeTakeFirst();
  return Number(row?.seq ?? 0);
}

/** When the first event after `seq` was recorded, or null when there is none. */
export async function firstEventAtAfter(q: Queryable, seq: number): Promise<string | null> {
  const row = await eventTablesOf(q)
    .selectFrom('events')
    .select('at')
    .where('seq', '>', seq)
    .orderBy('seq')
    .limit(1)
    .executeTakeFirst();
  return row?.at ?? null;
}
