import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, testDialects } from './test-helpers.ts';
import { tryAcquireLease } from './lease.ts';

for (const dialect of testDialects()) {
  test(`leases: one holder at a time, taken over after expiry (${dialect})`, async () => {
    const t = await createTestDatabase(dialect);
    try {
      assert.equal(await tryAcquireLease(t.db, { name: 'loop', holder: 'a', nowMs: 1000, ttlMs: 100 }), true);
      assert.equal(await tryAcquireLease(t.db, { name: 'loop', holder: 'b', nowMs: 1050, ttlMs: 100 }), false);
      assert.equal(await tryAcquireLease(t.db, { name: 'loop', holder: 'a', nowMs: 1090, ttlMs: 100 }), true);
      assert.equal(await tryAcquireLease(t.db, { name: 'loop', holder: 'b', nowMs: 1189, ttlMs: 100 }), false);
      assert.equal(await tryAcquireLease(t.db, { name: 'loop', holder: 'b', nowMs: 1191, ttlMs: 100 }), true);
    } finally {
      await t.dispose();
    }
  });
}
