/**
 * What the driver keeps on disk per instance, so a restarted agent knows everything without asking QEMU:
 * `spec.json` (the spec and the image it was created from) and `state.json` (reboot generation, whether the
 * instance should be running, the last shutdown QEMU reported). Writes are atomic (temp file + rename).
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { InstanceSpec } from '../driver.ts';
import type { StoredImage } from '../../../images/index.ts';

export interface InstanceSpecFile {
  /** The spec without its disk key (keys live in the driver's memory only). */
  spec: InstanceSpec;
  image: StoredImage;
  createdAt: string;
  /** Whether disk.qcow2 is LUKS-encrypted (absent in files written before disks were encrypted). */
  encrypted?: boolean;
  /** The rebuild generation of disk.qcow2 (`spec.diskGeneration` when it was created). */
  diskGeneration?: number;
}

/** The spec as spec.json keeps it: without the disk key. */
export function specWithoutKey(spec: InstanceSpec): InstanceSpec {
  const { diskKey: _key, ...rest } = spec;
  return rest;
}

export interface InstanceStateFile {
  rebootGeneration: number;
  /** What the driver last converged to: a QEMU process that is gone while `running` is a crash. */
  intent: 'running' | 'stopped';
  /** The last SHUTDOWN event QEMU sent while the driver was attached. */
  lastShutdown: { guest: boolean; reason: string; atIso: string } | null;
  /** Why the last QEMU process ended, when the driver saw it end (exit code or signal). */
  lastExit: { code: number | null; signal: string | null; atIso: string } | null;
}

export const initialState: InstanceStateFile = {
  rebootGeneration: 0,
  intent: 'stopped',
  lastShutdown: null,
  lastExit: null,
};

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, JSON.stringify(value, null, 2) + '\n');
  await rename(temp, path);
}

export async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
