/**
 * When a server's backups run: every `everyMinutes`, at its own offset in the period, so that 10,000
 * servers on one schedule start spread evenly across it instead of at the same second. Pure.
 */
import { createHash } from 'node:crypto';

/** A stable offset in [0, periodMs) from the server id (a hash: uniform, no coordination needed). */
export function offsetMsOf(serverId: string, periodMs: number): number {
  const digest = createHash('sha256').update(serverId).digest();
  return Number(digest.readBigUInt64BE(0) % BigInt(periodMs));
}

/** The first slot `offset + k·period` (k integer, counted from the epoch) strictly after `afterMs`. */
export function nextSlotMs(afterMs: number, periodMs: number, offsetMs: number): number {
  const k = Math.floor((afterMs - offsetMs) / periodMs) + 1;
  return offsetMs + k * periodMs;
}

/** The next run of a server's schedule after `afterMs`. */
export function nextRunMs(serverId: string, everyMinutes: number, afterMs: number): number {
  const periodMs = everyMinutes * 60_000;
  return nextSlotMs(afterMs, periodMs, offsetMsOf(serverId, periodMs));
}

/**
 * The worst RPO a schedule gives: a write just after a backup's point in time is protected only when the
 * next backup finishes, one period plus that backup's duration later (plus the scheduler's tick).
 */
export function worstRpoMs(everyMinutes: number, backupDurationMs: number, tickMs: number): number {
  return everyMinutes * 60_000 + backupDurationMs + tickMs;
}

/** Parses `6h`, `5h30m`, `90m`, `1d` into minutes; null when it is not a duration. */
export function parseEveryMinutes(text: string): number | null {
  const match = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$/.exec(text.trim());
  if (!match || text.trim() === '') return null;
  const [, d, h, m] = match;
  if (d === undefined && h === undefined && m === undefined) return null;
  return Number(d ?? 0) * 1440 + Number(h ?? 0) * 60 + Number(m ?? 0);
}
