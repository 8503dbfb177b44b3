/**
 * A query on the database handle made from inside a transaction needs a second connection while the
 * transaction holds the first — and the transaction waits for that query:
 *
 * - SQLite has one connection: the query would wait for the transaction forever. It fails at once.
 * - PostgreSQL has a pool: when no connection is idle, the query waits for one, and the connections may all
 *   be held by transactions waiting for this transaction's row locks — a deadlock the server cannot see
 *   (each side waits on the client). Seen under the chaos run: ten transactions per replica queued behind
 *   one that waited for a pooled catalog read. The query fails at once when it would have to wait; with an
 *   idle connection it runs (a read that cannot wait for the transaction's locks).
 *
 * `inTransaction` marks the transaction's async context (`insideTransaction`); the handle's driver refuses
 * to hand out a connection from inside it (the transaction's own queries use the connection it holds and
 * are not asked). Background work that may start inside a transaction and must not be tied to it (a cache
 * refresh) runs through `outsideTransaction`. The SQLite connection is handed to waiters in arrival order,
 * one at a time (src/db/fifo-lock.ts).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { SqliteDialect, type Driver } from 'kysely';
import { createFifoLock } from './fifo-lock.ts';

interface OpenTransaction {
  guard: object;
  open: boolean;
}

const openTransaction = new AsyncLocalStorage<OpenTransaction>();
const guards = new WeakMap<object, object>();

export class SqliteDeadlockError extends Error {
  constructor() {
    super(
      'a query on the database handle inside a transaction: on SQLite it would wait for that transaction forever (use the transaction `tx`, or read before the transaction)',
    );
    this.name = 'SqliteDeadlockError';
  }
}

export class PoolDeadlockError extends Error {
  constructor() {
    super(
      'a query on the database handle inside a transaction while every pooled connection is taken: it could wait for the transactions that wait for this one (use the transaction `tx`, or read before the transaction)',
    );
    this.name = 'PoolDeadlockError';
  }
}

const insideOwnTransaction = (guard: object) => {
  const current = openTransaction.getStore();
  return current?.open === true && current.guard === guard;
};

/** A SQLite dialect whose connection refuses to be taken from inside one of its own transactions. */
export function guardedSqliteDialect(config: ConstructorParameters<typeof SqliteDialect>[0]): {
  dialect: SqliteDialect;
  guard: object;
} {
  const guard = {};
  class GuardedSqliteDialect extends SqliteDialect {
    override createDriver(): Driver {
      const driver = super.createDriver();
      const acquire = driver.acquireConnection.bind(driver);
      const release = driver.releaseConnection.bind(driver);
      // Our own lock in front of the driver's: one waiter woken per release (the driver's wakes them all).
      const lock = createFifoLock();
      driver.acquireConnection = async () => {
        if (insideOwnTransaction(guard)) throw new SqliteDeadlockError();
        await lock.acquire();
        try {
          return await acquire();
        } catch (error) {
          lock.release();
          throw error;
        }
      };
      driver.releaseConnection = async (connection) => {
        try {
          await release(connection);
        } finally {
          lock.release();
        }
      };
      return driver;
    }
  }
  return { dialect: new GuardedSqliteDialect(config), guard };
}

/**
 * Guards a pooled driver (PostgreSQL): from inside one of its transactions, a connection is refused when
 * `wouldWait()` says none is idle.
 */
export function guardPooledDriver(driver: Driver, guard: object, wouldWait: () => boolean): Driver {
  const acquire = driver.acquireConnection.bind(driver);
  driver.acquireConnection = async () => {
    if (insideOwnTransaction(guard) && wouldWait()) throw new PoolDeadlockError();
    return acquire();
  };
  return driver;
}

/** Remembers the guard of a database handle (openDatabase). */
export function registerGuard(db: object, guard: object): void {
  guards.set(db, guard);
}

/** Runs a transaction's work marked as inside it (handles with a guard; others unchanged). */
export async function insideTransaction<T>(db: object, work: () => Promise<T>): Promise<T> {
  const guard = guards.get(db);
  if (!guard) return work();
  const marker: OpenTransaction = { guard, open: true };
  try {
    return await openTransaction.run(marker, work);
  } finally {
    // Work the transaction started and left running (timers, pokes) may query once it is over.
    marker.open = false;
  }
}

/** Whether the caller runs inside an open transaction's work (of any guarded handle). */
export function insideAnyTransaction(): boolean {
  return openTransaction.getStore()?.open === true;
}

/**
 * Starts `work` outside any transaction's context: background work a transaction may set off (a cache
 * refresh) that nothing inside the transaction waits for. On SQLite it waits for the connection like any
 * other caller instead of failing.
 */
export function outsideTransaction<T>(work: () => T): T {
  return openTransaction.exit(work);
}
