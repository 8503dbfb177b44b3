/**
 * Where the QEMU driver keeps volumes' data: a backend makes, grows and removes a volume's storage and says
 * how QEMU opens it (the `-blockdev` nodes, also given to QMP `blockdev-add` for a hot-plug). The driver's
 * attach, detach and resize logic is the same for every backend.
 *
 * `local-qcow2`: a qcow2 file per volume in the host's volume pool (`<stateDir>/volumes/<id>.qcow2`),
 * encrypted with qcow2's LUKS (AES-256-XTS) under the volume's key when one is given, like server disks
 * (disk-images.ts): the passphrase reaches qemu-img as a `secret` object read from a 0600 file, and QEMU
 * through the `key-secret` named in the qcow2 node (the secret object itself is the caller's).
 * A Ceph RBD backend would open `{ driver: 'rbd', pool, image, … }` instead (QEMU speaks RBD natively),
 * create and grow with `rbd create/resize`, and claim no host disk (docs/adr/0006-volume-backends.md).
 */
import { access, mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createDiskImages, type DiskKey } from './disk-images.ts';

export interface VolumeBackend {
  readonly name: string;
  /** Creates the volume's storage (empty, `sizeBytes`) if missing; encrypted under `key` when given. */
  create(volumeId: string, sizeBytes: number, key: DiskKey): Promise<void>;
  /**
   * Creates the volume's storage (`sizeBytes` at least) filled by `fill`, which writes a qcow2 (LUKS under
   * `key`) at the path it is given; the volume exists only once all of it worked.
   */
  createFrom?(volumeId: string, sizeBytes: number, key: DiskKey, fill: (path: string) => Promise<void>): Promise<void>;
  /** Grows storage not in use by a running QEMU (a running one is grown by QMP `block_resize`). */
  grow(volumeId: string, sizeBytes: number, key: DiskKey): Promise<void>;
  remove(volumeId: string): Promise<void>;
  exists(volumeId: string): Promise<boolean>;
  /** The file holding the volume's qcow2, for backends that have one (a stopped server's backup reads it). */
  fileOf?(volumeId: string): string;
  /**
   * The block nodes that open the volume, lowest first; the last one is named `nodeName` and is what the
   * guest device uses. `keySecretId`: the QEMU `secret` object holding the passphrase of an encrypted
   * volume (null: a plain one).
   */
  nodes(volumeId: string, nodeName: string, keySecretId: string | null): Record<string, unknown>[];
}

export function localQcow2Backend(options: {
  poolDir: string;
  qemuImgBinary?: string;
  /** Where qemu-img reads volume keys from (0700; each file deleted when qemu-img exits). */
  secretsDir?: string;
}): VolumeBackend {
  const fileOf = (volumeId: string) => join(options.poolDir, `${volumeId}.qcow2`);
  const images = createDiskImages(options.qemuImgBinary, options.secretsDir ?? join(options.poolDir, '.secrets'));
  return {
    name: 'local-qcow2',
    fileOf,
    async create(volumeId, sizeBytes, key) {
      if (await this.exists(volumeId)) return;
      await mkdir(options.poolDir, { recursive: true });
      const temp = `${fileOf(volumeId)}.creating`;
      await rm(temp, { force: true });
      await images.createBlank(temp, sizeBytes, key);
      // Renamed once complete: a crash mid-create leaves no half volume under the real name.
      await rename(temp, fileOf(volumeId));
    },
    async createFrom(volumeId, sizeBytes, key, fill) {
      if (await this.exists(volumeId)) return;
      await mkdir(options.poolDir, { recursive: true });
      const temp = `${fileOf(volumeId)}.creating`;
      await rm(temp, { force: true });
      try {
        await fill(temp);
        const info = await images.info(temp, { format: 'qcow2', forceShare: false });
        if (info['virtual-size'] < sizeBytes) await images.grow(temp, sizeBytes, key);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
      await rename(temp, fileOf(volumeId));
    },
    async grow(volumeId, sizeBytes, key) {
      await images.grow(fileOf(volumeId), sizeBytes, key);
    },
    async remove(volumeId) {
      await rm(fileOf(volumeId), { force: true });
    },
    async exists(volumeId) {
      return access(fileOf(volumeId)).then(
        () => true,
        () => false,
      );
    },
    nodes(volumeId, nodeName, keySecretId) {
      return [
        { driver: 'file', 'node-name': `${nodeName}f`, filename: fileOf(volumeId), discard: 'unmap' },
        {
          driver: 'qcow2',
          'node-name': nodeName,
          file: `${nodeName}f`,
          discard: 'unmap',
          ...(keySecretId === null ? {} : { encrypt: { format: 'luks', 'key-secret': keySecretId } }),
        },
      ];
    },
  };
}
