/**
 * The QEMU driver: every instance is a detached QEMU process driven over its private QMP socket.
 * start: qcow2 overlay on the image's base + NoCloud seed → spawn with -S → query-cpus-fast → pin each vCPU
 * thread → cont. stop: ACPI power button, wait, quit, SIGKILL. State lives on disk per instance, so a
 * restarted agent re-attaches to running QEMU processes without rebooting them.
 *
 * Every disk it creates is a LUKS-encrypted qcow2 (AES-256-XTS) under the key the control plane sends in
 * the desired state (`spec.diskKey`). Keys stay in this process's memory; QEMU and qemu-img read them from
 * 0600 files on tmpfs deleted as soon as they are read (secret-files.ts): never argv, never logs.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Duplex } from 'node:stream';
import { VmcError, invalid, notFound } from '../../../core/errors.ts';
import { silentLogger, type Logger } from '../../../core/log.ts';
import { systemClock, type Clock } from '../../../core/clock.ts';
import type { ImageStore, StoredImage } from '../../../images/index.ts';
import type { Driver, InstanceSpec, InstanceUsage, ObservedInstance, PrivateNicSpec, StopOptions } from '../driver.ts';
import type { DesiredVolumeSource } from '../../../contract/agent.ts';
import { probeAccel, type AccelProbeResult } from './accel-probe.ts';
import type { ConsoleAttachOptions } from './console-hub.ts';
import { createDiskImages } from './disk-images.ts';
import { fitSpecToHost, readHostCpus, type HostCpus } from './host-fit.ts';
import { readJson, specWithoutKey, writeJsonAtomic, type InstanceSpecFile } from './instance-files.ts';
import { defaultSecretsDir, sweepSecretFiles, writeSecretFile } from './secret-files.ts';
import { instancesDir, isSafeServerId } from './instance-paths.ts';
import { createRuntimes, type Runtime } from './instance-runtimes.ts';
import { checkSeedInputs, renderSeed, writeSeedIso } from './nocloud-seed.ts';
import { observePower } from './observe.ts';
import { applyPinning, inspectPinning, planPinning, type PinResult, type VcpuThread } from './pinning.ts';
import { qemuArgv, type Accel, type NicConfig } from './qemu-argv.ts';
import {
  cont,
  queryBlock,
  queryBlockstats,
  queryCpusFast,
  queryStatus,
  quit,
  systemPowerdown,
  systemReset,
} from './qmp-commands.ts';
import { findInstanceQemus, kill, spawnQemu, waitForExit } from './qemu-process.ts';
import { createBackupOperations } from './backup.ts';
import type { BackupOutcome, HostBackupRequest, HostRestoreRequest } from '../../../backups/index.ts';
import { createSnapshotOperations, type DiskSnapshot, type ExportedDisk, type ExportOptions } from './snapshots.ts';
import { localQcow2Backend, type VolumeBackend } from './volume-backend.ts';
import { createVolumeOperations, volumePoolDir } from './volumes.ts';
import { createPrivateNicSync } from './private-nics.ts';
import { processUsage, sumBlockStats, tapCounters } from './usage.ts';

/** Host networking for instances (implemented by src/network): a tap on the host bridge per server. */
export interface InstanceNetwork {
  /** Creates the server's tap if missing; null when the server gets no NIC. */
  attach(spec: InstanceSpec): Promise<NicConfig | null>;
  /** Removes the server's tap and its rules. */
  detach(serverId: string): Promise<void>;
  /** The name of the server's tap on the host (its counters are the server's network bytes). */
  tapOf?(serverId: string): string;
}

/** SR-IOV VFs on the host (implemented by src/network/sriov-vf.ts): MAC, VLAN and vfio-pci before QEMU starts. */
export interface InstanceVfs {
  prepare(spec: InstanceSpec): Promise<void>;
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
  /**
   * Sets up the server's SR-IOV VFs (`spec.vfDevices`) before each start. Absent (hosts without SR-IOV,
   * tests): the claimed VFs are passed to QEMU as they are.
   */
  vfs?: InstanceVfs;
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
  /** Where volumes' data lives (default: qcow2 files in `<stateDir>/volumes/`). */
  volumeBackend?: VolumeBackend;
  /** How long a guest may take to release an unplugged volume (default 30 s). */
  volumeUnplugTimeoutMs?: number;
  /** Where disk keys are written for QEMU and qemu-img to read (0700; files deleted after use). */
  secretsDir?: string;
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
  /** Volume keys from the desired state (memory only); a volume is created and opened with its key. */
  learnVolumeKeys(keys: { volumeId: string; key: string }[]): void;
  /** Whether a volume of the pool is encrypted at rest (null: no such volume). */
  volumeEncrypted(volumeId: string): Promise<boolean | null>;
  /** The volumes plugged into the running instance now, as QEMU lists them (`query-block`). */
  pluggedVolumes(serverId: string): Promise<{ volumeId: string; sizeBytes: number }[]>;
  /** Backs the disk up into a restic repository, incrementally after the first (src/compute/drivers/qemu/backup.ts). */
  backupDisk(serverId: string, request: HostBackupRequest): Promise<BackupOutcome>;
  /** Replaces the disk with a backup's; stops the instance first (the agent starts it again if it should run). */
  restoreDisk(serverId: string, request: HostRestoreRequest): Promise<{ durationMs: number }>;
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
  if (!isSafeServerId(spec.serverId))
    throw invalid(`server id ${JSON.stringify(spec.serverId)} is not usable as an instance name`);
  if (!Number.isInteger(spec.vcpus) || spec.vcpus < 1) throw invalid('vcpus must be a positive integer');
  if (!Number.isInteger(spec.memoryMiB) || spec.memoryMiB < 128)
    throw invalid('memoryMiB must be at least 128 (smaller guests die silently)');
  if (!Number.isInteger(spec.diskGiB) || spec.diskGiB < 1) throw invalid('diskGiB must be a positive integer');
  // Before anything is created: a hostname or SSH key that would break out of the seed's YAML is refused.
  checkSeedInputs(spec);
}

export function createQemuDriver(options: QemuDriverOptions): QemuDriver {
  const log = (options.log ?? silentLogger).child({ driver: 'qemu' });
  const clock = options.clock ?? systemClock;
  const qemuBinary = options.qemuBinary ?? 'qemu-system-x86_64';
  const secretsDir = options.secretsDir ?? defaultSecretsDir(options.stateDir);
  // Key files a killed predecessor left behind (written, not yet read by its QEMU) go now.
  const stale = sweepSecretFiles(secretsDir);
  if (stale > 0) log.warn({ secretsDir, files: stale }, 'removed disk key files left by a previous agent');
  const disks = createDiskImages(options.qemuImgBinary, secretsDir);
  /** Disk keys by server, from the desired state: memory only. */
  const keys = new Map<string, string>();
  const learnKey = (spec: InstanceSpec) => {
    if (spec.diskKey) keys.set(spec.serverId, spec.diskKey);
  };
  /** The key of an instance's disk: null for a plain disk (made before encryption); refused if unknown. */
  const keyOf = (serverId: string, specFile: InstanceSpecFile): string | null => {
    if (!specFile.encrypted) return null;
    const key = keys.get(serverId);
    if (!key)
      throw new VmcError(
        'unavailable',
        `the disk key of server ${serverId} has not reached this host yet (it comes with the desired state); try again`,
        { reason: 'disk_key_unknown' },
      );
    return key;
  };
  const runtimes = createRuntimes({ stateDir: options.stateDir, log, clock, onChange: options.onChange });
  /** The private-network NICs of each server as the last network pass gave them (plugged at its next boot). */
  const wantedPrivateNics = new Map<string, PrivateNicSpec[]>();
  const transitions = new Map<string, 'starting' | 'stopping'>();
  let accelProbe: Promise<AccelProbeResult> | null = null;
  let hostCpus: Promise<HostCpus> | null = null;

  const accel = () => {
    const requested = options.accel ?? 'auto';
    accelProbe ??=
      requested === 'auto'
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

  const createDisk = async (spec: InstanceSpec, image: StoredImage, diskPath: string, key: string) => {
    const sizeBytes = Math.max(spec.diskGiB * GiB, image.format === 'iso' ? 0 : image.virtualSizeBytes);
    if (image.format === 'iso') await disks.createBlank(diskPath, sizeBytes, key);
    else await disks.createOverlay(diskPath, image.diskPath, image.format, sizeBytes, key);
  };

  /** A new disk for the instance from `spec.image`, encrypted under `spec.diskKey`; spec.json rewritten. */
  const createInstanceDisk = async (spec: InstanceSpec, createdAt: string): Promise<InstanceSpecFile> => {
    const paths = runtimes.paths(spec.serverId);
    if (!spec.diskKey)
      throw invalid(`server ${spec.serverId} has no disk key in its desired state: every disk is encrypted`, {
        reason: 'disk_key_missing',
      });
    const image = await options.imageStore.require(spec.image);
    await mkdir(paths.dir, { recursive: true });
    await rm(paths.disk, { force: true });
    await createDisk(spec, image, paths.disk, spec.diskKey);
    const specFile: InstanceSpecFile = {
      spec: specWithoutKey(spec),
      image,
      createdAt,
      encrypted: true,
      diskGeneration: spec.diskGeneration ?? 0,
    };
    await writeJsonAtomic(paths.specFile, specFile);
    return specFile;
  };

  /** Whether `spec` asks for a rebuilt disk (a newer disk generation than the one on the host). */
  const wantsRebuild = (existing: InstanceSpecFile, spec: InstanceSpec) =>
    (spec.diskGeneration ?? 0) > (existing.diskGeneration ?? 0);
  /** Whether the running instance must be powered off and booted again to follow `spec`. */
  const needsColdRestart = (existing: InstanceSpecFile, spec: InstanceSpec) =>
    wantsRebuild(existing, spec) || (spec.iso ?? null) !== (existing.spec.iso ?? null);

  /** Grows a stopped instance's disk to `spec.diskGiB` (a resize to a larger product); never shrinks. */
  const growDisk = async (specFile: InstanceSpecFile) => {
    const paths = runtimes.paths(specFile.spec.serverId);
    const wantedBytes = specFile.spec.diskGiB * GiB;
    const info = await disks.info(paths.disk, { format: 'qcow2', forceShare: false });
    if (info['virtual-size'] >= wantedBytes) return;
    await disks.grow(paths.disk, wantedBytes, keyOf(specFile.spec.serverId, specFile));
    log.info({ serverId: specFile.spec.serverId, diskGiB: specFile.spec.diskGiB }, 'instance disk grown');
  };

  /** spec.json of the instance, creating its directory and disk the first time. */
  const ensureCreated = async (spec: InstanceSpec): Promise<InstanceSpecFile> => {
    const paths = runtimes.paths(spec.serverId);
    if (Buffer.byteLength(paths.consoleSocket) > maxUnixSocketPathBytes) {
      throw invalid(
        `state directory ${options.stateDir} is too long: unix socket paths must stay within ${maxUnixSocketPathBytes} bytes`,
      );
    }
    learnKey(spec);
    const existing = await readJson<InstanceSpecFile>(paths.specFile);
    const stored = specWithoutKey(spec);
    if (existing && wantsRebuild(existing, spec)) {
      // The caller powered the instance off: the old disk (and its snapshots) is replaced.
      const rebuilt = await createInstanceDisk(spec, existing.createdAt);
      log.info({ serverId: spec.serverId, image: spec.image, diskGeneration: rebuilt.diskGeneration }, 'disk rebuilt');
      return rebuilt;
    }
    if (existing) {
      if (JSON.stringify(existing.spec) !== JSON.stringify(stored)) {
        await writeJsonAtomic(paths.specFile, { ...existing, spec: stored });
        return { ...existing, spec: stored };
      }
      return existing;
    }
    const specFile = await createInstanceDisk(spec, clock.nowIso());
    log.info({ serverId: spec.serverId, image: spec.image, diskGiB: spec.diskGiB }, 'instance disk created');
    return specFile;
  };

  const pinAndContinue = async (runtime: Runtime, spec: InstanceSpec): Promise<PinResult> => {
    const cpus = await queryCpusFast(runtime.qmp);
    const threads: VcpuThread[] = cpus.map((cpu) => ({ cpuIndex: cpu['cpu-index'], threadId: cpu['thread-id'] }));
    const plan = planPinning(threads, spec.threads, new Set((await host()).threads));
    const result = await applyPinning(runtime.pid, plan, { nowIso: clock.nowIso() });
    for (const pin of result.vcpus) if (pin.warning) log.warn({ serverId: spec.serverId, vcpu: pin.vcpu }, pin.warning);
    if (!result.verified)
      log.error({ serverId: spec.serverId, pinning: result.vcpus }, 'vCPU pinning did not take effect');
    await writeJsonAtomic(runtimes.paths(spec.serverId).pinFile, result);
    await cont(runtime.qmp);
    return result;
  };

  const spawnInstance = async (specFile: InstanceSpecFile): Promise<void> => {
    const { spec, image } = specFile;
    const paths = runtimes.paths(spec.serverId);
    await growDisk(specFile);
    const key = keyOf(spec.serverId, specFile);
    const iso = spec.iso ? await options.imageStore.require(spec.iso) : null;
    if (iso && iso.format !== 'iso') throw invalid(`image ${spec.iso} is not an ISO image`, { reason: 'not_an_iso' });
    const { spec: fitted, warnings } = fitSpecToHost(spec, await host());
    for (const warning of warnings) log.warn({ serverId: spec.serverId }, warning);
    const nic = options.network ? await options.network.attach(spec) : null;
    if (options.vfs && (spec.vfDevices?.length ?? 0) > 0) await options.vfs.prepare(spec);
    // Private-network NICs known from the last network pass (their taps are in place): plugged at boot and
    // configured by the seed's network-config; the NIC sync takes them as plugged.
    const bootNics = (wantedPrivateNics.get(spec.serverId) ?? []).filter(
      (n): n is PrivateNicSpec & { address: string } => n.address !== undefined,
    );
    await writeSeedIso(
      paths.seed,
      renderSeed(spec, {
        mac: nic?.mac ?? null,
        privateNics: bootNics.map((n) => ({
          mac: n.mac,
          address: n.address,
          mtu: n.mtu ?? 1450,
          routes: n.routes ?? [],
        })),
      }),
    );
    await runtimes.removeSockets(spec.serverId);
    await rm(paths.pidFile, { force: true });
    await rename(paths.consoleLog, paths.previousConsoleLog).catch(() => {});
    const volumeStart = await volumes.startArgs(spec.serverId);
    const accelerator = (await accel()).accel;
    await runtimes.updateState(spec.serverId, (state) => ({ ...state, lastShutdown: null, lastExit: null }));
    const diskKeyFile = key === null ? null : await writeSecretFile(secretsDir, key);
    // The disk's and the volumes' key files: all read by QEMU before its monitor answers.
    const keyFile = {
      path: diskKeyFile?.path ?? null,
      remove: async () => {
        await diskKeyFile?.remove();
        for (const file of volumeStart.keyFiles) await file.remove();
      },
    };
    const baseArgv = qemuArgv(fitted, {
      accel: accelerator,
      paths,
      // An attached ISO boots instead of the image's kernel (a rescue or install boot).
      kernelBoot:
        image.boot && !iso
          ? { kernel: image.boot.kernelPath, initrd: image.boot.initrdPath, append: image.boot.append }
          : null,
      cdrom: iso ? iso.diskPath : image.format === 'iso' ? image.diskPath : null,
      seed: true,
      nic,
      privateNics: bootNics,
      diskKeyFile: keyFile.path,
    });
    const argv = [...baseArgv, ...volumeStart.args];
    let spawned: ReturnType<typeof spawnQemu>;
    try {
      spawned = options.netns
        ? spawnQemu('ip', ['netns', 'exec', options.netns, qemuBinary, ...argv], paths.qemuLog)
        : spawnQemu(qemuBinary, argv, paths.qemuLog);
    } catch (error) {
      await keyFile.remove();
      throw error;
    }
    log.info({ serverId: spec.serverId, pid: spawned.pid }, 'QEMU spawned');
    let exited = false;
    void spawned.exited.then((exit) => {
      exited = true;
      log.info({ serverId: spec.serverId, pid: spawned.pid, ...exit }, 'QEMU exited');
      void runtimes
        .updateState(spec.serverId, (state) => ({
          ...state,
          lastExit: { code: exit.code, signal: exit.signal, atIso: clock.nowIso() },
        }))
        .catch(() => {});
    });
    const exitedDuringStart = spawned.exited.then(() => Promise.reject(new Error('QEMU exited during start')));
    exitedDuringStart.catch(() => {});
    let runtime: Runtime;
    try {
      // QEMU answers on its monitor only after it created every -object: the key file is read by then.
      runtime = await Promise.race([runtimes.connect(spec.serverId, spawned.pid), exitedDuringStart]);
      await keyFile.remove();
    } catch (error) {
      await keyFile.remove();
      if (!exited) kill(spawned.pid, 'SIGKILL');
      const qemuLog = (await readTail(paths.qemuLog, 2000)).trim().split('\n').slice(-3).join(' | ');
      throw new VmcError('internal', `QEMU failed to start: ${qemuLog || (error as Error).message}`, {
        reason: 'qemu_start_failed',
        cause: error,
      });
    }
    privateNics.adopt(spec.serverId, runtime.qmp, bootNics);
    // Hold the console before the guest runs, so that live viewers miss nothing of the boot.
    await runtimes
      .consoleOf(runtime)
      .catch((error: Error) => log.warn({ serverId: spec.serverId, error: error.message }, 'console not connected'));
    const pinning = await pinAndContinue(runtime, spec);
    log.info(
      {
        serverId: spec.serverId,
        pid: spawned.pid,
        pinned: pinning.vcpus.filter((pin) => pin.pinned).length,
        verified: pinning.verified,
      },
      'instance started',
    );
  };

  /** Makes sure no QEMU of this instance runs: quit over QMP, then SIGKILL. */
  const forceOff = async (serverId: string, runtime: Runtime | null) => {
    const pids = new Set(await findInstanceQemus(runtimes.paths(serverId).qmpSocket));
    if (runtime) {
      pids.add(runtime.pid);
      await quit(runtime.qmp).catch(() => {});
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
    if (!runtime)
      throw new VmcError('conflict', `server ${serverId} is not running on this host`, { reason: 'not_running' });
    return runtime;
  };

  const snapshots = createSnapshotOperations({ runtimes, disks, clock, keyOf });
  const volumes = createVolumeOperations({
    stateDir: options.stateDir,
    backend:
      options.volumeBackend ??
      localQcow2Backend({ poolDir: volumePoolDir(options.stateDir), qemuImgBinary: options.qemuImgBinary, secretsDir }),
    log,
    withLock: (serverId, body) => runtimes.withLock(serverId, body),
    hasInstance: async (serverId) =>
      isSafeServerId(serverId) && (await readJson<InstanceSpecFile>(runtimes.paths(serverId).specFile)) !== null,
    runtimeOf: (serverId) => runtimes.attach(serverId),
    unplugTimeoutMs: options.volumeUnplugTimeoutMs,
    secretsDir,
    fill: (source, destination, key) => fillVolume(source, destination, key),
  });
  const backups = createBackupOperations({
    runtimes,
    disks,
    clock,
    stateDir: options.stateDir,
    log,
    forceOff: async (serverId) => {
      // Stopped on purpose (not a crash): the agent starts it again when it should run.
      await runtimes.updateState(serverId, (state) => ({ ...state, intent: 'stopped' }));
      await forceOff(serverId, await runtimes.attach(serverId).catch(() => null));
    },
    keyOf: async (serverId) => {
      const specFile = await readJson<InstanceSpecFile>(runtimes.paths(serverId).specFile);
      return specFile ? keyOf(serverId, specFile) : null;
    },
    volumesOf: (serverId) => volumes.backupSources(serverId),
  });

  /**
   * A new volume's content: a server disk's internal snapshot copied out (`qemu-img convert -l
   * snapshot.name=…`, under the server's lock: the snapshot cannot go meanwhile), or a backup restored
   * (restic, raw assembly, import); either way a LUKS qcow2 under the volume's own key.
   */
  async function fillVolume(source: DesiredVolumeSource, destination: string, key: string): Promise<void> {
    if (source.kind === 'snapshot') {
      const serverId = source.serverId;
      if (!isSafeServerId(serverId)) throw notFound('server', serverId);
      await runtimes.withLock(serverId, async () => {
        const paths = runtimes.paths(serverId);
        const specFile = await readJson<InstanceSpecFile>(paths.specFile);
        if (!specFile) throw notFound('server', serverId);
        if (!(await snapshots.list(serverId)).some((snapshot) => snapshot.name === source.snapshot))
          throw new VmcError('not_found', `server ${serverId} has no snapshot ${source.snapshot}`, {
            reason: 'snapshot_not_found',
          });
        await disks.convert(paths.disk, destination, {
          format: 'qcow2',
          fromSnapshot: source.snapshot,
          forceShare: true,
          key: keyOf(serverId, specFile),
          encryptWith: key,
        });
      });
      return;
    }
    if (!source.repository)
      throw new VmcError('unavailable', `no backup repository came with backup ${source.backupId}`, {
        reason: 'backup_repository_missing',
      });
    await backups.restoreInto(
      {
        restoreId: `vol-${source.backupId}-${randomBytes(4).toString('hex')}`,
        snapshot: source.snapshot,
        repository: source.repository,
        part: source.volumeId ?? null,
      },
      destination,
      key,
    );
  }

  const privateNics = createPrivateNicSync({
    withLock: (serverId, body) => runtimes.withLock(serverId, body),
    runtimeOf: async (serverId) => (isSafeServerId(serverId) ? runtimes.attach(serverId).catch(() => null) : null),
    log,
  });

  const instanceIds = async (): Promise<string[]> =>
    (await readdir(instancesDir(options.stateDir), { withFileTypes: true }).catch(() => []))
      .filter((entry) => entry.isDirectory() && isSafeServerId(entry.name))
      .map((entry) => entry.name);

  return {
    name: 'qemu',
    accel,

    async usage(): Promise<InstanceUsage[]> {
      const out: InstanceUsage[] = [];
      for (const serverId of await instanceIds()) {
        const runtime = await runtimes.attach(serverId).catch(() => null);
        if (!runtime) continue;
        const [process, blocks, net] = await Promise.all([
          processUsage(runtime.pid),
          queryBlockstats(runtime.qmp, { timeoutMs: 2000 }).catch(() => []),
          options.network?.tapOf
            ? tapCounters(options.network.tapOf(serverId))
            : Promise.resolve({ receiveBytes: 0, transmitBytes: 0 }),
        ]);
        const disk = sumBlockStats(blocks);
        out.push({
          serverId,
          cpuSeconds: process.cpuSeconds,
          memoryBytes: process.memoryBytes,
          diskReadBytes: disk.readBytes,
          diskWriteBytes: disk.writeBytes,
          diskReadOps: disk.readOps,
          diskWriteOps: disk.writeOps,
          networkReceiveBytes: net.receiveBytes,
          networkTransmitBytes: net.transmitBytes,
        });
      }
      return out;
    },

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
            if (runtime) qmpStatus = (await queryStatus(runtime.qmp, { timeoutMs: 5000 })).status;
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

    learn(specs) {
      for (const spec of specs) learnKey(spec);
    },

    start(spec, rebootGeneration) {
      checkSpec(spec);
      learnKey(spec);
      return runtimes.withLock(spec.serverId, () =>
        withTransition(spec.serverId, 'starting', async () => {
          const previous = await readJson<InstanceSpecFile>(runtimes.paths(spec.serverId).specFile);
          if (previous && needsColdRestart(previous, spec)) {
            // A rebuilt disk or another ISO: whatever runs of the old instance is powered off first.
            await forceOff(spec.serverId, await runtimes.attach(spec.serverId).catch(() => null));
          }
          const specFile = await ensureCreated(spec);
          await runtimes.updateState(spec.serverId, (state) => ({
            ...state,
            intent: 'running',
            rebootGeneration: Math.max(state.rebootGeneration, rebootGeneration),
          }));
          const runtime = await runtimes.attach(spec.serverId);
          if (runtime) {
            const { status } = await queryStatus(runtime.qmp);
            if (status === 'prelaunch') {
              log.info(
                { serverId: spec.serverId, pid: runtime.pid },
                'found QEMU paused before boot (agent restarted mid-start): pinning and continuing',
              );
              await runtimes.consoleOf(runtime).catch(() => null);
              await pinAndContinue(runtime, spec);
              return;
            }
            if (status === 'paused') {
              await cont(runtime.qmp);
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
      if (!isSafeServerId(serverId)) return Promise.reject(invalid(`server id ${JSON.stringify(serverId)} is invalid`));
      return runtimes.withLock(serverId, () =>
        withTransition(serverId, 'stopping', async () => {
          if (!(await readJson<InstanceSpecFile>(runtimes.paths(serverId).specFile))) return;
          await runtimes.updateState(serverId, (state) => ({ ...state, intent: 'stopped' }));
          const runtime = await runtimes.attach(serverId);
          if (!runtime) {
            await forceOff(serverId, null);
            return;
          }
          const status = await queryStatus(runtime.qmp).then(
            (info) => info.status,
            () => null,
          );
          // No grace period (a forced stop): pull the plug without pressing the ACPI button first.
          if (status === 'running' && stopOptions.gracefulTimeoutMs > 0) {
            await systemPowerdown(runtime.qmp);
            if (await waitForExit(runtime.pid, stopOptions.gracefulTimeoutMs)) {
              // The guest's SHUTDOWN event, which tells a clean power-off from a crash, is written by the QMP
              // listener: read every event up to the connection's end (bounded: QEMU is gone), then wait for
              // that write, so whoever looks next (the agent's report) sees a stopped instance, not a crashed one.
              await Promise.race([runtime.qmp.closed, delay(2000)]);
              await runtimes.stateWritten(serverId);
              runtimes.forget(serverId);
              await runtimes.removeSockets(serverId);
              log.info({ serverId }, 'instance stopped by ACPI power-off');
              return;
            }
            log.warn(
              { serverId, gracefulTimeoutMs: stopOptions.gracefulTimeoutMs },
              'guest ignored ACPI power-off: forcing off',
            );
          }
          await forceOff(serverId, runtime);
          log.info({ serverId }, 'instance stopped');
        }),
      );
    },

    reboot(serverId, rebootGeneration, spec) {
      if (!isSafeServerId(serverId)) return Promise.reject(invalid(`server id ${JSON.stringify(serverId)} is invalid`));
      if (spec) {
        if (spec.serverId !== serverId) return Promise.reject(invalid('the spec is of another server'));
        checkSpec(spec);
        learnKey(spec);
      }
      return runtimes.withLock(serverId, async () => {
        const existing = await readJson<InstanceSpecFile>(runtimes.paths(serverId).specFile);
        if (!existing) return; // no such instance
        const state = await runtimes.readState(serverId);
        if (rebootGeneration <= state.rebootGeneration) return;
        const runtime = await runtimes.attach(serverId);
        if (runtime && spec && needsColdRestart(existing, spec)) {
          // The reboot boots something else (a rebuilt disk, another ISO): power off, apply, boot again.
          await withTransition(serverId, 'starting', async () => {
            await forceOff(serverId, runtime);
            const specFile = await ensureCreated(spec);
            await runtimes.updateState(serverId, (current) => ({
              ...current,
              intent: 'running',
              rebootGeneration: Math.max(current.rebootGeneration, rebootGeneration),
            }));
            await spawnInstance(specFile);
          });
          log.info({ serverId, rebootGeneration }, 'instance restarted cold to apply its new spec');
          return;
        }
        if (runtime) {
          await systemReset(runtime.qmp);
          log.info({ serverId, rebootGeneration }, 'instance reset');
        }
        // A stopped instance satisfies a reboot request with its next fresh boot.
        await runtimes.updateState(serverId, (current) => ({
          ...current,
          rebootGeneration: Math.max(current.rebootGeneration, rebootGeneration),
        }));
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
        const tombstone = join(
          instancesDir(options.stateDir),
          `.${serverId}.deleted-${randomBytes(4).toString('hex')}`,
        );
        await rename(paths.dir, tombstone).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error;
        });
        await rm(tombstone, { recursive: true, force: true, maxRetries: 5 });
        await volumes.forgetInstance(serverId);
        keys.delete(serverId);
        log.info({ serverId }, 'instance destroyed');
      });
    },

    async close() {
      runtimes.closeAll();
      await rmdir(secretsDir).catch(() => {}); // only when empty: no start is writing a key now
    },

    syncPrivateNics: (serverId, nics) => {
      if (nics.length > 0) wantedPrivateNics.set(serverId, nics);
      else wantedPrivateNics.delete(serverId);
      return privateNics.sync(serverId, nics);
    },
    listVolumes: () => volumes.list(),
    learnVolumeKeys: (volumeKeys) => volumes.learn(volumeKeys),
    volumeEncrypted: (volumeId) => volumes.encrypted(volumeId),
    createVolume: (volumeId, sizeGiB, source) => volumes.create(volumeId, sizeGiB, source),
    resizeVolume: (volumeId, sizeGiB) => volumes.resize(volumeId, sizeGiB),
    attachVolume: (volumeId, serverId) => volumes.attach(volumeId, serverId),
    detachVolume: (volumeId) => volumes.detach(volumeId),
    deleteVolume: (volumeId) => volumes.remove(volumeId),

    async pluggedVolumes(serverId) {
      const runtime = await runtimes.attach(serverId).catch(() => null);
      if (!runtime) return [];
      const blocks = await queryBlock(runtime.qmp);
      return blocks.flatMap((block) => {
        const match = /^vd-(.+)$/.exec(block.qdev?.split('/').find((part) => part.startsWith('vd-')) ?? '');
        return match ? [{ volumeId: `vol_${match[1]}`, sizeBytes: block.inserted?.image?.['virtual-size'] ?? 0 }] : [];
      });
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
    backupDisk: (serverId, request) => runtimes.withLock(serverId, () => backups.backup(serverId, request)),
    restoreDisk: (serverId, request) => runtimes.withLock(serverId, () => backups.restore(serverId, request)),
  };
}
