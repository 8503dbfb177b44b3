/**
 * Who does the work of a backup: the host of the server (its agent's driver reads the disk, through the
 * host API), and the region's repository (forget, verify). The control plane routes each job
 * (src/app.ts): a QEMU host through its host API, a simulated host through the sim model.
 */
export interface BackupJob {
  backupId: string;
  serverId: string;
  hostId: string;
  region: string;
  /** The repository snapshot of this server's previous successful backup on this host, for an incremental. */
  parentSnapshot: string | null;
  /** When the parent was taken (ms); null without a parent. */
  parentTakenAtMs: number | null;
  /** Where to copy it (another region's repository); null: local only. */
  remoteRegion: string | null;
  diskBytes: number;
  /** The volumes attached to the server as the control plane knows them (a real host reads its own). */
  volumes: { volumeId: string; sizeGiB: number }[];
}

/** What a backup did with one attached volume (read at the same point in time as the server's disk). */
export interface BackupVolumeOutcome {
  volumeId: string;
  kind: 'full' | 'incremental';
  diskBytes: number;
  readBytes: number;
}

export interface BackupOutcome {
  /** The server disk's (`diskBytes`, `readBytes` too); each volume has its own below. */
  kind: 'full' | 'incremental';
  consistency: 'crash' | 'application';
  diskBytes: number;
  readBytes: number;
  storedBytes: number;
  durationMs: number;
  /** When the disk was read: the point in time the backup restores to. */
  takenAtMs: number;
  localSnapshot: string;
  remoteSnapshot: string | null;
  volumes: BackupVolumeOutcome[];
}

export interface RestoreJob {
  restoreId: string;
  backupId: string;
  /** The server whose disk is replaced. */
  serverId: string;
  hostId: string;
  /** The repository read: the backup's own region, or its remote region. */
  repositoryRegion: string;
  snapshot: string;
  diskBytes: number;
}

export interface RepositoryCopy {
  region: string;
  snapshot: string;
  serverId: string;
}

export interface BackupExecutor {
  backup(job: BackupJob): Promise<BackupOutcome>;
  restore(job: RestoreJob): Promise<{ durationMs: number }>;
  /** Removes snapshots from a region's repository (their data goes at the repository's next prune). */
  forget(region: string, snapshots: string[]): Promise<void>;
  /** Frees the data no snapshot of a region's repository references any more (restic prune). */
  prune(region: string): Promise<void>;
  /** Re-reads a snapshot's data and checks it; false when it is damaged. */
  verify(copy: RepositoryCopy): Promise<boolean>;
}
