/**
 * Work of a request that must commit or roll back together with the request's mutation: its
 * Idempotency-Key outcome and its audit row. The REST edge runs a request's handler inside
 * `withTransactionParticipants`; every transaction of that request (src/db/transaction.ts) then calls each
 * participant with the transaction and the value the work returned, just before committing.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface CommitHooks {
  afterCommit(fn: () => void): void;
  afterRollback(fn: () => void): void;
}

/** `Tx` is the database transaction (src/db's `Tx`); participants come from the domain that owns their table. */
export interface TransactionParticipant<Tx = unknown> {
  beforeCommit(tx: Tx, hooks: CommitHooks, result: unknown): Promise<void>;
}

// One process-wide carrier of the current request's participants (a mechanism, not state: it holds
// nothing outside a `run`).
const requestParticipants = new AsyncLocalStorage<readonly TransactionParticipant<never>[]>();

export function withTransactionParticipants<T>(
  participants: readonly TransactionParticipant<never>[],
  work: () => Promise<T>,
): Promise<T> {
  return requestParticipants.run(participants, work);
}

/**
 * Runs `fn` outside any request's participants: work a commit sets off (an agent poked, a host reread)
 * belongs to no request and must not write that request's audit row or idempotency outcome.
 */
export function outsideTransactionParticipants(fn: () => void): void {
  requestParticipants.exit(fn);
}

export function currentTransactionParticipants<Tx>(): readonly TransactionParticipant<Tx>[] {
  return (requestParticipants.getStore() ?? []) as readonly TransactionParticipant<Tx>[];
}
