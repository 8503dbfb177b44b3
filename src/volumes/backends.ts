/**
 * Volume backends as the control plane sees them: where a volume's data lives decides how it is placed.
 * `local`: a qcow2 file in its host's volume pool, so the host's disk is claimed and the volume attaches
 * only to servers on that host. A distributed backend (Ceph RBD, docs/adr/0006-volume-backends.md) claims
 * no host disk and attaches to any server of its region; adding it is a new entry here and a driver-side
 * backend (src/compute/drivers/qemu/volume-backend.ts), not an API change.
 */
import type { VolumeBackend } from '../contract/index.ts';

export interface VolumeBackendPolicy {
  name: VolumeBackend;
  /** The data is on one host: claim its disk, attach only to servers on it. */
  hostLocal: boolean;
}

export const volumeBackendPolicies: Record<VolumeBackend, VolumeBackendPolicy> = {
  local: { name: 'local', hostLocal: true },
};

export const defaultVolumeBackend: VolumeBackend = 'local';
