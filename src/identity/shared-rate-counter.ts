/**
 * Request counters shared by every replica on one PostgreSQL (the rate limit per token holds across
 * replicas): one UPSERT per request on an UNLOGGED table (no WAL, no fsync at commit). Windows are fixed
 * (one minute); housekeeping forgets past ones.
 */
import { createRateLimitStore } from './rate-limit-store.ts';

export interface SharedRateCounter {
  /** Counts a request; returns how many `key` made in the window starting at `windowStartMs`, this one included. */
  increment(key: string, windowStartMs: number): Promise<number>;
  /** Forgets windows that started before `windowStartMs`. */
  purgeBefore(windowStartMs: number): Promise<number>;
}

export function createSharedRateCounter(deps: { db: unknown }): SharedRateCounter {
  const store = createRateLimitStore(deps.db);
  return {
    increment: (key, windowStartMs) => store.increment(key, windowStartMs),
    purgeBefore: (windowStartMs) => store.deleteBefore(windowStartMs),
  };
}
