import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createManualClock } from '../core/index.ts';
import { createTestDatabase, testDialects } from '../db/test-helpers.ts';
import { createConsoleTickets } from './console-tickets.ts';
import { createSharedRateCounter } from './shared-rate-counter.ts';

const principal = { kind: 'project', tokenId: 'tok_1', userId: 'usr_1', projectId: 'prj_1', role: 'member' } as const;

for (const dialect of testDialects()) {
  test(`console tickets in the database: single use, bound to the server, expiring; only a hash stored (${dialect})`, async () => {
    const t = await createTestDatabase(dialect);
    try {
      const clock = createManualClock(1_000_000);
      // Two replicas: one issues, the other takes.
      const issuer = createConsoleTickets({ db: t.db, clock, ttlMs: 60_000 });
      const taker = createConsoleTickets({ db: t.db, clock, ttlMs: 60_000 });
      const { ticket, expiresAtMs } = await issuer.issue({
        serverId: 'srv_1',
        tokenId: 'tok_1',
        principal,
        readOnly: true,
      });
      assert.match(ticket, /^ct_[A-Za-z0-9_-]{32}$/);
      assert.equal(expiresAtMs, 1_060_000);
      const stored = await t.db.selectFrom('console_tickets').selectAll().execute();
      assert.equal(stored.length, 1);
      assert.ok(!JSON.stringify(stored).includes(ticket), 'the ticket itself is not stored');
      const grant = await taker.take(ticket, 'srv_1');
      assert.deepEqual(grant, { serverId: 'srv_1', tokenId: 'tok_1', principal, readOnly: true, expiresAtMs });
      assert.equal(await issuer.take(ticket, 'srv_1'), null, 'used once');

      const other = await issuer.issue({ serverId: 'srv_1', tokenId: 'tok_1', principal, readOnly: false });
      assert.equal(await taker.take(other.ticket, 'srv_2'), null, 'another server');
      assert.equal(await taker.take(other.ticket, 'srv_1'), null, 'a ticket tried on another server is spent');

      const late = await issuer.issue({ serverId: 'srv_1', tokenId: 'tok_1', principal, readOnly: false });
      clock.advanceMs(60_000);
      assert.equal(await taker.take(late.ticket, 'srv_1'), null, 'expired');
      assert.equal(await taker.take(undefined, 'srv_1'), null);
      assert.equal(await taker.take('ct_unknown', 'srv_1'), null);

      await issuer.issue({ serverId: 'srv_1', tokenId: 'tok_1', principal, readOnly: false });
      clock.advanceMs(60_001);
      assert.equal(await issuer.purgeExpired(), 1);
      assert.equal((await t.db.selectFrom('console_tickets').selectAll().execute()).length, 0);
    } finally {
      await t.dispose();
    }
  });

  test(`shared rate counters: one count per caller and window, whichever replica counts (${dialect})`, async () => {
    const t = await createTestDatabase(dialect);
    try {
      const replicaA = createSharedRateCounter({ db: t.db });
      const replicaB = createSharedRateCounter({ db: t.db });
      assert.equal(await replicaA.increment('tok_1', 60_000), 1);
      assert.equal(await replicaB.increment('tok_1', 60_000), 2);
      assert.equal(await replicaA.increment('tok_2', 60_000), 1, 'another caller');
      assert.equal(await replicaB.increment('tok_1', 120_000), 1, 'a new window');
      const counts = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? replicaA : replicaB).increment('tok_3', 60_000)),
      );
      assert.deepEqual(
        [...counts].sort((x, y) => x - y),
        Array.from({ length: 20 }, (_, i) => i + 1),
        'no lost update',
      );
      assert.equal(await replicaA.purgeBefore(120_000), 3);
      assert.equal(await replicaA.increment('tok_1', 120_000), 2);
    } finally {
      await t.dispose();
    }
  });
}
