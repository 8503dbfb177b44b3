import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEventBus, createManualClock } from '../core/index.ts';
import { createTestDatabase, testDialects } from '../db/test-helpers.ts';
import { inTransaction } from '../db/index.ts';
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
