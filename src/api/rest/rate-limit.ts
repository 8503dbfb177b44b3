/**
 * Fixed-window rate limit per caller (token, or client address before authentication). Pure state
 * machine over a clock; one instance per process. With several replicas on PostgreSQL the counts come from
 * the shared counters instead (`decisionFor`, src/identity/shared-rate-counter.ts).
 */
export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Unix epoch seconds when the window resets (Hetzner/DigitalOcean semantics). */
  resetEpochS: number;
  retryAfterS: number;
}

export function createRateLimiter(options: {
  limitPerWindow: number;
  windowMs: number;
  nowMs: () => number;
  maxKeys?: number;
}) {
  const windows = new Map<string, { startMs: number; count: number }>();
  const maxKeys = options.maxKeys ?? 100_000;
  return {
    enabled: options.limitPerWindow > 0,
    /** Whether `key` has used up its window, without counting a request. */
    exhausted(key: string): { retryAfterS: number } | null {
      const now = options.nowMs();
      const windowStart = now - (now % options.windowMs);
      const window = windows.get(key);
      if (!window || window.startMs !== windowStart || window.count < options.limitPerWindow) return null;
      return { retryAfterS: Math.max(1, Math.ceil((windowStart + options.windowMs - now) / 1000)) };
    },
    take(key: string): RateLimitDecision {
      const now = options.nowMs();
      const windowStart = now - (now % options.windowMs);
      let window = windows.get(key);
      if (!window || window.startMs !== windowStart) {
        if (windows.size >= maxKeys) windows.clear();
        window = { startMs: windowStart, count: 0 };
        windows.set(key, window);
      }
      window.count++;
      return decisionFor({ ...options, count: window.count, windowStartMs: windowStart, nowMs: now });
    },
  };
}

/** Start of the fixed window `nowMs` falls in. */
export const windowStartOf = (nowMs: number, windowMs: number) => nowMs - (nowMs % windowMs);

/** The decision for the `count`-th request of a window (counted here or by the shared counters). */
export function decisionFor(input: {
  count: number;
  limitPerWindow: number;
  windowStartMs: number;
  windowMs: number;
  nowMs: number;
}): RateLimitDecision {
  const resetMs = input.windowStartMs + input.windowMs;
  const allowed = input.count <= input.limitPerWindow;
  return {
    allowed,
    limit: input.limitPerWindow,
    remaining: Math.max(0, input.limitPerWindow - input.count),
    resetEpochS: Math.ceil(resetMs / 1000),
    retryAfterS: allowed ? 0 : Math.max(1, Math.ceil((resetMs - input.nowMs) / 1000)),
  };
}
