/**
 * SQLite has one connection: a query on the database handle while a transaction holds it waits for that
 * transaction, which waits for the query — forever. The guard turns that deadlock into an error at once:
 * `inTransaction` marks the transaction's async context, and the connection of the handle refuses to be
 * taken from inside it (queries of the transaction itself use the connection it holds and are not asked).
 * The connection is handed to waiters in arrival order, one at a time (src/db/fifo-lock.ts).
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
        const current = openTransaction.getStore();
        if (current?.open && current.guard === guard) throw new SqliteDeadlockError();
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

/** Remembers the guard of a database handle (openDatabase). */
export function registerGuard(db: object, guard: object): void {
  guards.set(db, guard);
}

/** Runs a transaction's work marked as inside it (SQLite handles with a guard; others unchanged). */
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
