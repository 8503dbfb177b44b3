import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createManualClock } from '../core/index.ts';
import { createTestDatabase, testDialects } from './test-helpers.ts';
import { createLeases, tryAcquireLease, whileRenewing, type Leases } from './lease.ts';

/** Polls `attempt` until it returns true (deadline 10 s): waiting for a short TTL without a sleep. */
async function eventually(attempt: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await attempt())) {
    if (Date.now() > deadline) throw new Error('condition not reached before the deadline');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function writeMarker(leases: Leases, value: string) {
  return leases.withLease('loop', async (tx) => {
    await tx
      .insertInto('placement_groups')
      .values({ id: value, project_id: 'p', name: value, policy: 'spread', created_at: '2026-01-01T00:00:00.000Z' })
      .execute();
    return value;
  });
}

for (const dialect of testDialects()) {
  test(`leases: one holder at a time, renewed by its holder, taken over after expiry (${dialect})`, async () => {
    const t = await createTestDatabase(dialect);
    try {
      const clock = createManualClock(1000);
      const a = createLeases({ db: t.db, dialect, holder: 'a', clock });
      const b = createLeases({ db: t.db, dialect, holder: 'b', clock });
      assert.deepEqual(await a.acquire('loop', 100), { name: 'loop', holder: 'a', generation: 1 });
      clock.advanceMs(50);
      assert.equal(await b.acquire('loop', 100), null);
      clock.advanceMs(40);
      assert.equal((await a.acquire('loop', 100))?.generation, 1, 'renewal keeps the generation');
      clock.advanceMs(99);
      assert.equal(await b.acquire('loop', 100), null, 'renewed until 1190');
      clock.advanceMs(2);
      assert.equal((await b.acquire('loop', 100))?.generation, 2, 'takeover bumps the generation');
      assert.equal(await a.acquire('loop', 100), null);
    } finally {
      await t.dispose();
    }
  });

  test(`leases: a holder paused past its expiry has its writes refused once taken over (${dialect})`, async () => {
    const t = await createTestDatabase(dialect);
    try {
      const clock = createManualClock(1000);
      const a = createLeases({ db: t.db, dialect, holder: 'a', clock });
      const b = createLeases({ db: t.db, dialect, holder: 'b', clock });
      await a.acquire('loop', 100);
      assert.equal(await writeMarker(a, 'first'), 'first');
      // a pauses (GC, a stopped VM): its lease expires and b takes over.
      clock.advanceMs(500);
      assert.equal((await b.acquire('loop', 100))?.generation, 2);
      // a wakes up and tries to act on what it believed: refused before writing.
      await assert.rejects(writeMarker(a, 'stale'), (e: Error & { reason?: string }) => e.reason === 'lease_lost');
      assert.equal(await writeMarker(b, 'second'), 'second');
      const ids = (await t.db.selectFrom('placement_groups').select('id').orderBy('id').execute()).map((r) => r.id);
      assert.deepEqual(ids, ['first', 'second']);
      // a that never acquired, or that released, is refused too.
      await b.release('loop');
      await assert.rejects(writeMarker(b, 'released'), /no longer held/);
      assert.equal((await a.acquire('loop', 100))?.generation, 3, 'a released lease is free at once');
    } finally {
      await t.dispose();
    }
  });

  test(`leases: expiry on the database's clock, a short TTL taken over by polling (${dialect})`, async () => {
    const t = await createTestDatabase(dialect);
    try {
      const a = createLeases({ db: t.db, dialect, holder: 'a' });
      const b = createLeases({ db: t.db, dialect, holder: 'b' });
      assert.equal((await a.acquire('loop', 30))?.generation, 1);
      await eventually(async () => (await b.acquire('loop', 60_000)) !== null);
      await assert.rejects(writeMarker(a, 'stale'), /no longer held/);
      assert.equal(await a.acquire('loop', 30), null, 'b holds it for a minute');
      assert.equal(await writeMarker(b, 'fresh'), 'fresh');
    } finally {
      await t.dispose();
    }
  });

  test(`leases: the deprecated tryAcquireLease still works (${dialect})`, async () => {
    const t = await createTestDatabase(dialect);
    try {
      assert.equal(await tryAcquireLease(t.db, { name: 'loop', holder: 'a', nowMs: 1000, ttlMs: 100 }), true);
      assert.equal(await tryAcquireLease(t.db, { name: 'loop', holder: 'b', nowMs: 1050, ttlMs: 100 }), false);
      assert.equal(await tryAcquireLease(t.db, { name: 'loop', holder: 'b', nowMs: 1101, ttlMs: 100 }), true);
    } finally {
      await t.dispose();
    }
  });
}

test(
  'leases: on PostgreSQL a takeover waits for the fenced work in flight (FOR SHARE)',
  {
    skip: !testDialects().includes('postgres') && 'TEST_DATABASE_URL is not set',
  },
  async () => {
    const t = await createTestDatabase('postgres');
    try {
      const clock = createManualClock(1000);
      const a = createLeases({ db: t.db, dialect: 'postgres', holder: 'a', clock });
      const b = createLeases({ db: t.db, dialect: 'postgres', holder: 'b', clock });
      await a.acquire('loop', 100);
      let takeover: Promise<unknown> | null = null;
      await a.withLease('loop', async (tx) => {
        clock.advanceMs(500);
        takeover = b.acquire('loop', 100);
        // b's upsert blocks on the row a locked FOR SHARE: seen as a lock wait in pg_stat_activity.
        await eventually(async () => {
          const waiting = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
          where wait_event_type = 'Lock' and query like '%insert into leases%'`.execute(t.db);
          return waiting.rows[0].n > 0;
        });
        await tx
          .insertInto('placement_groups')
          .values({ id: 'in-flight', project_id: 'p', name: 'x', policy: 'spread', created_at: '2026-01-01T00:00:00Z' })
          .execute();
      });
      assert.equal(((await takeover) as { generation: number } | null)?.generation, 2);
      await assert.rejects(writeMarker(a, 'stale'), /no longer held/);
      assert.equal((await t.db.selectFrom('placement_groups').select('id').execute()).length, 1);
    } finally {
      await t.dispose();
    }
  },
);

test('whileRenewing renews the lease every third of its TTL while the work runs, and stops after', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const renewals: { name: string; ttlMs: number }[] = [];
  const leases = {
    acquire: async (name: string, ttlMs: number) => {
      renewals.push({ name, ttlMs });
      return { name, holder: 'a', generation: 1 };
    },
  };
  let finish!: () => void;
  const running = whileRenewing(leases, 'worker', 30_000, () => new Promise<string>((r) => (finish = () => r('done'))));
  t.mock.timers.tick(9_999);
  assert.equal(renewals.length, 0, 'not before a third of the TTL');
  t.mock.timers.tick(1);
  t.mock.timers.tick(10_000);
  t.mock.timers.tick(10_000);
  assert.deepEqual(
    renewals,
    [1, 2, 3].map(() => ({ name: 'worker', ttlMs: 30_000 })),
  );
  finish();
  assert.equal(await running, 'done');
  t.mock.timers.tick(60_000);
  assert.equal(renewals.length, 3, 'no renewal once the work ended');
});
