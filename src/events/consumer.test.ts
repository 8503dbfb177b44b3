import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEventBus, createManualClock, silentLogger, type EventBus } from '../core/index.ts';
import { createTestDatabase, testDialects, type TestDatabase } from '../db/test-helpers.ts';
import { inTransaction, type Tx } from '../db/index.ts';
import type { Event } from '../contract/events.ts';
import { createEventRecorder } from './record.ts';
import { listEvents } from './query.ts';
import { eventTablesOf } from './tables.ts';
import { createEventConsumer, retryDelayMs, type EventConsumerOptions } from './consumer.ts';

/** Polls until `done()` (deadline 15 s); consumers run on their own timers. */
async function eventually(done: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`not reached before the deadline: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Records `count` host.down events, `perTx` per transaction; returns their ids in recording order. */
async function recordEvents(t: TestDatabase, bus: EventBus, count: number, perTx = 1): Promise<string[]> {
  const recorder = createEventRecorder({ bus, clock: createManualClock() });
  const ids: string[] = [];
  for (let i = 0; i < count; i += perTx) {
    await inTransaction(t.db, async (tx, hooks) => {
      for (let j = i; j < Math.min(count, i + perTx); j++) {
        const event = await recorder.record(tx, hooks, {
          type: 'host.down',
          projectId: null,
          resourceType: 'host',
          resourceId: `host_${j}`,
          data: { stale_after_ms: j },
        });
        ids.push(event.id);
      }
    });
  }
  // On PostgreSQL a transaction of another test, anywhere in the cluster, may hold the ordered read's
  // horizon back for a moment: wait until these events are all readable, so batches have their full size.
  await eventually(
    async () => (await listEvents(t.db, { projectId: null, after: 0, limit: 1000 })).events.length >= ids.length,
    'recorded events readable',
  );
  return ids;
}

/** A handler that writes one row per event in the batch's transaction (a duplicate would break the key). */
async function markHandled(tx: Tx, events: Event[]) {
  for (const event of events)
    await tx
      .insertInto('placement_groups')
      .values({ id: event.id, project_id: 'consumer', name: event.type, policy: 'spread', created_at: event.at })
      .execute();
}

const handledRows = (t: TestDatabase) =>
  t.db
    .selectFrom('placement_groups')
    .select('id')
    .orderBy('id')
    .execute()
    .then((rows) => rows.map((r) => r.id));

function consumerOptions(
  t: TestDatabase,
  bus: EventBus,
  overrides: Partial<EventConsumerOptions>,
): EventConsumerOptions {
  return {
    db: t.db,
    dialect: t.dialect,
    name: 'webhooks',
    handle: async () => {},
    batchSize: 7,
    pollIntervalMs: 20,
    retryBaseMs: 5,
    retryMaxMs: 20,
    leaseTtlMs: 60_000,
    bus,
    log: silentLogger,
    clock: createManualClock(),
    holder: 'replica-a',
    ...overrides,
  };
}

test('retry delay: doubles from the base, capped', async (t) => {
  const cases: Array<[number, number]> = [
    [0, 0],
    [1, 500],
    [2, 1000],
    [4, 4000],
    [8, 60_000],
    [1000, 60_000],
  ];
  for (const [failures, expected] of cases)
    await t.test(`${failures} failures`, () => assert.equal(retryDelayMs(failures, 500, 60_000), expected));
});

for (const dialect of testDialects()) {
  test(`event consumer: every event once, in order, its writes committed with the cursor (${dialect})`, async () => {
    const t = await createTestDatabase(dialect);
    const bus = createEventBus();
    const seen: string[] = [];
    const consumer = createEventConsumer(
      consumerOptions(t, bus, {
        handle: async (events, tx) => {
          seen.push(...events.map((e) => e.id));
          await markHandled(tx, events);
        },
      }),
    );
    try {
      const first = await recordEvents(t, bus, 10, 3);
      consumer.start();
      const second = await recordEvents(t, bus, 15, 2);
      await eventually(async () => (await handledRows(t)).length === 25, 'all 25 events handled');
      assert.deepEqual(seen, [...first, ...second]);
      assert.deepEqual(await handledRows(t), [...first, ...second].sort());
    } finally {
      await consumer.stop();
      await t.dispose();
    }
  });

  test(`event consumer: a failing batch is retried from the stored cursor, nothing skipped (${dialect})`, async () => {
    const t = await createTestDatabase(dialect);
    const bus = createEventBus();
    const ids = await recordEvents(t, bus, 20);
    const deliveries: string[][] = [];
    let failuresLeft = 3;
    const consumer = createEventConsumer(
      consumerOptions(t, bus, {
        handle: async (events, tx) => {
          deliveries.push(events.map((e) => e.id));
          await markHandled(tx, events);
          // The second batch crashes after its writes, three times: they roll back with the cursor.
          if (deliveries.length >= 2 && failuresLeft > 0) {
            failuresLeft--;
            throw new Error('handler crashed');
          }
        },
      }),
    );
    try {
      consumer.start();
      await eventually(async () => (await handledRows(t)).length === 20, 'all 20 handled');
      // The second batch was delivered four times (at least once), from the same cursor; nothing was lost.
      for (const attempt of deliveries.slice(1, 4)) assert.equal(attempt[0], ids[7]);
      assert.deepEqual([...deliveries[0], ...deliveries.slice(4).flat()], ids);
      assert.deepEqual(await handledRows(t), [...ids].sort(), 'each row written once');
    } finally {
      await consumer.stop();
      await t.dispose();
    }
  });

  test(`event consumer: a replica that stops mid-stream is resumed from the stored cursor by another (${dialect})`, async () => {
    const t = await createTestDatabase(dialect);
    const bus = createEventBus();
    const ids = await recordEvents(t, bus, 12);
    const seenByA: string[] = [];
    // Replica A dies after its first batch without giving up its lease (a crash: no stop()).
    const a = createEventConsumer(
      consumerOptions(t, bus, {
        holder: 'replica-a',
        leaseTtlMs: 1500,
        handle: async (events, tx) => {
          seenByA.push(...events.map((e) => e.id));
          await markHandled(tx, events);
        },
      }),
    );
    assert.equal(await a.runOnce(), 7);
    const seenByB: string[] = [];
    const b = createEventConsumer(
      consumerOptions(t, bus, {
        holder: 'replica-b',
        handle: async (events, tx) => {
          seenByB.push(...events.map((e) => e.id));
          await markHandled(tx, events);
        },
      }),
    );
    try {
      assert.equal(await b.runOnce(), null, 'A still holds the lease');
      b.start();
      await eventually(() => seenByB.length >= 5, 'B took over after the expiry and read the rest');
      assert.deepEqual(seenByA, ids.slice(0, 7));
      assert.deepEqual(seenByB, ids.slice(7));
      // A comes back from its pause: its lease was taken over, it cannot advance the cursor any more.
      assert.equal(await a.runOnce(), null);
    } finally {
      await b.stop();
      await a.stop();
      await t.dispose();
    }
  });

  test(`event consumer: two instances of one consumer never run at once; two consumers each see all (${dialect})`, async () => {
    const t = await createTestDatabase(dialect);
    const bus = createEventBus();
    let active = 0;
    let maxActive = 0;
    const webhooks: string[] = [];
    const metering: string[] = [];
    const sameName = (holder: string) =>
      createEventConsumer(
        consumerOptions(t, bus, {
          holder,
          batchSize: 3,
          pollIntervalMs: 5,
          handle: async (events, tx) => {
            active++;
            maxActive = Math.max(maxActive, active);
            for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
            webhooks.push(...events.map((e) => e.id));
            await markHandled(tx, events);
            active--;
          },
        }),
      );
    const consumers = [
      sameName('replica-a'),
      sameName('replica-b'),
      createEventConsumer(
        consumerOptions(t, bus, {
          name: 'metering',
          holder: 'replica-b',
          handle: async (events) => {
            metering.push(...events.map((e) => e.id));
          },
        }),
      ),
    ];
    try {
      for (const consumer of consumers) consumer.start();
      const ids = await recordEvents(t, bus, 30, 4);
      await eventually(() => webhooks.length >= 30 && metering.length >= 30, 'both consumers read all 30');
      assert.equal(maxActive, 1, 'never two batches of one consumer at once');
      assert.deepEqual(webhooks, ids);
      assert.deepEqual(metering, ids);
      const cursors = await eventTablesOf(t.db).selectFrom('event_consumers').select('name').orderBy('name').execute();
      assert.deepEqual(
        cursors.map((c) => c.name),
        ['metering', 'webhooks'],
      );
    } finally {
      for (const consumer of consumers) await consumer.stop();
      await t.dispose();
    }
  });
}
