/**
 * Which backups a retention policy keeps: the keep rules of Proxmox Backup Server and restic
 * (`keep_last`, `keep_hourly`, `keep_daily`, `keep_weekly`, `keep_monthly`), pure.
 *
 * The rules run in that order over the backups sorted newest first, as PBS does (its prune simulator):
 * - `keep_last N` keeps the N newest backups.
 * - `keep_hourly|daily|weekly|monthly N` keeps the newest backup of each of the N most recent periods
 *   (UTC hours, days, ISO weeks starting Monday, months) that have a backup. A period already covered by
 *   a backup kept by an earlier rule does not count: "the next option does not take care of already
 *   covered backups; it will only consider older backups".
 * - Unlike PBS, a backup an earlier rule passed over (an older one of a period it kept) stays a candidate
 *   for the later rules: with keep-weekly 1 and keep-monthly 2, a last-week backup of the previous month
 *   still keeps that month, so `keep_monthly N` always holds min(N, months with a backup) months.
 * - Every backup no rule kept is removed. A policy whose rules are all 0 keeps everything (PBS keep-all):
 *   an empty policy never deletes data.
 * The newest backup is always kept by any policy with a rule above 0 (each rule starts from the newest).
 */
export interface RetentionPolicy {
  keepLast: number;
  keepHourly: number;
  keepDaily: number;
  keepWeekly: number;
  keepMonthly: number;
}

export interface Dated {
  id: string;
  /** When the backup was taken (ms since the epoch, UTC). */
  takenAtMs: number;
}

export type RetentionRule = 'last' | 'hourly' | 'daily' | 'weekly' | 'monthly';

export interface RetentionDecision<T extends Dated> {
  /** Kept backups, newest first, each with the rule that kept it. */
  keep: { backup: T; rule: RetentionRule | 'all' }[];
  /** Backups to delete, newest first. */
  remove: T[];
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The ISO 8601 week of a UTC instant: `2026-W01` (weeks start on Monday; week 1 holds the first Thursday). */
export function isoWeekKey(ms: number): string {
  const date = new Date(ms);
  const day = (date.getUTCDay() + 6) % 7; // Monday = 0
  const thursday = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() - day + 3);
  const year = new Date(thursday).getUTCFullYear();
  const week = Math.floor((thursday - Date.UTC(year, 0, 1)) / (7 * 86_400_000)) + 1;
  return `${year}-W${pad(week)}`;
}

/** The period a backup falls in for a rule (UTC). */
export function periodKey(rule: Exclude<RetentionRule, 'last'>, ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-03-01T14:05:00.000Z
  switch (rule) {
    case 'hourly':
      return iso.slice(0, 13);
    case 'daily':
      return iso.slice(0, 10);
    case 'weekly':
      return isoWeekKey(ms);
    case 'monthly':
      return iso.slice(0, 7);
  }
}

export const emptyPolicy = (): RetentionPolicy => ({
  keepLast: 0,
  keepHourly: 0,
  keepDaily: 0,
  keepWeekly: 0,
  keepMonthly: 0,
});

/** Applies a policy to the backups of one server (any order in, newest first out). */
export function applyRetention<T extends Dated>(backups: readonly T[], policy: RetentionPolicy): RetentionDecision<T> {
  const sorted = [...backups].sort((a, b) => b.takenAtMs - a.takenAtMs || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const rules: [RetentionRule, number][] = [
    ['last', policy.keepLast],
    ['hourly', policy.keepHourly],
    ['daily', policy.keepDaily],
    ['weekly', policy.keepWeekly],
    ['monthly', policy.keepMonthly],
  ];
  if (rules.every(([, n]) => n <= 0)) {
    return { keep: sorted.map((backup) => ({ backup, rule: 'all' as const })), remove: [] };
  }
  const kept = new Map<string, RetentionRule>();
  for (const [rule, count] of rules) {
    if (count <= 0) continue;
    const selectId = (b: T) => (rule === 'last' ? b.id : periodKey(rule, b.takenAtMs));
    const alreadyCovered = new Set<string>();
    for (const b of sorted) if (kept.has(b.id)) alreadyCovered.add(selectId(b));
    const taken = new Set<string>();
    for (const b of sorted) {
      if (kept.has(b.id)) continue;
      const period = selectId(b);
      if (alreadyCovered.has(period) || taken.has(period)) continue;
      if (taken.size >= count) break;
      taken.add(period);
      kept.set(b.id, rule);
    }
  }
  const keep: RetentionDecision<T>['keep'] = [];
  const remove: T[] = [];
  for (const backup of sorted) {
    const rule = kept.get(backup.id);
    if (rule) keep.push({ backup, rule });
    else remove.push(backup);
  }
  return { keep, remove };
}
