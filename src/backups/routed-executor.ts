/**
 * The executor the control plane uses: a job on a simulated host is computed by the sim model (sizes and
 * durations, no waiting); a job on a real host goes to its agent through the host API, with the
 * repositories it writes to; forget and verify run against the region's repository from the control plane.
 */
import { VmcError } from '../core/index.ts';
import type { BackupExecutor, BackupJob, BackupOutcome, RestoreJob } from './executor.ts';

/** Where a region's repository is and how to open it (restic: a path or URL and its password). */
export interface RepositoryAccess {
  region: string;
  url: string;
  password: string;
}

export interface HostBackupRequest {
  backupId: string;
  parentSnapshot: string | null;
  local: RepositoryAccess;
  remote: RepositoryAccess | null;
}

export interface HostRestoreRequest {
  restoreId: string;
  snapshot: string;
  repository: RepositoryAccess;
  /** Which disk of the snapshot: a volume's id, or the server's own disk (absent or null). */
  part?: string | null;
}

/** What a real host's agent does for backups (the host API client). */
export interface HostBackupClient {
  backupDisk(serverId: string, request: HostBackupRequest): Promise<BackupOutcome>;
  restoreDisk(serverId: string, request: HostRestoreRequest): Promise<{ durationMs: number }>;
}

/** A region's repository as the control plane reaches it. */
export interface RepositoryOps {
  forget(snapshots: string[]): Promise<void>;
  verify(snapshot: string): Promise<boolean>;
  prune(): Promise<void>;
}

export interface SimBackups {
  backup(job: BackupJob, nowMs: number, lastTakenAtMs: number | null): BackupOutcome;
  restoreDurationMs(job: RestoreJob): number;
}

export interface RoutedExecutorDeps {
  nowMs: () => number;
  hostDriverOf: (hostId: string) => Promise<'sim' | 'qemu'>;
  hostClientFor: (hostId: string) => Promise<HostBackupClient>;
  /** The repository of a region, or null when it has none configured (simulated regions). */
  repositoryAccess: (region: string) => Promise<RepositoryAccess | null>;
  repositoryOps: (access: RepositoryAccess) => RepositoryOps;
  sim: SimBackups;
}

const noRepository = (region: string) =>
  new VmcError('unavailable', `region ${region} has no backup repository configured`, {
    reason: 'backup_repository_missing',
  });

export function createRoutedExecutor(deps: RoutedExecutorDeps): BackupExecutor {
  return {
    async backup(job) {
      if ((await deps.hostDriverOf(job.hostId)) === 'sim')
        return deps.sim.backup(job, deps.nowMs(), job.parentTakenAtMs);
      const local = await deps.repositoryAccess(job.region);
      if (!local) throw noRepository(job.region);
      const remote = job.remoteRegion ? await deps.repositoryAccess(job.remoteRegion) : null;
      if (job.remoteRegion && !remote) throw noRepository(job.remoteRegion);
      const client = await deps.hostClientFor(job.hostId);
      return client.backupDisk(job.serverId, {
        backupId: job.backupId,
        parentSnapshot: job.parentSnapshot,
        local,
        remote,
      });
    },
    async restore(job) {
      if ((await deps.hostDriverOf(job.hostId)) === 'sim') return { durationMs: deps.sim.restoreDurationMs(job) };
      const repository = await deps.repositoryAccess(job.repositoryRegion);
      if (!repository) throw noRepository(job.repositoryRegion);
      const client = await deps.hostClientFor(job.hostId);
      return client.restoreDisk(job.serverId, { restoreId: job.restoreId, snapshot: job.snapshot, repository });
    },
    async forget(region, snapshots) {
      const real = snapshots.filter((snapshot) => !snapshot.startsWith('sim-'));
      const access = await deps.repositoryAccess(region);
      if (!access || real.length === 0) return;
      await deps.repositoryOps(access).forget(real);
    },
    async prune(region) {
      const access = await deps.repositoryAccess(region);
      if (access) await deps.repositoryOps(access).prune();
    },
    async verify(copy) {
      const access = await deps.repositoryAccess(copy.region);
      if (!access || copy.snapshot.startsWith('sim-')) return true;
      return deps.repositoryOps(access).verify(copy.snapshot);
    },
  };
}
