/** The QEMU driver and its pieces (QMP client, argv, pinning) for the host agent. */
export { createQemuDriver } from './qemu-driver.ts';
export type { InstanceNetwork, InstanceVfs, QemuDriver, QemuDriverOptions } from './qemu-driver.ts';
export type { ConsoleAttachOptions } from './console-hub.ts';
export type { DiskSnapshot, ExportedDisk, ExportOptions } from './snapshots.ts';
export type { PinResult, VcpuPin } from './pinning.ts';
export type { Accel, NicConfig } from './qemu-argv.ts';
export { qemuArgv } from './qemu-argv.ts';
export { probeAccel } from './accel-probe.ts';
export type { AccelProbeResult } from './accel-probe.ts';
export { connectQmp, QmpError } from './qmp-client.ts';
export type { QmpClient, QmpEvent } from './qmp-client.ts';
export * as qmp from './qmp-commands.ts';
export type {
  QmpEventData,
  QmpEventName,
  QmpRunState,
  QmpShutdownCause,
  QmpStatusInfo,
  TypedQmpEvent,
} from './qmp-commands.ts';
export { checkSeedInputs, isSafeSshKey, unsafeSeedCharacter } from './nocloud-seed.ts';
