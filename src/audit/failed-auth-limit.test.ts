import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  admitFailedAuth,
  closeEndedWindows,
  emptyFailedAuthState,
  type FailedAuthLimit,
  type FailedAuthSummary,
} from './failed-auth-limit.ts';

const limit: FailedAuthLimit = { limitPerWindow: 2, windowMs: 60_000, maxTrackedIps: 2 };

/** Feeds failures [ip, atMs] and returns each decision and the summaries produced along the way. */
function run(failures: Array<[string, number]>, closeAtMs?: number) {
  let state = emptyFailedAuthState;
  const decisions: boolean[] = [];
  const summaries: FailedAuthSummary[] = [];
  for (const [ip, atMs] of failures) {
    const outcome = admitFailedAuth(state, ip, atMs, limit);
    state = outcome.state;
    decisions.push(outcome.record);
    summaries.push(...outcome.summaries);
  }
  if (closeAtMs !== undefined) summaries.push(...closeEndedWindows(state, closeAtMs, limit).summaries);
  return { decisions, summaries: summaries.map((s) => `${s.sourceIp}@${s.windowStartMs}:${s.suppressed}`) };
}

test('failed authentication limit per IP', async (t) => {
  const cases: Array<{
    name: string;
    failures: Array<[string, number]>;
    closeAtMs?: number;
    decisions: boolean[];
    summaries: string[];
  }> = [
    {
      name: 'under the limit: every failure recorded',
      failures: [
        ['a', 0],
        ['a', 1],
      ],
      decisions: [true, true],
      summaries: [],
    },
    {
      name: 'over the limit: the rest suppressed, no summary before the window ends',
      failures: [
        ['a', 0],
        ['a', 1],
        ['a', 2],
        ['a', 3],
      ],
      decisions: [true, true, false, false],
      summaries: [],
    },
    {
      name: 'one summary when the window ends (closed by the next failure)',
      failures: [
        ['a', 0],
        ['a', 1],
        ['a', 2],
        ['a', 3],
        ['a', 60_000],
      ],
      decisions: [true, true, false, false, true],
      summaries: ['a@0:2'],
    },
    {
      name: 'one summary when the window ends (closed by a flush)',
      failures: [
        ['a', 0],
        ['a', 1],
        ['a', 2],
      ],
      closeAtMs: 60_000,
      decisions: [true, true, false],
      summaries: ['a@0:1'],
    },
    {
      name: 'no summary for a window that suppressed nothing',
      failures: [['a', 0]],
      closeAtMs: 120_000,
      decisions: [true],
      summaries: [],
    },
    {
      name: 'each IP has its own budget',
      failures: [
        ['a', 0],
        ['a', 1],
        ['b', 2],
        ['b', 3],
        ['a', 4],
      ],
      decisions: [true, true, true, true, false],
      summaries: [],
    },
    {
      name: 'beyond the tracked IPs, new IPs share one window',
      failures: [
        ['a', 0],
        ['b', 1],
        ['c', 2],
        ['d', 3],
        ['e', 4],
      ],
      closeAtMs: 60_002,
      decisions: [true, true, true, true, false],
      summaries: ['*@2:1'],
    },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const outcome = run(c.failures, c.closeAtMs);
      assert.deepEqual(outcome.decisions, c.decisions);
      assert.deepEqual(outcome.summaries, c.summaries);
    });
  }
});
