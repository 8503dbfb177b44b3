/**
 * Encrypted disks against real QEMU (TCG) and the test guest: the guest writes a marker on its disk; the
 * bytes of disk.qcow2 on the host do not contain it (LUKS, AES-256-XTS) while a decrypted export does; an
 * encrypted export needs its own key; the key is in no argv, no log line, no file left behind. Then the
 * lifecycle on the same disk: a bigger product grows the disk at the next start, and a reboot with a newer
 * disk generation rebuilds it from the image (the marker is gone). Skips when QEMU or the guest is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../core/log.ts';
import { guestMarkers } from '../../../images/index.ts';
import { instancePaths } from './instance-paths.ts';
import { createQemuDriver, type QemuDriver } from './qemu-driver.ts';
import { realQemuSkipReason, testImageStore, testSpec, waitFor } from './real-qemu-support.ts';
import { waitForConsole } from './testdata/conformance-hooks.ts';

const skip = await realQemuSkipReason();
const bootTimeoutMs = 60_000;
const MiB = 1024 * 1024;

const powerOf = async (driver: QemuDriver, serverId: string) =>
  (await driver.list()).find((instance) => instance.serverId === serverId)?.power ?? null;

/** The marker as the guest writes it: assembled at run time, so the user-data script does not contain it. */
function markerScript(marker: string): { script: string; text: string } {
  const half = marker.length / 2;
  const [a, b] = [marker.slice(0, half), marker.slice(half)];
  // 64 KiB of the marker repeated at 1 MiB into /dev/vda: whole clusters written through the overlay.
  const script = [
    '#!/bin/sh',
    `m="${a}""${b}"`,
    'i=0; : > /tmp/block',
    'while [ $i -lt 2048 ]; do printf "%s" "$m" >> /tmp/block; i=$((i+1)); done',
    'dd if=/tmp/block of=/dev/vda bs=65536 seek=16 conv=notrunc 2>/dev/null; sync',
    'echo "marker-""written"',
  ].join('\n');
  return { script: `${script}\n`, text: marker };
}

const qemuImgJson = (args: string[]) =>
  JSON.parse(execFileSync('qemu-img', [...args, '--output=json'], { encoding: 'utf8' })) as Record<string, unknown>;

test(
  'encrypted disk: the host file hides what the guest wrote, exports show it, keys leak nowhere; grow and rebuild',
  { skip, timeout: 300_000 },
  async () => {
    const { store, dir: imageDir } = await testImageStore();
    const stateDir = await mkdtemp(join(tmpdir(), 'vmc-enc-'));
    const secretsDir = join(stateDir, 'secrets');
    const logLines: string[] = [];
    const log = createLogger({
      level: 'debug',
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          logLines.push(chunk.toString());
          done();
        },
      }),
    });
    const driver = createQemuDriver({ stateDir, imageStore: store, accel: 'tcg', log, secretsDir });
    const serverId = 'srv_encrypted';
    const marker = `VMC-MARKER-${randomBytes(12).toString('hex')}`;
    const { script } = markerScript(marker);
    const spec = testSpec(serverId, { hostname: 'enc-1', userData: script });
    const key = spec.diskKey!;
    const paths = instancePaths(stateDir, serverId);
    try {
      await driver.start(spec, 0);
      const pid = await driver.processId(serverId);
      assert.ok(pid);
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
      assert.match(cmdline, /secret,id=vmc-disk-key,file=/, 'QEMU reads the key from a file');
      assert.match(cmdline, /"encrypt":\{"format":"luks","key-secret":"vmc-disk-key"\}/);
      assert.ok(!cmdline.includes(key), 'the key is not in the QEMU command line');
      assert.deepEqual(await readdir(secretsDir), [], 'the key file is deleted once QEMU started');
      assert.ok(!(await readFile(paths.specFile, 'utf8')).includes(key), 'spec.json has no key');

      await waitForConsole(driver, serverId, 'marker-written', bootTimeoutMs);
      await waitForConsole(driver, serverId, guestMarkers.ready, bootTimeoutMs);
      await driver.stop(serverId, { gracefulTimeoutMs: 20_000 });
      assert.equal(await powerOf(driver, serverId), 'stopped');

      const info = qemuImgJson(['info', '-f', 'qcow2', paths.disk]);
      const encrypt = (info['format-specific'] as { data: { encrypt: Record<string, string> } }).data.encrypt;
      assert.deepEqual(
        [info.encrypted, encrypt.format, encrypt['cipher-alg'], encrypt['cipher-mode']],
        [true, 'luks', 'aes-256', 'xts'],
      );
      const hostBytes = await readFile(paths.disk);
      assert.ok(hostBytes.length > 64 * 1024, 'the guest wrote into the overlay');
      assert.equal(hostBytes.indexOf(marker), -1, 'the host disk file does not contain what the guest wrote');

      // Export, decrypted (the default): the marker is there.
      const plainExport = join(stateDir, 'plain.qcow2');
      const plain = await driver.exportDisk(serverId, plainExport);
      assert.equal(plain.encrypted, false);
      const plainRaw = join(stateDir, 'plain.raw');
      execFileSync('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', plainExport, plainRaw]);
      const rawBytes = await readFile(plainRaw);
      assert.equal(rawBytes.subarray(MiB, MiB + marker.length).toString('latin1'), marker, 'the export holds it');
      await rm(plainRaw);

      // Export kept encrypted under a key of its own (handed to the owner once): opens with it only.
      const exportKey = randomBytes(32).toString('base64');
      const sealedExport = join(stateDir, 'sealed.qcow2');
      const sealed = await driver.exportDisk(serverId, sealedExport, { encryptionKey: exportKey });
      assert.equal(sealed.encrypted, true);
      assert.equal((await readFile(sealedExport)).indexOf(marker), -1, 'an encrypted export hides the marker');
      const keyFile = join(stateDir, 'export.key');
      await writeFile(keyFile, exportKey, { mode: 0o600 });
      const openedRaw = join(stateDir, 'opened.raw');
      execFileSync('qemu-img', [
        'convert',
        '--object',
        `secret,id=k,file=${keyFile}`,
        '--image-opts',
        `driver=qcow2,file.filename=${sealedExport},encrypt.key-secret=k`,
        '-O',
        'raw',
        openedRaw,
      ]);
      const opened = await readFile(openedRaw);
      assert.equal(opened.subarray(MiB, MiB + marker.length).toString('latin1'), marker);
      await rm(openedRaw);
      assert.throws(
        () =>
          execFileSync('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', sealedExport, openedRaw], { stdio: 'pipe' }),
        'without the key the encrypted export does not open',
      );

      // Resize to a bigger product while stopped: the disk grows at the next start.
      const bigger = { ...spec, diskGiB: 2, userData: null };
      await driver.start(bigger, 0);
      await waitFor('the grown guest', async () => (await powerOf(driver, serverId)) === 'running', bootTimeoutMs);
      assert.equal(qemuImgJson(['info', '-U', '-f', 'qcow2', paths.disk])['virtual-size'], 2 * 1024 ** 3);

      // Rebuild: a reboot carrying a newer disk generation recreates the disk from the image, encrypted.
      await driver.reboot(serverId, 1, { ...bigger, diskGeneration: 1 });
      assert.equal(await powerOf(driver, serverId), 'running');
      await driver.stop(serverId, { gracefulTimeoutMs: 0 });
      const rebuiltExport = join(stateDir, 'rebuilt.raw');
      await driver.exportDisk(serverId, rebuiltExport, { format: 'raw' });
      const handle = await open(rebuiltExport, 'r');
      try {
        const at1MiB = Buffer.alloc(marker.length);
        await handle.read(at1MiB, 0, marker.length, MiB);
        assert.notEqual(at1MiB.toString('latin1'), marker, 'the rebuilt disk is new');
        assert.equal((await handle.stat()).size, 2 * 1024 ** 3, 'a rebuild keeps the grown size');
      } finally {
        await handle.close();
      }
      assert.equal(qemuImgJson(['info', '-f', 'qcow2', paths.disk]).encrypted, true);
      await rm(rebuiltExport);

      const everything = logLines.join('');
      assert.ok(everything.includes('instance disk created'), 'the driver did log');
      assert.ok(!everything.includes(key), 'the key is in no log line');
      assert.ok(!everything.includes(exportKey), 'nor the export key');
    } finally {
      await driver.destroy(serverId).catch(() => {});
      await driver.close();
      await rm(stateDir, { recursive: true, force: true });
      await rm(imageDir, { recursive: true, force: true });
    }
  },
);
