import type { Db, Tx } from './connection.ts';

/** Callbacks a unit of work registers to run once its transaction has committed or rolled back. */
export interface TxHooks {
  afterCommit(fn: () => void): void;
  afterRollback(fn: () => void): void;
}

/**
 * Runs `work` in one transaction and then the hooks it registered: in-memory state that mirrors rows
 * (the scheduler's index, the event bus) changes only once the rows are durable.
 */
export async function inTransaction<T>(db: Db, work: (tx: Tx, hooks: TxHooks) => Promise<T>): Promise<T> {
  const committed: Array<() => void> = [];
  const rolledBack: Array<() => void> = [];
  const hooks: TxHooks = {
    afterCommit: (fn) => committed.push(fn),
    afterRollback: (fn) => rolledBack.push(fn),
  };
  let result: T;
  try {
    result = await db.transaction().execute((tx) => work(tx, hooks));
  } catch (error) {
    for (const fn of rolledBack) fn();
    throw error;
  }
  for (const fn of committed) fn();
  return result;
}
