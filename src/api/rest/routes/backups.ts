import type { Route } from '../route.ts';
import type { BackupService } from '../../../backups/index.ts';
import {
  createBackup,
  deleteBackup,
  getBackup,
  getBackupStats,
  getProjectBackupPolicy,
  getRestore,
  getServerBackupPolicy,
  listBackups,
  restoreBackup,
  setProjectBackupPolicy,
  setServerBackupPolicy,
} from '../../../contract/index.ts';

export function registerBackupRoutes(route: Route, deps: { backups: BackupService }) {
  const { backups } = deps;
  route(getServerBackupPolicy, async ({ principal, params }) => ({
    policy: await backups.getServerPolicy(principal, params.id),
  }));
  route(setServerBackupPolicy, async ({ principal, params, body }) => ({
    policy: await backups.setServerPolicy(principal, params.id, body),
  }));
  route(getProjectBackupPolicy, async ({ principal }) => ({ policy: await backups.getProjectPolicy(principal) }));
  route(setProjectBackupPolicy, async ({ principal, body }) => ({
    policy: await backups.setProjectPolicy(principal, body),
  }));
  route(createBackup, async ({ principal, params }) => ({ backup: await backups.createBackup(principal, params.id) }));
  route(listBackups, ({ principal, query }) => backups.listBackups(principal, query));
  route(getBackupStats, ({ principal }) => backups.stats(principal));
  route(getBackup, async ({ principal, params }) => ({ backup: await backups.getBackup(principal, params.id) }));
  route(deleteBackup, ({ principal, params }) => backups.deleteBackup(principal, params.id));
  route(restoreBackup, async ({ principal, params, body }) => ({
    restore: await backups.restoreBackup(principal, params.id, body),
  }));
  route(getRestore, async ({ principal, params }) => ({ restore: await backups.getRestore(principal, params.id) }));
}
