/** Time comes in as a parameter so that tests can drive it. All times are UTC. */
export interface Clock {
  nowMs(): number;
  nowIso(): string;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  nowIso: () => new Date().toISOString(),
};

/** A clock that tests move by hand. */
export function createManualClock(startMs = Date.UTC(2026, 0, 1)): Clock & { advanceMs(ms: number): void } {
  let current = startMs;
  return {
    nowMs: () => current,
    nowIso: () => new Date(current).toISOString(),
    advanceMs: (ms: number) => {
      current += ms;
    },
  };
}
