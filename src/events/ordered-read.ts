import { sql, type Kysely, type RawBuilder } from 'kysely';
import { invalid } from '../core/index.ts';
import type { DialectName } from '../db/index.ts';

/**
 * Reading an append-only table (events, audit_log) as an ordered stream that no later commit can insert
 * into behind a reader's cursor.
 *
 * A sequence alone is not commit order on PostgreSQL: transaction A takes seq 7, B takes seq 8 and commits,
 * a reader reads `seq > 6`, sees 8 and moves its cursor to 8; A commits and 7 is never read. So each row
 * carries the id of the transaction that wrote it (`tx_id xid8 default pg_current_xact_id()`), and a
 * reader sees only rows of transactions older than its snapshot's xmin (the oldest transaction still
 * running): all of those have ended, and every transaction that has not yet written gets a larger id.
 * Readers order by (tx_id, seq) and keep (tx_id, seq) as their cursor: no row can appear behind it. The
 * price: a transaction that stays open holds back what readers see (it delays, never reorders).
 *
 * SQLite has one writer at a time, so seq order is commit order: tx_id is 0 and the cursor is seq alone.
 */
export interface StreamCursor {
  /** Transaction id (xid8, decimal text) on PostgreSQL; '0' on SQLite; null for a bare legacy seq. */
  txId: string | null;
  seq: number;
}

export const streamStart: StreamCursor = { txId: '0', seq: 0 };

/** The columns an ordered table has. tx_id is xid8 (decimal text) on PostgreSQL, 0 on SQLite. */
export interface OrderedRow {
  seq: number;
  tx_id: string | number;
}

/**
 * A cursor as text: `<seq>` when the transaction id is 0 (SQLite, and the start), `<tx_id>.<seq>`
 * otherwise. The bare integer form is what `GET /v1/events` answered before; it stays accepted.
 */
export function encodeStreamCursor(cursor: StreamCursor): string {
  return cursor.txId === '0' || cursor.txId === null ? String(cursor.seq) : `${cursor.txId}.${cursor.seq}`;
}

/** Parses `encodeStreamCursor`'s text; a bare `<seq>` is a legacy cursor (txId null) unless seq is 0. */
export function parseStreamCursor(text: string): StreamCursor {
  const match = /^(?:([0-9]{1,20})\.)?([0-9]{1,15})$/.exec(text);
  if (!match)
    throw invalid('after must be the `last` of a previous answer', {
      fields: [{ field: 'after', message: 'must be <seq> or <tx>.<seq>' }],
    });
  const seq = Number(match[2]);
  if (match[1] !== undefined) return { txId: match[1].replace(/^0+(?=.)/, ''), seq };
  return seq === 0 ? streamStart : { txId: null, seq };
}

export function cursorOf(row: OrderedRow): StreamCursor {
  return { txId: String(row.tx_id), seq: Number(row.seq) };
}

export interface OrderedReadOptions {
  table: string;
  after: StreamCursor;
  limit: number;
  /** Extra conditions (`sql\`project_id = ${id}\``), joined with `and`. */
  where?: RawBuilder<unknown>[];
}

/**
 * The next `limit` rows after the cursor, in stream order, each settled: on PostgreSQL only rows whose
 * transaction ended before this statement's snapshot (so none can appear behind them later).
 */
export async function readOrdered<Row extends OrderedRow>(
  q: Kysely<unknown>,
  dialect: DialectName,
  options: OrderedReadOptions,
): Promise<Row[]> {
  const conditions: RawBuilder<unknown>[] = [...(options.where ?? [])];
  const { after } = options;
  if (dialect === 'postgres') {
    conditions.push(sql`tx_id < pg_snapshot_xmin(pg_current_snapshot())`);
    if (after.txId === null) conditions.push(sql`seq > ${after.seq}`);
    else conditions.push(sql`(tx_id, seq) > (${after.txId}::xid8, ${after.seq})`);
  } else {
    conditions.push(sql`seq > ${after.seq}`);
  }
  const { rows } = await sql<Row>`select * from ${sql.table(options.table)} where ${sql.join(
    conditions,
    sql` and `,
  )} order by tx_id, seq limit ${options.limit}`.execute(q);
  return rows.map((row) => ({ ...row, seq: Number(row.seq), tx_id: String(row.tx_id) }));
}

/**
 * A legacy cursor (a bare seq from before transaction ids) made exact: the transaction id of that row, when
 * it exists. Otherwise it stays legacy and the first read takes every settled row with a larger seq.
 */
export async function resolveStreamCursor(
  q: Kysely<unknown>,
  dialect: DialectName,
  table: string,
  cursor: StreamCursor,
): Promise<StreamCursor> {
  if (cursor.txId !== null) return cursor;
  if (dialect === 'sqlite') return { txId: '0', seq: cursor.seq };
  const { rows } = await sql<{
    tx_id: string;
  }>`select tx_id from ${sql.table(table)} where seq = ${cursor.seq}`.execute(q);
  return rows.length > 0 ? { txId: String(rows[0].tx_id), seq: cursor.seq } : cursor;
}
