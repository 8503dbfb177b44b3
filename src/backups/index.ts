export {
  createBackupService,
  promisedRpoS,
  promisedRtoS,
  type BackupService,
  type BackupServers,
  type BackupServerInfo,
} from './service.ts';
export type * from './executor.ts';
export type * from './tables.ts';
export { applyRetention, emptyPolicy, periodKey, isoWeekKey, type RetentionPolicy } from './retention.ts';
export { planPrune, type BackupCopies } from './prune.ts';
export { nextRunMs, offsetMsOf, parseEveryMinutes, worstRpoMs } from './schedule.ts';
export { defaultPolicy, effectivePolicy, defaultRemoteRegion } from './policy.ts';
export { percentile } from './views.ts';
export {
  createRoutedExecutor,
  type RepositoryAccess,
  type HostBackupClient,
  type HostBackupRequest,
  type HostRestoreRequest,
  type RepositoryOps,
} from './routed-executor.ts';
export { createRestic, type Restic, type ResticBackupSummary, type ResticOptions } from './restic.ts';
