/** Volumes as the API shows them (the contract's `Volume`). Pure. */
import type { Volume } from '../contract/index.ts';
import type { VolumeRecord, VolumeSourceRecord } from './store.ts';

export function volumeView(
  volume: VolumeRecord,
  options: { operator?: boolean; source?: VolumeSourceRecord | null } = {},
): Volume {
  const source = options.source ?? null;
  return {
    id: volume.id,
    name: volume.name,
    project_id: volume.projectId,
    region: volume.region,
    size_gib: volume.sizeGiB,
    backend: volume.backend,
    status: volume.status,
    server_id: volume.serverId,
    host_id: options.operator ? volume.hostId : null,
    labels: volume.labels,
    error: volume.errorMessage,
    encrypted: volume.keySecretId !== null,
    source:
      source === null
        ? null
        : source.kind === 'backup'
          ? {
              kind: 'backup',
              backup_id: source.backupId,
              ...(source.backupVolumeId ? { backup_volume_id: source.backupVolumeId } : {}),
            }
          : { kind: 'snapshot', server_id: source.serverId, snapshot: source.snapshotName },
    created_at: volume.createdAt,
    updated_at: volume.updatedAt,
  };
}
