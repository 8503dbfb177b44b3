import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFifoLock } from './fifo-lock.ts';

test('one holder at a time, in arrival order', async () => {
  const lock = createFifoLock();
  const order: number[] = [];
  let holders = 0;
  await Promise.all(
    Array.from({ length: 50 }, async (_, i) => {
      await lock.acquire();
      holders++;
      assert.equal(holders, 1, 'never two holders');
      order.push(i);
      await new Promise((resolve) => setImmediate(resolve));
      holders--;
      lock.release();
    }),
  );
  assert.deepEqual(
    order,
    Array.from({ length: 50 }, (_, i) => i),
  );
  assert.equal(lock.waiting, 0);
});

test('free again once the queue drains, across the compaction of a long queue', async () => {
  const lock = createFifoLock();
  await lock.acquire();
  const done: number[] = [];
  const waiters = Array.from({ length: 3000 }, (_, i) =>
    lock.acquire().then(() => {
      done.push(i);
      lock.release();
    }),
  );
  assert.equal(lock.waiting, 3000);
  lock.release();
  await Promise.all(waiters);
  assert.equal(done.length, 3000);
  assert.ok(
    done.every((value, index) => value === index),
    'in order',
  );
  // Free: acquire resolves at once.
  let acquired = false;
  void lock.acquire().then(() => (acquired = true));
  await Promise.resolve();
  assert.equal(acquired, true);
});
