import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEventBus, createManualClock } from '../core/index.ts';
import { createTestDatabase, testDialects } from '../db/test-helpers.ts';
import { inTransaction } from '../db/index.ts';
import { sql } from 'kysely';
import { createEventRecorder } from './record.ts';
import { listEvents } from './query.ts';

for (const dialect of testDialects()) {
  test(`listEvents: pages in order with an integer cursor, filters by project and type (${dialect})`, async () => {
    const t = await createTestDatabase(dialect);
    try {
      const recorder = createEventRecorder({ bus: createEventBus(), clock: createManualClock() });
      await inTransaction(t.db, async (tx, hooks) => {
        await recorder.record(tx, hooks, {
          type: 'token.created',
          projectId: 'prj_a',
          resourceType: 'token',
          resourceId: 'tok_1',
          data: { kind: 'project', role: 'owner', name: 'ci' },
        });
        await recorder.record(tx, hooks, {
          type: 'token.revoked',
          projectId: 'prj_b',
          resourceType: 'token',
          resourceId: 'tok_2',
          data: { kind: 'project' },
        });
        await recorder.record(tx, hooks, {
          type: 'token.revoked',
          projectId: 'prj_a',
          resourceType: 'token',
          resourceId: 'tok_1',
          data: { kind: 'project' },
        });
      });
      const first = await listEvents(t.db, { projectId: null, after: 0, limit: 2 });
      assert.deepEqual(
        first.events.map((e) => e.resource.id),
        ['tok_1', 'tok_2'],
      );
      assert.deepEqual(first.events[0].data, { kind: 'project', role: 'owner', name: 'ci' });
      assert.equal(first.last, first.events[1].seq, 'last is the seq of the last event (an integer, as before)');
      const rest = await listEvents(t.db, { projectId: null, after: first.last, limit: 10 });
      assert.deepEqual(
        rest.events.map((e) => e.type),
        ['token.revoked'],
      );
      const empty = await listEvents(t.db, { projectId: null, after: rest.last, limit: 10 });
      assert.deepEqual(empty, { events: [], last: rest.last });
      const mine = await listEvents(t.db, { projectId: 'prj_a', after: '0', limit: 10, types: ['token.revoked'] });
      assert.deepEqual(
        mine.events.map((e) => `${e.project_id} ${e.type}`),
        ['prj_a token.revoked'],
      );
      await assert.rejects(listEvents(t.db, { projectId: null, after: 'x', limit: 10 }), /after must be/);
      await assert.rejects(listEvents(t.db, { projectId: null, after: 0, limit: 0 }), /limit must be/);
    } finally {
      await t.dispose();
    }
  });
}

for (const dialect of testDialects()) {
  test(`listEvents by resource: only that resource's events, in order, paged; served by events_by_resource (${dialect})`, async () => {
    const t = await createTestDatabase(dialect);
    try {
      const recorder = createEventRecorder({ bus: createEventBus(), clock: createManualClock() });
      // 40 resources in two projects, their events interleaved: 400 events.
      await inTransaction(t.db, async (tx, hooks) => {
        for (let round = 0; round < 10; round++)
          for (let r = 0; r < 40; r++)
            await recorder.record(tx, hooks, {
              type: round % 2 === 0 ? 'token.created' : 'token.revoked',
              projectId: r % 2 === 0 ? 'prj_a' : 'prj_b',
              resourceType: 'token',
              resourceId: `tok_${r}`,
              data: round % 2 === 0 ? { kind: 'project', role: 'owner', name: `r${round}` } : { kind: 'project' },
            } as never);
      });
      // On PostgreSQL an event is readable once every older transaction of the cluster has ended.
      for (const deadline = Date.now() + 20_000; ;) {
        const seen = await listEvents(t.db, { projectId: null, after: 0, limit: 1000 });
        if (seen.events.length === 400) break;
        if (Date.now() > deadline) assert.fail(`only ${seen.events.length} of 400 events readable`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const all: number[] = [];
      let after = 0;
      for (let page = 0; page < 10; page++) {
        const answer = await listEvents(t.db, { projectId: 'prj_a', after, limit: 3, resourceId: 'tok_4' });
        if (answer.events.length === 0) break;
        assert.ok(answer.events.every((e) => e.resource.id === 'tok_4' && e.project_id === 'prj_a'));
        all.push(...answer.events.map((e) => e.seq));
        after = answer.last;
      }
      assert.equal(all.length, 10, 'the ten events of tok_4, over four pages of three');
      assert.deepEqual(
        all,
        [...all].sort((a, b) => a - b),
        'in stream order',
      );
      assert.equal(new Set(all).size, 10, 'no event twice across pages');
      const otherProject = await listEvents(t.db, { projectId: 'prj_b', after: 0, limit: 100, resourceId: 'tok_4' });
      assert.deepEqual(otherProject.events, [], 'another project sees none of the resource’s events');
      const typed = await listEvents(t.db, {
        projectId: null,
        after: 0,
        limit: 100,
        resourceId: 'tok_5',
        resourceType: 'token',
        types: ['token.revoked'],
      });
      assert.equal(typed.events.length, 5);
      const wrongType = await listEvents(t.db, {
        projectId: null,
        after: 0,
        limit: 100,
        resourceId: 'tok_5',
        resourceType: 'server',
      });
      assert.equal(wrongType.events.length, 0);

      // The query plan of the read listEvents makes (src/events/ordered-read.ts) seeks the resource's index.
      const plan =
        dialect === 'sqlite'
          ? await sql<{ detail: string }>`explain query plan select * from events where project_id = ${'prj_a'}
              and resource_id = ${'tok_4'} and seq > ${0} order by tx_id, seq limit ${100}`.execute(t.db)
          : await (async () => {
              await sql`analyze events`.execute(t.db);
              return sql<{ 'QUERY PLAN': string }>`explain select * from events where project_id = ${'prj_a'}
                and resource_id = ${'tok_4'} and tx_id < pg_snapshot_xmin(pg_current_snapshot())
                and (tx_id, seq) > (${'0'}::xid8, ${0}) order by tx_id, seq limit ${100}`.execute(t.db);
            })();
      const text = plan.rows.map((row) => Object.values(row).join(' ')).join('\n');
      assert.match(text, /events_by_resource/, text);
      assert.doesNotMatch(text, /SCAN events\b(?! USING)|Seq Scan/, text);
    } finally {
      await t.dispose();
    }
  });
}
