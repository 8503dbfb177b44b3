/**
 * The driver conformance suite on the QEMU driver with real QEMU (TCG) and the test guest. Skips with the
 * reason when QEMU, the cloud kernel or busybox is missing. Each case boots the guest once or twice
 * (≈3–5 s per boot on 2 cores).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../../../core/log.ts';
import { guestMarkers } from '../../../images/index.ts';
import type { ImageStore } from '../../../images/index.ts';
import { runDriverConformance } from '../conformance.ts';
import { createQemuDriver } from './qemu-driver.ts';
import { qemuDiskOf, realQemuSkipReason, testImageStore, testSpec } from './real-qemu-support.ts';
import { realGuestHooks, waitForConsole } from './testdata/conformance-hooks.ts';
import { volumePoolDir, volumeQemuNames } from './volumes.ts';

const skip = await realQemuSkipReason();
const bootTimeoutMs = 45_000;
let images: { store: ImageStore; dir: string } | null = null;

runDriverConformance(
  'qemu (real QEMU, test guest)',
  (stateDir) => createQemuDriver({ stateDir, imageStore: images!.store, accel: 'tcg' }),
  {
    skip,
    spec: (serverId) => testSpec(serverId),
    disk: (_driver, serverId, stateDir) => qemuDiskOf(stateDir, serverId),
    missingImage: 'no-such-image',
    ...realGuestHooks(bootTimeoutMs),
    before: async () => {
      images = await testImageStore();
    },
    after: async () => {
      if (images) await rm(images.dir, { recursive: true, force: true });
    },
    caseTimeoutMs: 120_000,
    guestVolumes: (driver, serverId) => driver.pluggedVolumes(serverId),
  },
);

/**
 * An encrypted volume against real QEMU and the test guest: hot-plugged, the guest writes a marker on it; the
 * bytes of the volume file on the host do not contain it (a decryption with the volume's key does); grown
 * online (`block_resize`) and offline (`qemu-img resize --object secret`); re-attached, the guest reads the
 * marker back. The key is in no argv, no log line, no file left behind.
 */
test(
  'encrypted volume: the host file hides what the guest wrote; the guest reads it back after detach/attach',
  {
    skip,
    timeout: 300_000,
  },
  async () => {
    const own = await testImageStore();
    const stateDir = await mkdtemp(join(tmpdir(), 'vmc-volenc-'));
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
    const driver = createQemuDriver({ stateDir, imageStore: own.store, accel: 'tcg', log, secretsDir });
    const serverId = 'srv_volenc';
    const volumeId = 'vol_volenc00000000000000000001';
    const serial = volumeQemuNames(volumeId).serial;
    const volumeKey = randomBytes(32).toString('base64');
    const marker = `VMC-VOLMARK-${randomBytes(12).toString('hex')}`;
    const [a, b] = [marker.slice(0, marker.length / 2), marker.slice(marker.length / 2)];
    // In the background (the boot goes on): wait for the volume by its serial, write 64 KiB of the marker at
    // 1 MiB, wait until it is unplugged and plugged again, read it back. The marker is assembled at run time.
    const script = [
      '#!/bin/sh',
      '(',
      `m="${a}""${b}"`,
      `dev() { for s in /sys/block/vd*; do [ "$(cat "$s/serial" 2>/dev/null)" = "${serial}" ] && echo "/dev/\${s##*/}"; done; }`,
      // 2048 copies by 11 doublings (a loop of 2048 appends is slow on a busy TCG guest).
      'b="$m"; for i in 1 2 3 4 5 6 7 8 9 10 11; do b="$b$b"; done; printf "%s" "$b" > /tmp/vblock',
      'd=""; while [ -z "$d" ]; do usleep 100000; d="$(dev)"; done',
      'dd if=/tmp/vblock of="$d" bs=65536 seek=16 conv=notrunc 2>/dev/null; sync',
      'echo "vol-marker-""written"',
      'while [ -n "$(dev)" ]; do usleep 100000; done',
      'echo "vol-""released"',
      'd=""; while [ -z "$d" ]; do usleep 100000; d="$(dev)"; done',
      'got="$(dd if="$d" bs=65536 skip=16 count=1 2>/dev/null | head -c ${#m})"',
      '[ "$got" = "$m" ] && echo "vol-marker-""read-back" || echo "vol-marker-""missing"',
      ') &',
      '',
    ].join('\n');
    const volumeFile = join(volumePoolDir(stateDir), `${volumeId}.qcow2`);
    try {
      await driver.start(testSpec(serverId, { userData: script }), 0);
      await waitForConsole(driver, serverId, guestMarkers.ready, 60_000);
      driver.learnVolumeKeys([{ volumeId, key: volumeKey }]);
      await driver.createVolume(volumeId, 1);
      await driver.attachVolume(volumeId, serverId);
      await waitForConsole(driver, serverId, 'vol-marker-written', 120_000);
      assert.deepEqual(await readdir(secretsDir), [], 'the hot-plug key file is gone');
      await driver.resizeVolume(volumeId, 2);
      assert.deepEqual(await driver.pluggedVolumes(serverId), [{ volumeId, sizeBytes: 2 * 1024 ** 3 }], 'grown online');
      await driver.detachVolume(volumeId);
      await waitForConsole(driver, serverId, 'vol-released', 120_000);

      const info = JSON.parse(
        execFileSync('qemu-img', ['info', '-f', 'qcow2', '--output=json', volumeFile], { encoding: 'utf8' }),
      );
      assert.equal(info.encrypted, true);
      assert.deepEqual(
        [info['format-specific'].data.encrypt.format, info['format-specific'].data.encrypt['cipher-alg']],
        ['luks', 'aes-256'],
      );
      const hostBytes = await readFile(volumeFile);
      assert.ok(hostBytes.length > 64 * 1024, 'the guest wrote into the volume');
      assert.equal(hostBytes.indexOf(marker), -1, 'the volume file on the host does not contain what the guest wrote');
      // Control: decrypted with the volume's key, the marker is at 1 MiB.
      const keyFile = join(stateDir, 'volume.key');
      await writeFile(keyFile, volumeKey, { mode: 0o600 });
      const raw = join(stateDir, 'volume.raw');
      execFileSync('qemu-img', [
        'convert',
        '--object',
        `secret,id=k,file=${keyFile}`,
        '--image-opts',
        `driver=qcow2,file.filename=${volumeFile},encrypt.key-secret=k`,
        '-O',
        'raw',
        raw,
      ]);
      const handle = await open(raw, 'r');
      try {
        const at1MiB = Buffer.alloc(marker.length);
        await handle.read(at1MiB, 0, marker.length, 1024 * 1024);
        assert.equal(at1MiB.toString('latin1'), marker, 'decrypted with its key, the volume holds the marker');
      } finally {
        await handle.close();
      }
      await rm(raw);

      await driver.resizeVolume(volumeId, 3); // detached: qemu-img resize with the key as a secret object
      const grown = JSON.parse(
        execFileSync('qemu-img', ['info', '-f', 'qcow2', '--output=json', volumeFile], { encoding: 'utf8' }),
      );
      assert.equal(grown['virtual-size'], 3 * 1024 ** 3);
      await driver.attachVolume(volumeId, serverId);
      await waitForConsole(driver, serverId, 'vol-marker-read-back', 120_000);
      assert.ok(!(await driver.consoleLog(serverId)).includes('vol-marker-missing'));

      const pid = await driver.processId(serverId);
      assert.ok(!(await readFile(`/proc/${pid}/cmdline`, 'utf8')).includes(volumeKey), 'not in the QEMU argv');
      assert.deepEqual(await readdir(secretsDir), [], 'no key file left');
      await driver.detachVolume(volumeId);
      const everything = logLines.join('');
      assert.ok(everything.includes('volume attached'), 'the driver did log');
      assert.ok(!everything.includes(volumeKey), 'the key is in no log line');
    } catch (error) {
      console.error((await driver.consoleLog(serverId).catch(() => '')).slice(-3000));
      throw error;
    } finally {
      await driver.destroy(serverId).catch(() => {});
      await driver.deleteVolume(volumeId).catch(() => {});
      await driver.close();
      await rm(stateDir, { recursive: true, force: true });
      await rm(own.dir, { recursive: true, force: true });
    }
  },
);
