import { sql, type Kysely } from 'kysely';
import type { Db, DialectName } from '../db/index.ts';
import type { Clock } from '../core/index.ts';
import { readOrdered, streamStart, type StreamCursor } from '../events/index.ts';
import { auditTablesOf, type AuditChainTable, type AuditLogTable } from './tables.ts';
import { chainHash } from './hash.ts';

/**
 * The tamper-evident chain over audit_log. Writers only insert (in their own transaction, never waiting on
 * each other); the sealer later walks the settled rows in stream order (src/events/ordered-read.ts: commit
 * order on PostgreSQL, seq on SQLite) and gives each `prev_hash` (the hash of the row before it) and
 * `hash` = SHA-256(prev_hash, canonical JSON of the row). `audit_chain` keeps the head (the last sealed
 * row and its hash: rows cut off the end are noticed) and the anchor (the hash of the last pruned row, the
 * first remaining row's prev_hash).
 */
export type AuditRow = Omit<AuditLogTable, 'seq' | 'tx_id' | 'sealed'> & {
  seq: number;
  tx_id: string;
  sealed: number;
};

export interface VerifyResult {
  ok: boolean;
  /** Sealed rows whose link and hash were checked. */
  checked: number;
  /** Rows written but not sealed yet (after the head): not covered by this verification. */
  unsealed: number;
  firstBad?: { id: string; reason: string };
}

const chainName = 'audit_log';
const page = 500;

interface ChainDeps {
  db: Db;
  dialect: DialectName;
  clock: Clock;
}

/** Stream order of two positions: negative when a is first. */
function compareCursors(a: StreamCursor, b: StreamCursor): number {
  const ta = BigInt(a.txId ?? '0');
  const tb = BigInt(b.txId ?? '0');
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.seq - b.seq;
}

const cursorOfRow = (row: { tx_id: string | number; seq: number }): StreamCursor => ({
  txId: String(row.tx_id),
  seq: Number(row.seq),
});

/** The chain row; locked FOR UPDATE on PostgreSQL when `lock` (sealer and pruner take turns on it). */
async function readChain(q: Kysely<unknown>, dialect: DialectName, lock: boolean): Promise<AuditChainTable> {
  let query = auditTablesOf(q).selectFrom('audit_chain').selectAll().where('name', '=', chainName);
  if (lock && dialect === 'postgres') query = query.forUpdate();
  const chain = await query.executeTakeFirstOrThrow();
  return { ...chain, head_seq: Number(chain.head_seq), pruned_rows: Number(chain.pruned_rows) };
}

const readRows = (q: Kysely<unknown>, dialect: DialectName, after: StreamCursor, limit = page) =>
  readOrdered<AuditRow>(q, dialect, { table: 'audit_log', after, limit });

/**
 * Seals the next `batchSize` settled rows after the head, in one transaction holding the chain row (FOR
 * UPDATE on PostgreSQL): sealers on several replicas take turns, writers are never blocked.
 */
export async function sealAuditChain(deps: ChainDeps, batchSize: number): Promise<number> {
  return deps.db.transaction().execute(async (tx) => {
    const q = tx as unknown as Kysely<unknown>;
    const chain = await readChain(q, deps.dialect, true);
    const rows = await readRows(q, deps.dialect, { txId: chain.head_tx_id, seq: chain.head_seq }, batchSize);
    if (rows.length === 0) return 0;
    let prev = chain.head_hash;
    for (const row of rows) {
      const hash = chainHash(prev, row);
      await auditTablesOf(tx)
        .updateTable('audit_log')
        .set({ sealed: 1, prev_hash: prev, hash })
        .where('seq', '=', row.seq)
        .execute();
      prev = hash;
    }
    const last = rows[rows.length - 1];
    await auditTablesOf(tx)
      .updateTable('audit_chain')
      .set({ head_tx_id: String(last.tx_id), head_seq: last.seq, head_hash: prev, updated_at: deps.clock.nowIso() })
      .where('name', '=', chainName)
      .execute();
    return rows.length;
  });
}

/**
 * Checks every sealed row from the anchor to the head; names the first row that does not hold. Reads one
 * snapshot (repeatable read): a sealer running meanwhile is not mistaken for tampering. Locks nothing.
 */
export async function verifyAuditChain(deps: { db: Db; dialect: DialectName }): Promise<VerifyResult> {
  const transaction = deps.db.transaction();
  // SQLite: a transaction reads one snapshot already (one connection, WAL).
  return (deps.dialect === 'postgres' ? transaction.setIsolationLevel('repeatable read') : transaction).execute((tx) =>
    verifyInSnapshot(tx as unknown as Kysely<unknown>, deps.dialect),
  );
}

async function verifyInSnapshot(q: Kysely<unknown>, dialect: DialectName): Promise<VerifyResult> {
  const chain = await readChain(q, dialect, false);
  const head: StreamCursor = { txId: chain.head_tx_id, seq: chain.head_seq };
  let expected = chain.anchor_hash;
  let checked = 0;
  let unsealed = 0;
  let lastSealed: AuditRow | null = null;
  let cursor = streamStart;
  const bad = (id: string, reason: string): VerifyResult => ({
    ok: false,
    checked,
    unsealed,
    firstBad: { id, reason },
  });
  for (;;) {
    const rows = await readRows(q, dialect, cursor);
    for (const row of rows) {
      const beforeHead = compareCursors(cursorOfRow(row), head) <= 0;
      if (Number(row.sealed) !== 1) {
        if (beforeHead) return bad(row.id, 'not sealed although the chain head is past it (its seal was removed)');
        unsealed++;
        continue;
      }
      if (!beforeHead) return bad(row.id, 'sealed but past the chain head (sealed by something other than the sealer)');
      if (row.prev_hash !== expected)
        return bad(
          row.id,
          checked === 0 && lastSealed === null
            ? 'prev_hash is not the chain anchor (rows before it were removed, or it was changed)'
            : `prev_hash does not match the hash of the row before it (${lastSealed?.id ?? 'the anchor'}): a row between was removed, or one was changed`,
        );
      if (chainHash(row.prev_hash, row) !== row.hash)
        return bad(row.id, 'its content does not match its hash (the row was changed)');
      expected = row.hash;
      lastSealed = row;
      checked++;
    }
    if (rows.length < page) break;
    cursor = cursorOfRow(rows[rows.length - 1]);
  }
  if (expected !== chain.head_hash)
    return bad(
      lastSealed?.id ?? '(anchor)',
      'the chain ends here but the head records a later hash: sealed rows after it were removed',
    );
  // The stream above reads only settled rows; rows of transactions still open elsewhere count too.
  const waiting = await sql<{ n: number | string }>`select count(*) as n from audit_log where sealed = 0`.execute(q);
  unsealed = Math.max(unsealed, Number(waiting.rows[0]?.n ?? 0));
  return { ok: true, checked, unsealed };
}

/**
 * Deletes the oldest sealed rows written before `olderThanDays` ago, stopping at the first row that is
 * younger or not sealed (so the remaining rows stay one unbroken chain), and moves the anchor to the hash
 * of the last deleted row.
 */
export async function pruneAuditChain(deps: ChainDeps, olderThanDays: number): Promise<{ pruned: number }> {
  const cutoff = new Date(deps.clock.nowMs() - olderThanDays * 86_400_000).toISOString();
  let pruned = 0;
  for (;;) {
    const done = await deps.db.transaction().execute(async (tx) => {
      const q = tx as unknown as Kysely<unknown>;
      const chain = await readChain(q, deps.dialect, true);
      const rows = await readRows(q, deps.dialect, streamStart);
      const old: AuditRow[] = [];
      for (const row of rows) {
        if (Number(row.sealed) !== 1 || row.at >= cutoff) break;
        old.push(row);
      }
      if (old.length === 0) return true;
      await sql`delete from audit_log where seq in (${sql.join(old.map((r) => sql`${r.seq}`))})`.execute(tx);
      await auditTablesOf(tx)
        .updateTable('audit_chain')
        .set({
          anchor_hash: old[old.length - 1].hash as string,
          pruned_rows: chain.pruned_rows + old.length,
          updated_at: deps.clock.nowIso(),
        })
        .where('name', '=', chainName)
        .execute();
      pruned += old.length;
      return old.length < rows.length || rows.length < page;
    });
    if (done) return { pruned };
  }
}
