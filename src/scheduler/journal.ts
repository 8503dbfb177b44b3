/**
 * The transaction journal: what one open transaction of this process changed in the in-memory fleet
 * (claims and releases, in order) and the writes it still owes the database.
 *
 * What it guarantees, as long as every change to a host view goes through it:
 * 1. Memory follows the transaction. A claim or release enters memory when it is decided, so the
 *    transaction's next decisions see it; when the transaction commits it stays, when it rolls back the
 *    journal undoes its changes in reverse order.
 * 2. One transaction per host. A host changed by an open transaction belongs to it (`host.owner`) until the
 *    transaction ends. Other transactions of this process see the host as busy (the `busy` filter) and
 *    pass over it or wait for `settled`, so no decision is ever made on another transaction's uncommitted
 *    claims.
 * 3. Nothing stale is trusted after a rollback. The hosts a rolled-back transaction owned are marked
 *    unknown (generation −1): the next claim on such a host fails its guard or rereads it first.
 * 4. `settled` resolves once the transaction has ended, whichever way.
 * The database stays the arbiter across processes: the generation guard of each claim (store/hosts.ts).
 */
import type { Tx, TxHooks } from '../db/index.ts';
import type { FleetIndex } from './fleet-index.ts';
import type { Claim, HostState } from './host-state.ts';
import type { QueuedWrite } from './write-queue.ts';

export interface JournalOp {
  kind: 'claim' | 'release';
  hostId: string;
  serverId: string;
  claim: Claim;
}

export interface TxJournal {
  readonly tx: Tx;
  /** Changes to host views, in order. */
  readonly ops: JournalOp[];
  /** Hosts this transaction owns. */
  readonly hostIds: Set<string>;
  /** Writes decided but not yet sent (see write-queue.ts). */
  queue: QueuedWrite[];
  /** The write of queued items in progress, if any. */
  flushing: Promise<void> | null;
  /** Rereads of hosts in progress in this transaction. */
  readonly reloads: Set<Promise<void>>;
  /** Regions whose generations were compared with the database in this transaction. */
  readonly syncedRegions: Set<string>;
  /** Resolves when the transaction has committed or rolled back. */
  readonly settled: Promise<void>;
}

export interface Journals {
  /** The journal of a transaction, opened on first use (its hooks close it). */
  of(tx: Tx, hooks: TxHooks): TxJournal;
  /** Makes the host belong to the journal's transaction until it ends. */
  own(journal: TxJournal, host: HostState): void;
  /** A claim decided in this transaction: it enters memory now. */
  claim(journal: TxJournal, host: HostState, serverId: string, claim: Claim): JournalOp;
  /** A release in this transaction: the claim leaves memory now. */
  release(journal: TxJournal, host: HostState, serverId: string): JournalOp | null;
  /** Takes back one change (its write failed or was refused). */
  drop(journal: TxJournal, op: JournalOp): void;
}

export function createJournals(fleet: FleetIndex): Journals {
  const journals = new WeakMap<Tx, TxJournal>();

  function undo(op: JournalOp): void {
    const host = fleet.hosts.get(op.hostId);
    if (!host) return;
    if (op.kind === 'claim' && host.claims.get(op.serverId) === op.claim) fleet.unclaim(host, op.serverId);
    if (op.kind === 'release' && !host.claims.has(op.serverId)) fleet.claim(host, op.serverId, op.claim);
  }

  function finish(journal: TxJournal, settle: () => void, committed: boolean): void {
    journals.delete(journal.tx);
    if (!committed) for (let i = journal.ops.length - 1; i >= 0; i--) undo(journal.ops[i]);
    for (const hostId of journal.hostIds) {
      const host = fleet.hosts.get(hostId);
      if (!host || host.owner !== journal) continue;
      host.owner = null;
      if (!committed) host.generation = -1;
    }
    settle();
  }

  function own(journal: TxJournal, host: HostState): void {
    host.owner = journal;
    journal.hostIds.add(host.id);
  }

  return {
    of(tx, hooks) {
      const known = journals.get(tx);
      if (known) return known;
      let settle = () => {};
      const settled = new Promise<void>((resolve) => (settle = resolve));
      const journal: TxJournal = {
        tx,
        ops: [],
        hostIds: new Set(),
        queue: [],
        flushing: null,
        reloads: new Set(),
        syncedRegions: new Set(),
        settled,
      };
      journals.set(tx, journal);
      hooks.afterCommit(() => finish(journal, settle, true));
      hooks.afterRollback(() => finish(journal, settle, false));
      return journal;
    },
    own,
    claim(journal, host, serverId, claim) {
      const op: JournalOp = { kind: 'claim', hostId: host.id, serverId, claim };
      own(journal, host);
      journal.ops.push(op);
      fleet.claim(host, serverId, claim);
      return op;
    },
    release(journal, host, serverId) {
      own(journal, host);
      const claim = fleet.unclaim(host, serverId);
      if (!claim) return null;
      const op: JournalOp = { kind: 'release', hostId: host.id, serverId, claim };
      journal.ops.push(op);
      return op;
    },
    drop(journal, op) {
      const at = journal.ops.lastIndexOf(op);
      if (at >= 0) journal.ops.splice(at, 1);
      undo(op);
    },
  };
}
