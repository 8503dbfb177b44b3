import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coalesce } from './coalesce.ts';

test('calls within the window become one batch; each gets its own answer', async () => {
  const batches: string[][] = [];
  const c = coalesce<string, boolean>({
    windowMs: 10,
    maxBatch: 100,
    missing: false,
    run: async (keys) => {
      batches.push(keys);
      return new Map(keys.filter((k) => k !== 'b').map((k) => [k, true]));
    },
  });
  const answers = await Promise.all([c.add('a'), c.add('b'), c.add('a'), c.add('c')]);
  assert.deepEqual(answers, [true, false, true, true]);
  assert.deepEqual(batches, [['a', 'b', 'c']], 'one batch, a key once');
});

test('a batch larger than maxBatch is split', async () => {
  const sizes: number[] = [];
  const c = coalesce<number, number>({
    windowMs: 5,
    maxBatch: 3,
    missing: -1,
    run: async (keys) => {
      sizes.push(keys.length);
      return new Map(keys.map((k) => [k, k * 2]));
    },
  });
  const answers = await Promise.all([1, 2, 3, 4, 5, 6, 7].map((k) => c.add(k)));
  assert.deepEqual(answers, [2, 4, 6, 8, 10, 12, 14]);
  assert.deepEqual(sizes, [3, 3, 1]);
});

test('a failed batch rejects its calls only; the next window works again', async () => {
  let fail = true;
  const c = coalesce<string, boolean>({
    windowMs: 5,
    maxBatch: 10,
    missing: false,
    run: async (keys) => {
      if (fail) throw new Error('database is locked');
      return new Map(keys.map((k) => [k, true]));
    },
  });
  await assert.rejects(Promise.all([c.add('x'), c.add('y')]), /database is locked/);
  fail = false;
  assert.equal(await c.add('x'), true);
});

test('flush() runs the pending batch at once', async () => {
  let runs = 0;
  const c = coalesce<string, boolean>({
    windowMs: 60_000,
    maxBatch: 10,
    missing: false,
    run: async (keys) => {
      runs++;
      return new Map(keys.map((k) => [k, true]));
    },
  });
  const answer = c.add('k');
  await c.flush();
  assert.equal(await answer, true);
  assert.equal(runs, 1);
});
