/**
 * Incremental-forever backups against real QEMU (TCG), the test guest and Debian's restic: a full backup,
 * a guest write, an incremental that reads a few chunks instead of the disk, a copy in a second
 * ("remote") repository, and restores of each backup into another instance, proven by the disk's bytes.
 * Skips when QEMU, the guest kernel, busybox or restic are missing.
 */
import { createDiskImages } from './disk-images.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestMarkers } from '../../../images/index.ts';
import type { RepositoryAccess } from '../../../backups/index.ts';
import { instancePaths } from './instance-paths.ts';
import { createQemuDriver } from './qemu-driver.ts';
import { realQemuSkipReason, testImageStore, testSpec } from './real-qemu-support.ts';
import { converse, waitForConsole } from './testdata/conformance-hooks.ts';
import { chunkBytes } from './backup.ts';

const hasRestic = (() => {
  try {
    execFileSync('restic', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const skip =
  (await realQemuSkipReason()) || (hasRestic ? false : 'restic is missing (apt-get install restic): skipped');

const MiB = 1024 * 1024;
const markerOne = 'VMC-BACKUP-MARKER-ONE';
const markerTwo = 'VMC-BACKUP-MARKER-TWO';
const offsetOne = 100 * MiB;
const offsetTwo = 300 * MiB;

/**
 * Reads `length` bytes at `offset` of an instance's disk (through qcow2, its encryption and its base) with
 * qemu-img: a restored disk is encrypted under the server's key again.
 */
async function diskBytesAt(
  diskPath: string,
  dir: string,
  offset: number,
  length: number,
  key: string | null,
): Promise<string> {
  const raw = join(dir, `read-${Date.now()}.raw`);
  await createDiskImages('qemu-img', dir).convert(diskPath, raw, { format: 'raw', forceShare: true, key });
  const handle = await open(raw, 'r');
  try {
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, offset);
    return buffer.toString('latin1');
  } finally {
    await handle.close();
    await rm(raw, { force: true });
  }
}

test(
  'backup full → guest writes → incremental reads only dirty chunks → remote copy → restore each into another instance',
  { skip, timeout: 240_000 },
  async () => {
    const { store, dir: imageDir } = await testImageStore();
    const stateDir = await mkdtemp(join(tmpdir(), 'vmc-qb-'));
    const repoDir = await mkdtemp(join(tmpdir(), 'vmc-repo-'));
    const local: RepositoryAccess = { region: 'fra1', url: join(repoDir, 'fra1'), password: 'local-secret' };
    const remote: RepositoryAccess = { region: 'ams1', url: join(repoDir, 'ams1'), password: 'remote-secret' };
    const driver = createQemuDriver({ stateDir, imageStore: store, accel: 'tcg' });
    const source = 'srv_backupsrc';
    const target = 'srv_backupdst';
    const write = async (text: string, offset: number) => {
      const terminal = await driver.attachConsole(source);
      const answer = await converse(
        terminal,
        `printf ${text} | dd of=/dev/vda bs=512 seek=${offset / 512} conv=notrunc 2>/dev/null && sync && echo wrote-$((${offset}/512))\n`,
        new RegExp(`wrote-${offset / 512}`),
      );
      terminal.destroy();
      assert.match(answer, new RegExp(`wrote-${offset / 512}`));
    };
    try {
      await driver.start(testSpec(source), 0);
      await waitForConsole(driver, source, guestMarkers.ready, 60_000);
      await write(markerOne, offsetOne);

      const first = await driver.backupDisk(source, { backupId: 'bkp_one', parentSnapshot: null, local, remote: null });
      assert.equal(first.kind, 'full');
      assert.equal(first.consistency, 'crash', 'the test guest runs no guest agent: crash-consistent');
      // Chunks of zeros have no file: the staging directory holds the chunks with data and the manifest.
      const stagingFiles = await readdir(join(stateDir, 'backup-staging', source, 'disk'));
      assert.ok(stagingFiles.includes('disk.json'));
      assert.ok(
        stagingFiles.length < first.diskBytes / chunkBytes / 4,
        `${stagingFiles.length} chunk files for a mostly empty disk`,
      );
      assert.equal(first.diskBytes, 1024 * MiB);
      assert.ok(first.readBytes >= first.diskBytes, `a full backup reads the disk (${first.readBytes})`);
      assert.ok(first.storedBytes < first.diskBytes / 2, `the repository compresses and dedups (${first.storedBytes})`);

      await write(markerTwo, offsetTwo);
      const second = await driver.backupDisk(source, {
        backupId: 'bkp_two',
        parentSnapshot: first.localSnapshot,
        local,
        remote,
      });
      assert.equal(second.kind, 'incremental');
      assert.ok(
        second.readBytes <= 16 * chunkBytes && second.readBytes < second.diskBytes / 16,
        `the incremental read ${second.readBytes} bytes of a ${second.diskBytes}-byte disk`,
      );
      assert.ok(second.readBytes >= chunkBytes, 'it read at least the chunk the guest wrote');
      assert.ok(second.remoteSnapshot, 'a copy went to the remote repository');

      // A second instance gets each backup's disk: the first has marker one only; the remote copy of the second has both.
      const targetSpec = testSpec(target, { hostname: 'restored' });
      await driver.start(targetSpec, 0);
      const targetKey = targetSpec.diskKey ?? null;
      const targetDisk = instancePaths(stateDir, target).disk;
      await driver.restoreDisk(target, { restoreId: 'rst_one', snapshot: first.localSnapshot, repository: local });
      assert.equal(await diskBytesAt(targetDisk, stateDir, offsetOne, markerOne.length, targetKey), markerOne);
      assert.notEqual(await diskBytesAt(targetDisk, stateDir, offsetTwo, markerTwo.length, targetKey), markerTwo);
      assert.equal(
        (await driver.list()).find((i) => i.serverId === target)?.power,
        'stopped',
        'restore stops the instance',
      );

      await driver.restoreDisk(target, { restoreId: 'rst_two', snapshot: second.remoteSnapshot!, repository: remote });
      assert.equal(await diskBytesAt(targetDisk, stateDir, offsetOne, markerOne.length, targetKey), markerOne);
      assert.equal(await diskBytesAt(targetDisk, stateDir, offsetTwo, markerTwo.length, targetKey), markerTwo);

      // The restored disk boots (under the same key: it was encrypted again with it).
      await driver.start(targetSpec, 0);
      await waitForConsole(driver, target, guestMarkers.ready, 60_000);
    } finally {
      await driver.destroy(source).catch(() => {});
      await driver.destroy(target).catch(() => {});
      await driver.close();
      await rm(stateDir, { recursive: true, force: true });
      await rm(repoDir, { recursive: true, force: true });
      await rm(imageDir, { recursive: true, force: true });
    }
  },
);
