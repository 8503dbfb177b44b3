import { sql, type Kysely, type RawBuilder } from 'kysely';
import { VmcError, type Clock, type TransactionParticipant } from '../core/index.ts';
import { dialectOfDb, type Db, type DialectName, type Tx } from './connection.ts';

/**
 * Fenced leases: among several control-plane replicas on one database, only the holder of a lease runs a
 * singleton loop (housekeeping, an event consumer, the audit sealer), and a holder that lost its lease
 * (paused past its expiry while another replica took over) has its writes refused.
 *
 * - A lease row carries a fencing `generation`. Taking a lease that is free, expired or held by another
 *   holder bumps it; renewing one's own lease keeps it, even past its expiry when nobody took it in between (the
 *   row still names this holder, so no other replica acted meanwhile). Expiry is judged on the database's clock, not
 *   the replica's (a replica with a skewed clock cannot steal a live lease).
 * - `withLease(name, work)` runs `work` in a transaction that first checks that this holder still holds
 *   the generation it acquired, locking the lease row FOR SHARE on PostgreSQL: a takeover (an UPDATE of
 *   that row) waits until the work commits, and work that starts after a takeover is refused
 *   (`VmcError('conflict', reason 'lease_lost')`) before it writes anything. On SQLite the transaction is
 *   the database's only writer, which gives the same guarantee.
 */
export interface LeaseRow {
  name: string;
  holder: string;
  expires_at_ms: number;
  /** Bumped at each change of holder (or takeover after expiry): the fencing token. */
  generation: number;
}

interface LeaseTables {
  leases: LeaseRow;
}

export interface HeldLease {
  name: string;
  holder: string;
  generation: number;
}

export interface Leases {
  /** This replica's holder id. */
  readonly holder: string;
  /** Takes the lease when free or expired, renews it when ours; null when another holder has it. */
  acquire(name: string, ttlMs: number): Promise<HeldLease | null>;
  /** Runs `work` in a transaction fenced by the generation this holder last acquired; refused if lost. */
  withLease<T>(name: string, work: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * A transaction participant (src/core/transaction-scope.ts) that fences every transaction of the work
   * it is given to: just before commit it checks (FOR SHARE on PostgreSQL) that this holder still holds the
   * generation it acquired, and refuses (`lease_lost`, the transaction rolls back) when not. A takeover
   * waits for a fenced commit in progress; a commit after a takeover never happens.
   */
  fence(name: string): TransactionParticipant<Tx>;
  /** Gives the lease up (when still ours) so another replica need not wait for its expiry. */
  release(name: string): Promise<void>;
}

export interface LeaseDeps {
  db: Db;
  dialect: DialectName;
  holder: string;
  /** Tests only: judge expiry by this clock instead of the database's. */
  clock?: Clock;
}

export const leaseLost = (name: string) =>
  new VmcError('conflict', `lease ${name} is no longer held by this replica`, { reason: 'lease_lost' });

export function createLeases(deps: LeaseDeps): Leases {
  const held = new Map<string, number>();
  const q = () => deps.db as unknown as Kysely<LeaseTables>;

  const nowMs = (): RawBuilder<number> => {
    if (deps.clock) return sql<number>`cast(${deps.clock.nowMs()} as bigint)`;
    return deps.dialect === 'postgres'
      ? sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`
      : sql<number>`cast((julianday('now') - 2440587.5) * 86400000 as integer)`;
  };

  return {
    holder: deps.holder,

    async acquire(name, ttlMs) {
      const now = nowMs();
      // One statement: insert, or take over when free/expired/ours; the row comes back only when taken.
      const { rows } = await sql<{ generation: number | string }>`
        insert into leases (name, holder, expires_at_ms, generation)
        values (${name}, ${deps.holder}, ${now} + cast(${ttlMs} as bigint), 1)
        on conflict (name) do update set
          generation = case
            when leases.holder = excluded.holder then leases.generation
            else leases.generation + 1 end,
          holder = excluded.holder,
          expires_at_ms = excluded.expires_at_ms
        where leases.holder = excluded.holder or leases.expires_at_ms < ${now}
        returning generation`.execute(q());
      if (rows.length === 0) {
        held.delete(name);
        return null;
      }
      const generation = Number(rows[0].generation);
      held.set(name, generation);
      return { name, holder: deps.holder, generation };
    },

    async withLease(name, work) {
      const generation = held.get(name);
      if (generation === undefined) throw leaseLost(name);
      return deps.db.transaction().execute(async (tx) => {
        let check = (tx as unknown as Kysely<LeaseTables>)
          .selectFrom('leases')
          .select(['holder', 'generation'])
          .where('name', '=', name);
        if (deps.dialect === 'postgres') check = check.forShare();
        const row = await check.executeTakeFirst();
        if (!row || row.holder !== deps.holder || Number(row.generation) !== generation) {
          held.delete(name);
          throw leaseLost(name);
        }
        return work(tx);
      });
    },

    fence(name) {
      return {
        async beforeCommit(tx) {
          const generation = held.get(name);
          if (generation === undefined) throw leaseLost(name);
          let check = (tx as unknown as Kysely<LeaseTables>)
            .selectFrom('leases')
            .select(['holder', 'generation'])
            .where('name', '=', name);
          if (deps.dialect === 'postgres') check = check.forShare();
          const row = await check.executeTakeFirst();
          if (!row || row.holder !== deps.holder || Number(row.generation) !== generation) {
            held.delete(name);
            throw leaseLost(name);
          }
        },
      };
    },

    async release(name) {
      const generation = held.get(name);
      held.delete(name);
      if (generation === undefined) return;
      await q()
        .updateTable('leases')
        .set({ expires_at_ms: 0 })
        .where('name', '=', name)
        .where('holder', '=', deps.holder)
        .where('generation', '=', generation)
        .execute();
    },
  };
}

/**
 * @deprecated Use `createLeases(...).acquire` (fenced). Kept for callers not yet moved: takes or renews the
 * lease with the caller's clock.
 */
export async function tryAcquireLease(
  db: Db,
  input: { name: string; holder: string; nowMs: number; ttlMs: number },
): Promise<boolean> {
  const leases = createLeases({
    db,
    dialect: dialectOfDb(db),
    holder: input.holder,
    clock: { nowMs: () => input.nowMs, nowIso: () => new Date(input.nowMs).toISOString() },
  });
  return (await leases.acquire(input.name, input.ttlMs)) !== null;
}

/**
 * Runs `work` while renewing the lease `name` (which the caller holds) every third of `ttlMs`: a pass that
 * takes minutes keeps a short lease, so a crashed holder's role moves to another replica within `ttlMs`
 * instead of a TTL sized for the longest pass. A renewal that fails or finds the lease taken changes nothing
 * here: the fence refuses the work's writes.
 */
export async function whileRenewing<T>(
  leases: Pick<Leases, 'acquire'>,
  name: string,
  ttlMs: number,
  work: () => Promise<T>,
): Promise<T> {
  const timer = setInterval(() => void leases.acquire(name, ttlMs).catch(() => null), Math.max(1, ttlMs / 3));
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
