/**
 * A month's usage of one server and of a project, from samples (an open month) or from the closed month's
 * rows — the numbers of `GET /v1/traffic/summary` and of billing (`monthlyTrafficUsage`). Pure.
 *
 * Decisions (docs/traffic.md): billable = metered **outbound** bytes (inbound is free, as at most European
 * hosts); included traffic is the product's, prorated to the part of the month the server existed, and
 * pooled per project (the project's overage is Σ billable − Σ included, never below 0); the 95th percentile
 * uses metered bytes, per direction, the higher direction billed.
 */
import { billedPercentile95, bitsPerSecond } from './percentile.ts';
import type { Sums } from './store.ts';

export const tebibyte = 1024 ** 4;

export interface ServerUsage {
  serverId: string;
  name: string;
  product: string;
  rxBytes: number;
  txBytes: number;
  unmeteredBytes: number;
  billableBytes: number;
  includedBytes: number;
  overageBytes: number;
  p95InBps: number;
  p95OutBps: number;
  p95Bps: number;
}

export interface ProjectUsage {
  includedBytes: number;
  billableBytes: number;
  unmeteredBytes: number;
  overageBytes: number;
  p95InBps: number;
  p95OutBps: number;
  p95Bps: number;
}

/** Metered bytes of a slot or a sum, per direction. */
export const meteredOf = (s: Sums) => ({
  inBytes: Math.max(0, s.rxBytes - s.rxUnmeteredBytes),
  outBytes: Math.max(0, s.txBytes - s.txUnmeteredBytes),
});

/** Included bytes of a server: the product's TiB × the share of [monthStart, monthEnd) it existed. */
export function includedBytes(
  trafficTiB: number,
  existed: { fromMs: number; toMs: number | null },
  month: { startMs: number; endMs: number },
): number {
  const from = Math.max(existed.fromMs, month.startMs);
  const to = Math.min(existed.toMs ?? month.endMs, month.endMs);
  if (to <= from) return 0;
  return Math.floor((trafficTiB * tebibyte * (to - from)) / (month.endMs - month.startMs));
}

/** One server's month from its samples. */
export function serverUsageFromSamples(input: {
  serverId: string;
  name: string;
  product: string;
  includedBytes: number;
  samples: readonly Sums[];
  slotCount: number;
}): ServerUsage {
  let rx = 0;
  let tx = 0;
  let unmetered = 0;
  let billable = 0;
  for (const s of input.samples) {
    rx += s.rxBytes;
    tx += s.txBytes;
    unmetered += s.rxUnmeteredBytes + s.txUnmeteredBytes;
    billable += meteredOf(s).outBytes;
  }
  const p95 = billedPercentile95(input.samples.map(meteredOf), input.slotCount);
  return {
    serverId: input.serverId,
    name: input.name,
    product: input.product,
    rxBytes: rx,
    txBytes: tx,
    unmeteredBytes: unmetered,
    billableBytes: billable,
    includedBytes: input.includedBytes,
    overageBytes: Math.max(0, billable - input.includedBytes),
    p95InBps: p95.inBps,
    p95OutBps: p95.outBps,
    p95Bps: p95.billedBps,
  };
}

/** The project's month: pooled included traffic, and the 95th percentile of the per-slot sums. */
export function projectUsage(
  servers: readonly ServerUsage[],
  slotSums: readonly Sums[] | null,
  slotCount: number,
  closedP95?: { inBps: number; outBps: number },
): ProjectUsage {
  const included = servers.reduce((a, s) => a + s.includedBytes, 0);
  const billable = servers.reduce((a, s) => a + s.billableBytes, 0);
  const p95 = closedP95
    ? { inBps: closedP95.inBps, outBps: closedP95.outBps, billedBps: Math.max(closedP95.inBps, closedP95.outBps) }
    : billedPercentile95((slotSums ?? []).map(meteredOf), slotCount);
  return {
    includedBytes: included,
    billableBytes: billable,
    unmeteredBytes: servers.reduce((a, s) => a + s.unmeteredBytes, 0),
    overageBytes: Math.max(0, billable - included),
    p95InBps: p95.inBps,
    p95OutBps: p95.outBps,
    p95Bps: p95.billedBps,
  };
}

export { bitsPerSecond };
