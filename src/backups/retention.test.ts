/**
 * Retention: the PBS/PVE documentation examples as a table, and properties over random histories.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applyRetention, emptyPolicy, isoWeekKey, periodKey, type RetentionPolicy } from './retention.ts';

const at = (iso: string) => ({ id: iso, takenAtMs: Date.parse(iso) });
const policy = (p: Partial<RetentionPolicy>): RetentionPolicy => ({ ...emptyPolicy(), ...p });
const keptIds = (backups: { id: string; takenAtMs: number }[], p: Partial<RetentionPolicy>) =>
  applyRetention(backups, policy(p)).keep.map((k) => k.backup.id);

/** Daily backups at 12:00 UTC for `days` days ending on `lastDay`. */
function daily(lastDay: string, days: number) {
  const end = Date.parse(`${lastDay}T12:00:00Z`);
  return Array.from({ length: days }, (_, i) => {
    const ms = end - i * 86_400_000;
    return { id: new Date(ms).toISOString(), takenAtMs: ms };
  });
}

test('ISO weeks start on Monday and cross years correctly', () => {
  assert.equal(isoWeekKey(Date.parse('2026-01-01T00:00:00Z')), '2026-W01'); // a Thursday
  assert.equal(isoWeekKey(Date.parse('2025-12-29T00:00:00Z')), '2026-W01'); // its Monday
  assert.equal(isoWeekKey(Date.parse('2025-12-28T23:59:59Z')), '2025-W52'); // the Sunday before
  assert.equal(isoWeekKey(Date.parse('2027-01-01T10:00:00Z')), '2026-W53'); // 2026 has 53 weeks
  assert.equal(isoWeekKey(Date.parse('2027-01-04T00:00:00Z')), '2027-W01');
  assert.equal(periodKey('hourly', Date.parse('2026-03-01T14:59:59Z')), '2026-03-01T14');
  assert.equal(periodKey('monthly', Date.parse('2026-03-31T23:59:59Z')), '2026-03');
});

const table: {
  name: string;
  backups: { id: string; takenAtMs: number }[];
  policy: Partial<RetentionPolicy>;
  keep: string[];
}[] = [
  {
    name: 'keep-last 3 keeps the three newest',
    backups: [
      '2026-03-01T01:00:00Z',
      '2026-03-01T02:00:00Z',
      '2026-03-01T03:00:00Z',
      '2026-03-01T04:00:00Z',
      '2026-03-01T05:00:00Z',
    ].map(at),
    policy: { keepLast: 3 },
    keep: ['2026-03-01T05:00:00Z', '2026-03-01T04:00:00Z', '2026-03-01T03:00:00Z'],
  },
  {
    // PVE docs (vzdump, backup retention): backups at 1:00, 2:00 and 12:00; keep-hourly 4 keeps today's
    // 12:00, 2:00 and 1:00, and yesterday's 12:00.
    name: 'keep-hourly 4 with backups at 01:00, 02:00, 12:00 (PVE docs)',
    backups: [
      '2026-03-01T01:00:00Z',
      '2026-03-01T02:00:00Z',
      '2026-03-01T12:00:00Z',
      '2026-03-02T01:00:00Z',
      '2026-03-02T02:00:00Z',
      '2026-03-02T12:00:00Z',
    ].map(at),
    policy: { keepHourly: 4 },
    keep: ['2026-03-02T12:00:00Z', '2026-03-02T02:00:00Z', '2026-03-02T01:00:00Z', '2026-03-01T12:00:00Z'],
  },
  {
    name: 'several backups a day: keep-daily keeps the latest of each day',
    backups: [
      '2026-03-01T06:00:00Z',
      '2026-03-01T18:00:00Z',
      '2026-03-02T06:00:00Z',
      '2026-03-02T18:00:00Z',
      '2026-03-03T06:00:00Z',
    ].map(at),
    policy: { keepDaily: 2 },
    keep: ['2026-03-03T06:00:00Z', '2026-03-02T18:00:00Z'],
  },
  {
    // PBS: "the next option does not take care of already covered backups; it will only consider older
    // backups". keep-last took today's newest, so keep-daily starts at yesterday.
    name: 'a period covered by an earlier rule does not count (PBS)',
    backups: [
      '2026-03-03T18:00:00Z',
      '2026-03-03T06:00:00Z',
      '2026-03-02T12:00:00Z',
      '2026-03-01T12:00:00Z',
      '2026-02-28T12:00:00Z',
    ].map(at),
    policy: { keepLast: 1, keepDaily: 2 },
    keep: ['2026-03-03T18:00:00Z', '2026-03-02T12:00:00Z', '2026-03-01T12:00:00Z'],
  },
  {
    // Found by the property below: weekly passes over 2026-01-01's older week-mate 2025-12-29, which
    // still keeps December for keep-monthly (PBS would lose the month).
    name: 'a backup an earlier rule passed over still counts for a later rule',
    backups: ['2025-12-29T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-05T00:00:00Z'].map(at),
    policy: { keepHourly: 1, keepWeekly: 1, keepMonthly: 2 },
    keep: ['2026-01-05T00:00:00Z', '2026-01-01T00:00:00Z', '2025-12-29T00:00:00Z'],
  },
  {
    name: 'keep-weekly keeps the Sunday (latest) of each ISO week',
    backups: daily('2026-03-15', 21), // 2026-03-15 is a Sunday
    policy: { keepWeekly: 3 },
    keep: ['2026-03-15T12:00:00.000Z', '2026-03-08T12:00:00.000Z', '2026-03-01T12:00:00.000Z'],
  },
  {
    name: 'keep-monthly keeps the last backup of each month',
    backups: daily('2026-03-10', 70),
    policy: { keepMonthly: 3 },
    keep: ['2026-03-10T12:00:00.000Z', '2026-02-28T12:00:00.000Z', '2026-01-31T12:00:00.000Z'],
  },
  {
    name: 'no rule set: everything is kept (PBS keep-all)',
    backups: daily('2026-03-10', 4),
    policy: {},
    keep: [
      '2026-03-10T12:00:00.000Z',
      '2026-03-09T12:00:00.000Z',
      '2026-03-08T12:00:00.000Z',
      '2026-03-07T12:00:00.000Z',
    ],
  },
];

for (const row of table) {
  test(`retention: ${row.name}`, () => {
    assert.deepEqual(keptIds(row.backups, row.policy), row.keep);
  });
}

test('retention: the PVE docs example (daily backups for 3 years; keep-last 3, daily 13, weekly 8, monthly 11)', () => {
  const history = daily('2026-06-30', 3 * 365);
  const decision = applyRetention(history, policy({ keepLast: 3, keepDaily: 13, keepWeekly: 8, keepMonthly: 11 }));
  const byRule = (rule: string) => decision.keep.filter((k) => k.rule === rule).map((k) => k.backup.id);
  // keep-last and keep-daily together: the 16 newest days, "at least two weeks of backups".
  assert.deepEqual(
    [...byRule('last'), ...byRule('daily')],
    history.slice(0, 16).map((b) => b.id),
  );
  // keep-weekly: 8 weeks older than those, each its Sunday (the latest backup of its ISO week).
  const weekly = byRule('weekly');
  assert.equal(weekly.length, 8);
  for (const id of weekly) assert.equal(new Date(id).getUTCDay(), 0, `${id} is a Sunday`);
  // keep-monthly: 11 months older than those, each on its month's last day — with the rest, a year.
  const monthly = byRule('monthly');
  assert.equal(monthly.length, 11);
  for (const id of monthly) assert.equal(new Date(Date.parse(id) + 86_400_000).getUTCDate(), 1, `${id} ends its month`);
  assert.equal(decision.keep.length, 3 + 13 + 8 + 11);
  assert.equal(decision.remove.length, history.length - 35);
  assert.ok(Date.parse(monthly.at(-1)!) < Date.parse('2025-07-01T00:00:00Z'), 'monthly backups reach back a year');
});

// ---- properties ----

const arbHistory = fc
  .uniqueArray(fc.integer({ min: 0, max: 400 * 24 * 60 }), { minLength: 0, maxLength: 60 })
  .map((minutes) =>
    minutes.map((m) => {
      const ms = Date.parse('2025-01-01T00:00:00Z') + m * 60_000;
      return { id: `b${m}`, takenAtMs: ms };
    }),
  );
const arbPolicy = fc.record({
  keepLast: fc.integer({ min: 0, max: 6 }),
  keepHourly: fc.integer({ min: 0, max: 6 }),
  keepDaily: fc.integer({ min: 0, max: 8 }),
  keepWeekly: fc.integer({ min: 0, max: 5 }),
  keepMonthly: fc.integer({ min: 0, max: 4 }),
});

test('property: the kept set satisfies the policy and never drops the newest backup', () => {
  fc.assert(
    fc.property(arbHistory, arbPolicy, (history, p) => {
      const { keep, remove } = applyRetention(history, p);
      const kept = keep.map((k) => k.backup);
      // A partition of the input.
      assert.equal(kept.length + remove.length, history.length);
      assert.equal(new Set([...kept, ...remove].map((b) => b.id)).size, history.length);
      const newestFirst = [...history].sort((a, b) => b.takenAtMs - a.takenAtMs);
      // The newest is always kept.
      if (history.length > 0)
        assert.ok(
          kept.some((b) => b.id === newestFirst[0].id),
          'the newest backup is kept',
        );
      const total = p.keepLast + p.keepHourly + p.keepDaily + p.keepWeekly + p.keepMonthly;
      if (total === 0) {
        assert.equal(remove.length, 0, 'an empty policy deletes nothing');
        return;
      }
      // Never more than the rules allow.
      assert.ok(kept.length <= total);
      // keep-last: the N newest.
      for (const b of newestFirst.slice(0, p.keepLast)) assert.ok(kept.includes(b));
      // Each period rule: at least min(N, distinct periods) periods hold a kept backup, and each backup it
      // kept is the newest of its period.
      for (const [rule, n] of [
        ['hourly', p.keepHourly],
        ['daily', p.keepDaily],
        ['weekly', p.keepWeekly],
        ['monthly', p.keepMonthly],
      ] as const) {
        if (n === 0) continue;
        const periods = new Set(history.map((b) => periodKey(rule, b.takenAtMs)));
        const keptPeriods = new Set(kept.map((b) => periodKey(rule, b.takenAtMs)));
        assert.ok(
          keptPeriods.size >= Math.min(n, periods.size),
          `${rule}: ${keptPeriods.size} < min(${n}, ${periods.size})`,
        );
        for (const k of keep.filter((x) => x.rule === rule)) {
          const period = periodKey(rule, k.backup.takenAtMs);
          const newestOfPeriod = newestFirst.find((b) => periodKey(rule, b.takenAtMs) === period)!;
          assert.equal(k.backup.id, newestOfPeriod.id);
        }
      }
    }),
    { numRuns: Number(process.env.PROPERTY_RUNS ?? 500) },
  );
});

test('property: a single period rule keeps exactly the newest backup of each of the N newest periods', () => {
  fc.assert(
    fc.property(
      arbHistory,
      fc.constantFrom('hourly', 'daily', 'weekly', 'monthly' as const),
      fc.integer({ min: 1, max: 8 }),
      (history, rule, n) => {
        const key = { hourly: 'keepHourly', daily: 'keepDaily', weekly: 'keepWeekly', monthly: 'keepMonthly' }[rule];
        const kept = applyRetention(history, policy({ [key]: n })).keep.map((k) => k.backup.id);
        // The oracle: group by period, newest period first, newest of each.
        const newestFirst = [...history].sort((a, b) => b.takenAtMs - a.takenAtMs);
        const expected: string[] = [];
        const seen = new Set<string>();
        for (const b of newestFirst) {
          const period = periodKey(rule, b.takenAtMs);
          if (seen.has(period)) continue;
          seen.add(period);
          if (expected.length < n) expected.push(b.id);
        }
        assert.deepEqual(kept, expected);
      },
    ),
    { numRuns: 300 },
  );
});
