/**
 * The volumes domain: block devices of a project in a region, attached to its servers (table `volumes`,
 * the attachment in the volume's row). Local volumes claim disk on their host through the scheduler.
 */
export type { VolumeSourcesTable, VolumesTable } from './tables.ts';
export { createVolumeService, type VolumeService, type VolumesDeps, type VolumeServers } from './service.ts';
export { createVolumeSync, type VolumeSync } from './sync.ts';
export { volumeBackendPolicies, defaultVolumeBackend, type VolumeBackendPolicy } from './backends.ts';
export { deriveVolumeStatus, judgeVolumeAction } from './volume-status.ts';
