import { transactionObserverOf, type Db, type Tx } from './connection.ts';
import { insideTransaction } from './transaction-guard.ts';
import {
  currentTransactionParticipants,
  outsideTransactionParticipants,
  type CommitHooks,
} from '../core/transaction-scope.ts';

/** Callbacks a unit of work registers to run once its transaction has committed or rolled back. */
export type TxHooks = CommitHooks;

export type { TransactionParticipant } from '../core/transaction-scope.ts';

/**
 * Runs `work` in one transaction and then the hooks it registered: in-memory state that mirrors rows
 * (the scheduler's index, the event bus) changes only once the rows are durable. The request's
 * transaction participants (its Idempotency-Key outcome, its audit row) write just before the commit.
 */
export async function inTransaction<T>(db: Db, work: (tx: Tx, hooks: TxHooks) => Promise<T>): Promise<T> {
  const committed: Array<() => void> = [];
  const rolledBack: Array<() => void> = [];
  const hooks: TxHooks = {
    afterCommit: (fn) => committed.push(fn),
    afterRollback: (fn) => rolledBack.push(fn),
  };
  const participants = currentTransactionParticipants<Tx>();
  const observer = transactionObserverOf(db);
  const started = observer ? performance.now() : 0;
  let result: T;
  try {
    result = await db.transaction().execute((tx) =>
      insideTransaction(db, async () => {
        const value = await work(tx, hooks);
        for (const participant of participants) await participant.beforeCommit(tx, hooks, value);
        return value;
      }),
    );
  } catch (error) {
    observer?.('rollback', (performance.now() - started) / 1000);
    outsideTransactionParticipants(() => {
      for (const fn of rolledBack) fn();
    });
    throw error;
  }
  observer?.('commit', (performance.now() - started) / 1000);
  outsideTransactionParticipants(() => {
    for (const fn of committed) fn();
  });
  return result;
}
