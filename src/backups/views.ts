/** Backups, restores and policies as the API shows them (the contract's types). Pure. */
import type { Backup, BackupPolicy, Restore } from '../contract/index.ts';
import type { BackupRecord, BackupVolumeRecord, RestoreRecord } from './store.ts';
import type { EffectivePolicy } from './policy.ts';
import { offsetMsOf } from './schedule.ts';

export function locationOf(b: Pick<BackupRecord, 'localSnapshot' | 'remoteSnapshot'>): Backup['location'] {
  if (b.localSnapshot && b.remoteSnapshot) return 'both';
  if (b.localSnapshot) return 'local';
  if (b.remoteSnapshot) return 'remote';
  return null;
}

export function backupView(b: BackupRecord, volumes: readonly BackupVolumeRecord[] = []): Backup {
  return {
    id: b.id,
    project_id: b.projectId,
    source: { kind: 'server_disk', server_id: b.serverId, server_name: b.serverName },
    region: b.region,
    status: b.status,
    trigger: b.trigger,
    kind: b.kind,
    consistency: b.consistency,
    disk_bytes: b.diskBytes,
    read_bytes: b.readBytes,
    stored_bytes: b.storedBytes,
    duration_ms: b.durationMs,
    location: locationOf(b),
    remote_region: b.remoteSnapshot ? b.remoteRegion : null,
    verified_at: b.verifiedAt,
    error: b.error,
    created_at: b.createdAt,
    finished_at: b.finishedAt,
    volumes: volumes.map((v) => ({
      volume_id: v.volumeId,
      name: v.volumeName,
      size_gib: v.sizeGiB,
      kind: v.kind,
      disk_bytes: v.diskBytes,
      read_bytes: v.readBytes,
    })),
  };
}

export function restoreView(r: RestoreRecord): Restore {
  return {
    id: r.id,
    backup_id: r.backupId,
    mode: r.mode,
    server_id: r.serverId,
    region: r.region,
    status: r.status,
    duration_ms: r.durationMs,
    error: r.error,
    created_at: r.createdAt,
    finished_at: r.finishedAt,
  };
}

export function policyView(p: EffectivePolicy, serverId: string | null, nextRunAtMs: number | null): BackupPolicy {
  return {
    scope: p.scope,
    server_id: serverId,
    every_minutes: p.everyMinutes,
    keep_last: p.keepLast,
    keep_hourly: p.keepHourly,
    keep_daily: p.keepDaily,
    keep_weekly: p.keepWeekly,
    keep_monthly: p.keepMonthly,
    remote_region: p.remoteRegion,
    remote_keep_days: p.remoteKeepDays,
    enabled: p.enabled,
    offset_minutes: serverId ? Math.floor(offsetMsOf(serverId, p.everyMinutes * 60_000) / 60_000) : null,
    next_run_at: nextRunAtMs === null ? null : new Date(nextRunAtMs).toISOString(),
  };
}

/** The p-th percentile (nearest rank) of values; null when there are none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}
