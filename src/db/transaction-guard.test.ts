import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, testDialects } from './test-helpers.ts';
import { inTransaction } from './transaction.ts';
import { openDatabase } from './connection.ts';
import { outsideTransaction, PoolDeadlockError, SqliteDeadlockError } from './transaction-guard.ts';

test('SQLite: a query on the handle inside a transaction fails at once instead of waiting forever', async () => {
  const t = await createTestDatabase('sqlite');
  try {
    await assert.rejects(
      inTransaction(t.db, async () => {
        await t.db.selectFrom('regions').select('code').execute();
      }),
      SqliteDeadlockError,
    );
    // The transaction's own queries, and the handle after the transaction, work.
    const inside = await inTransaction(t.db, async (tx) => tx.selectFrom('regions').select('code').execute());
    assert.ok(Array.isArray(inside));
    let late: Promise<unknown> = Promise.resolve();
    await inTransaction(t.db, async () => {
      // Work started inside and running on after the commit may use the handle.
      late = new Promise((resolve) => setTimeout(resolve, 10)).then(() =>
        t.db.selectFrom('regions').select('code').execute(),
      );
    });
    assert.ok(Array.isArray(await late));
  } finally {
    await t.dispose();
  }
});

test('PostgreSQL: a query on the handle inside a transaction fails at once when it would wait for a pooled connection', async (t) => {
  const url = process.env.TEST_DATABASE_URL;
  if (!url || !testDialects().includes('postgres')) return t.skip('TEST_DATABASE_URL is not set');
  const base = await createTestDatabase('postgres'); // migrated schema, dropped at the end
  // Two connections: the transaction's and one more.
  const handle = await openDatabase({ url, pgSchema: base.pgSchema, poolSize: 2 });
  try {
    // One connection idle: the query runs (a read that need not wait).
    const rows = await inTransaction(handle.db, async (tx) => {
      await tx.selectFrom('regions').select('code').execute();
      return handle.db.selectFrom('regions').select('code').execute();
    });
    assert.ok(Array.isArray(rows));
    // The second connection held elsewhere: waiting for it could wait forever, so it fails at once.
    await inTransaction(handle.db, async (outer) => {
      await outer.selectFrom('regions').select('code').execute();
      await assert.rejects(
        outsideTransaction(() =>
          inTransaction(handle.db, async (tx) => {
            await tx.selectFrom('regions').select('code').execute();
            await handle.db.selectFrom('regions').select('code').execute();
          }),
        ),
        PoolDeadlockError,
      );
    });
  } finally {
    await handle.close();
    await base.dispose();
  }
});
