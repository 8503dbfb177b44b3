/** The repository guard: a prune waits for the jobs using its region and holds back new ones; when prunes are due. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRepositoryGuard } from './repository-guard.ts';

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};
const tick = () => new Promise((resolve) => setImmediate(resolve));

test('a prune waits for the jobs in its region, jobs arriving meanwhile wait for the prune; other regions run', async () => {
  const guard = createRepositoryGuard({ nowMs: () => 0, pruneIntervalMs: 1000 });
  const order: string[] = [];
  const backup = deferred();
  const running = guard.use(['fra1', 'ams1'], async () => {
    order.push('backup start');
    await backup.promise;
    order.push('backup end');
  });
  const prune = guard.exclusive('ams1', async () => {
    order.push('prune');
  });
  await tick();
  const later = guard.use(['ams1'], async () => order.push('restore'));
  const elsewhere = guard.use(['par1'], async () => order.push('other region'));
  await elsewhere;
  assert.deepEqual(order, ['backup start', 'other region'], 'the prune waits for the backup');
  backup.resolve();
  await Promise.all([running, prune, later]);
  assert.deepEqual(order, ['backup start', 'other region', 'backup end', 'prune', 'restore']);
});

test('due prunes: only regions with forgotten snapshots, at most once per interval; a failed prune is retried after it', async () => {
  let now = 10_000;
  const guard = createRepositoryGuard({ nowMs: () => now, pruneIntervalMs: 1000 });
  assert.deepEqual(guard.duePrunes(), []);
  guard.forgotten('fra1');
  guard.forgotten('ams1');
  assert.deepEqual(guard.duePrunes().sort(), ['ams1', 'fra1']);
  await guard.exclusive('fra1', async () => {});
  await assert.rejects(
    guard.exclusive('ams1', async () => {
      throw new Error('locked');
    }),
  );
  guard.forgotten('fra1');
  assert.deepEqual(guard.duePrunes(), [], 'both were attempted just now');
  now += 1000;
  assert.deepEqual(guard.duePrunes().sort(), ['ams1', 'fra1']);
});
