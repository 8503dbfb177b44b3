/**
 * JSON shapes of the host API on the wire (snake_case, like every VMCloud API), shared by the agent's
 * server and the control plane's client, and the conversions from the driver's and image store's records.
 */
import type { DiskSnapshot, PinResult } from '../../compute/drivers/qemu/index.ts';
import type { StoredImage } from '../../images/index.ts';

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
  vcpus: Array<{ vcpu: number; thread_id: number; host_thread: number | null; pinned: boolean; allowed_threads: number[]; warning: string | null }>;
}

/** Response headers of `GET /export/:serverId` besides content-type and content-length. */
export const exportHeaders = {
  format: 'x-vmcloud-format',
  virtualSizeBytes: 'x-vmcloud-virtual-size-bytes',
  fromRunningServer: 'x-vmcloud-from-running-server',
} as const;

/** Request headers of `PUT /images/:slug` (the query parameters `name` and `sha256` work too). */
export const uploadHeaders = {
  name: 'x-vmcloud-image-name',
  sha256: 'x-vmcloud-image-sha256',
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
