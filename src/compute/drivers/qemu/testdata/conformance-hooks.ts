/**
 * What the driver conformance suite needs to do to QEMU instances behind the driver's back, shared by the
 * fake-QEMU run and the real-guest run: kill -9 the QEMU, read how the last stop ended from state.json,
 * make the guest ignore the ACPI power button, wait for the guest to be ready, talk on its console.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { createImageStore, guestMarkers, type ImageStore } from '../../../../images/index.ts';
import type { DriverConformanceOptions } from '../../conformance.ts';
import type { InstanceStateFile } from '../instance-files.ts';
import { instancePaths } from '../instance-paths.ts';
import { createQemuDriver, type QemuDriver, type QemuDriverOptions } from '../qemu-driver.ts';
import { waitFor } from '../real-qemu-support.ts';

/** kill -9 of the instance's QEMU. */
export async function killQemu(driver: QemuDriver, serverId: string): Promise<void> {
  const pid = await driver.processId(serverId);
  if (pid === null) throw new Error(`no QEMU runs for ${serverId}`);
  process.kill(pid, 'SIGKILL');
}

/** How the last stop ended, from the SHUTDOWN event recorded in state.json. */
export async function lastStopOf(stateDir: string, serverId: string): Promise<'graceful' | 'forced' | null> {
  const read = async () => {
    const text = await readFile(instancePaths(stateDir, serverId).stateFile, 'utf8').catch(() => null);
    return text === null ? null : (JSON.parse(text) as InstanceStateFile).lastShutdown;
  };
  // The SHUTDOWN event is written as it arrives; QEMU exits right after sending it.
  const shutdown = await waitFor('the SHUTDOWN event in state.json', read, 5000).catch(() => null);
  if (!shutdown) return 'forced'; // SIGKILLed: no event at all
  return shutdown.guest && shutdown.reason === 'guest-shutdown' ? 'graceful' : 'forced';
}

/** Waits until the console log of the current boot shows `text`. */
export function waitForConsole(driver: QemuDriver, serverId: string, text: string, timeoutMs: number) {
  return waitFor(
    `the console to show ${text}`,
    async () => (await driver.consoleLog(serverId)).includes(text),
    timeoutMs,
  );
}

/** Sends a command on a console session and resolves with the output once `until` shows up. */
export function converse(terminal: Duplex, command: string, until: RegExp, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`no ${until} after ${command}; saw ${JSON.stringify(seen)}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (until.test(seen)) {
        clearTimeout(timer);
        terminal.off('data', onData);
        resolve(seen);
      }
    };
    terminal.on('data', onData);
    terminal.write(command);
  });
}

/** The hooks for real guests (the test image): acpid is killed through the serial console. */
export function realGuestHooks(
  bootTimeoutMs: number,
): Pick<
  DriverConformanceOptions<QemuDriver>,
  'crash' | 'ignorePowerButton' | 'waitUntilGuestReady' | 'lastStop' | 'instanceIdentity' | 'crashDetail'
> {
  return {
    crash: (driver, serverId) => killQemu(driver, serverId),
    waitUntilGuestReady: async (driver, serverId) => {
      await waitForConsole(driver, serverId, guestMarkers.ready, bootTimeoutMs);
    },
    ignorePowerButton: async (driver, serverId) => {
      const shell = await driver.attachConsole(serverId, { replay: false });
      try {
        await converse(shell, 'kill $(cat /run/acpid.pid); echo "acpid-""gone"\n', /acpid-gone/);
      } finally {
        shell.destroy();
      }
    },
    lastStop: (_driver, serverId, stateDir) => lastStopOf(stateDir, serverId),
    instanceIdentity: (driver, serverId) => driver.processId(serverId),
    crashDetail: /QEMU exited unexpectedly \(signal SIGKILL\)|the QEMU process is gone/,
  };
}

/**
 * A fake `qemu-system-x86_64` (testdata/fake-qemu.ts) and an image store with `vmcloud-test` in it; the
 * `catalogSlugs` are images the catalog knows but this host lacks (`image_not_on_host`).
 */
export async function fakeQemuHost(options: { catalogSlugs?: string[] } = {}): Promise<{
  dir: string;
  binary: string;
  store: ImageStore;
  makeDriver(stateDir: string, extra?: Partial<QemuDriverOptions>): QemuDriver;
  dispose(): Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'vmc-fq-'));
  const fakeQemu = new URL('./fake-qemu.ts', import.meta.url).pathname;
  const binary = join(dir, 'qemu');
  await writeFile(binary, `#!/bin/sh\nexec "${process.execPath}" "${fakeQemu}" "$@"\n`);
  await chmod(binary, 0o755);
  const store = createImageStore({ dir: join(dir, 'images'), catalogSlugs: options.catalogSlugs });
  const base = join(dir, 'base.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', base, '64M']);
  await store.importFile('vmcloud-test', base);
  return {
    dir,
    binary,
    store,
    makeDriver: (stateDir, extra = {}) =>
      createQemuDriver({
        stateDir,
        imageStore: store,
        accel: 'tcg',
        qemuBinary: binary,
        hostCpus: { threads: [0, 1], numaNodes: [0] },
        ...extra,
      }),
    dispose: () => rm(dir, { recursive: true, force: true, maxRetries: 5 }),
  };
}

/** The hooks for the fake QEMU: a marker file makes it ignore system_powerdown. */
export const fakeQemuHooks: Pick<
  DriverConformanceOptions<QemuDriver>,
  'crash' | 'ignorePowerButton' | 'waitUntilGuestReady' | 'lastStop' | 'instanceIdentity' | 'crashDetail'
> = {
  crash: (driver, serverId) => killQemu(driver, serverId),
  waitUntilGuestReady: async (driver, serverId) => {
    await waitForConsole(driver, serverId, guestMarkers.ready, 10_000);
  },
  ignorePowerButton: async (_driver, serverId, stateDir) => {
    await writeFile(join(instancePaths(stateDir, serverId).dir, 'fake-ignore-powerdown'), '');
  },
  lastStop: (_driver, serverId, stateDir) => lastStopOf(stateDir, serverId),
  instanceIdentity: (driver, serverId) => driver.processId(serverId),
  crashDetail: /QEMU exited unexpectedly \(signal SIGKILL\)|the QEMU process is gone/,
};

/** Why the fake-QEMU tests cannot run here (qemu-img, genisoimage, taskset missing), or false. */
export function fakeQemuSkipReason(): string | false {
  for (const tool of ['qemu-img', 'genisoimage', 'taskset']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} is missing: fake-QEMU driver tests skipped`;
    }
  }
  return existsSync('/proc/self/cmdline') ? false : 'no /proc: fake-QEMU driver tests skipped';
}
