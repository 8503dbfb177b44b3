export {
  createComputeService,
  type ComputeService,
  type ComputeDeps,
  type HostedServer,
  type ServerRef,
  type LabeledServer,
} from './service.ts';
export { validateLabels, parseSelector, matchesSelector } from './labels.ts';
export { createHostSync, type HostSync } from './host-sync.ts';
export { createHostRecovery, type HostRecovery } from './host-recovery.ts';
export { serverView, actionView } from './views.ts';
export * from './server-status.ts';
export type * from './drivers/driver.ts';
export { createSimDriver, realisticSimDelays, type SimDelays } from './drivers/sim/sim-driver.ts';
export { diurnal, simUsageCounters, simUsageProfile, simUsageRates } from './drivers/sim/sim-usage.ts';
export { createSimBackupModel, simDiskOf, type SimBackupModel } from './drivers/sim/sim-backup.ts';
export { isSshKeyReference, isValidSshPublicKey, sshKeyReferences } from './validation.ts';
export { createResourceActions, type ResourceActions, type ResourceAction } from './resource-actions.ts';
export { createDiskKeyVault, diskKeyPurpose, type DiskKeyVault } from './disk-keys.ts';
