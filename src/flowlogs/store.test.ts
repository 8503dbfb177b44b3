/**
 * The flow-log store on both dialects: records round-trip exactly through the ingest path (COPY … FROM STDIN
 * on PostgreSQL, multi-row INSERT on SQLite) — text needing COPY's escapes, null rules, 64-bit counters,
 * several days in one call — inside the caller's transaction (a failed batch leaves nothing behind), and
 * cursor order by (start, seq) holds across many records of one instant.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, testDialects, type TestDatabase } from '../db/test-helpers.ts';
import { createFlowLogStore, type FlowInput } from './index.ts';

const day = Date.UTC(2026, 10, 30);
const flow = (i: number, over: Partial<FlowInput> = {}): FlowInput => ({
  serverId: 'srv_a',
  projectId: 'prj_a',
  direction: i % 2 ? 'in' : 'out',
  srcAddr: `10.0.0.${i % 250}`,
  dstAddr: '2001:db8::7',
  srcPort: 1024 + i,
  dstPort: 443,
  protocol: 6,
  packets: 10 + i,
  bytes: 2 ** 40 + i,
  startMs: day + 1000,
  endMs: day + 2000 + i,
  action: i % 3 ? 'accept' : 'drop',
  rule: i % 3 ? null : `rule-${i}`,
  ...over,
});

for (const dialect of testDialects()) {
  describe(`flow-log store (${dialect})`, () => {
    let t: TestDatabase;
    before(async () => {
      t = await createTestDatabase(dialect);
    });
    after(async () => t?.dispose());

    test('records round-trip exactly, escapes included, in (start, seq) order', async () => {
      const store = createFlowLogStore({ db: t.db, dialect });
      const odd = 'tab\there, back\\slash, new\nline, cr\r, \\N and quote\'"';
      const input = [
        ...Array.from({ length: 2500 }, (_, i) => flow(i)),
        flow(9999, { rule: odd, srcAddr: 'a\tb' }),
        flow(10_000, { startMs: day + 86_400_000 + 5, endMs: day + 86_400_000 + 9 }),
      ];
      await store.insert(input, new Date(day).toISOString());
      assert.deepEqual(await store.days(), ['2026-11-30', '2026-12-01']);
      const rows = await store.query({
        projectId: 'prj_a',
        serverIds: ['srv_a'],
        fromMs: day,
        toMs: day + 2 * 86_400_000,
        limit: 5000,
      });
      assert.equal(rows.length, input.length);
      // Same start for the first 2 501: seq (insertion order) breaks the tie.
      const seqs = rows.slice(0, 2501).map((r) => r.seq);
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
      );
      assert.equal(new Set(seqs).size, seqs.length); // unique within a day's table
      assert.deepEqual(
        rows.map(({ seq: _seq, ...rest }) => rest),
        input,
      );
      const after = await store.query({
        projectId: 'prj_a',
        serverIds: ['srv_a'],
        fromMs: day,
        toMs: day + 86_400_000,
        after: { startMs: rows[9].startMs, seq: rows[9].seq },
        limit: 3,
      });
      assert.deepEqual(after, rows.slice(10, 13));
    });

    test('a batch that fails writes nothing', async () => {
      const store = createFlowLogStore({ db: t.db, dialect });
      const before = await store.query({
        projectId: 'prj_b',
        serverIds: ['srv_b'],
        fromMs: day,
        toMs: day + 86_400_000,
        limit: 10,
      });
      assert.equal(before.length, 0);
      const good = Array.from({ length: 1500 }, (_, i) => flow(i, { serverId: 'srv_b', projectId: 'prj_b' }));
      const bad = flow(1, { serverId: 'srv_b', projectId: 'prj_b', packets: null as never });
      await assert.rejects(store.insert([...good, bad], new Date(day).toISOString()));
      const rows = await store.query({
        projectId: 'prj_b',
        serverIds: ['srv_b'],
        fromMs: day,
        toMs: day + 86_400_000,
        limit: 10,
      });
      assert.equal(rows.length, 0);
    });
  });
}
