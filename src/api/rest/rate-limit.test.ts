import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRateLimiter } from './rate-limit.ts';

test('fixed window: limit, remaining, reset, retry-after', () => {
  let now = 60_000;
  const limiter = createRateLimiter({ limitPerWindow: 2, windowMs: 60_000, nowMs: () => now });
  assert.deepEqual(limiter.take('a'), { allowed: true, limit: 2, remaining: 1, resetEpochS: 120, retryAfterS: 0 });
  assert.equal(limiter.take('a').remaining, 0);
  now = 90_000;
  assert.deepEqual(limiter.take('a'), { allowed: false, limit: 2, remaining: 0, resetEpochS: 120, retryAfterS: 30 });
  assert.equal(limiter.take('b').allowed, true, 'keys are separate');
  now = 120_000;
  assert.equal(limiter.take('a').allowed, true, 'a new window');
});
