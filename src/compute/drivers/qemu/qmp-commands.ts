/**
 * The QMP commands and events the driver uses, typed after the QEMU QMP reference (qemu-qmp-ref, QEMU 7.2):
 * one function per command with typed arguments and return value, and the events as a discriminated union.
 * This is the one place that spells QMP command names; the driver, snapshots and runtimes call these.
 * (`qmp_capabilities` is the handshake and lives in the client.)
 */
import type { QmpClient, QmpEvent } from './qmp-client.ts';

export interface QmpCallOptions {
  /** Overrides the client's default command timeout. */
  timeoutMs?: number;
}

/** QAPI `RunState`. */
export type QmpRunState =
  | 'debug'
  | 'inmigrate'
  | 'internal-error'
  | 'io-error'
  | 'paused'
  | 'postmigrate'
  | 'prelaunch'
  | 'finish-migrate'
  | 'restore-vm'
  | 'running'
  | 'save-vm'
  | 'shutdown'
  | 'suspended'
  | 'watchdog'
  | 'guest-panicked'
  | 'colo';

/** QAPI `StatusInfo` (`singlestep` is deprecated and gone in newer QEMU). */
export interface QmpStatusInfo {
  running: boolean;
  singlestep?: boolean;
  status: QmpRunState;
}

/** QAPI `CpuInfoFast`. */
export interface QmpCpuInfoFast {
  'cpu-index': number;
  'qom-path': string;
  'thread-id': number;
  target: string;
  props?: { 'node-id'?: number; 'socket-id'?: number; 'core-id'?: number; 'thread-id'?: number };
}

/** QAPI `BlockDeviceInfo` (the fields the driver may read). */
export interface QmpBlockDeviceInfo {
  file: string;
  'node-name'?: string;
  ro: boolean;
  drv: string;
  backing_file?: string;
  backing_file_depth: number;
  encrypted: boolean;
  /** QAPI `ImageInfo` of the node (its virtual size in bytes). */
  image?: { 'virtual-size': number; filename?: string; format?: string };
}

/** QAPI `BlockInfo`: one entry of `query-block`. */
export interface QmpBlockInfo {
  device: string;
  qdev?: string;
  type: string;
  removable: boolean;
  locked: boolean;
  inserted?: QmpBlockDeviceInfo;
  tray_open?: boolean;
  'io-status'?: 'ok' | 'failed' | 'nospace';
}

/** QAPI `SnapshotInfo`. */
export interface QmpSnapshotInfo {
  id: string;
  name: string;
  'vm-state-size': number;
  'date-sec': number;
  'date-nsec': number;
  'vm-clock-sec': number;
  'vm-clock-nsec': number;
  icount?: number;
}

/** QAPI `ShutdownCause`. */
export type QmpShutdownCause =
  | 'none'
  | 'host-error'
  | 'host-qmp-quit'
  | 'host-qmp-system-reset'
  | 'host-signal'
  | 'host-ui'
  | 'guest-shutdown'
  | 'guest-reset'
  | 'guest-panic'
  | 'subsystem-reset'
  | 'snapshot-load';

/** The names of the commands below, for fakes that answer them (`fake-qmp-server.ts`, `testdata/fake-qemu.ts`). */
export const qmpCommandNames = {
  queryStatus: 'query-status',
  queryCpusFast: 'query-cpus-fast',
  queryBlock: 'query-block',
  queryBlockstats: 'query-blockstats',
  cont: 'cont',
  stop: 'stop',
  systemPowerdown: 'system_powerdown',
  systemReset: 'system_reset',
  quit: 'quit',
  blockdevSnapshotInternalSync: 'blockdev-snapshot-internal-sync',
  blockdevSnapshotDeleteInternalSync: 'blockdev-snapshot-delete-internal-sync',
  blockdevAdd: 'blockdev-add',
  blockdevDel: 'blockdev-del',
  deviceAdd: 'device_add',
  deviceDel: 'device_del',
  blockResize: 'block_resize',
  objectAdd: 'object-add',
  objectDel: 'object-del',
  netdevAdd: 'netdev_add',
  netdevDel: 'netdev_del',
  queryNamedBlockNodes: 'query-named-block-nodes',
  queryJobs: 'query-jobs',
  jobDismiss: 'job-dismiss',
  blockDirtyBitmapRemove: 'block-dirty-bitmap-remove',
  blockdevBackup: 'blockdev-backup',
  transaction: 'transaction',
} as const;

export type QmpCommandName = (typeof qmpCommandNames)[keyof typeof qmpCommandNames];

const names = qmpCommandNames;

/** `query-status`: the VM's run state. */
export function queryStatus(qmp: QmpClient, options?: QmpCallOptions): Promise<QmpStatusInfo> {
  return qmp.execute<QmpStatusInfo>(names.queryStatus, undefined, options);
}

/** `query-cpus-fast`: every vCPU with its host thread id (without interrupting the vCPUs). */
export function queryCpusFast(qmp: QmpClient, options?: QmpCallOptions): Promise<QmpCpuInfoFast[]> {
  return qmp.execute<QmpCpuInfoFast[]>(names.queryCpusFast, undefined, options);
}

/** `query-block`: the block devices and what is inserted in them. */
export function queryBlock(qmp: QmpClient, options?: QmpCallOptions): Promise<QmpBlockInfo[]> {
  return qmp.execute<QmpBlockInfo[]>(names.queryBlock, undefined, options);
}

/** QAPI `BlockStats` (the counters the agent's metrics read). */
export interface QmpBlockStats {
  device?: string;
  'node-name'?: string;
  qdev?: string;
  stats: { rd_bytes: number; wr_bytes: number; rd_operations: number; wr_operations: number };
}

/** `query-blockstats`: I/O counters of every block device since QEMU started. */
export function queryBlockstats(qmp: QmpClient, options?: QmpCallOptions): Promise<QmpBlockStats[]> {
  return qmp.execute<QmpBlockStats[]>(names.queryBlockstats, undefined, options);
}

/** `cont`: resumes a VM paused by `-S`, `stop` or an error. */
export async function cont(qmp: QmpClient, options?: QmpCallOptions): Promise<void> {
  await qmp.execute(names.cont, undefined, options);
}

/** `stop`: pauses every vCPU (emits `STOP`). */
export async function stop(qmp: QmpClient, options?: QmpCallOptions): Promise<void> {
  await qmp.execute(names.stop, undefined, options);
}

/** `system_powerdown`: presses the ACPI power button (emits `POWERDOWN`); the guest decides what to do. */
export async function systemPowerdown(qmp: QmpClient, options?: QmpCallOptions): Promise<void> {
  await qmp.execute(names.systemPowerdown, undefined, options);
}

/** `system_reset`: a hard reset of the VM (emits `RESET`). */
export async function systemReset(qmp: QmpClient, options?: QmpCallOptions): Promise<void> {
  await qmp.execute(names.systemReset, undefined, options);
}

/** `quit`: QEMU exits at once (emits `SHUTDOWN` with reason `host-qmp-quit`). */
export async function quit(qmp: QmpClient, options?: QmpCallOptions): Promise<void> {
  await qmp.execute(names.quit, undefined, options);
}

/** `blockdev-snapshot-internal-sync`: an internal snapshot of a block node (atomic; a few ms). */
export async function blockdevSnapshotInternalSync(
  qmp: QmpClient,
  args: { device: string; name: string },
  options?: QmpCallOptions,
): Promise<void> {
  await qmp.execute(names.blockdevSnapshotInternalSync, { device: args.device, name: args.name }, options);
}

/** `blockdev-snapshot-delete-internal-sync`: deletes an internal snapshot by id and/or name; returns it. */
export function blockdevSnapshotDeleteInternalSync(
  qmp: QmpClient,
  args: { device: string; id?: string; name?: string },
  options?: QmpCallOptions,
): Promise<QmpSnapshotInfo> {
  return qmp.execute<QmpSnapshotInfo>(
    names.blockdevSnapshotDeleteInternalSync,
    {
      device: args.device,
      ...(args.id === undefined ? {} : { id: args.id }),
      ...(args.name === undefined ? {} : { name: args.name }),
    },
    options,
  );
}

/** `blockdev-add`: opens a block node graph (QAPI `BlockdevOptions`, given as QEMU takes it). */
export async function blockdevAdd(qmp: QmpClient, node: Record<string, unknown>, options?: QmpCallOptions) {
  await qmp.execute(names.blockdevAdd, node, options);
}

/** `blockdev-del`: closes a node that no device uses any more. */
export async function blockdevDel(qmp: QmpClient, nodeName: string, options?: QmpCallOptions) {
  await qmp.execute(names.blockdevDel, { 'node-name': nodeName }, options);
}

/** `device_add`: plugs a device into the running machine (e.g. `virtio-blk-pci` on a block node). */
export async function deviceAdd(qmp: QmpClient, device: Record<string, unknown>, options?: QmpCallOptions) {
  await qmp.execute(names.deviceAdd, device, options);
}

/**
 * `device_del`: asks the guest to release a device (PCI: an ACPI unplug request); it is gone once the
 * `DEVICE_DELETED` event says so.
 */
export async function deviceDel(qmp: QmpClient, id: string, options?: QmpCallOptions) {
  await qmp.execute(names.deviceDel, { id }, options);
}

/** `netdev_add`: a host network backend (a tap opened by name: `type: 'tap', ifname, script: 'no'`). */
export async function netdevAdd(qmp: QmpClient, netdev: Record<string, unknown>, options?: QmpCallOptions) {
  await qmp.execute(names.netdevAdd, netdev, options);
}

/** `netdev_del`: removes a network backend (after its device is gone). */
export async function netdevDel(qmp: QmpClient, id: string, options?: QmpCallOptions) {
  await qmp.execute(names.netdevDel, { id }, options);
}

/**
 * `object-add` of a `secret` read from a file (a volume's LUKS passphrase for a hot-plug): QEMU reads the
 * file during the command, so the caller deletes it right after. The key is never in the QMP message.
 */
export async function secretObjectAdd(qmp: QmpClient, id: string, file: string, options?: QmpCallOptions) {
  await qmp.execute(names.objectAdd, { 'qom-type': 'secret', id, file }, options);
}

/** `object-del`: removes an object no node uses any more (a volume's secret after its nodes closed). */
export async function objectDel(qmp: QmpClient, id: string, options?: QmpCallOptions) {
  await qmp.execute(names.objectDel, { id }, options);
}

/** `block_resize`: grows a node online (the guest sees a capacity change). */
export async function blockResize(qmp: QmpClient, nodeName: string, sizeBytes: number, options?: QmpCallOptions) {
  await qmp.execute(names.blockResize, { 'node-name': nodeName, size: sizeBytes }, options);
}

/** A dirty bitmap of a block node (`query-named-block-nodes`). */
export interface QmpDirtyBitmapInfo {
  name: string;
  granularity: number;
  recording: boolean;
  busy: boolean;
  persistent: boolean;
  inconsistent?: boolean;
  count?: number;
}

/** `query-named-block-nodes` (flat): every block node with its dirty bitmaps. */
export function queryNamedBlockNodes(
  qmp: QmpClient,
  options?: QmpCallOptions,
): Promise<{ 'node-name': string; 'dirty-bitmaps'?: QmpDirtyBitmapInfo[] }[]> {
  return qmp.execute(names.queryNamedBlockNodes, { flat: true }, options);
}

/** A block job (`query-jobs`). */
export interface QmpJobInfo {
  id: string;
  type: string;
  status: string;
  'current-progress': number;
  'total-progress': number;
  error?: string;
}

/** `query-jobs`: the block jobs of the machine. */
export function queryJobs(qmp: QmpClient, options?: QmpCallOptions): Promise<QmpJobInfo[]> {
  return qmp.execute(names.queryJobs, undefined, options);
}

/** `job-dismiss`: forgets a concluded job (jobs started with `auto-dismiss: false`). */
export async function jobDismiss(qmp: QmpClient, id: string, options?: QmpCallOptions) {
  await qmp.execute(names.jobDismiss, { id }, options);
}

/** `block-dirty-bitmap-remove`: drops a node's dirty bitmap (persistent ones leave the qcow2 too). */
export async function blockDirtyBitmapRemove(qmp: QmpClient, node: string, name: string, options?: QmpCallOptions) {
  await qmp.execute(names.blockDirtyBitmapRemove, { node, name }, options);
}

/** The arguments of a `blockdev-backup` job (QAPI `BlockdevBackup`). */
export interface QmpBlockdevBackup {
  'job-id': string;
  device: string;
  target: string;
  sync: 'full' | 'incremental' | 'top' | 'none' | 'bitmap';
  bitmap?: string;
  'bitmap-mode'?: 'on-success' | 'never' | 'always';
  'auto-dismiss'?: boolean;
}

/** `blockdev-backup`: copies a node into a target node (copy-before-write from the job's start). */
export async function blockdevBackup(qmp: QmpClient, job: QmpBlockdevBackup, options?: QmpCallOptions) {
  await qmp.execute(names.blockdevBackup, { ...job }, options);
}

/** One disk of a backup transaction: its job, and for a full backup the dirty bitmap that starts with it. */
export interface QmpBackupOfDisk {
  job: QmpBlockdevBackup;
  newBitmap?: { node: string; name: string; granularity: number };
}

/**
 * One `transaction` starting the backup jobs of several disks at the same point in time (a server's disk
 * and its volumes are consistent with each other); a full one adds its new persistent dirty bitmap in the
 * same transaction, so the next incremental backup holds exactly what changed after it.
 */
export async function backupTransaction(qmp: QmpClient, disks: QmpBackupOfDisk[], options?: QmpCallOptions) {
  const actions = disks.flatMap(({ job, newBitmap }) => [
    ...(newBitmap ? [{ type: 'block-dirty-bitmap-add', data: { ...newBitmap, persistent: true } }] : []),
    { type: 'blockdev-backup', data: { ...job } },
  ]);
  await qmp.execute(names.transaction, { actions }, options);
}

/** `transaction` of a new dirty bitmap and a full backup job of one disk. */
export function fullBackupWithNewBitmap(
  qmp: QmpClient,
  bitmap: { node: string; name: string; granularity: number },
  job: QmpBlockdevBackup,
  options?: QmpCallOptions,
) {
  return backupTransaction(qmp, [{ job, newBitmap: bitmap }], options);
}

/** The events the driver listens to, with their data (QMP reference, section "Events"). */
export interface QmpEventData {
  SHUTDOWN: { guest: boolean; reason: QmpShutdownCause };
  POWERDOWN: Record<string, never>;
  RESET: { guest: boolean; reason: QmpShutdownCause };
  STOP: Record<string, never>;
  RESUME: Record<string, never>;
  GUEST_PANICKED: { action: 'pause' | 'poweroff' | 'run'; info?: Record<string, unknown> };
  /** A device is gone (for PCI: after the guest released it). */
  DEVICE_DELETED: { device?: string; path: string };
}

export type QmpEventName = keyof QmpEventData;

export type TypedQmpEvent = {
  [K in QmpEventName]: { event: K; data: QmpEventData[K]; timestamp: QmpEvent['timestamp'] };
}[QmpEventName];

const shutdownCauses = new Set<string>([
  'none',
  'host-error',
  'host-qmp-quit',
  'host-qmp-system-reset',
  'host-signal',
  'host-ui',
  'guest-shutdown',
  'guest-reset',
  'guest-panic',
  'subsystem-reset',
  'snapshot-load',
]);

const shutdownData = (data: Record<string, unknown>) => ({
  guest: data.guest === true,
  reason: (typeof data.reason === 'string' && shutdownCauses.has(data.reason)
    ? data.reason
    : 'none') as QmpShutdownCause,
});

/** A raw event as one of the typed events, or null for an event the driver does not use. Pure. */
export function toTypedQmpEvent(raw: QmpEvent): TypedQmpEvent | null {
  const data = raw.data ?? {};
  const { timestamp } = raw;
  switch (raw.event) {
    case 'SHUTDOWN':
      return { event: 'SHUTDOWN', data: shutdownData(data), timestamp };
    case 'RESET':
      return { event: 'RESET', data: shutdownData(data), timestamp };
    case 'POWERDOWN':
      return { event: 'POWERDOWN', data: {}, timestamp };
    case 'STOP':
      return { event: 'STOP', data: {}, timestamp };
    case 'RESUME':
      return { event: 'RESUME', data: {}, timestamp };
    case 'GUEST_PANICKED': {
      const action = data.action === 'poweroff' || data.action === 'run' ? data.action : 'pause';
      const info =
        typeof data.info === 'object' && data.info !== null ? (data.info as Record<string, unknown>) : undefined;
      return { event: 'GUEST_PANICKED', data: info ? { action, info } : { action }, timestamp };
    }
    case 'DEVICE_DELETED': {
      const device = typeof data.device === 'string' ? data.device : undefined;
      return {
        event: 'DEVICE_DELETED',
        data: { ...(device !== undefined ? { device } : {}), path: String(data.path ?? '') },
        timestamp,
      };
    }
    default:
      return null;
  }
}

/** Calls `listener` for every event the driver uses; returns the unsubscribe function. */
export function onQmpEvent(qmp: QmpClient, listener: (event: TypedQmpEvent) => void): () => void {
  return qmp.onEvent((raw) => {
    const event = toTypedQmpEvent(raw);
    if (event) listener(event);
  });
}

/** Resolves with the first `name` event whose data passes `match` (subscribe before causing it). */
export async function waitForQmpEvent<K extends QmpEventName>(
  qmp: QmpClient,
  name: K,
  timeoutMs: number,
  match: (data: QmpEventData[K]) => boolean = () => true,
): Promise<Extract<TypedQmpEvent, { event: K }>> {
  const matches = (raw: QmpEvent) => {
    const event = toTypedQmpEvent(raw);
    return event !== null && event.event === name && match(event.data as QmpEventData[K]);
  };
  const raw = await qmp.waitForEvent(matches, timeoutMs);
  return toTypedQmpEvent(raw) as Extract<TypedQmpEvent, { event: K }>;
}
