/**
 * Volumes made from a source against real QEMU (TCG) and the test guest: the guest writes a marker, the
 * disk is snapshotted, the guest overwrites it; a volume made from the snapshot holds the marker of the
 * snapshot (not the later write), LUKS-encrypted under the volume's own key (the file's bytes do not show
 * it). A snapshot that does not exist leaves no volume and no half-made file. With restic, a volume made
 * from a backup of the disk holds the backup's content. Skips when QEMU (or, for the backup case, restic)
 * is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestMarkers } from '../../../images/index.ts';
import type { RepositoryAccess } from '../../../backups/index.ts';
import { createDiskImages } from './disk-images.ts';
import { createQemuDriver } from './qemu-driver.ts';
import { realQemuSkipReason, testImageStore, testSpec } from './real-qemu-support.ts';
import { converse, waitForConsole } from './testdata/conformance-hooks.ts';
import { volumePoolDir } from './volumes.ts';

const hasRestic = (() => {
  try {
    execFileSync('restic', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const skip = await realQemuSkipReason();

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const markerSnapshot = 'VMC-VOLUME-FROM-SNAPSHOT-MARKER';
const markerLater = 'VMC-WRITTEN-AFTER-THE-SNAPSHOT!';
const offset = 100 * MiB;

/** `length` bytes at `offset` of a qcow2 (decrypted with `key`), read through qemu-img. */
async function bytesAt(path: string, dir: string, at: number, length: number, key: string): Promise<string> {
  const raw = join(dir, `read-${randomBytes(4).toString('hex')}.raw`);
  await createDiskImages('qemu-img', dir).convert(path, raw, { format: 'raw', forceShare: true, key });
  const handle = await open(raw, 'r');
  try {
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, at);
    return buffer.toString('latin1');
  } finally {
    await handle.close();
    await rm(raw, { force: true });
  }
}

test(
  'a volume from a disk snapshot holds the snapshot’s bytes, encrypted under its own key; from a backup, the backup’s',
  { skip, timeout: 240_000 },
  async () => {
    const { store, dir: imageDir } = await testImageStore();
    const stateDir = await mkdtemp(join(tmpdir(), 'vmc-vs-'));
    const repoDir = await mkdtemp(join(tmpdir(), 'vmc-vs-repo-'));
    const driver = createQemuDriver({ stateDir, imageStore: store, accel: 'tcg' });
    const serverId = 'srv_volsource';
    const write = async (text: string) => {
      const terminal = await driver.attachConsole(serverId);
      const answer = await converse(
        terminal,
        `printf ${text} | dd of=/dev/vda bs=512 seek=${offset / 512} conv=notrunc 2>/dev/null && sync && echo wrote-$((${text.length}+1))\n`,
        // The shell's answer, not the echo of the command line: the sum is computed by the guest.
        new RegExp(`wrote-${text.length + 1}`),
      );
      terminal.destroy();
      assert.match(answer, new RegExp(`wrote-${text.length + 1}`));
    };
    const key = () => randomBytes(32).toString('base64');
    const pool = volumePoolDir(stateDir);
    try {
      await driver.start(testSpec(serverId), 0);
      await waitForConsole(driver, serverId, guestMarkers.ready, 60_000);
      await write(markerSnapshot);
      await driver.createSnapshot(serverId, 'snap-1');
      await write(markerLater);

      // From the snapshot, the server still running: 2 GiB (more than the 1 GiB disk), its own key.
      const fromSnapshot = 'vol_fromsnapshot';
      const snapshotKey = key();
      driver.learnVolumeKeys([{ volumeId: fromSnapshot, key: snapshotKey }]);
      await driver.createVolume(fromSnapshot, 2, { kind: 'snapshot', serverId, snapshot: 'snap-1' });
      const listed = (await driver.listVolumes()).find((v) => v.volumeId === fromSnapshot);
      assert.deepEqual(listed, { volumeId: fromSnapshot, sizeGiB: 2, serverId: null });
      assert.equal(await driver.volumeEncrypted(fromSnapshot), true);
      const file = join(pool, `${fromSnapshot}.qcow2`);
      const info = await createDiskImages('qemu-img', stateDir).info(file, { format: 'qcow2', forceShare: true });
      assert.equal(info['virtual-size'], 2 * GiB);
      assert.equal(await bytesAt(file, stateDir, offset, markerSnapshot.length, snapshotKey), markerSnapshot);
      assert.ok(!(await readFile(file)).includes(markerSnapshot), 'the file’s bytes are encrypted');
      await assert.rejects(
        bytesAt(file, stateDir, offset, markerSnapshot.length, key()),
        /failed/,
        'another key does not open it',
      );

      // A snapshot that is not there: no volume, nothing half-made left in the pool.
      const missing = 'vol_nosnapshot';
      driver.learnVolumeKeys([{ volumeId: missing, key: key() }]);
      await assert.rejects(
        driver.createVolume(missing, 1, { kind: 'snapshot', serverId, snapshot: 'no-such' }),
        (error: Error & { reason?: string }) => error.reason === 'snapshot_not_found',
      );
      assert.ok(!(await driver.listVolumes()).some((v) => v.volumeId === missing));
      assert.deepEqual(
        (await readdir(pool)).filter((name) => name.startsWith(missing)),
        [],
        'no file of it in the pool',
      );

      if (hasRestic) {
        // From a backup of the disk (taken after the later write): the backup's content.
        const repository: RepositoryAccess = { region: 'fra1', url: join(repoDir, 'fra1'), password: 'repo-secret' };
        const backup = await driver.backupDisk(serverId, {
          backupId: 'bkp_volsource',
          parentSnapshot: null,
          local: repository,
          remote: null,
        });
        const fromBackup = 'vol_frombackup';
        const backupKey = key();
        driver.learnVolumeKeys([{ volumeId: fromBackup, key: backupKey }]);
        const noRepository = 'vol_norepository';
        driver.learnVolumeKeys([{ volumeId: noRepository, key: key() }]);
        await assert.rejects(
          driver.createVolume(noRepository, 1, {
            kind: 'backup',
            backupId: 'bkp_volsource',
            snapshot: backup.localSnapshot,
          }),
          (error: Error & { reason?: string }) => error.reason === 'backup_repository_missing',
        );
        assert.ok(!(await driver.listVolumes()).some((v) => v.volumeId === noRepository));
        await driver.createVolume(fromBackup, 1, {
          kind: 'backup',
          backupId: 'bkp_volsource',
          snapshot: backup.localSnapshot,
          repository,
        });
        const backupFile = join(pool, `${fromBackup}.qcow2`);
        assert.equal(await bytesAt(backupFile, stateDir, offset, markerLater.length, backupKey), markerLater);
        assert.equal(await driver.volumeEncrypted(fromBackup), true);
        assert.ok(!(await readFile(backupFile)).includes(markerLater), 'the file’s bytes are encrypted');
      }
    } finally {
      await driver.destroy(serverId).catch(() => {});
      await driver.close();
      await rm(stateDir, { recursive: true, force: true });
      await rm(repoDir, { recursive: true, force: true });
      await rm(imageDir, { recursive: true, force: true });
    }
  },
);
