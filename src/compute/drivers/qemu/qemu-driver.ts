/**
 * The QEMU driver: every instance is a detached QEMU process driven over its private QMP socket.
 * start: qcow2 overlay on the image's base + NoCloud seed → spawn with -S → query-cpus-fast → pin each vCPU
 * thread → cont. stop: ACPI power button, wait, quit, SIGKILL. State lives on disk per instance, so a
 * restarted agent re-attaches to running QEMU processes without rebooting them.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { VmcError, invalid } from '../../../core/errors.ts';
import { silentLogger, type Logger } from '../../../core/log.ts';
import { systemClock, type Clock } from '../../../core/clock.ts';
import type { ImageStore, StoredImage } from '../../../images/index.ts';
import type { Driver, InstanceSpec, ObservedInstance, StopOptions } from '../driver.ts';
import { probeAccel, type AccelProbeResult } from './accel-probe.ts';
import type { ConsoleAttachOptions } from './console-hub.ts';
import { createDiskImages } from './disk-images.ts';
import { fitSpecToHost, readHostCpus, type HostCpus } from './host-fit.ts';
import { readJson, writeJsonAtomic, type InstanceSpecFile } from './instance-files.ts';
import { instancesDir, isSafeServerId } from './instance-paths.ts';
import { createRuntimes, type Runtime } from './instance-runtimes.ts';
import { renderSeed, writeSeedIso } from './nocloud-seed.ts';
import { observePower } from './observe.ts';
import { applyPinning, inspectPinning, planPinning, type PinResult, type VcpuThread } from './pinning.ts';
import { qemuArgv, type Accel, type NicConfig } from './qemu-argv.ts';
import { findInstanceQemus, kill, spawnQemu, waitForExit } from './qemu-process.ts';
import { createSnapshotOperations, type DiskSnapshot, type ExportedDisk, type ExportOptions } from './snapshots.ts';

/** Host networking for instances (implemented by src/network): a tap on the host bridge per server. */
export interface InstanceNetwork {
  /** Creates the server's tap if missing; null when the server gets no NIC. */
  attach(spec: InstanceSpec): Promise<NicConfig | null>;
  /** Removes the server's tap and its rules. */
  detach(serverId: string): Promise<void>;
}

export interface QemuDriverOptions {
  /** Per-instance state: `<stateDir>/instances/<serverId>/`. Keep it short: unix socket paths ≤ 107 bytes. */
  stateDir: string;
  imageStore: ImageStore;
  /** `auto` (default) probes KVM with a short timeout and falls back to TCG. */
  accel?: Accel | 'auto';
  log?: Logger;
  clock?: Clock;
  network?: InstanceNetwork;
  qemuBinary?: string;
  qemuImgBinary?: string;
  /** Online threads and NUMA nodes; read from /sys when absent. */
  hostCpus?: HostCpus;
  /** Called when an instance changes by itself (QEMU exited, guest shut down or panicked). */
  onChange?: (serverId: string) => void;
  /**
   * Run QEMU inside this network namespace (`ip netns exec`), where the bridge and taps live. Tests build
   * hosts this way; the QMP and console sockets stay reachable, being filesystem paths.
   */
  netns?: string;
}

export interface QemuDriver extends Driver {
  /** The accelerator in use (probed once). */
  accel(): Promise<AccelProbeResult>;
  /** A duplex stream of the serial console (guest output out, keystrokes in). The server must run. */
  attachConsole(serverId: string, options?: ConsoleAttachOptions): Promise<Duplex>;
  /** The serial console output of the current boot (or the previous one), kept on disk. */
  consoleLog(serverId: string, options?: { previousBoot?: boolean }): Promise<string>;
  /** The vCPU pinning of a running instance, re-read from /proc now; null when it does not run. */
  pinning(serverId: string): Promise<PinResult | null>;
  /** The pid of the instance's QEMU process, or null. */
  processId(serverId: string): Promise<number | null>;
  createSnapshot(serverId: string, name: string): Promise<DiskSnapshot>;
  listSnapshots(serverId: string): Promise<DiskSnapshot[]>;
  /** Reverts the disk to a snapshot; the server must be stopped (`conflict`, reason `server_running`). */
  restoreSnapshot(serverId: string, name: string): Promise<void>;
  deleteSnapshot(serverId: string, name: string): Promise<void>;
  /** Writes a standalone copy of the disk (base included) to `destinationPath`; running or stopped. */
  exportDisk(serverId: string, destinationPath: string, options?: ExportOptions): Promise<ExportedDisk>;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const maxUnixSocketPathBytes = 107;
const quitTimeoutMs = 5000;
const killTimeoutMs = 5000;

async function readTail(path: string, bytes: number): Promise<string> {
  try {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, bytes);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      return buffer.toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}

function checkSpec(spec: InstanceSpec): void {
  if (!isSafeServerId(spec.serverId)) throw invalid(`server id ${JSON.stringify(spec.serverId)} is not usable as an instance name`);
  if (!Number.isInteger(spec.vcpus) || spec.vcpus < 1) throw invalid('vcpus must be a positive integer');
  if (!Number.isInteger(spec.memoryMiB) || spec.memoryMiB < 128) throw invalid('memoryMiB must be at least 128 (smaller guests die silently)');
  if (!Number.isInteger(spec.diskGiB) || spec.diskGiB < 1) throw invalid('diskGiB must be a positive integer');
}

export function createQemuDriver(options: QemuDriverOptions): QemuDriver {
  const log = (options.log ?? silentLogger).child({ driver: 'qemu' });
  const clock = options.clock ?? systemClock;
  const qemuBinary = options.qemuBinary ?? 'qemu-system-x86_64';
  const disks = createDiskImages(options.qemuImgBinary);
  const runtimes = createRuntimes({ stateDir: options.stateDir, log, clock, onChange: options.onChange });
  const transitions = new Map<string, 'starting' | 'stopping'>();
  let accelProbe: Promise<AccelProbeResult> | null = null;
  let hostCpus: Promise<HostCpus> | null = null;

  const accel = () => {
    const requested = options.accel ?? 'auto';
    accelProbe ??= requested === 'auto'
      ? probeAccel({ qemuBinary }).then((result) => {
          log.info({ accel: result.accel, reason: result.reason }, 'accelerator chosen');
          return result;
        })
      : Promise.resolve({ accel: requested, reason: 'configured' });
    return accelProbe;
  };
  const host = () => (hostCpus ??= options.hostCpus ? Promise.resolve(options.hostCpus) : readHostCpus());

  const withTransition = async <T>(serverId: string, transition: 'starting' | 'stopping', body: () => Promise<T>) => {
    transitions.set(serverId, transition);
    try {
      return await body();
    } finally {
      transitions.delete(serverId);
    }
  };

  const createDisk = async (spec: InstanceSpec, image: StoredImage, diskPath: string) => {
    const sizeBytes = Math.max(spec.diskGiB * GiB, image.format === 'iso' ? 0 : image.virtualSizeBytes);
    if (image.format === 'iso') await disks.createBlank(diskPath, sizeBytes);
    else await disks.createOverlay(diskPath, image.diskPath, image.format, sizeBytes);
  };

  /** spec.json of the instance, creating its directory and disk the first time. */
  const ensureCreated = async (spec: InstanceSpec): Promise<InstanceSpecFile> => {
    const paths = runtimes.paths(spec.serverId);
    if (Buffer.byteLength(paths.consoleSocket) > maxUnixSocketPathBytes) {
      throw invalid(`state directory ${options.stateDir} is too long: unix socket paths must stay within ${maxUnixSocketPathBytes} bytes`);
    }
    const existing = await readJson<InstanceSpecFile>(paths.specFile);
    if (existing) {
      if (JSON.stringify(existing.spec) !== JSON.stringify(spec)) {
        await writeJsonAtomic(paths.specFile, { ...existing, spec });
        return { ...existing, spec };
      }
      return existing;
    }
    const image = await options.imageStore.require(spec.image);
    await mkdir(paths.dir, { recursive: true });
    await rm(paths.disk, { force: true });
    await createDisk(spec, image, paths.disk);
    const specFile: InstanceSpecFile = { spec, image, createdAt: clock.nowIso() };
    await writeJsonAtomic(paths.specFile, specFile);
    log.info({ serverId: spec.serverId, image: image.slug, diskGiB: spec.diskGiB }, 'instance disk created');
    return specFile;
  };

  const pinAndContinue = async (runtime: Runtime, spec: InstanceSpec): Promise<PinResult> => {
    const cpus = await runtime.qmp.execute<{ 'cpu-index': number; 'thread-id': number }[]>('query-cpus-fast');
    const threads: VcpuThread[] = cpus.map((cpu) => ({ cpuIndex: cpu['cpu-index'], threadId: cpu['thread-id'] }));
    const plan = planPinning(threads, spec.threads, new Set((await host()).threads));
    const result = await applyPinning(runtime.pid, plan, { nowIso: clock.nowIso() });
    for (const pin of result.vcpus) if (pin.warning) log.warn({ serverId: spec.serverId, vcpu: pin.vcpu }, pin.warning);
    if (!result.verified) log.error({ serverId: spec.serverId, pinning: result.vcpus }, 'vCPU pinning did not take effect');
    await writeJsonAtomic(runtimes.paths(spec.serverId).pinFile, result);
    await runtime.qmp.execute('cont');
    return result;
  };

  const spawnInstance = async (specFile: InstanceSpecFile): Promise<void> => {
    const { spec, image } = specFile;
    const paths = runtimes.paths(spec.serverId);
    const { spec: fitted, warnings } = fitSpecToHost(spec, await host());
    for (const warning of warnings) log.warn({ serverId: spec.serverId }, warning);
    const nic = options.network ? await options.network.attach(spec) : null;
    await writeSeedIso(paths.seed, renderSeed(spec, { mac: nic?.mac ?? null }));
    await runtimes.removeSockets(spec.serverId);
    await rm(paths.pidFile, { force: true });
    await rename(paths.consoleLog, paths.previousConsoleLog).catch(() => {});
    const argv = qemuArgv(fitted, {
      accel: (await accel()).accel,
      paths,
      kernelBoot: image.boot ? { kernel: image.boot.kernelPath, initrd: image.boot.initrdPath, append: image.boot.append } : null,
      cdrom: image.format === 'iso' ? image.diskPath : null,
      seed: true,
      nic,
    });
    await runtimes.updateState(spec.serverId, (state) => ({ ...state, lastShutdown: null, lastExit: null }));
    const spawned = options.netns
      ? spawnQemu('ip', ['netns', 'exec', options.netns, qemuBinary, ...argv], paths.qemuLog)
      : spawnQemu(qemuBinary, argv, paths.qemuLog);
    log.info({ serverId: spec.serverId, pid: spawned.pid }, 'QEMU spawned');
    let exited = false;
    void spawned.exited.then((exit) => {
      exited = true;
      log.info({ serverId: spec.serverId, pid: spawned.pid, ...exit }, 'QEMU exited');
      void runtimes
        .updateState(spec.serverId, (state) => ({ ...state, lastExit: { code: exit.code, signal: exit.signal, atIso: clock.nowIso() } }))
        .catch(() => {});
    });
    const exitedDuringStart = spawned.exited.then(() => Promise.reject(new Error('QEMU exited during start')));
    exitedDuringStart.catch(() => {});
    let runtime: Runtime;
    try {
      runtime = await Promise.race([runtimes.connect(spec.serverId, spawned.pid), exitedDuringStart]);
    } catch (error) {
      if (!exited) kill(spawned.pid, 'SIGKILL');
      const qemuLog = (await readTail(paths.qemuLog, 2000)).trim().split('\n').slice(-3).join(' | ');
      throw new VmcError('internal', `QEMU failed to start: ${qemuLog || (error as Error).message}`, { reason: 'qemu_start_failed', cause: error });
    }
    // Hold the console before the guest runs, so that live viewers miss nothing of the boot.
    await runtimes.consoleOf(runtime).catch((error: Error) => log.warn({ serverId: spec.serverId, error: error.message }, 'console not connected'));
    const pinning = await pinAndContinue(runtime, spec);
    log.info({ serverId: spec.serverId, pid: spawned.pid, pinned: pinning.vcpus.filter((pin) => pin.pinned).length, verified: pinning.verified }, 'instance started');
  };

  /** Makes sure no QEMU of this instance runs: quit over QMP, then SIGKILL. */
  const forceOff = async (serverId: string, runtime: Runtime | null) => {
    const pids = new Set(await findInstanceQemus(runtimes.paths(serverId).qmpSocket));
    if (runtime) {
      pids.add(runtime.pid);
      await runtime.qmp.execute('quit').catch(() => {});
    }
    for (const pid of pids) {
      if (await waitForExit(pid, quitTimeoutMs)) continue;
      log.warn({ serverId, pid }, 'QEMU ignored quit: SIGKILL');
      kill(pid, 'SIGKILL');
      await waitForExit(pid, killTimeoutMs);
    }
    runtimes.forget(serverId);
    await runtimes.removeSockets(serverId);
  };

  const requireRunning = async (serverId: string): Promise<Runtime> => {
    const runtime = await runtimes.attach(serverId);
    if (!runtime) throw new VmcError('conflict', `server ${serverId} is not running on this host`, { reason: 'not_running' });
    return runtime;
  };

  const snapshots = createSnapshotOperations({ runtimes, disks, clock });

  const instanceIds = async (): Promise<string[]> =>
    (await readdir(instancesDir(options.stateDir), { withFileTypes: true }).catch(() => []))
      .filter((entry) => entry.isDirectory() && isSafeServerId(entry.name))
      .map((entry) => entry.name);

  return {
    name: 'qemu',
    accel,

    async list(): Promise<ObservedInstance[]> {
      const observed: ObservedInstance[] = [];
      for (const serverId of await instanceIds()) {
        const paths = runtimes.paths(serverId);
        if (!(await readJson<InstanceSpecFile>(paths.specFile))) continue; // half-created: start() will finish it
        const state = await runtimes.readState(serverId);
        let qmpStatus: string | null = null;
        const transition = transitions.get(serverId) ?? null;
        if (!transition) {
          try {
            // A process without a pid file can only be a start cut short: scan /proc only when it should run.
            const runtime = await runtimes.attach(serverId, { scan: state.intent === 'running' });
            if (runtime) qmpStatus = (await runtime.qmp.execute<{ status: string }>('query-status', undefined, { timeoutMs: 5000 })).status;
          } catch {
            qmpStatus = (await runtimes.findPid(serverId)) === null ? null : 'unreachable';
          }
        }
        const consoleTail = qmpStatus === null ? await readTail(paths.consoleLog, 512) : '';
        const { power, detail } = observePower({ transition, qmpStatus, state, consoleTail });
        observed.push({ serverId, power, rebootGeneration: state.rebootGeneration, ...(detail ? { detail } : {}) });
      }
      return observed;
    },

    start(spec, rebootGeneration) {
      checkSpec(spec);
      return runtimes.withLock(spec.serverId, () =>
        withTransition(spec.serverId, 'starting', async () => {
          const specFile = await ensureCreated(spec);
          await runtimes.updateState(spec.serverId, (state) => ({
            ...state,
            intent: 'running',
            rebootGeneration: Math.max(state.rebootGeneration, rebootGeneration),
          }));
          const runtime = await runtimes.attach(spec.serverId);
          if (runtime) {
            const { status } = await runtime.qmp.execute<{ status: string }>('query-status');
            if (status === 'prelaunch') {
              log.info({ serverId: spec.serverId, pid: runtime.pid }, 'found QEMU paused before boot (agent restarted mid-start): pinning and continuing');
              await runtimes.consoleOf(runtime).catch(() => null);
              await pinAndContinue(runtime, spec);
              return;
            }
            if (status === 'paused') {
              await runtime.qmp.execute('cont');
              return;
            }
            if (status === 'running' || status === 'suspended') return;
            log.warn({ serverId: spec.serverId, status }, 'QEMU is in a dead state: replacing it');
            await forceOff(spec.serverId, runtime);
          }
          await spawnInstance(specFile);
        }),
      );
    },

    stop(serverId, stopOptions: StopOptions) {
      return runtimes.withLock(serverId, () =>
        withTransition(serverId, 'stopping', async () => {
          if (!(await readJson<InstanceSpecFile>(runtimes.paths(serverId).specFile))) return;
          await runtimes.updateState(serverId, (state) => ({ ...state, intent: 'stopped' }));
          const runtime = await runtimes.attach(serverId);
          if (!runtime) {
            await forceOff(serverId, null);
            return;
          }
          const { status } = await runtime.qmp.execute<{ status: string }>('query-status').catch(() => ({ status: 'unknown' }));
          if (status === 'running') {
            await runtime.qmp.execute('system_powerdown');
            if (await waitForExit(runtime.pid, stopOptions.gracefulTimeoutMs)) {
              runtimes.forget(serverId);
              await runtimes.removeSockets(serverId);
              log.info({ serverId }, 'instance stopped by ACPI power-off');
              return;
            }
            log.warn({ serverId, gracefulTimeoutMs: stopOptions.gracefulTimeoutMs }, 'guest ignored ACPI power-off: forcing off');
          }
          await forceOff(serverId, runtime);
          log.info({ serverId }, 'instance stopped');
        }),
      );
    },

    reboot(serverId, rebootGeneration) {
      return runtimes.withLock(serverId, async () => {
        const state = await runtimes.readState(serverId);
        if (rebootGeneration <= state.rebootGeneration) return;
        const runtime = await runtimes.attach(serverId);
        if (runtime) {
          await runtime.qmp.execute('system_reset');
          log.info({ serverId, rebootGeneration }, 'instance reset');
        }
        // A stopped instance satisfies a reboot request with its next fresh boot.
        await runtimes.updateState(serverId, (current) => ({ ...current, rebootGeneration: Math.max(current.rebootGeneration, rebootGeneration) }));
      });
    },

    destroy(serverId) {
      if (!isSafeServerId(serverId)) return Promise.reject(invalid(`server id ${JSON.stringify(serverId)} is invalid`));
      return runtimes.withLock(serverId, async () => {
        const paths = runtimes.paths(serverId);
        const runtime = await runtimes.attach(serverId).catch(() => null);
        await forceOff(serverId, runtime);
        await options.network?.detach(serverId);
        // Rename first: late writers (a QEMU exit or event being recorded) then miss instead of racing rm.
        const tombstone = join(instancesDir(options.stateDir), `.${serverId}.deleted-${randomBytes(4).toString('hex')}`);
        await rename(paths.dir, tombstone).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error;
        });
        await rm(tombstone, { recursive: true, force: true, maxRetries: 5 });
        log.info({ serverId }, 'instance destroyed');
      });
    },

    async close() {
      runtimes.closeAll();
    },

    async attachConsole(serverId, attachOptions) {
      const runtime = await requireRunning(serverId);
      return (await runtimes.consoleOf(runtime)).attach(attachOptions);
    },

    async consoleLog(serverId, logOptions = {}) {
      if (!isSafeServerId(serverId)) throw invalid('invalid server id');
      const paths = runtimes.paths(serverId);
      return readTail(logOptions.previousBoot ? paths.previousConsoleLog : paths.consoleLog, 4 * MiB);
    },

    async pinning(serverId) {
      const runtime = await runtimes.attach(serverId).catch(() => null);
      if (!runtime) return null;
      const saved = await readJson<PinResult>(runtimes.paths(serverId).pinFile);
      return saved ? inspectPinning(runtime.pid, saved, clock.nowIso()) : null;
    },

    async processId(serverId) {
      if (!isSafeServerId(serverId)) return null;
      return runtimes.findPid(serverId);
    },

    createSnapshot: (serverId, name) => runtimes.withLock(serverId, () => snapshots.create(serverId, name)),
    listSnapshots: (serverId) => snapshots.list(serverId),
    restoreSnapshot: (serverId, name) => runtimes.withLock(serverId, () => snapshots.restore(serverId, name)),
    deleteSnapshot: (serverId, name) => runtimes.withLock(serverId, () => snapshots.remove(serverId, name)),
    exportDisk: (serverId, destinationPath, exportOptions) =>
      runtimes.withLock(serverId, () => snapshots.exportDisk(serverId, destinationPath, exportOptions)),
  };
}
