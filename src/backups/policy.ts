/**
 * Backup policies: the product default, and how a server's effective policy is found (its own, else its
 * project's, else the default). Pure.
 *
 * The default runs every 5 h 30 min rather than the seed's 6 h: the worst RPO is the period plus a
 * backup's duration (src/backups/schedule.ts `worstRpoMs`), so a 6-hour period cannot keep "RPO < 6 h";
 * 5 h 30 leaves 30 minutes for the backup and the scheduler's tick. Locally: the last 5 backups (about a
 * day at this period) and one a day for 7 days; remotely: 30 days.
 */
import type { PolicyRecord } from './store.ts';
import type { RetentionPolicy } from './retention.ts';

export type PolicyValues = Omit<PolicyRecord, 'scopeId' | 'projectId' | 'updatedAt'>;

export const defaultPolicy: PolicyValues = {
  everyMinutes: 330,
  keepLast: 5,
  keepHourly: 0,
  keepDaily: 7,
  keepWeekly: 0,
  keepMonthly: 0,
  remoteRegion: null,
  remoteKeepDays: 30,
  enabled: true,
};

/** Where each region's remote copy goes by default: another region of the same provider. */
export const defaultRemoteRegion: Record<string, string> = {
  fra1: 'ams1',
  ams1: 'fra1',
  par1: 'fra1',
  lon1: 'ams1',
  mad1: 'par1',
  mil1: 'fra1',
};

export interface EffectivePolicy extends PolicyValues {
  scope: 'server' | 'project' | 'default';
}

export function effectivePolicy(
  server: { region: string },
  own: PolicyRecord | null | undefined,
  project: PolicyRecord | null | undefined,
): EffectivePolicy {
  const source = own ?? project;
  const values: PolicyValues = source
    ? {
        everyMinutes: source.everyMinutes,
        keepLast: source.keepLast,
        keepHourly: source.keepHourly,
        keepDaily: source.keepDaily,
        keepWeekly: source.keepWeekly,
        keepMonthly: source.keepMonthly,
        remoteRegion: source.remoteRegion,
        remoteKeepDays: source.remoteKeepDays,
        enabled: source.enabled,
      }
    : { ...defaultPolicy, remoteRegion: defaultRemoteRegion[server.region] ?? null };
  return { ...values, scope: own ? 'server' : project ? 'project' : 'default' };
}

export const retentionOf = (p: PolicyValues): RetentionPolicy => ({
  keepLast: p.keepLast,
  keepHourly: p.keepHourly,
  keepDaily: p.keepDaily,
  keepWeekly: p.keepWeekly,
  keepMonthly: p.keepMonthly,
});
