/**
 * The restic repository wrapper against Debian's restic on a local directory: forgotten snapshots free
 * their data only at `prune` (measured on the repository's size), `verifySnapshot` re-reads one snapshot
 * and tells a damaged pack.
 * Skips when restic is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, readdir, rm, stat, writeFile, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRestic } from './restic.ts';

const hasRestic = (() => {
  try {
    execFileSync('restic', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  return total;
}

test(
  'forget + prune frees the data of forgotten snapshots; verifySnapshot reads one snapshot and finds a damaged pack',
  { skip: hasRestic ? undefined : 'restic is missing (apt-get install restic)', timeout: 120_000 },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vmc-restic-'));
    try {
      const repo = createRestic(
        { region: 'fra1', url: join(dir, 'repo'), password: 'pw-not-in-argv' },
        { cacheDir: join(dir, 'cache') },
      );
      await repo.ensure();
      await repo.ensure(); // idempotent
      const data = join(dir, 'data');
      await mkdir(data);
      // Two generations of 8 MiB of incompressible data: the second replaces the first entirely.
      await writeFile(join(data, 'blob'), randomBytes(8 * 1024 * 1024));
      const first = await repo.backup(data, { host: 'srv_a', tags: ['bkp_1'], parent: null });
      await writeFile(join(data, 'blob'), randomBytes(8 * 1024 * 1024));
      const second = await repo.backup(data, { host: 'srv_a', tags: ['bkp_2'], parent: first.snapshotId });
      const withBoth = await sizeOf(join(dir, 'repo', 'data'));
      assert.ok(withBoth > 16 * 1024 * 1024, `both generations stored (${withBoth})`);

      assert.equal(await repo.verifySnapshot(first.snapshotId), true);
      await repo.forget([first.snapshotId]);
      const left = await repo.snapshots();
      assert.equal(left.length, 1);
      assert.ok(left[0].id.startsWith(second.snapshotId), 'the second snapshot is left');
      assert.ok((await sizeOf(join(dir, 'repo', 'data'))) >= withBoth, 'forget alone frees nothing');
      await repo.prune();
      const pruned = await sizeOf(join(dir, 'repo', 'data'));
      assert.ok(pruned < withBoth * 0.6, `prune freed the first generation (${withBoth} → ${pruned})`);
      assert.equal(await repo.verifySnapshot(second.snapshotId), true);
      assert.equal(await repo.verifySnapshot('0123456789abcdef'), false, 'an unknown snapshot');

      // Damage every data pack in its middle: the snapshot no longer verifies.
      for (const entry of await readdir(join(dir, 'repo', 'data'), { withFileTypes: true, recursive: true })) {
        if (!entry.isFile()) continue;
        const file = await open(join(entry.parentPath, entry.name), 'r+');
        const { size } = await file.stat();
        await file.write(Buffer.from('damaged!'), 0, 8, Math.floor(size / 2));
        await file.close();
      }
      assert.equal(await repo.verifySnapshot(second.snapshotId), false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);
