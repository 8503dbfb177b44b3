import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase } from './test-helpers.ts';
import { inTransaction } from './transaction.ts';
import { SqliteDeadlockError } from './sqlite-guard.ts';

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
