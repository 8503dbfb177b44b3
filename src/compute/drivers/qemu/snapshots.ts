/**
 * Disk snapshots and export. Snapshots are qcow2 *internal* snapshots of the instance's overlay (disk only,
 * no RAM): taken online with QMP `blockdev-snapshot-internal-sync` (atomic, a few ms) or offline with
 * `qemu-img snapshot`; they live inside disk.qcow2, so they go with the instance and vanish with destroy.
 * Restore needs the server stopped (QEMU cannot swap a running disk under the guest). Export flattens the
 * overlay and its base into one standalone qcow2 (or raw); from a running server it reads a temporary
 * internal snapshot, so the copy is crash-consistent while the guest keeps writing.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm, stat } from 'node:fs/promises';
import { VmcError, invalid, notFound } from '../../../core/errors.ts';
import type { Clock } from '../../../core/clock.ts';
import type { DiskImages, DiskKey, QemuImgSnapshot } from './disk-images.ts';
import type { Runtimes } from './instance-runtimes.ts';
import { readJson, type InstanceSpecFile } from './instance-files.ts';
import { blockdevSnapshotDeleteInternalSync, blockdevSnapshotInternalSync } from './qmp-commands.ts';

export interface DiskSnapshot {
  name: string;
  /** qcow2 snapshot id (a small integer as text). */
  id: string;
  createdAt: string;
  /** Bytes of saved RAM state: always 0 for these disk-only snapshots. */
  vmStateBytes: number;
}

export interface ExportOptions {
  format?: 'qcow2' | 'raw';
  /** qcow2 compression: smaller, much slower (≈15× on random data). */
  compress?: boolean;
  /**
   * Keep the export encrypted: a LUKS qcow2 under this passphrase (a fresh key the owner is handed once,
   * never the disk's own key). Absent: the export is decrypted (plain qcow2 or raw).
   */
  encryptionKey?: string;
}

export interface ExportedDisk {
  path: string;
  format: 'qcow2' | 'raw';
  sizeBytes: number;
  virtualSizeBytes: number;
  /** Whether the server was running (the export is then crash-consistent). */
  fromRunningServer: boolean;
  /** Whether the export is LUKS-encrypted (under `ExportOptions.encryptionKey`); absent means plain. */
  encrypted?: boolean;
}

/** The block node of the instance's disk (`-blockdev` node-name in `qemuArgv`). */
const rootDiskNode = 'disk0';
const snapshotNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const exportSnapshotPrefix = 'vmcloud-export-';

export function toDiskSnapshot(snapshot: QemuImgSnapshot): DiskSnapshot {
  return {
    name: snapshot.name,
    id: snapshot.id,
    createdAt: new Date(snapshot['date-sec'] * 1000 + Math.floor(snapshot['date-nsec'] / 1e6)).toISOString(),
    vmStateBytes: snapshot['vm-state-size'],
  };
}

export function createSnapshotOperations(deps: {
  runtimes: Runtimes;
  disks: DiskImages;
  clock: Clock;
  /** The disk key of an instance (null for a plain disk). */
  keyOf: (serverId: string, specFile: InstanceSpecFile) => DiskKey;
}) {
  const { runtimes, disks } = deps;

  const requireInstance = async (serverId: string) => {
    const paths = runtimes.paths(serverId);
    const specFile = await readJson<InstanceSpecFile>(paths.specFile);
    if (!specFile) throw notFound('server', serverId);
    return paths;
  };
  const keyFor = async (serverId: string): Promise<DiskKey> => {
    const specFile = await readJson<InstanceSpecFile>(runtimes.paths(serverId).specFile);
    if (!specFile) throw notFound('server', serverId);
    return deps.keyOf(serverId, specFile);
  };
  const checkName = (name: string) => {
    if (!snapshotNamePattern.test(name) || name.startsWith(exportSnapshotPrefix)) {
      throw invalid(`snapshot name ${JSON.stringify(name)} is invalid: letters, digits, '.', '_', '-', at most 64`, {
        fields: [{ field: 'name', message: 'invalid snapshot name' }],
      });
    }
  };
  const listOn = async (diskPath: string): Promise<DiskSnapshot[]> =>
    ((await disks.info(diskPath, { format: 'qcow2', forceShare: true })).snapshots ?? []).map(toDiskSnapshot);

  const list = async (serverId: string): Promise<DiskSnapshot[]> => {
    const paths = await requireInstance(serverId);
    return (await listOn(paths.disk)).filter((snapshot) => !snapshot.name.startsWith(exportSnapshotPrefix));
  };

  const createOn = async (serverId: string, diskPath: string, name: string) => {
    const runtime = await runtimes.attach(serverId);
    if (runtime) await blockdevSnapshotInternalSync(runtime.qmp, { device: rootDiskNode, name });
    else await disks.snapshotCreate(diskPath, name, await keyFor(serverId));
  };
  const deleteOn = async (serverId: string, diskPath: string, name: string) => {
    const runtime = await runtimes.attach(serverId);
    if (runtime) await blockdevSnapshotDeleteInternalSync(runtime.qmp, { device: rootDiskNode, name });
    else await disks.snapshotDelete(diskPath, name, await keyFor(serverId));
  };

  return {
    list,

    async create(serverId: string, name: string): Promise<DiskSnapshot> {
      checkName(name);
      const paths = await requireInstance(serverId);
      if ((await listOn(paths.disk)).some((snapshot) => snapshot.name === name)) {
        throw new VmcError('conflict', `server ${serverId} already has a snapshot named ${name}`, {
          reason: 'snapshot_exists',
        });
      }
      await createOn(serverId, paths.disk, name);
      const created = (await listOn(paths.disk)).find((snapshot) => snapshot.name === name);
      if (!created) throw new VmcError('internal', `snapshot ${name} was not recorded in the disk`);
      return created;
    },

    async restore(serverId: string, name: string): Promise<void> {
      const paths = await requireInstance(serverId);
      if (await runtimes.attach(serverId)) {
        throw new VmcError('conflict', `stop server ${serverId} before restoring a snapshot`, {
          reason: 'server_running',
        });
      }
      if (!(await listOn(paths.disk)).some((snapshot) => snapshot.name === name)) throw notFound('snapshot', name);
      await disks.snapshotApply(paths.disk, name, await keyFor(serverId));
    },

    async remove(serverId: string, name: string): Promise<void> {
      const paths = await requireInstance(serverId);
      if (!(await listOn(paths.disk)).some((snapshot) => snapshot.name === name)) throw notFound('snapshot', name);
      await deleteOn(serverId, paths.disk, name);
    },

    async exportDisk(serverId: string, destinationPath: string, options: ExportOptions = {}): Promise<ExportedDisk> {
      const paths = await requireInstance(serverId);
      const format = options.format ?? 'qcow2';
      if (options.encryptionKey !== undefined && format !== 'qcow2')
        throw invalid('an encrypted export is a qcow2 (raw has no encryption header)', {
          fields: [{ field: 'format', message: 'must be qcow2 to keep the export encrypted' }],
        });
      const key = await keyFor(serverId);
      const partial = `${destinationPath}.partial-${randomBytes(4).toString('hex')}`;
      const running = (await runtimes.attach(serverId)) !== null;
      try {
        if (running) {
          const temporary = `${exportSnapshotPrefix}${randomBytes(4).toString('hex')}`;
          await createOn(serverId, paths.disk, temporary);
          try {
            await disks.convert(paths.disk, partial, {
              format,
              fromSnapshot: temporary,
              forceShare: true,
              compress: options.compress,
              key,
              encryptWith: options.encryptionKey,
            });
          } finally {
            await deleteOn(serverId, paths.disk, temporary);
          }
        } else {
          await disks.convert(paths.disk, partial, {
            format,
            forceShare: false,
            compress: options.compress,
            key,
            encryptWith: options.encryptionKey,
          });
        }
        await rename(partial, destinationPath);
      } catch (error) {
        await rm(partial, { force: true });
        throw error;
      }
      const info = await disks.info(destinationPath, { format, forceShare: false });
      return {
        path: destinationPath,
        format,
        sizeBytes: (await stat(destinationPath)).size,
        virtualSizeBytes: info['virtual-size'],
        fromRunningServer: running,
        encrypted: options.encryptionKey !== undefined,
      };
    },
  };
}
