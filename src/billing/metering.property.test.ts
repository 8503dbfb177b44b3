/**
 * Exactly-once metering over random event streams: the consumer applies them in small batches while its
 * handler crashes at random points (after writing part of a batch: the transaction rolls back) and old
 * batches are delivered again (a replay). The usage and downtime intervals must equal those of one clean
 * pass, and must match what the stream says (one interval per created server, closed exactly when and only
 * if it was deleted).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createEventBus, createManualClock, silentLogger } from '../core/index.ts';
import { inTransaction, type Db, type DialectName } from '../db/index.ts';
import { createTestDatabase, testDialects } from '../db/test-helpers.ts';
import { createEventConsumer, createEventRecorder, readEvents, streamStart } from '../events/index.ts';
import type { Event } from '../contract/events.ts';
import { createMeteringStore } from './metering-store.ts';
import { applyMeteringEvents } from './metering.ts';

type Op = {
  op:
    | 'create'
    | 'stop'
    | 'start'
    | 'host_down'
    | 'started'
    | 'error'
    | 'delete'
    | 'vol_create'
    | 'vol_resize'
    | 'vol_delete';
  n: number;
};

const opArb = fc.record({
  op: fc.constantFrom(
    'create',
    'stop',
    'start',
    'host_down',
    'started',
    'error',
    'delete',
    'vol_create',
    'vol_resize',
    'vol_delete',
  ),
  n: fc.nat(3),
}) as fc.Arbitrary<Op>;

/** Writes the stream of `ops` as events, one transaction each, 1 to 5 minutes apart. */
async function recordStream(db: Db, ops: Op[]): Promise<void> {
  const clock = createManualClock(Date.UTC(2026, 2, 1));
  const recorder = createEventRecorder({ bus: createEventBus(), clock });
  const server = (n: number) => `srv_00000000000000000000000${n}`;
  const volume = (n: number) => `vol_00000000000000000000000${n}`;
  for (const [index, { op, n }] of ops.entries()) {
    clock.advanceMs(60_000 * (1 + (index % 5)));
    const subject = (type: string, id: string, data: Record<string, unknown>) => ({
      type,
      projectId: 'prj_a',
      resourceType: type.split('.')[0]!,
      resourceId: id,
      data,
    });
    const change = (from: string, to: string) => ({ from, to });
    const input = {
      create: subject('server.created', server(n), {
        name: `s${n}`,
        product: 'vps-starter',
        region: 'par1',
        host_id: 'host_1',
        action_id: 'act_1',
      }),
      stop: subject('server.stopping', server(n), { action_id: 'act_1' }),
      start: subject('server.starting', server(n), { action_id: 'act_1' }),
      host_down: subject('server.unknown', server(n), change('running', 'unknown')),
      started: subject('server.started', server(n), change('unknown', 'running')),
      error: subject('server.error', server(n), change('starting', 'error')),
      delete: subject('server.deleted', server(n), change('deleting', 'deleted')),
      vol_create: subject('volume.created', volume(n), {
        name: 'v',
        size_gib: 10 + n,
        region: 'par1',
        host_id: null,
        action_id: 'act_1',
      }),
      vol_resize: subject('volume.resizing', volume(n), { from_gib: 10, to_gib: 20 + n, action_id: 'act_1' }),
      vol_delete: subject('volume.deleted', volume(n), change('available', 'deleted')),
    }[op];
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    await inTransaction(db, (tx, hooks) => recorder.record(tx, hooks, input as any));
  }
}

const snapshot = async (db: Db) => {
  const store = createMeteringStore();
  return { usage: await store.allUsage(db), downtime: await store.allDowntime(db) };
};

async function allEvents(db: Db, dialect: DialectName): Promise<Event[]> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return (await readEvents(db as any, dialect, { after: streamStart, limit: 10_000 })).events;
}

for (const dialect of testDialects()) {
  test(`metering is exactly once under crashes and replays (${dialect})`, async () => {
    const chaos = await createTestDatabase(dialect);
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(opArb, { minLength: 1, maxLength: 30 }),
          fc.integer({ min: 1, max: 6 }),
          fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 60, maxLength: 60 }),
          async (ops, batchSize, dice) => {
            await resetTables(chaos.db, true);
            await recordStream(chaos.db, ops);
            const store = createMeteringStore();
            // On PostgreSQL an ordered read waits for every transaction begun before it in the cluster (another
            // test's, another process's): read until the stream holds the ops' events, one each.
            let events = await allEvents(chaos.db, dialect);
            for (let tries = 0; events.length < ops.length && tries < 200; tries++) {
              await new Promise((resolve) => setTimeout(resolve, 50));
              events = await allEvents(chaos.db, dialect);
            }
            assert.equal(events.length, ops.length, 'every op recorded one event');

            // Chaos: the real consumer, whose handler crashes mid-batch on some dice and replays old batches on others.
            let roll = 0;
            let crashed = false;
            const delivered: Event[][] = [];
            const consumer = createEventConsumer({
              db: chaos.db,
              dialect,
              name: 'metering',
              batchSize,
              log: silentLogger,
              clock: createManualClock(),
              holder: 'test',
              handle: async (batch, tx) => {
                const die = dice[roll++ % dice.length]!;
                if (die === 0 && delivered.length > 0)
                  await applyMeteringEvents(store, delivered[roll % delivered.length]!, tx);
                if (die <= 2 && !crashed) {
                  crashed = true;
                  await applyMeteringEvents(store, batch.slice(0, Math.ceil(batch.length / 2)), tx);
                  throw new Error('crash');
                }
                crashed = false;
                await applyMeteringEvents(store, batch, tx);
                delivered.push(batch);
              },
            });
            for (let steps = 0; steps < 1000; steps++) {
              const handled = await consumer.runOnce().catch(() => -1);
              if (handled === 0) break;
            }
            // A late replay of every batch ever delivered changes nothing.
            for (const batch of delivered) await inTransaction(chaos.db, (tx) => applyMeteringEvents(store, batch, tx));
            await consumer.stop();

            const actual = await snapshot(chaos.db);
            // Clean: the same events in one pass over empty billing tables.
            await resetTables(chaos.db, false);
            await inTransaction(chaos.db, (tx) => applyMeteringEvents(store, events, tx));
            const expected = await snapshot(chaos.db);
            assert.deepEqual(actual, expected);
            // And the clean pass says what the stream says: each created server has one interval, ended iff deleted.
            for (let n = 0; n < 4; n++) {
              const id = `srv_00000000000000000000000${n}`;
              const created = events.filter((e) => e.type === 'server.created' && e.resource.id === id);
              const intervals = expected.usage.filter((u) => u.resource_id === id);
              assert.equal(intervals.length, created.length);
              const firstDelete = events.find(
                (e) =>
                  e.type === 'server.deleted' && e.resource.id === id && created.length > 0 && e.seq > created[0]!.seq,
              );
              if (created.length === 1)
                assert.equal(
                  intervals[0]!.ended_at_ms === null ? null : Number(intervals[0]!.ended_at_ms),
                  firstDelete ? Date.parse(firstDelete.at) : null,
                );
            }
          },
        ),
        { numRuns: dialect === 'sqlite' ? 40 : 10 },
      );
    } finally {
      await chaos.dispose();
    }
  });
}

async function resetTables(db: Db, stream: boolean) {
  for (const table of ['usage_intervals', 'downtime_intervals', 'metered_events', 'metered_servers'] as const)
    await db.deleteFrom(table).execute();
  if (stream)
    for (const table of ['events', 'event_consumers', 'leases'] as const) await db.deleteFrom(table).execute();
}
