/**
 * What a prune removes from one server's backups, pure: local copies by the retention rules, remote
 * copies older than the remote keep days. Never the only restorable copy of a server: the newest backup is
 * kept locally by any retention, and the newest remote copy is kept whatever its age.
 */
import { applyRetention, type RetentionPolicy } from './retention.ts';

export interface BackupCopies {
  id: string;
  takenAtMs: number;
  local: boolean;
  remote: boolean;
}

export interface PrunePlan {
  dropLocal: string[];
  dropRemote: string[];
}

export function planPrune(
  backups: readonly BackupCopies[],
  policy: RetentionPolicy & { remoteKeepDays: number },
  nowMs: number,
): PrunePlan {
  const dropLocal = applyRetention(
    backups.filter((b) => b.local),
    policy,
  ).remove.map((b) => b.id);
  const remote = backups.filter((b) => b.remote).sort((a, b) => b.takenAtMs - a.takenAtMs);
  const cutoffMs = nowMs - policy.remoteKeepDays * 86_400_000;
  const dropRemote = remote
    .slice(1)
    .filter((b) => b.takenAtMs < cutoffMs)
    .map((b) => b.id);

  // The guard: if every copy of every backup would go, the newest backup keeps its copies.
  const dropL = new Set(dropLocal);
  const dropR = new Set(dropRemote);
  const survivors = backups.filter((b) => (b.local && !dropL.has(b.id)) || (b.remote && !dropR.has(b.id)));
  if (survivors.length === 0 && backups.some((b) => b.local || b.remote)) {
    const newest = [...backups].filter((b) => b.local || b.remote).sort((a, b) => b.takenAtMs - a.takenAtMs)[0];
    dropL.delete(newest.id);
    dropR.delete(newest.id);
  }
  return { dropLocal: [...dropL], dropRemote: [...dropR] };
}
