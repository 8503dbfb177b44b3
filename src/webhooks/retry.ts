/**
 * When a failed delivery is tried again: the n-th retry waits `schedule[n-1]` ± 20 % jitter. The default
 * schedule spans about three days (5 s, 5 min, 30 min, 2 h, 5 h, then 10 h six times ≈ 67.6 h); after the
 * last retry fails the delivery is `failed` (a tenant can still retry it by hand).
 */
const s = 1000;
const min = 60 * s;
const h = 60 * min;

export const defaultRetryScheduleMs: readonly number[] = [
  5 * s,
  5 * min,
  30 * min,
  2 * h,
  5 * h,
  10 * h,
  10 * h,
  10 * h,
  10 * h,
  10 * h,
  10 * h,
];

/** An endpoint whose every delivery has failed for this long is disabled (with a `webhook.disabled` event). */
export const defaultDisableAfterMs = 5 * 24 * h;

/** Attempts, and finished deliveries, are kept this long. */
export const retentionMs = 30 * 24 * h;

/**
 * The wait before the next attempt after `attemptsMade` attempts (≥ 1), or null when the schedule is
 * exhausted. `random` is in [0, 1).
 */
export function nextRetryDelayMs(attemptsMade: number, schedule: readonly number[], random: number): number | null {
  const base = schedule[attemptsMade - 1];
  if (base === undefined) return null;
  const jitter = 1 + (random * 2 - 1) * 0.2;
  return Math.max(1, Math.round(base * jitter));
}
