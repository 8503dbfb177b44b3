/**
 * Login throttling, in the manner of the failed-authentication limiter (src/audit/failed-auth-limit.ts):
 * fixed windows of failures per key — the account (`email:…`) and the client address (`ip:…`) — and a key
 * past its budget is refused until its window ends. Pure: the state goes in and comes out; bounded memory
 * (beyond `maxTrackedKeys` keys, new ones share one window, which only makes the limit stricter).
 */
export interface ThrottleWindow {
  startMs: number;
  failures: number;
}

export interface LoginThrottleLimit {
  windowMs: number;
  /** Failures per account per window (password guesses against one person). */
  perAccount: number;
  /** Failures per client address per window (one client spraying many accounts). */
  perAddress: number;
  maxTrackedKeys: number;
}

export const defaultLoginThrottle: LoginThrottleLimit = {
  windowMs: 15 * 60_000,
  perAccount: 10,
  perAddress: 50,
  maxTrackedKeys: 10_000,
};

export type ThrottleState = ReadonlyMap<string, ThrottleWindow>;

const limitOf = (key: string, limit: LoginThrottleLimit) =>
  key.startsWith('ip:') ? limit.perAddress : limit.perAccount;

function live(state: ThrottleState, key: string, nowMs: number, limit: LoginThrottleLimit) {
  const window = state.get(key);
  return window && nowMs < window.startMs + limit.windowMs ? window : null;
}

/** Whether any of `keys` is past its budget now: the seconds until it may try again, or null. */
export function throttled(
  state: ThrottleState,
  keys: readonly string[],
  nowMs: number,
  limit: LoginThrottleLimit,
): { retryAfterS: number } | null {
  let retryAfterMs = 0;
  for (const key of keys) {
    const window = live(state, key, nowMs, limit);
    if (window && window.failures >= limitOf(key, limit))
      retryAfterMs = Math.max(retryAfterMs, window.startMs + limit.windowMs - nowMs);
  }
  return retryAfterMs > 0 ? { retryAfterS: Math.ceil(retryAfterMs / 1000) } : null;
}

/** One failure counted against each of `keys`; ended windows are dropped. */
export function recordFailure(
  state: ThrottleState,
  keys: readonly string[],
  nowMs: number,
  limit: LoginThrottleLimit,
): ThrottleState {
  const next = new Map<string, ThrottleWindow>();
  for (const [key, window] of state) if (nowMs < window.startMs + limit.windowMs) next.set(key, window);
  for (const wanted of keys) {
    const key = next.has(wanted) || next.size < limit.maxTrackedKeys ? wanted : wanted.startsWith('ip:') ? 'ip:*' : '*';
    const window = next.get(key) ?? { startMs: nowMs, failures: 0 };
    next.set(key, { ...window, failures: window.failures + 1 });
  }
  return next;
}

/** A success forgets the account's failures (not the address's: a sprayer with one good password stays slow). */
export function recordSuccess(state: ThrottleState, accountKey: string): ThrottleState {
  if (!state.has(accountKey)) return state;
  const next = new Map(state);
  next.delete(accountKey);
  return next;
}
