/**
 * The driver conformance suite: what every driver (sim, qemu, the next one) must do for the host agent,
 * written once and run by each driver's own test file:
 *
 *   runDriverConformance('sim', (stateDir) => createSimDriver({ stateFile: join(stateDir, 'host.json') }), {
 *     spec: (serverId) => ({ ...mySpec, serverId }), missingImage: 'no-such-image',
 *     crash: async (driver, serverId) => driver.simulate.crash(serverId), …
 *   });
 *
 * Each case gets a fresh state directory and driver(s) made by `makeDriver(stateDir)`; a second driver on
 * the same directory plays the agent restarted. The hooks do what only a test can do to a host: kill an
 * instance under the driver, make a guest ignore the ACPI power button. Uses node:test: import it from
 * `*.test.ts` files only.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isVmcError } from '../../core/errors.ts';
import type { Driver, InstanceSpec, ObservedInstance } from './driver.ts';

export interface DriverConformanceOptions<D extends Driver> {
  /** Why the suite cannot run on this machine (every case is skipped with it), or false. */
  skip?: string | false;
  /** A spec this driver's host can run, for `serverId`. */
  spec(serverId: string): InstanceSpec;
  /** An image slug this host has no file of: `start` must reject with an error naming it. */
  missingImage: string;
  /** Kills the instance under the driver: kill -9 of its QEMU; a simulated crash for sim. */
  crash(driver: D, serverId: string, stateDir: string): Promise<void>;
  /** Makes the running guest ignore the ACPI power button from now on (e.g. kills its acpid). */
  ignorePowerButton(driver: D, serverId: string, stateDir: string): Promise<void>;
  /** Waits until the started guest acts on the power button (a real guest: acpid runs). Default: at once. */
  waitUntilGuestReady?(driver: D, serverId: string): Promise<void>;
  /** How the instance's last stop ended, when the driver can tell: by the guest (`graceful`) or `forced`. */
  lastStop?(driver: D, serverId: string, stateDir: string): Promise<'graceful' | 'forced' | null>;
  /** What identifies the running instance (QEMU's pid): unchanged by re-attach and idempotent starts. */
  instanceIdentity?(driver: D, serverId: string): Promise<string | number | null>;
  /**
   * What the instance's disk is on the host (image, virtual size, rebuild generation): enables the resize
   * and rebuild case.
   */
  disk?(
    driver: D,
    serverId: string,
    stateDir: string,
  ): Promise<{ image: string; sizeGiB: number; diskGeneration: number }>;
  /** `detail` of a crashed instance must match this (default: any non-empty text). */
  crashDetail?: RegExp;
  /**
   * Volumes: what the running guest sees plugged in (QEMU: `query-block`; sim: its guest view), by volume id
   * with the size in bytes. Absent: the volume cases are skipped with a reason.
   */
  guestVolumes?(driver: D, serverId: string): Promise<{ volumeId: string; sizeBytes: number }[]>;
  before?(): Promise<void>;
  after?(): Promise<void>;
  /** Timeout of each case (default 60 s). */
  caseTimeoutMs?: number;
  /** The grace period of the forced-stop case (default 300 ms). */
  forcedStopGraceMs?: number;
  /** The grace period a cooperative guest gets (default 60 s: a driver that forces it fails the case). */
  gracefulStopTimeoutMs?: number;
  /** How long a crash may take to show in `list()` (default 15 s). */
  crashNoticeTimeoutMs?: number;
}

interface CaseContext<D extends Driver> {
  stateDir: string;
  /** A driver on this case's state directory; every driver made is closed after the case. */
  newDriver(): Promise<D>;
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const find = async (driver: Driver, serverId: string): Promise<ObservedInstance | undefined> =>
  (await driver.list()).find((instance) => instance.serverId === serverId);

const powerOf = async (driver: Driver, serverId: string) => (await find(driver, serverId))?.power ?? null;

/** Registers the suite as `describe(name)` with one named test per case. */
export function runDriverConformance<D extends Driver>(
  name: string,
  makeDriver: (stateDir: string) => D | Promise<D>,
  options: DriverConformanceOptions<D>,
): void {
  const gracefulStopTimeoutMs = options.gracefulStopTimeoutMs ?? 60_000;
  const forcedStopGraceMs = options.forcedStopGraceMs ?? 300;
  const ready = (driver: D, serverId: string) => options.waitUntilGuestReady?.(driver, serverId) ?? Promise.resolve();
  const identity = (driver: D, serverId: string) =>
    options.instanceIdentity?.(driver, serverId) ?? Promise.resolve(null);

  const cases: [string, (context: CaseContext<D>) => Promise<void>][] = [
    [
      'create and start: the instance runs; start again changes nothing; delete removes it',
      async ({ newDriver }) => {
        const driver = await newDriver();
        const spec = options.spec('srv_conf_create');
        await driver.start(spec, 0);
        assert.deepEqual(await find(driver, spec.serverId), {
          serverId: spec.serverId,
          power: 'running',
          rebootGeneration: 0,
        });
        const before = await identity(driver, spec.serverId);
        await driver.start(spec, 0);
        assert.equal(await powerOf(driver, spec.serverId), 'running');
        assert.equal(await identity(driver, spec.serverId), before, 'an idempotent start keeps the same instance');
        assert.equal((await driver.list()).length, 1, 'one instance');
        await driver.destroy(spec.serverId);
        assert.equal(await find(driver, spec.serverId), undefined, 'destroy removes the instance');
        await driver.destroy(spec.serverId);
        assert.deepEqual(await driver.list(), [], 'destroy is idempotent');
      },
    ],
    [
      'reboot carries out a newer generation once, an older one never',
      async ({ newDriver }) => {
        const driver = await newDriver();
        const spec = options.spec('srv_conf_reboot');
        await driver.start(spec, 2);
        assert.equal((await find(driver, spec.serverId))?.rebootGeneration, 2, 'start records its generation');
        await driver.reboot(spec.serverId, 1);
        assert.equal((await find(driver, spec.serverId))?.rebootGeneration, 2, 'an older generation is ignored');
        await driver.reboot(spec.serverId, 3);
        assert.deepEqual(await find(driver, spec.serverId), {
          serverId: spec.serverId,
          power: 'running',
          rebootGeneration: 3,
        });
        await driver.reboot(spec.serverId, 3);
        assert.equal((await find(driver, spec.serverId))?.rebootGeneration, 3);
      },
    ],
    [
      'stop: the guest powers off on the ACPI button; stop again changes nothing; a start brings it back',
      async ({ newDriver, stateDir }) => {
        const driver = await newDriver();
        const spec = options.spec('srv_conf_graceful');
        await driver.start(spec, 0);
        await ready(driver, spec.serverId);
        await driver.stop(spec.serverId, { gracefulTimeoutMs: gracefulStopTimeoutMs });
        assert.equal(await powerOf(driver, spec.serverId), 'stopped');
        if (options.lastStop)
          assert.equal(await options.lastStop(driver, spec.serverId, stateDir), 'graceful', 'the guest shut down');
        await driver.stop(spec.serverId, { gracefulTimeoutMs: gracefulStopTimeoutMs });
        assert.equal(await powerOf(driver, spec.serverId), 'stopped', 'stop is idempotent');
        await driver.start(spec, 1);
        assert.deepEqual(
          await find(driver, spec.serverId),
          { serverId: spec.serverId, power: 'running', rebootGeneration: 1 },
          'a start of a stopped instance carries a newer reboot generation',
        );
      },
    ],
    [
      'stop: a guest ignoring the ACPI button is forced off after the grace period',
      async ({ newDriver, stateDir }) => {
        const driver = await newDriver();
        const spec = options.spec('srv_conf_forced');
        await driver.start(spec, 0);
        await ready(driver, spec.serverId);
        await options.ignorePowerButton(driver, spec.serverId, stateDir);
        await driver.stop(spec.serverId, { gracefulTimeoutMs: forcedStopGraceMs });
        assert.equal(await powerOf(driver, spec.serverId), 'stopped');
        if (options.lastStop)
          assert.equal(await options.lastStop(driver, spec.serverId, stateDir), 'forced', 'forced off');
      },
    ],
    [
      'stop with no grace period forces the instance off',
      async ({ newDriver, stateDir }) => {
        const driver = await newDriver();
        const spec = options.spec('srv_conf_nograce');
        await driver.start(spec, 0);
        await driver.stop(spec.serverId, { gracefulTimeoutMs: 0 });
        assert.equal(await powerOf(driver, spec.serverId), 'stopped');
        if (options.lastStop) assert.equal(await options.lastStop(driver, spec.serverId, stateDir), 'forced');
      },
    ],
    [
      're-attach after agent restart: a new driver on the same state finds the instance running, untouched',
      async ({ newDriver }) => {
        const first = await newDriver();
        const spec = options.spec('srv_conf_reattach');
        const stopped = options.spec('srv_conf_reattach_stopped');
        await first.start(spec, 4);
        await first.start(stopped, 0);
        await first.stop(stopped.serverId, { gracefulTimeoutMs: 0 });
        const before = await identity(first, spec.serverId);
        await first.close();

        const second = await newDriver();
        assert.deepEqual(await find(second, spec.serverId), {
          serverId: spec.serverId,
          power: 'running',
          rebootGeneration: 4,
        });
        assert.equal(await powerOf(second, stopped.serverId), 'stopped', 'a stopped instance stays stopped');
        assert.equal(await identity(second, spec.serverId), before, 'the same instance, not a new boot');
        await second.start(spec, 4);
        assert.equal(await identity(second, spec.serverId), before, 'start after re-attach changes nothing');
        await second.stop(spec.serverId, { gracefulTimeoutMs: 0 });
        assert.equal(await powerOf(second, spec.serverId), 'stopped', 'the new driver controls the instance');
      },
    ],
    [
      'crash noticed: an instance killed under the driver is reported crashed, and start brings it back',
      async ({ newDriver, stateDir }) => {
        const driver = await newDriver();
        const spec = options.spec('srv_conf_crash');
        await driver.start(spec, 0);
        await options.crash(driver, spec.serverId, stateDir);
        const crashed = await eventually(
          'the crash to show in list()',
          async () => {
            const instance = await find(driver, spec.serverId);
            return instance?.power === 'crashed' ? instance : undefined;
          },
          options.crashNoticeTimeoutMs ?? 15_000,
        );
        assert.match(crashed.detail ?? '', options.crashDetail ?? /\S/, 'a crash says why');
        await driver.close();
        const restarted = await newDriver();
        assert.equal(await powerOf(restarted, spec.serverId), 'crashed', 'a restarted agent sees the crash too');
        await restarted.start(spec, 0);
        assert.equal(await powerOf(restarted, spec.serverId), 'running', 'start brings a crashed instance back');
      },
    ],
    [
      'start of an image the host lacks rejects naming the image, and leaves no instance',
      async ({ newDriver }) => {
        const driver = await newDriver();
        const spec = { ...options.spec('srv_conf_noimage'), image: options.missingImage };
        await assert.rejects(driver.start(spec, 0), (error: unknown) => {
          assert.ok(isVmcError(error), `a VmcError, not ${String(error)}`);
          assert.ok(error.message.includes(options.missingImage), error.message);
          return true;
        });
        const left = await find(driver, spec.serverId);
        assert.ok(left === undefined || left.power !== 'running', 'no running instance');
      },
    ],
    [
      'resize and rebuild: a bigger disk grows at the next start and never shrinks; a newer disk generation is rebuilt by a reboot',
      async ({ newDriver, stateDir }) => {
        if (!options.disk) return;
        const driver = await newDriver();
        const spec = options.spec('srv_conf_lifecycle');
        await driver.start(spec, 0);
        const first = await options.disk(driver, spec.serverId, stateDir);
        assert.deepEqual([first.sizeGiB, first.diskGeneration], [spec.diskGiB, 0]);
        await driver.stop(spec.serverId, { gracefulTimeoutMs: 0 });
        const bigger = { ...spec, diskGiB: spec.diskGiB + 1 };
        await driver.start(bigger, 0);
        assert.equal(await powerOf(driver, spec.serverId), 'running');
        assert.equal((await options.disk(driver, spec.serverId, stateDir)).sizeGiB, spec.diskGiB + 1, 'grown');
        await driver.stop(spec.serverId, { gracefulTimeoutMs: 0 });
        await driver.start(spec, 0);
        assert.equal((await options.disk(driver, spec.serverId, stateDir)).sizeGiB, spec.diskGiB + 1, 'never shrunk');
        await driver.reboot(spec.serverId, 1, { ...bigger, diskGeneration: 1 });
        const rebuilt = await find(driver, spec.serverId);
        assert.deepEqual([rebuilt?.power, rebuilt?.rebootGeneration], ['running', 1], 'the rebuilt instance runs');
        const disk = await options.disk(driver, spec.serverId, stateDir);
        assert.deepEqual([disk.diskGeneration, disk.image], [1, spec.image], 'the disk was rebuilt');
        await driver.destroy(spec.serverId);
      },
    ],
    [
      'stop, reboot and destroy of an unknown instance do nothing',
      async ({ newDriver }) => {
        const driver = await newDriver();
        await driver.stop('srv_conf_unknown', { gracefulTimeoutMs: 0 });
        await driver.reboot('srv_conf_unknown', 1);
        await driver.destroy('srv_conf_unknown');
        assert.deepEqual(await driver.list(), []);
      },
    ],
  ];

  const GiB = 1024 ** 3;
  /** Volumes' keys come with the desired state; drivers that encrypt (QEMU) refuse a volume without one. */
  const volumeKey = 'Y29uZm9ybWFuY2Ugdm9sdW1lIGtleSAzMiBieXRlcyE=';
  const guest = async (driver: D, serverId: string) =>
    (await options.guestVolumes!(driver, serverId)).map((v) => v.volumeId);
  const volume = async (driver: D, volumeId: string) =>
    (await driver.listVolumes()).find((v) => v.volumeId === volumeId);
  const volumeCases: [string, (context: CaseContext<D>) => Promise<void>][] = [
    [
      'volumes: create, grow (never shrink) and delete, each idempotent',
      async ({ newDriver }) => {
        const driver = await newDriver();
        const id = 'vol_conf0000000000000000000001';
        driver.learnVolumeKeys?.([{ volumeId: id, key: volumeKey }]);
        await driver.createVolume(id, 1);
        assert.deepEqual(await volume(driver, id), { volumeId: id, sizeGiB: 1, serverId: null });
        await driver.createVolume(id, 1);
        assert.equal((await driver.listVolumes()).length, 1, 'create again changes nothing');
        await driver.resizeVolume(id, 2);
        assert.equal((await volume(driver, id))?.sizeGiB, 2);
        await driver.resizeVolume(id, 1);
        assert.equal((await volume(driver, id))?.sizeGiB, 2, 'a smaller size does nothing');
        await driver.deleteVolume(id);
        assert.equal(await volume(driver, id), undefined);
        await driver.deleteVolume(id);
        assert.deepEqual(await driver.listVolumes(), [], 'delete is idempotent');
      },
    ],
    [
      'volumes: hot-attach to a running guest, grow it online, detach (the guest releases it); delete refused while attached',
      async ({ newDriver }) => {
        const driver = await newDriver();
        const spec = options.spec('srv_conf_volhot');
        const id = 'vol_conf0000000000000000000002';
        await driver.start(spec, 0);
        await ready(driver, spec.serverId);
        driver.learnVolumeKeys?.([{ volumeId: id, key: volumeKey }]);
        await driver.createVolume(id, 1);
        await driver.attachVolume(id, spec.serverId);
        assert.equal((await volume(driver, id))?.serverId, spec.serverId);
        assert.deepEqual(await guest(driver, spec.serverId), [id], 'the running guest has it');
        await driver.attachVolume(id, spec.serverId);
        assert.deepEqual(await guest(driver, spec.serverId), [id], 'attach again changes nothing');
        await assert.rejects(driver.deleteVolume(id), /detach it first/);
        await driver.resizeVolume(id, 2);
        const plugged = (await options.guestVolumes!(driver, spec.serverId)).find((v) => v.volumeId === id);
        assert.equal(plugged?.sizeBytes, 2 * GiB, 'grown online');
        await driver.detachVolume(id);
        assert.equal((await volume(driver, id))?.serverId, null);
        assert.deepEqual(await guest(driver, spec.serverId), [], 'the guest released it');
        await driver.detachVolume(id);
        await driver.deleteVolume(id);
      },
    ],
    [
      'volumes: attached to a stopped instance, the guest has it at its next start; a new driver sees the attachment; destroy detaches it',
      async ({ newDriver }) => {
        const first = await newDriver();
        const spec = options.spec('srv_conf_volcold');
        const id = 'vol_conf0000000000000000000003';
        await first.start(spec, 0);
        await first.stop(spec.serverId, { gracefulTimeoutMs: 0 });
        first.learnVolumeKeys?.([{ volumeId: id, key: volumeKey }]);
        await first.createVolume(id, 1);
        await first.attachVolume(id, spec.serverId);
        await assert.rejects(first.attachVolume(id, 'srv_conf_other'), /attached to/);
        await assert.rejects(first.attachVolume('vol_conf0000000000000000000009', spec.serverId));
        await first.start(spec, 0);
        assert.deepEqual(await guest(first, spec.serverId), [id], 'plugged at boot');
        await first.close();
        const second = await newDriver();
        second.learnVolumeKeys?.([{ volumeId: id, key: volumeKey }]);
        assert.equal((await volume(second, id))?.serverId, spec.serverId, 'the attachment outlives the agent');
        await second.destroy(spec.serverId);
        assert.deepEqual(await volume(second, id), { volumeId: id, sizeGiB: 1, serverId: null }, 'kept, detached');
      },
    ],
  ];

  describe(`driver conformance: ${name}`, { skip: options.skip ?? false }, () => {
    if (options.before) before(() => options.before!());
    if (options.after) after(() => options.after!());
    const volumeSkip = options.guestVolumes ? false : 'the driver test gives no guestVolumes hook';
    for (const [caseName, body, skip] of [
      ...cases.map(([n, b]) => [n, b, false] as const),
      ...volumeCases.map(([n, b]) => [n, b, volumeSkip] as const),
    ]) {
      test(caseName, { timeout: options.caseTimeoutMs ?? 60_000, skip }, async () => {
        const stateDir = await mkdtemp(join(tmpdir(), 'vmc-conf-'));
        const drivers: D[] = [];
        try {
          await body({
            stateDir,
            newDriver: async () => {
              const driver = await makeDriver(stateDir);
              drivers.push(driver);
              return driver;
            },
          });
        } finally {
          // Leave nothing running: destroy what the last driver sees, then close every driver.
          const last = drivers.at(-1);
          if (last) {
            for (const instance of await last.list().catch(() => []))
              await last.destroy(instance.serverId).catch(() => {});
            for (const v of await last.listVolumes().catch(() => []))
              await last.deleteVolume(v.volumeId).catch(() => {});
          }
          for (const driver of drivers) await driver.close().catch(() => {});
          await rm(stateDir, { recursive: true, force: true, maxRetries: 5 });
        }
      });
    }
  });
}
