import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  recordFailure,
  recordSuccess,
  throttled,
  type LoginThrottleLimit,
  type ThrottleState,
} from './login-throttle.ts';

const limit: LoginThrottleLimit = { windowMs: 60_000, perAccount: 3, perAddress: 5, maxTrackedKeys: 4 };
const keys = (email: string, ip: string) => [`email:${email}`, `ip:${ip}`];

test('an account is refused after its budget of failures until the window ends', () => {
  let state: ThrottleState = new Map();
  for (let i = 0; i < 3; i++) {
    assert.equal(throttled(state, keys('a@x', '1.1.1.1'), 1000 + i, limit), null);
    state = recordFailure(state, keys('a@x', '1.1.1.1'), 1000 + i, limit);
  }
  assert.deepEqual(throttled(state, keys('a@x', '2.2.2.2'), 2000, limit), { retryAfterS: 59 });
  // Another account from the same address is not held back by a's budget.
  assert.equal(throttled(state, keys('b@x', '1.1.1.1'), 2000, limit), null);
  // The window ends: a may try again.
  assert.equal(throttled(state, keys('a@x', '1.1.1.1'), 61_000, limit), null);
});

test('one address spraying many accounts is refused past the address budget', () => {
  let state: ThrottleState = new Map();
  for (let i = 0; i < 5; i++) state = recordFailure(state, keys(`user${i}@x`, '9.9.9.9'), 0, limit);
  assert.ok(throttled(state, keys('fresh@x', '9.9.9.9'), 10, limit));
  assert.equal(throttled(state, keys('fresh@x', '8.8.8.8'), 10, limit), null);
});

test('a success forgets the account failures but not the address failures', () => {
  let state: ThrottleState = new Map();
  for (let i = 0; i < 3; i++) state = recordFailure(state, keys('a@x', '1.1.1.1'), 0, limit);
  state = recordSuccess(state, 'email:a@x');
  assert.equal(throttled(state, ['email:a@x'], 1, limit), null);
  assert.equal(state.get('ip:1.1.1.1')?.failures, 3);
});

test('memory is bounded: keys beyond the tracked maximum share one window', () => {
  let state: ThrottleState = new Map();
  for (let i = 0; i < 20; i++) state = recordFailure(state, [`email:u${i}@x`], 0, limit);
  assert.ok(state.size <= limit.maxTrackedKeys + 2);
  assert.ok(throttled(state, ['email:u19@x'], 1, limit) === null || state.has('*'));
});
