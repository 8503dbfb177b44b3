/**
 * SLA: availability per server from its downtime intervals, and the credit a breach earns. Pure.
 *
 * - Downtime is what the platform caused while the customer wanted the server running (host down, agent
 *   unreachable, crash, failed start: the metering consumer records each interval with its cause).
 *   Customer stops and the guest's own shutdowns never open one; announced maintenance is cut out here.
 * - A server's month: the minutes it existed in the month (its usage intervals). Downtime minutes: the sum
 *   of its downtime seconds in the month, rounded up to whole minutes.
 * - Breach: (existed − down) / existed < target. Credit (ADR 0008):
 *     credit = multiplier × downtime minutes × monthly price ÷ minutes in the month,
 *   capped at what the server was charged for the month, rounded to cents once (half up).
 */
import { mulDivRound, centsOfMicros } from './money.ts';
import { minutesIn, type MonthRange } from './months.ts';
import { slaTiers, type SlaTier } from './sla-tiers.ts';

export interface DowntimeInterval {
  serverId: string;
  cause: string;
  startMs: number;
  endMs: number | null;
  hostId: string | null;
  region: string;
}

export interface Window {
  startMs: number;
  endMs: number;
}

export interface ServerMonth {
  serverId: string;
  region: string;
  /** Minutes the server existed in the month (from its usage intervals). */
  existedMinutes: number;
  /** The product's monthly price in force at the month's end, micro-euros. */
  monthlyPriceMicros: number;
  /** What the server's line came to for the month, micro-euros (the cap of the credit). */
  chargedMicros: number;
}

export interface ServerAvailability {
  server_id: string;
  region: string;
  existed_minutes: number;
  downtime_minutes: number;
  /** Percent with three decimals, e.g. 99.583. */
  availability_percent: number;
  target_percent: string;
  breached: boolean;
  credit_cents: number;
  downtime: Array<{ cause: string; from: string; to: string; minutes: number }>;
}

/** Cuts `windows` (announced maintenance) out of [from, to). */
export function subtractWindows(fromMs: number, toMs: number, windows: readonly Window[]): Window[] {
  let pieces: Window[] = [{ startMs: fromMs, endMs: toMs }];
  for (const w of windows) {
    const next: Window[] = [];
    for (const p of pieces) {
      if (w.endMs <= p.startMs || w.startMs >= p.endMs) {
        next.push(p);
        continue;
      }
      if (w.startMs > p.startMs) next.push({ startMs: p.startMs, endMs: w.startMs });
      if (w.endMs < p.endMs) next.push({ startMs: w.endMs, endMs: p.endMs });
    }
    pieces = next;
  }
  return pieces;
}

/** One server's availability and credit for the month. `untilMs` closes intervals still open. */
export function serverAvailability(
  range: MonthRange,
  untilMs: number,
  server: ServerMonth,
  downtime: readonly DowntimeInterval[],
  maintenance: readonly Window[],
  tier: SlaTier,
): ServerAvailability {
  const terms = slaTiers[tier];
  const until = Math.min(untilMs, range.endMs);
  const listed: ServerAvailability['downtime'] = [];
  let downMs = 0;
  for (const d of downtime) {
    const from = Math.max(d.startMs, range.startMs);
    const to = Math.min(d.endMs ?? until, until);
    if (to <= from) continue;
    for (const piece of subtractWindows(from, to, maintenance)) {
      const ms = piece.endMs - piece.startMs;
      downMs += ms;
      listed.push({
        cause: d.cause,
        from: new Date(piece.startMs).toISOString(),
        to: new Date(piece.endMs).toISOString(),
        minutes: Math.ceil(ms / 60_000),
      });
    }
  }
  const downtimeMinutes = Math.min(Math.ceil(downMs / 60_000), server.existedMinutes);
  const existed = server.existedMinutes;
  const upPer100k = existed === 0 ? 100_000 : Math.floor(((existed - downtimeMinutes) * 100_000) / existed);
  const breached = existed > 0 && (existed - downtimeMinutes) * 100_000 < terms.targetPer100k * existed;
  const creditMicros = breached
    ? Math.min(
        server.chargedMicros,
        mulDivRound(terms.creditMultiplier * downtimeMinutes, server.monthlyPriceMicros, minutesIn(range)),
      )
    : 0;
  return {
    server_id: server.serverId,
    region: server.region,
    existed_minutes: existed,
    downtime_minutes: downtimeMinutes,
    availability_percent: upPer100k / 1000,
    target_percent: terms.targetPercent,
    breached,
    credit_cents: centsOfMicros(creditMicros),
    downtime: listed,
  };
}

/** Mean time to repair over downtime intervals that ended: minutes, or null when none ended. */
export function mttrMinutes(downtime: readonly DowntimeInterval[]): number | null {
  const ended = downtime.filter((d) => d.endMs !== null);
  if (ended.length === 0) return null;
  const totalMs = ended.reduce((sum, d) => sum + (d.endMs! - d.startMs), 0);
  return Math.round(totalMs / ended.length / 60_000);
}
