/**
 * Volumes of the QEMU driver: a per-host pool (`<stateDir>/volumes/`) holding each volume's data through a
 * backend (volume-backend.ts) and a small record of its size and attachment (`<id>.json`). Attach to a
 * running instance hot-plugs it (`blockdev-add` + `device_add` of a virtio-blk-pci device); detach unplugs
 * it (`device_del`, then waits for `DEVICE_DELETED`: the guest released it) and closes its nodes; resize of
 * a plugged volume is `block_resize`. A stopped instance gets its volumes on its next start (startArgs).
 *
 * Every volume this driver creates is encrypted at rest (qcow2 LUKS, AES-256-XTS) under its own key, which
 * the control plane sends with the host's desired volumes (`learn`) and this process keeps in memory only.
 * QEMU gets it as a `secret` object read from a 0600 file deleted right after: `-object secret,…,file=` at
 * start (deleted once QMP answers), QMP `object-add` before the `blockdev-add` of a hot-plug (deleted when
 * the command returns), `object-del` after the nodes closed on detach. Never in argv, QMP messages or logs.
 * Volumes made before encryption (records without `encrypted`) keep working unencrypted.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { VmcError, conflict, invalid, notFound } from '../../../core/errors.ts';
import type { Logger } from '../../../core/log.ts';
import type { DriverVolume } from '../driver.ts';
import type { DesiredVolumeSource } from '../../../contract/agent.ts';
import { readJson, writeJsonAtomic } from './instance-files.ts';
import type { Runtime } from './instance-runtimes.ts';
import {
  blockdevAdd,
  blockdevDel,
  blockResize,
  deviceAdd,
  deviceDel,
  objectDel,
  queryStatus,
  secretObjectAdd,
  waitForQmpEvent,
} from './qmp-commands.ts';
import { writeSecretFile, type SecretFile } from './secret-files.ts';
import type { VolumeBackend } from './volume-backend.ts';
import type { BackupVolumeSource } from './backup.ts';

const GiB = 1024 * 1024 * 1024;

export const volumePoolDir = (stateDir: string) => join(stateDir, 'volumes');

/** Volume ids are file names and QEMU ids: only what ids are made of. */
export const isSafeVolumeId = (volumeId: string) => /^vol_[0-9a-z]{1,60}$/.test(volumeId);

/** QEMU names of a volume's objects (node names ≤ 31 characters; a virtio serial ≤ 20 bytes). */
export function volumeQemuNames(volumeId: string) {
  const suffix = volumeId.slice(4);
  return {
    node: `v${suffix}`.slice(0, 30),
    device: `vd-${suffix}`,
    serial: suffix.slice(-20),
    secret: `vk-${suffix}`,
  };
}

/** A volume's record in the pool: what drivers report, and whether its data is encrypted. */
interface VolumeRecordFile extends DriverVolume {
  encrypted?: boolean;
}

const reported = (record: VolumeRecordFile): DriverVolume => ({
  volumeId: record.volumeId,
  sizeGiB: record.sizeGiB,
  serverId: record.serverId,
});

export interface VolumeOperationsDeps {
  stateDir: string;
  backend: VolumeBackend;
  log: Logger;
  /** Serializes with the instance's own operations (start, stop, destroy). */
  withLock<T>(serverId: string, body: () => Promise<T>): Promise<T>;
  /** Whether the driver has this instance (created, running or not). */
  hasInstance(serverId: string): Promise<boolean>;
  /** The QMP runtime of the instance when its QEMU runs, else null. */
  runtimeOf(serverId: string): Promise<Runtime | null>;
  /** How long a guest may take to release an unplugged device (default 30 s). */
  unplugTimeoutMs?: number;
  /** Where volume keys are written for QEMU to read (0700; each file deleted once read). */
  secretsDir: string;
  /**
   * Writes a volume's first content from its source into a new qcow2 at `destination`, LUKS-encrypted
   * under `key` (a server disk's internal snapshot, or a backup); absent: volumes are made empty only.
   */
  fill?: (source: DesiredVolumeSource, destination: string, key: string) => Promise<void>;
}

/** The `-object`/`-blockdev`/`-device` arguments of an instance's volumes, and the key files to delete once QEMU started. */
export interface VolumeStartArgs {
  args: string[];
  keyFiles: SecretFile[];
}

export function createVolumeOperations(deps: VolumeOperationsDeps) {
  const pool = volumePoolDir(deps.stateDir);
  const recordPath = (volumeId: string) => join(pool, `${volumeId}.json`);
  const read = (volumeId: string) => readJson<VolumeRecordFile>(recordPath(volumeId));
  const write = (volume: VolumeRecordFile) => writeJsonAtomic(recordPath(volume.volumeId), volume);
  /** Volume keys by volume id, from the desired state: memory only. */
  const keys = new Map<string, string>();
  /** The key of an encrypted volume (null for a plain one); refused while the desired state did not bring it. */
  const keyOf = (volume: VolumeRecordFile): string | null => {
    if (!volume.encrypted) return null;
    const key = keys.get(volume.volumeId);
    if (!key)
      throw new VmcError(
        'unavailable',
        `the key of volume ${volume.volumeId} has not reached this host yet (it comes with the desired state); try again`,
        { reason: 'volume_key_unknown' },
      );
    return key;
  };
  const nodesOf = (volume: VolumeRecordFile) => {
    const names = volumeQemuNames(volume.volumeId);
    return deps.backend.nodes(volume.volumeId, names.node, volume.encrypted ? names.secret : null);
  };
  const check = (volumeId: string) => {
    if (!isSafeVolumeId(volumeId)) throw invalid(`volume id ${JSON.stringify(volumeId)} is not usable`);
  };
  const require = async (volumeId: string) => {
    check(volumeId);
    const volume = await read(volumeId);
    if (!volume) throw notFound('volume', volumeId);
    return volume;
  };

  /** A running QEMU (not paused before boot), or null. */
  const running = async (serverId: string): Promise<Runtime | null> => {
    const runtime = await deps.runtimeOf(serverId).catch(() => null);
    if (!runtime) return null;
    const { status } = await queryStatus(runtime.qmp).catch(() => ({ status: 'unknown' }));
    return status === 'prelaunch' || status === 'unknown' ? null : runtime;
  };

  async function plug(runtime: Runtime, volume: VolumeRecordFile) {
    const names = volumeQemuNames(volume.volumeId);
    const key = keyOf(volume);
    if (key !== null) {
      // A secret left by an earlier attempt that failed after its object-add goes first (the id is reused).
      await objectDel(runtime.qmp, names.secret).catch(() => {});
      const file = await writeSecretFile(deps.secretsDir, key);
      try {
        await secretObjectAdd(runtime.qmp, names.secret, file.path);
      } finally {
        await file.remove();
      }
    }
    try {
      for (const node of nodesOf(volume)) await blockdevAdd(runtime.qmp, node);
      await deviceAdd(runtime.qmp, {
        driver: 'virtio-blk-pci',
        id: names.device,
        drive: names.node,
        serial: names.serial,
      });
    } catch (error) {
      // Nothing half-plugged stays behind: the next attempt starts clean.
      await closeNodes(runtime, volume);
      throw error;
    }
  }

  async function unplug(runtime: Runtime, volume: VolumeRecordFile) {
    const names = volumeQemuNames(volume.volumeId);
    const released = waitForQmpEvent(
      runtime.qmp,
      'DEVICE_DELETED',
      deps.unplugTimeoutMs ?? 30_000,
      (data) => data.device === names.device,
    );
    released.catch(() => {});
    try {
      await deviceDel(runtime.qmp, names.device);
    } catch (error) {
      // Not plugged (a previous unplug finished, or it was never plugged): nothing to wait for.
      if (!/not found/i.test((error as Error).message)) throw error;
      await released.catch(() => {});
      return closeNodes(runtime, volume);
    }
    await released.catch((error: unknown) => {
      throw new VmcError(
        'unavailable',
        `the guest did not release volume ${volume.volumeId}: ${(error as Error).message}`,
        {
          reason: 'unplug_timeout',
        },
      );
    });
    await closeNodes(runtime, volume);
  }

  async function closeNodes(runtime: Runtime, volume: VolumeRecordFile) {
    for (const node of [...nodesOf(volume)].reverse())
      await blockdevDel(runtime.qmp, String(node['node-name'])).catch(() => {});
    if (volume.encrypted) await objectDel(runtime.qmp, volumeQemuNames(volume.volumeId).secret).catch(() => {});
  }

  const records = async (): Promise<VolumeRecordFile[]> => {
    const names = await readdir(pool).catch(() => [] as string[]);
    const out: VolumeRecordFile[] = [];
    for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
      const volume = await read(name.slice(0, -5));
      if (volume) out.push(volume);
    }
    return out;
  };

  return {
    async list(): Promise<DriverVolume[]> {
      return (await records()).map(reported);
    },

    /** Volume keys from the desired state (kept in memory; a volume missing from the list keeps its key). */
    learn(volumeKeys: { volumeId: string; key: string }[]) {
      for (const { volumeId, key } of volumeKeys) keys.set(volumeId, key);
    },

    /** Whether the volume's data is encrypted (null: no such volume). */
    async encrypted(volumeId: string): Promise<boolean | null> {
      check(volumeId);
      const volume = await read(volumeId);
      return volume ? volume.encrypted === true : null;
    },

    async create(volumeId: string, sizeGiB: number, source?: DesiredVolumeSource) {
      check(volumeId);
      if (await read(volumeId)) return;
      const key = keys.get(volumeId);
      if (!key)
        throw invalid(`volume ${volumeId} has no key in the desired state: every volume is encrypted`, {
          reason: 'volume_key_missing',
        });
      if (source) {
        const { fill } = deps;
        if (!fill || !deps.backend.createFrom)
          throw new VmcError('conflict', `this host cannot fill volume ${volumeId} from a ${source.kind}`, {
            reason: source.kind === 'snapshot' ? 'snapshots_unsupported' : 'backups_unsupported',
          });
        await deps.backend.createFrom(volumeId, sizeGiB * GiB, key, (path) => fill(source, path, key));
      } else await deps.backend.create(volumeId, sizeGiB * GiB, key);
      // The record is written last: a volume is listed once its storage exists.
      await write({ volumeId, sizeGiB, serverId: null, encrypted: true });
      deps.log.info(
        { volumeId, sizeGiB, backend: deps.backend.name, encrypted: true, source: source?.kind ?? null },
        'volume created',
      );
    },

    async resize(volumeId: string, sizeGiB: number) {
      const volume = await require(volumeId);
      if (sizeGiB <= volume.sizeGiB) return;
      const grow = async () => {
        const current = (await read(volumeId)) ?? volume;
        const runtime = current.serverId ? await running(current.serverId) : null;
        if (runtime) await blockResize(runtime.qmp, volumeQemuNames(volumeId).node, sizeGiB * GiB);
        else await deps.backend.grow(volumeId, sizeGiB * GiB, keyOf(current));
        await write({ ...current, sizeGiB });
        deps.log.info({ volumeId, sizeGiB, online: runtime !== null }, 'volume grown');
      };
      await (volume.serverId ? deps.withLock(volume.serverId, grow) : grow());
    },

    async attach(volumeId: string, serverId: string) {
      const volume = await require(volumeId);
      if (volume.serverId === serverId) return;
      if (volume.serverId !== null)
        throw conflict(`volume ${volumeId} is attached to ${volume.serverId}`, { reason: 'volume_attached' });
      await deps.withLock(serverId, async () => {
        if (!(await deps.hasInstance(serverId)))
          throw new VmcError('unavailable', `no instance ${serverId} on this host to attach ${volumeId} to`, {
            reason: 'no_instance',
          });
        const runtime = await running(serverId);
        if (runtime) await plug(runtime, volume);
        await write({ ...volume, serverId });
        deps.log.info({ volumeId, serverId, hot: runtime !== null }, 'volume attached');
      });
    },

    async detach(volumeId: string) {
      check(volumeId);
      const volume = await read(volumeId);
      if (!volume || volume.serverId === null) return;
      const serverId = volume.serverId;
      await deps.withLock(serverId, async () => {
        const runtime = await running(serverId);
        if (runtime) await unplug(runtime, volume);
        await write({ ...volume, serverId: null });
        deps.log.info({ volumeId, serverId, hot: runtime !== null }, 'volume detached');
      });
    },

    async remove(volumeId: string) {
      check(volumeId);
      const volume = await read(volumeId);
      if (!volume) return;
      if (volume.serverId !== null)
        throw conflict(`volume ${volumeId} is attached to ${volume.serverId}; detach it first`, {
          reason: 'volume_attached',
        });
      // The record first: a crash in between leaves storage without a record, which create() reuses.
      await rm(recordPath(volumeId), { force: true });
      await deps.backend.remove(volumeId);
      keys.delete(volumeId);
      deps.log.info({ volumeId }, 'volume deleted');
    },

    /** The instance is gone: its volumes are detached (their data stays). Call under the instance's lock. */
    async forgetInstance(serverId: string) {
      for (const volume of await records())
        if (volume.serverId === serverId) await write({ ...volume, serverId: null });
    },

    /** The volumes attached to an instance as a backup reads them (their node, file, key and size). */
    async backupSources(serverId: string): Promise<BackupVolumeSource[]> {
      return (await records())
        .filter((volume) => volume.serverId === serverId)
        .map((volume) => ({
          volumeId: volume.volumeId,
          node: volumeQemuNames(volume.volumeId).node,
          file: deps.backend.fileOf?.(volume.volumeId) ?? null,
          // A running server's volumes are read through QEMU: only a stopped one's need the key (undefined: not
          // known yet, after an agent restart until the desired state brings it).
          key: volume.encrypted ? keys.get(volume.volumeId) : null,
          sizeBytes: volume.sizeGiB * GiB,
        }));
    },

    /**
     * The arguments of the volumes attached to an instance, for its start: per encrypted volume a `secret`
     * object read from a fresh 0600 key file (the caller deletes `keyFiles` once QEMU answers on QMP).
     */
    async startArgs(serverId: string): Promise<VolumeStartArgs> {
      const out: VolumeStartArgs = { args: [], keyFiles: [] };
      try {
        for (const volume of await records()) {
          if (volume.serverId !== serverId) continue;
          const names = volumeQemuNames(volume.volumeId);
          const key = keyOf(volume);
          if (key !== null) {
            const file = await writeSecretFile(deps.secretsDir, key);
            out.keyFiles.push(file);
            out.args.push('-object', `secret,id=${names.secret},file=${file.path.replaceAll(',', ',,')}`);
          }
          for (const node of nodesOf(volume)) out.args.push('-blockdev', JSON.stringify(node));
          out.args.push('-device', `virtio-blk-pci,drive=${names.node},id=${names.device},serial=${names.serial}`);
        }
      } catch (error) {
        for (const file of out.keyFiles) await file.remove();
        throw error;
      }
      return out;
    },
  };
}

export type VolumeOperations = ReturnType<typeof createVolumeOperations>;
