/**
 * The driver's own logic against a fake QEMU (testdata/fake-qemu.ts: real process, real QMP and console
 * sockets, no guest): start with pinning, idempotent start, reboot generations, graceful and forced stop,
 * crash reporting, console, destroy. Needs qemu-img and genisoimage (overlay and seed), not a guest.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isVmcError } from '../../../core/errors.ts';
import { createImageStore } from '../../../images/index.ts';
import type { InstanceStateFile } from './instance-files.ts';
import { instancePaths } from './instance-paths.ts';
import { createQemuDriver, type QemuDriver } from './qemu-driver.ts';
import { isAlive } from './qemu-process.ts';
import { testSpec, waitFor } from './real-qemu-support.ts';

function missingTool(): string | false {
  for (const tool of ['qemu-img', 'genisoimage', 'taskset']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} is missing: fake-QEMU driver tests skipped`;
    }
  }
  return false;
}

const skip = missingTool();

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'vmc-fq-'));
  const fakeQemu = new URL('./testdata/fake-qemu.ts', import.meta.url).pathname;
  const wrapper = async (name: string, env: string) => {
    const path = join(dir, name);
    await writeFile(path, `#!/bin/sh\n${env}exec "${process.execPath}" "${fakeQemu}" "$@"\n`);
    await chmod(path, 0o755);
    return path;
  };
  const store = createImageStore({ dir: join(dir, 'images') });
  const base = join(dir, 'base.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', base, '64M']);
  await store.importFile('vmcloud-test', base);
  const make = (binary: string) =>
    createQemuDriver({ stateDir: join(dir, 'state'), imageStore: store, accel: 'tcg', qemuBinary: binary, hostCpus: { threads: [0, 1], numaNodes: [0] } });
  return {
    dir,
    stateDir: join(dir, 'state'),
    obedient: await wrapper('qemu', ''),
    stubborn: await wrapper('qemu-stubborn', 'FAKE_QEMU_IGNORE_POWERDOWN=1 '),
    make,
  };
}

const power = async (driver: QemuDriver, serverId: string) => (await driver.list()).find((instance) => instance.serverId === serverId);

test('fake QEMU: start, pin, idempotent start, reboot generations, graceful stop, destroy', { skip }, async () => {
  const env = await setup();
  const driver = env.make(env.obedient);
  const spec = testSpec('srv_fake1', { threads: [1] });
  try {
    await driver.start(spec, 3);
    const pid = await driver.processId(spec.serverId);
    assert.ok(pid);
    const pinning = await driver.pinning(spec.serverId);
    assert.deepEqual(pinning?.vcpus.map((pin) => [pin.hostThread, pin.pinned, pin.allowedThreads]), [[1, true, [1]]]);
    assert.deepEqual(await power(driver, spec.serverId), { serverId: spec.serverId, power: 'running', rebootGeneration: 3 });
    await waitFor('the console log', async () => (await driver.consoleLog(spec.serverId)).includes('VMCLOUD-GUEST-READY'), 10_000);

    await driver.start(spec, 3);
    assert.equal(await driver.processId(spec.serverId), pid, 'start of a running instance changes nothing');

    await driver.reboot(spec.serverId, 3);
    assert.equal((await power(driver, spec.serverId))?.rebootGeneration, 3, 'an old generation is not carried out again');
    await driver.reboot(spec.serverId, 4);
    assert.equal((await power(driver, spec.serverId))?.rebootGeneration, 4);
    await waitFor('the reset to show', async () => (await driver.consoleLog(spec.serverId)).split('GUEST-UP').length === 3, 10_000);

    await driver.stop(spec.serverId, { gracefulTimeoutMs: 10_000 });
    const state = JSON.parse(await readFile(instancePaths(env.stateDir, spec.serverId).stateFile, 'utf8')) as InstanceStateFile;
    assert.equal(state.lastShutdown?.reason, 'guest-shutdown');
    assert.deepEqual(await power(driver, spec.serverId), { serverId: spec.serverId, power: 'stopped', rebootGeneration: 4 });
    await driver.stop(spec.serverId, { gracefulTimeoutMs: 10_000 }); // idempotent
    await assert.rejects(driver.attachConsole(spec.serverId), (error: unknown) => isVmcError(error) && error.reason === 'not_running');

    await driver.destroy(spec.serverId);
    await driver.destroy(spec.serverId); // idempotent
    assert.equal(existsSync(instancePaths(env.stateDir, spec.serverId).dir), false);
    assert.deepEqual(await driver.list(), []);
  } finally {
    await driver.destroy(spec.serverId).catch(() => {});
    await driver.close();
    await rm(env.dir, { recursive: true, force: true, maxRetries: 5 });
  }
});

test('fake QEMU: a guest ignoring ACPI is forced off after the timeout; a killed QEMU is reported crashed', { skip }, async () => {
  const env = await setup();
  const driver = env.make(env.stubborn);
  const stubborn = testSpec('srv_fake2');
  const killed = testSpec('srv_fake3');
  try {
    await driver.start(stubborn, 0);
    const pid = await driver.processId(stubborn.serverId);
    assert.ok(pid);
    await driver.stop(stubborn.serverId, { gracefulTimeoutMs: 100 });
    assert.equal(await isAlive(pid), false);
    const state = JSON.parse(await readFile(instancePaths(env.stateDir, stubborn.serverId).stateFile, 'utf8')) as InstanceStateFile;
    assert.equal(state.lastShutdown?.reason, 'host-qmp-quit', 'forced off with quit');
    assert.equal((await power(driver, stubborn.serverId))?.power, 'stopped');

    await driver.start(killed, 0);
    const victim = await driver.processId(killed.serverId);
    assert.ok(victim);
    process.kill(victim, 'SIGKILL');
    // First "the QEMU process is gone", then — once this process (QEMU's parent) reaped it — the signal.
    const crashed = await waitFor('the crash to be reported with its signal', async () => {
      const instance = await power(driver, killed.serverId);
      return instance?.power === 'crashed' && instance.detail?.includes('SIGKILL') ? instance : undefined;
    }, 10_000);
    assert.equal(crashed.detail, 'QEMU exited unexpectedly (signal SIGKILL)');

    // A new driver (agent restart) sees the same: state comes from disk.
    const restarted = env.make(env.stubborn);
    assert.equal((await power(restarted, killed.serverId))?.power, 'crashed');
    assert.equal((await power(restarted, stubborn.serverId))?.power, 'stopped');
    await restarted.close();
  } finally {
    await driver.destroy(stubborn.serverId).catch(() => {});
    await driver.destroy(killed.serverId).catch(() => {});
    await driver.close();
    await rm(env.dir, { recursive: true, force: true, maxRetries: 5 });
  }
});
