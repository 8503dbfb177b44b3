/**
 * Fixed-window rate limit per caller (token, or client address before authentication). Pure state
 * machine over a clock; one instance per process (each replica limits its own share).
 */
export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Unix epoch seconds when the window resets (Hetzner/DigitalOcean semantics). */
  resetEpochS: number;
  retryAfterS: number;
}

export function createRateLimiter(options: { limitPerWindow: number; windowMs: number; nowMs: () => number; maxKeys?: number }) {
  const windows = new Map<string, { startMs: number; count: number }>();
  const maxKeys = options.maxKeys ?? 100_000;
  return {
    enabled: options.limitPerWindow > 0,
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
      const resetMs = windowStart + options.windowMs;
      const allowed = window.count <= options.limitPerWindow;
      return {
        allowed,
        limit: options.limitPerWindow,
        remaining: Math.max(0, options.limitPerWindow - window.count),
        resetEpochS: Math.ceil(resetMs / 1000),
        retryAfterS: allowed ? 0 : Math.max(1, Math.ceil((resetMs - now) / 1000)),
      };
    },
  };
}
