/**
 * The QEMU driver against real QEMU (TCG) and the test guest, beyond the conformance suite
 * (qemu-driver.conformance.real.test.ts): console, pinning, snapshots and export, an owner process killed
 * mid-boot, a guest kernel panic. Skips with a message when QEMU, the cloud kernel or busybox are missing.
 * Each test boots the guest two or three times (≈3–5 s each on 2 cores).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isVmcError } from '../../../core/errors.ts';
import { guestMarkers, testDiskMarker } from '../../../images/index.ts';
import { instancePaths } from './instance-paths.ts';
import type { InstanceStateFile } from './instance-files.ts';
import { createQemuDriver, type QemuDriver } from './qemu-driver.ts';
import { findInstanceQemus, isAlive } from './qemu-process.ts';
import { realQemuSkipReason, testImageStore, testSpec, waitFor } from './real-qemu-support.ts';
import { converse, waitForConsole as waitForConsoleText } from './testdata/conformance-hooks.ts';

const skip = await realQemuSkipReason();
const bootTimeoutMs = 45_000;

async function powerOf(driver: QemuDriver, serverId: string) {
  return (await driver.list()).find((instance) => instance.serverId === serverId);
}

function waitForConsole(driver: QemuDriver, serverId: string, text: string) {
  return waitForConsoleText(driver, serverId, text, bootTimeoutMs);
}

test(
  'start → console → pinning → stop (ACPI) → snapshot → start → live snapshot and export → restore → destroy',
  { skip, timeout: 300_000 },
  async () => {
    const { store, dir: imageDir } = await testImageStore();
    const stateDir = await mkdtemp(join(tmpdir(), 'vmc-q-'));
    const driver = createQemuDriver({ stateDir, imageStore: store, accel: 'tcg' });
    const serverId = 'srv_lifecycle';
    // vCPU 1 claims a thread of a 128-thread host: it must be skipped with a warning, not fail the start.
    const spec = testSpec(serverId, {
      vcpus: 2,
      threads: [1, 127],
      hostname: 'life-1',
      userData: '#!/bin/sh\necho user-data-ran\n',
    });
    try {
      await driver.start(spec, 0);
      await waitForConsole(driver, serverId, guestMarkers.userspace);
      await waitForConsole(driver, serverId, `${guestMarkers.hostname} life-1`);
      await waitForConsole(driver, serverId, guestMarkers.ready);
      const bootLog = await driver.consoleLog(serverId);
      assert.match(
        bootLog,
        new RegExp(`${guestMarkers.disk} ${testDiskMarker}`),
        'the guest reads the image through its overlay',
      );
      assert.match(bootLog, /user-data-ran/);

      const pinning = await driver.pinning(serverId);
      assert.ok(pinning);
      assert.equal(pinning.verified, true);
      assert.deepEqual(
        pinning.vcpus.map((pin) => [pin.vcpu, pin.hostThread, pin.pinned]),
        [
          [0, 1, true],
          [1, 127, false],
        ],
      );
      assert.deepEqual(pinning.vcpus[0].allowedThreads, [1], 'vCPU 0 runs only on host thread 1 (from /proc)');
      assert.match(pinning.vcpus[1].warning ?? '', /127 does not exist/);
      assert.equal((await powerOf(driver, serverId))?.power, 'running');

      const terminal = await driver.attachConsole(serverId);
      const answer = await converse(terminal, 'echo "cpus=$(nproc) host=$(hostname)"\n', /cpus=\d+ host=[^\r\n]+\r?\n/);
      assert.match(answer, /cpus=2 host=life-1/);
      terminal.destroy();

      await driver.stop(serverId, { gracefulTimeoutMs: 20_000 });
      const state = JSON.parse(
        await readFile(instancePaths(stateDir, serverId).stateFile, 'utf8'),
      ) as InstanceStateFile;
      assert.deepEqual(
        [state.lastShutdown?.guest, state.lastShutdown?.reason],
        [true, 'guest-shutdown'],
        'the guest powered off on the ACPI button',
      );
      assert.equal((await powerOf(driver, serverId))?.power, 'stopped');
      assert.equal(await driver.processId(serverId), null);

      const offline = await driver.createSnapshot(serverId, 'before');
      assert.equal(offline.name, 'before');
      await assert.rejects(
        driver.createSnapshot(serverId, 'before'),
        (error: unknown) => isVmcError(error) && error.code === 'conflict',
      );

      await driver.start(spec, 0);
      await waitForConsole(driver, serverId, guestMarkers.ready);
      assert.match(await driver.consoleLog(serverId, { previousBoot: true }), /reboot: Power down/);
      // Write a new marker over the disk's first bytes from inside the guest.
      const shell = await driver.attachConsole(serverId, { replay: false });
      await converse(
        shell,
        'printf CHANGED-BY-GUEST-001 | dd of=/dev/vda conv=notrunc 2>/dev/null; sync; echo "wr""ote"\n',
        /wrote/,
      );
      shell.destroy();

      const live = await driver.createSnapshot(serverId, 'live');
      assert.deepEqual(
        (await driver.listSnapshots(serverId)).map((snapshot) => snapshot.name),
        ['before', 'live'],
      );
      assert.ok(Date.parse(live.createdAt) > 0);

      const exportPath = join(stateDir, 'export.qcow2');
      const exported = await driver.exportDisk(serverId, exportPath);
      assert.deepEqual(
        [exported.format, exported.fromRunningServer, exported.virtualSizeBytes],
        ['qcow2', true, 1024 ** 3],
      );
      const exportInfo = JSON.parse(
        execFileSync('qemu-img', ['info', '--output=json', exportPath], { encoding: 'utf8' }),
      ) as Record<string, unknown>;
      assert.equal(exportInfo['backing-filename'], undefined, 'the export stands alone');
      const rawExport = join(stateDir, 'export.raw');
      execFileSync('qemu-img', ['convert', '-O', 'raw', exportPath, rawExport]);
      const head = async (path: string) => (await readFile(path)).subarray(0, testDiskMarker.length).toString('latin1');
      assert.equal(await head(rawExport), 'CHANGED-BY-GUEST-001', 'the export holds what the guest wrote');
      assert.deepEqual(
        (await driver.listSnapshots(serverId)).map((snapshot) => snapshot.name),
        ['before', 'live'],
        'no temporary snapshot left',
      );

      await assert.rejects(
        driver.restoreSnapshot(serverId, 'before'),
        (error: unknown) => isVmcError(error) && error.reason === 'server_running',
      );
      await driver.stop(serverId, { gracefulTimeoutMs: 20_000 });
      await driver.restoreSnapshot(serverId, 'before');
      await driver.deleteSnapshot(serverId, 'live');
      assert.deepEqual(
        (await driver.listSnapshots(serverId)).map((snapshot) => snapshot.name),
        ['before'],
      );
      const restoredExport = await driver.exportDisk(serverId, join(stateDir, 'restored.raw'), { format: 'raw' });
      assert.equal(restoredExport.fromRunningServer, false);
      assert.equal(
        await head(restoredExport.path),
        testDiskMarker,
        'restoring the snapshot brought the old bytes back',
      );

      await driver.destroy(serverId);
      assert.equal(existsSync(instancePaths(stateDir, serverId).dir), false, 'disk and state are gone');
      assert.deepEqual(await driver.list(), []);
    } finally {
      await driver.destroy(serverId).catch(() => {});
      await driver.close();
      await rm(stateDir, { recursive: true, force: true, maxRetries: 5 });
      await rm(imageDir, { recursive: true, force: true });
    }
  },
);

/** Runs the driver in another process (the "agent"), which starts `spec` and is then SIGKILLed. */
async function startInOwnerProcess(
  stateDir: string,
  imageDir: string,
  spec: ReturnType<typeof testSpec>,
  killWhen: 'spawned' | 'started',
) {
  const specPath = join(stateDir, `${spec.serverId}.spec.json`);
  await writeFile(specPath, JSON.stringify(spec));
  const owner = spawn(
    process.execPath,
    [new URL('./testdata/driver-owner.ts', import.meta.url).pathname, stateDir, imageDir, specPath],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise((resolve) => owner.once('exit', resolve));
  let stdout = '';
  owner.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  if (killWhen === 'spawned') {
    await waitFor(
      'the owner to spawn QEMU',
      () => existsSync(instancePaths(stateDir, spec.serverId).pidFile),
      bootTimeoutMs,
      5,
    );
  } else {
    await waitFor('the owner to report STARTED', () => stdout.includes('STARTED'), bootTimeoutMs);
  }
  owner.kill('SIGKILL');
  await exited;
}

test(
  'kill -9 of the driver owner: re-attach without reboot; mid-boot: converge to one QEMU; a guest panic is reported',
  { skip, timeout: 300_000 },
  async () => {
    const { store, dir: imageDir } = await testImageStore();
    const stateDir = await mkdtemp(join(tmpdir(), 'vmc-q-'));
    const imageStoreDir = join(imageDir, 'store');
    const driver = createQemuDriver({ stateDir, imageStore: store, accel: 'tcg' });
    const after = testSpec('srv_reattach', { hostname: 'reattach-1' });
    const midBoot = testSpec('srv_midboot', { hostname: 'midboot-1' });
    try {
      // 1. Owner killed after start: the new driver finds the guest running and does not reboot it.
      await startInOwnerProcess(stateDir, imageStoreDir, after, 'started');
      const pidBefore = await driver.processId(after.serverId);
      assert.ok(pidBefore);
      await waitForConsole(driver, after.serverId, guestMarkers.ready);
      const observed = await powerOf(driver, after.serverId);
      assert.equal(observed?.power, 'running');
      await driver.start(after, 0); // the agent's reconcile loop: idempotent
      assert.equal(await driver.processId(after.serverId), pidBefore, 'same QEMU process');
      const log = await driver.consoleLog(after.serverId);
      assert.equal(log.split(guestMarkers.userspace).length - 1, 1, 'the guest booted once');
      assert.equal((await driver.pinning(after.serverId))?.verified, true);

      // 2. Owner killed right after spawning QEMU (paused, maybe unpinned): start() converges to one running QEMU.
      await startInOwnerProcess(stateDir, imageStoreDir, midBoot, 'spawned');
      await driver.start(midBoot, 0);
      await waitForConsole(driver, midBoot.serverId, guestMarkers.ready);
      assert.equal(
        (await findInstanceQemus(instancePaths(stateDir, midBoot.serverId).qmpSocket)).length,
        1,
        'exactly one QEMU process',
      );
      assert.equal((await powerOf(driver, midBoot.serverId))?.power, 'running');
      assert.equal((await driver.pinning(midBoot.serverId))?.verified, true);

      // 3. A guest kernel panic is reported as crashed (pvpanic), and start() replaces the dead QEMU.
      const shell = await driver.attachConsole(after.serverId, { replay: false });
      shell.write('echo c > /proc/sysrq-trigger\n');
      const panicked = await waitFor(
        'the panic to be reported',
        async () => {
          const instance = await powerOf(driver, after.serverId);
          return instance?.power === 'crashed' ? instance : undefined;
        },
        bootTimeoutMs,
      );
      assert.match(panicked.detail ?? '', /panicked/);
      shell.destroy();
      await driver.start(after, 0);
      await waitForConsole(driver, after.serverId, guestMarkers.ready);
      assert.equal((await powerOf(driver, after.serverId))?.power, 'running');
      assert.notEqual(await driver.processId(after.serverId), pidBefore, 'the panicked QEMU was replaced');

      await driver.destroy(after.serverId);
      await driver.destroy(midBoot.serverId);
      assert.deepEqual(await driver.list(), []);
      assert.equal(await isAlive(pidBefore), false);
    } finally {
      await driver.destroy(after.serverId).catch(() => {});
      await driver.destroy(midBoot.serverId).catch(() => {});
      await driver.close();
      await rm(stateDir, { recursive: true, force: true, maxRetries: 5 });
      await rm(imageDir, { recursive: true, force: true });
    }
  },
);
