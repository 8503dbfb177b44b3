/**
 * Simulated backups for fleets without disks: sizes and durations shaped like an incremental-forever
 * backup of a real disk, deterministic per server (a seeded generator), so a region of 10,000 servers can
 * run for simulated weeks. The model:
 * - a disk holds `usedFraction` of its size (per server, 15–60 %); a full backup reads the used bytes;
 * - between backups a server changes `changeRatePerHour` of its used bytes (0.05–1 % an hour, a few hot
 *   servers more); an incremental reads the changed bytes, rounded up to 64 KiB clusters;
 * - the repository stores what a backup read after compression (×0.6) and deduplication against other
 *   servers of the same image (a full backup of a fresh server stores ~30 % of what it read);
 * - reading runs at 400 MiB/s per backup plus 5 s of fixed cost (freeze, bitmap, snapshot commit);
 * - an attached volume is a disk of its own (seeded by its id), read in the same backup.
 */
import type { BackupJob, BackupOutcome, RestoreJob } from '../../../backups/index.ts';

function seeded(seed: string): () => number {
  let h = 2166136261;
  for (const ch of seed) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return () => {
    h = Math.imul(h ^ (h >>> 15), 2246822507);
    h = Math.imul(h ^ (h >>> 13), 3266489909);
    h ^= h >>> 16;
    return (h >>> 0) / 4294967296;
  };
}

export interface SimServerDisk {
  usedFraction: number;
  changeRatePerHour: number;
}

export function simDiskOf(serverId: string): SimServerDisk {
  const random = seeded(serverId);
  const usedFraction = 0.15 + random() * 0.45;
  const hot = random() < 0.02;
  const changeRatePerHour = hot ? 0.02 + random() * 0.03 : 0.0005 + random() * 0.0095;
  return { usedFraction, changeRatePerHour };
}

const readBytesPerMs = (400 * 1024 * 1024) / 1000;
const fixedCostMs = 5000;
const cluster = 64 * 1024;

export interface SimBackupModel {
  backup(job: BackupJob, nowMs: number, lastTakenAtMs: number | null): BackupOutcome;
  restoreDurationMs(job: RestoreJob): number;
}

export function createSimBackupModel(): SimBackupModel {
  let counter = 0;
  return {
    backup(job, nowMs, lastTakenAtMs) {
      const incremental = job.parentSnapshot !== null && lastTakenAtMs !== null;
      const hours = incremental ? Math.max(0, (nowMs - lastTakenAtMs) / 3600_000) : 0;
      /** What a backup reads of one disk (the server's, or a volume's: its own seeded model). */
      const readOf = (seed: string, diskBytes: number) => {
        const disk = simDiskOf(seed);
        const used = Math.round(diskBytes * disk.usedFraction);
        const changed = Math.min(used, used * disk.changeRatePerHour * hours);
        return incremental ? Math.ceil(changed / cluster) * cluster : used;
      };
      const readBytes = readOf(job.serverId, job.diskBytes);
      const volumes = job.volumes.map((v) => {
        const diskBytes = v.sizeGiB * 1024 ** 3;
        return {
          volumeId: v.volumeId,
          kind: incremental ? 'incremental' : 'full',
          diskBytes,
          readBytes: readOf(v.volumeId, diskBytes),
        } as const;
      });
      const totalRead = readBytes + volumes.reduce((sum, v) => sum + v.readBytes, 0);
      const storedBytes = Math.round(totalRead * 0.6 * (incremental ? 1 : 0.5));
      const durationMs = fixedCostMs + Math.round(totalRead / readBytesPerMs);
      counter++;
      return {
        kind: incremental ? 'incremental' : 'full',
        consistency: 'crash',
        diskBytes: job.diskBytes,
        readBytes,
        storedBytes,
        durationMs,
        takenAtMs: nowMs,
        localSnapshot: `sim-${job.region}-${counter.toString(16)}`,
        remoteSnapshot: job.remoteRegion ? `sim-${job.remoteRegion}-${counter.toString(16)}` : null,
        volumes,
      };
    },
    restoreDurationMs(job) {
      // A restore writes the whole disk's used bytes back at 250 MiB/s, plus boot-independent setup.
      const used = job.diskBytes * simDiskOf(job.serverId).usedFraction;
      return 10_000 + Math.round(used / ((250 * 1024 * 1024) / 1000));
    },
  };
}
