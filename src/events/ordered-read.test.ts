import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kysely } from 'kysely';
import { createTestDatabase, testDialects } from '../db/test-helpers.ts';
import type { Db } from '../db/index.ts';
import {
  cursorOf,
  encodeStreamCursor,
  parseStreamCursor,
  readOrdered,
  streamStart,
  type OrderedRow,
  type StreamCursor,
} from './ordered-read.ts';

type EventRow = OrderedRow & { id: string };

function insertEvent(q: Db, id: string) {
  return q
    .insertInto('events')
    .values({
      id,
      at: '2026-01-01T00:00:00.000Z',
      type: 'host.up',
      project_id: null,
      resource_type: 'host',
      resource_id: 'h',
      data_json: '{}',
    })
    .execute();
}

/** Reads everything settled after the cursor; returns the ids and the new cursor. */
async function drain(db: Db, dialect: 'sqlite' | 'postgres', after: StreamCursor) {
  const rows = await readOrdered<EventRow>(db as unknown as Kysely<unknown>, dialect, {
    table: 'events',
    after,
    limit: 100,
  });
  return { ids: rows.map((r) => r.id), cursor: rows.length > 0 ? cursorOf(rows[rows.length - 1]) : after };
}

/**
 * Reads until `count` rows have come (deadline 10 s). A transaction of another test, anywhere in the
 * cluster, can hold the snapshot's xmin back for a moment: readers then see rows a little later, never
 * out of order.
 */
async function drainCount(db: Db, after: StreamCursor, count: number) {
  const deadline = Date.now() + 10_000;
  const ids: string[] = [];
  let cursor = after;
  while (ids.length < count) {
    if (Date.now() > deadline) throw new Error(`only ${ids.join(',')} arrived before the deadline`);
    const page = await drain(db, 'postgres', cursor);
    ids.push(...page.ids);
    cursor = page.cursor;
  }
  return { ids, cursor };
}

test('stream cursors: text forms', async (t) => {
  const cases: Array<[string, StreamCursor]> = [
    ['0', streamStart],
    ['42', { txId: null, seq: 42 }],
    ['7781.42', { txId: '7781', seq: 42 }],
    ['0.5', { txId: '0', seq: 5 }],
  ];
  for (const [text, cursor] of cases) {
    await t.test(text, () => assert.deepEqual(parseStreamCursor(text), cursor));
  }
  await t.test('round trip', () => {
    assert.equal(encodeStreamCursor({ txId: '7781', seq: 42 }), '7781.42');
    assert.equal(encodeStreamCursor({ txId: '0', seq: 42 }), '42');
  });
  for (const bad of ['', '-1', 'abc', '1.2.3', '1.']) {
    await t.test(`refused: ${JSON.stringify(bad)}`, () => assert.throws(() => parseStreamCursor(bad), /after must be/));
  }
});

for (const dialect of testDialects()) {
  test(`ordered read: pages through a table in order (${dialect})`, async () => {
    const t = await createTestDatabase(dialect);
    try {
      for (const id of ['e1', 'e2', 'e3']) await insertEvent(t.db, id);
      // Another test's open transaction may hold the horizon back for a moment: wait until all three settled.
      if (dialect === 'postgres') await drainCount(t.db, streamStart, 3);
      const first = await readOrdered<EventRow>(t.db as unknown as Kysely<unknown>, dialect, {
        table: 'events',
        after: streamStart,
        limit: 2,
      });
      assert.deepEqual(
        first.map((r) => r.id),
        ['e1', 'e2'],
      );
      const rest = await drain(t.db, dialect, cursorOf(first[1]));
      assert.deepEqual(rest.ids, ['e3']);
    } finally {
      await t.dispose();
    }
  });
}

test(
  'ordered read on PostgreSQL: an event whose transaction commits after a later seq is not skipped',
  {
    skip: !testDialects().includes('postgres') && 'TEST_DATABASE_URL is not set',
  },
  async () => {
    const t = await createTestDatabase('postgres');
    try {
      await insertEvent(t.db, 'before');
      let reader = await drainCount(t.db, streamStart, 1);
      assert.deepEqual(reader.ids, ['before']);

      // Case 1: A takes the smaller seq, B the larger one and commits first.
      const a = await t.db.startTransaction().execute();
      await insertEvent(a, 'a');
      const b = await t.db.startTransaction().execute();
      await insertEvent(b, 'b');
      await b.commit().execute();
      // A plain `seq > cursor` reader sees b now, moves past a's seq and would never read a.
      const naive = await t.db
        .selectFrom('events')
        .select(['id', 'seq'])
        .where('seq', '>', Number(reader.cursor.seq))
        .execute();
      assert.deepEqual(
        naive.map((r) => r.id),
        ['b'],
      );
      // The ordered read waits for a.
      reader = await drain(t.db, 'postgres', reader.cursor);
      assert.deepEqual(reader.ids, [], 'nothing is settled while a is open');
      await a.commit().execute();
      reader = await drainCount(t.db, reader.cursor, 2);
      assert.deepEqual(reader.ids, ['a', 'b']);

      // Case 2: D starts writing first (older transaction id) but takes the larger seq; C commits first.
      const d = await t.db.startTransaction().execute();
      await d
        .insertInto('placement_groups')
        .values({ id: 'pg', project_id: 'p', name: 'n', policy: 'spread', created_at: 'x' })
        .execute();
      const c = await t.db.startTransaction().execute();
      await insertEvent(c, 'c');
      await insertEvent(d, 'd');
      await c.commit().execute();
      reader = await drain(t.db, 'postgres', reader.cursor);
      assert.deepEqual(reader.ids, [], 'c waits for the older d');
      await d.commit().execute();
      reader = await drainCount(t.db, reader.cursor, 2);
      assert.deepEqual(reader.ids, ['d', 'c'], 'ordered by transaction, then seq');

      // A rolled-back transaction leaves nothing behind and holds nothing back once ended.
      const e = await t.db.startTransaction().execute();
      await insertEvent(e, 'rolled-back');
      await insertEvent(t.db, 'f');
      assert.deepEqual((await drain(t.db, 'postgres', reader.cursor)).ids, []);
      await e.rollback().execute();
      reader = await drainCount(t.db, reader.cursor, 1);
      assert.deepEqual(reader.ids, ['f']);
      assert.match(encodeStreamCursor(reader.cursor), /^[0-9]+\.[0-9]+$/);
    } finally {
      await t.dispose();
    }
  },
);
