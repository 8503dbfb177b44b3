/**
 * What the host API needs from a driver: the console, boot logs, snapshots, export and pinning of the QEMU
 * driver. The sim driver has none of these; the host API then answers 409 `unsupported`.
 */
import type { Duplex } from 'node:stream';
import type {
  ConsoleAttachOptions,
  DiskSnapshot,
  ExportedDisk,
  ExportOptions,
  PinResult,
  QemuDriver,
} from '../../compute/drivers/qemu/index.ts';

export type HostFeatureDriver = Pick<
  QemuDriver,
  | 'attachConsole'
  | 'consoleLog'
  | 'createSnapshot'
  | 'listSnapshots'
  | 'restoreSnapshot'
  | 'deleteSnapshot'
  | 'exportDisk'
  | 'pinning'
>;

/**
 * Disk backups and restores into restic repositories (the QEMU driver's `backupDisk`/`restoreDisk`),
 * optional: a driver without them answers 409 `unsupported` on the backup routes.
 */
export type HostBackupDriver = Pick<QemuDriver, 'backupDisk' | 'restoreDisk'>;

/** The driver's backup methods when it has them. */
export function backupFeaturesOf(driver: object | null | undefined): HostBackupDriver | null {
  if (!driver) return null;
  const record = driver as Record<string, unknown>;
  return typeof record.backupDisk === 'function' && typeof record.restoreDisk === 'function'
    ? (driver as HostBackupDriver)
    : null;
}

export type { ConsoleAttachOptions, DiskSnapshot, Duplex, ExportedDisk, ExportOptions, PinResult };

const featureMethods = [
  'attachConsole',
  'consoleLog',
  'createSnapshot',
  'listSnapshots',
  'restoreSnapshot',
  'deleteSnapshot',
  'exportDisk',
  'pinning',
] as const;

/** The driver itself when it has every host feature (the QEMU driver), else null (the sim driver). */
export function hostFeaturesOf(driver: object | null | undefined): HostFeatureDriver | null {
  if (!driver) return null;
  const record = driver as Record<string, unknown>;
  return featureMethods.every((method) => typeof record[method] === 'function') ? (driver as HostFeatureDriver) : null;
}
