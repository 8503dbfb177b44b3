/**
 * qemu-img operations on an instance's disk: the qcow2 overlay, internal snapshots of a stopped disk,
 * and export. While QEMU runs the image is locked; read-only inspection uses `-U` (force-share).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface QemuImgSnapshot {
  id: string;
  name: string;
  'vm-state-size': number;
  'date-sec': number;
  'date-nsec': number;
}

export interface DiskInfo {
  'virtual-size': number;
  'actual-size'?: number;
  format: string;
  snapshots?: QemuImgSnapshot[];
}

export function createDiskImages(qemuImg = 'qemu-img') {
  const run = async (args: string[], timeoutMs = 120_000) => {
    const { stdout } = await execFileAsync(qemuImg, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  };
  return {
    /** A qcow2 overlay on `base` (`baseFormat` given explicitly: never probed), of at least `sizeBytes`. */
    async createOverlay(path: string, base: string, baseFormat: 'qcow2' | 'raw', sizeBytes: number) {
      await run(['create', '-q', '-f', 'qcow2', '-F', baseFormat, '-b', base, path, String(sizeBytes)]);
    },
    async createBlank(path: string, sizeBytes: number) {
      await run(['create', '-q', '-f', 'qcow2', path, String(sizeBytes)]);
    },
    async info(path: string, forceShare: boolean): Promise<DiskInfo> {
      return JSON.parse(await run(['info', ...(forceShare ? ['-U'] : []), '--output=json', path])) as DiskInfo;
    },
    async snapshotCreate(path: string, name: string) {
      await run(['snapshot', '-c', name, path]);
    },
    async snapshotApply(path: string, name: string) {
      await run(['snapshot', '-a', name, path]);
    },
    async snapshotDelete(path: string, name: string) {
      await run(['snapshot', '-d', name, path]);
    },
    /** Flattens the disk (with its base) into a standalone image; from an internal snapshot when given. */
    async convert(path: string, destination: string, options: { format: 'qcow2' | 'raw'; fromSnapshot?: string; forceShare: boolean; compress?: boolean }) {
      await run(
        [
          'convert', '-q',
          ...(options.forceShare ? ['-U'] : []),
          '-f', 'qcow2',
          ...(options.fromSnapshot ? ['-l', `snapshot.name=${options.fromSnapshot}`] : []),
          '-O', options.format,
          ...(options.compress && options.format === 'qcow2' ? ['-c'] : []),
          path, destination,
        ],
        60 * 60 * 1000,
      );
    },
  };
}

export type DiskImages = ReturnType<typeof createDiskImages>;
