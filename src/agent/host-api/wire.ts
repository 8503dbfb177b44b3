/**
 * JSON shapes of the host API on the wire (snake_case, like every VMCloud API), shared by the agent's
 * server and the control plane's client, and the conversions from the driver's and image store's records.
 */
import type { DiskSnapshot, PinResult } from '../../compute/drivers/qemu/index.ts';
import type { StoredImage } from '../../images/index.ts';
import type { BackupOutcome, HostBackupRequest, HostRestoreRequest } from '../../backups/index.ts';
import type { HostJob, HostJobKind } from './host-jobs.ts';

export interface SnapshotWire {
  name: string;
  id: string;
  created_at: string;
  vm_state_bytes: number;
}

export interface HostImageWire {
  slug: string;
  name: string;
  format: 'qcow2' | 'raw' | 'iso';
  sha256: string;
  size_bytes: number;
  virtual_size_bytes: number;
  imported_at: string;
}

export interface PinningWire {
  verified: boolean;
  checked_at: string;
  vcpus: Array<{
    vcpu: number;
    thread_id: number;
    host_thread: number | null;
    pinned: boolean;
    allowed_threads: number[];
    warning: string | null;
  }>;
}

/** Response headers of `GET /export/:serverId` besides content-type and content-length. */
export const exportHeaders = {
  format: 'x-vmcloud-format',
  virtualSizeBytes: 'x-vmcloud-virtual-size-bytes',
  fromRunningServer: 'x-vmcloud-from-running-server',
  /** Request header: keep the export encrypted under this passphrase (a request header, never a query). */
  exportKey: 'x-vmcloud-export-key',
  encrypted: 'x-vmcloud-encrypted',
} as const;

/** Request headers of `PUT /images/:slug` (the query parameters `name` and `sha256` work too). */
export const uploadHeaders = {
  name: 'x-vmcloud-image-name',
  sha256: 'x-vmcloud-image-sha256',
  /** Boot like this image of the host (a custom image keeps its base image's kernel, initrd and command line). */
  bootLike: 'x-vmcloud-image-boot-like',
} as const;

export const snapshotToWire = (snapshot: DiskSnapshot): SnapshotWire => ({
  name: snapshot.name,
  id: snapshot.id,
  created_at: snapshot.createdAt,
  vm_state_bytes: snapshot.vmStateBytes,
});

export const snapshotFromWire = (wire: SnapshotWire): DiskSnapshot => ({
  name: wire.name,
  id: wire.id,
  createdAt: wire.created_at,
  vmStateBytes: wire.vm_state_bytes,
});

export const imageToWire = (image: StoredImage): HostImageWire => ({
  slug: image.slug,
  name: image.name,
  format: image.format,
  sha256: image.sha256,
  size_bytes: image.sizeBytes,
  virtual_size_bytes: image.virtualSizeBytes,
  imported_at: image.importedAt,
});

export const pinningToWire = (pinning: PinResult): PinningWire => ({
  verified: pinning.verified,
  checked_at: pinning.checkedAt,
  vcpus: pinning.vcpus.map((pin) => ({
    vcpu: pin.vcpu,
    thread_id: pin.threadId,
    host_thread: pin.hostThread,
    pinned: pin.pinned,
    allowed_threads: pin.allowedThreads,
    warning: pin.warning ?? null,
  })),
});

/** A restic repository as the control plane hands it to a host for one job (the password stays in the body). */
export interface RepositoryWire {
  region: string;
  url: string;
  password: string;
}

/** Body of `POST /backups/:serverId`. */
export interface BackupRequestWire {
  backup_id: string;
  parent_snapshot: string | null;
  local: RepositoryWire;
  remote: RepositoryWire | null;
}

/** Body of `POST /restores/:serverId`. */
export interface RestoreRequestWire {
  restore_id: string;
  snapshot: string;
  repository: RepositoryWire;
}

export interface BackupOutcomeWire {
  kind: 'full' | 'incremental';
  consistency: 'crash' | 'application';
  disk_bytes: number;
  read_bytes: number;
  stored_bytes: number;
  duration_ms: number;
  taken_at_ms: number;
  local_snapshot: string;
  remote_snapshot: string | null;
  /** The attached volumes read with the disk (absent from agents of older versions: none). */
  volumes?: { volume_id: string; kind: 'full' | 'incremental'; disk_bytes: number; read_bytes: number }[];
}

/** `GET /jobs/:id` (and the 202 of the POSTs that start one). */
export interface HostJobWire {
  id: string;
  kind: HostJobKind;
  server_id: string;
  status: HostJob['status'];
  started_at: string;
  finished_at: string | null;
  /** The outcome of a succeeded job: BackupOutcomeWire, or `{duration_ms}` for a restore. */
  result: unknown;
  error: { code: string; detail: string; reason: string | null } | null;
}

export const backupRequestToWire = (request: HostBackupRequest): BackupRequestWire => ({
  backup_id: request.backupId,
  parent_snapshot: request.parentSnapshot,
  local: request.local,
  remote: request.remote,
});

export const backupRequestFromWire = (wire: BackupRequestWire): HostBackupRequest => ({
  backupId: wire.backup_id,
  parentSnapshot: wire.parent_snapshot,
  local: wire.local,
  remote: wire.remote,
});

export const restoreRequestToWire = (request: HostRestoreRequest): RestoreRequestWire => ({
  restore_id: request.restoreId,
  snapshot: request.snapshot,
  repository: request.repository,
});

export const restoreRequestFromWire = (wire: RestoreRequestWire): HostRestoreRequest => ({
  restoreId: wire.restore_id,
  snapshot: wire.snapshot,
  repository: wire.repository,
});

export const backupOutcomeToWire = (outcome: BackupOutcome): BackupOutcomeWire => ({
  kind: outcome.kind,
  consistency: outcome.consistency,
  disk_bytes: outcome.diskBytes,
  read_bytes: outcome.readBytes,
  stored_bytes: outcome.storedBytes,
  duration_ms: outcome.durationMs,
  taken_at_ms: outcome.takenAtMs,
  local_snapshot: outcome.localSnapshot,
  remote_snapshot: outcome.remoteSnapshot,
  volumes: outcome.volumes.map((v) => ({
    volume_id: v.volumeId,
    kind: v.kind,
    disk_bytes: v.diskBytes,
    read_bytes: v.readBytes,
  })),
});

export const backupOutcomeFromWire = (wire: BackupOutcomeWire): BackupOutcome => ({
  kind: wire.kind,
  consistency: wire.consistency,
  diskBytes: wire.disk_bytes,
  readBytes: wire.read_bytes,
  storedBytes: wire.stored_bytes,
  durationMs: wire.duration_ms,
  takenAtMs: wire.taken_at_ms,
  localSnapshot: wire.local_snapshot,
  remoteSnapshot: wire.remote_snapshot,
  volumes: (wire.volumes ?? []).map((v) => ({
    volumeId: v.volume_id,
    kind: v.kind,
    diskBytes: v.disk_bytes,
    readBytes: v.read_bytes,
  })),
});

export const hostJobToWire = (job: HostJob): HostJobWire => ({
  id: job.id,
  kind: job.kind,
  server_id: job.serverId,
  status: job.status,
  started_at: new Date(job.startedAtMs).toISOString(),
  finished_at: job.finishedAtMs === null ? null : new Date(job.finishedAtMs).toISOString(),
  result:
    job.status !== 'succeeded'
      ? null
      : job.kind === 'backup'
        ? backupOutcomeToWire(job.result as BackupOutcome)
        : { duration_ms: (job.result as { durationMs: number }).durationMs },
  error: job.error ? { code: job.error.code, detail: job.error.message, reason: job.error.reason } : null,
});
