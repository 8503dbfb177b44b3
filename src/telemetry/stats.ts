/**
 * The pure figures of agent telemetry: round-trip percentiles (exact over samples, estimated from the
 * mergeable histogram the wire carries), loss ratios, the peer sample each agent probes, the sim fleet's
 * round-trip model, and counter deltas. Table-tested in stats.test.ts; no I/O.
 */
import { probeRttBucketsMs, type RemoteRegionProbes, type ServerUsageDelta } from '../contract/index.ts';

/** The p-th percentile (nearest rank) of some numbers, or null when there are none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** Lost over sent (0–1), or null when nothing was sent. Late or duplicate answers never make it negative. */
export function lossRatio(sent: number, received: number): number | null {
  if (sent <= 0) return null;
  return Math.max(0, sent - Math.min(received, sent)) / sent;
}

/** The histogram bucket of a round trip: the first bound it does not exceed, or the +Inf bucket. */
export function bucketOf(rttMs: number): number {
  const index = probeRttBucketsMs.findIndex((bound) => rttMs <= bound);
  return index < 0 ? probeRttBucketsMs.length : index;
}

export const emptyHistogram = (): number[] => new Array<number>(probeRttBucketsMs.length + 1).fill(0);

export function histogramOf(rttsMs: readonly number[]): number[] {
  const out = emptyHistogram();
  for (const rtt of rttsMs) out[bucketOf(rtt)]++;
  return out;
}

/** Bucket-wise sum (histograms of other lengths are refused: another wire format). */
export function addHistograms(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length) throw new Error(`histograms of ${a.length} and ${b.length} buckets cannot be added`);
  return a.map((count, i) => count + b[i]);
}

/**
 * The p-th percentile estimated from a histogram: the bucket holding the nearest-rank sample, interpolated
 * linearly inside it (from the previous bound, 0 for the first); the +Inf bucket answers its lower bound.
 */
export function histogramPercentile(histogram: readonly number[], p: number): number | null {
  const total = histogram.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.min(total, Math.max(1, Math.ceil((p / 100) * total)));
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    if (histogram[i] === 0) continue;
    if (seen + histogram[i] >= rank) {
      const lower = i === 0 ? 0 : probeRttBucketsMs[i - 1];
      if (i >= probeRttBucketsMs.length) return lower;
      const upper = probeRttBucketsMs[i];
      return lower + ((upper - lower) * (rank - seen)) / histogram[i];
    }
    seen += histogram[i];
  }
  return probeRttBucketsMs[probeRttBucketsMs.length - 1];
}

/** One probe: which peer, and its round trip (null: no answer within the timeout). */
export interface ProbeSample {
  peer: string;
  rttMs: number | null;
}

export interface ProbeSummary {
  sent: number;
  received: number;
  p50Ms: number | null;
  p99Ms: number | null;
  histogram: number[];
  peers: Array<{ hostId: string; sent: number; received: number; p50Ms: number | null; p99Ms: number | null }>;
}

const rounded = (value: number | null) => (value === null ? null : Math.round(value * 1000) / 1000);

/** What an agent reports of some probes: over the whole peer set and per peer (exact percentiles, µs). */
export function summarizeProbes(samples: readonly ProbeSample[]): ProbeSummary {
  const byPeer = new Map<string, number[]>();
  const sentByPeer = new Map<string, number>();
  const all: number[] = [];
  for (const sample of samples) {
    sentByPeer.set(sample.peer, (sentByPeer.get(sample.peer) ?? 0) + 1);
    if (!byPeer.has(sample.peer)) byPeer.set(sample.peer, []);
    if (sample.rttMs === null) continue;
    byPeer.get(sample.peer)!.push(sample.rttMs);
    all.push(sample.rttMs);
  }
  return {
    sent: samples.length,
    received: all.length,
    p50Ms: rounded(percentile(all, 50)),
    p99Ms: rounded(percentile(all, 99)),
    histogram: histogramOf(all),
    peers: [...sentByPeer]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([hostId, sent]) => {
        const rtts = byPeer.get(hostId)!;
        return {
          hostId,
          sent,
          received: rtts.length,
          p50Ms: rounded(percentile(rtts, 50)),
          p99Ms: rounded(percentile(rtts, 99)),
        };
      }),
  };
}

/**
 * Splits probes by the region of their peer: those of the host's own region (peers without a region) and,
 * per other region, sent, received, the histogram and how many of its hosts were probed, sorted by region.
 */
export function splitByRegion(
  samples: readonly ProbeSample[],
  regionOf: ReadonlyMap<string, string>,
): { local: ProbeSample[]; remote: RemoteRegionProbes[] } {
  const local: ProbeSample[] = [];
  const byRegion = new Map<string, { rtts: number[]; sent: number; peers: Set<string> }>();
  for (const sample of samples) {
    const region = regionOf.get(sample.peer);
    if (region === undefined) {
      local.push(sample);
      continue;
    }
    if (!byRegion.has(region)) byRegion.set(region, { rtts: [], sent: 0, peers: new Set() });
    const entry = byRegion.get(region)!;
    entry.sent++;
    entry.peers.add(sample.peer);
    if (sample.rttMs !== null) entry.rtts.push(sample.rttMs);
  }
  const remote = [...byRegion]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([region, e]) => ({
      region,
      sent: e.sent,
      received: e.rtts.length,
      histogram: histogramOf(e.rtts),
      peers: e.peers.size,
    }));
  return { local, remote };
}

/** A 32-bit hash of the parts (FNV-1a and a murmur finaliser): deterministic choices and the sim model. */
export function hash32(...parts: Array<string | number>): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    const text = `${part}\u0000`;
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const uniform = (...parts: Array<string | number>) => hash32(...parts) / 2 ** 32;

/**
 * The peers a host probes: up to `max` other hosts of its region, a deterministic sample that changes with
 * `epoch` (the hour), so that over a day every pair of a large region gets measured. A small region is
 * ordered by a hash of each pair; a large one (over 4 × `max` candidates) draws `max` distinct indices
 * from hashes instead, so a call costs O(max), not O(region) — 20,000 hosts call this every minute each.
 * Candidates must come in a stable order (e.g. sorted by id) for every replica to draw the same sample.
 */
export function samplePeers<T extends { hostId: string }>(
  selfId: string,
  candidates: readonly T[],
  max: number,
  epoch: number,
): T[] {
  if (max <= 0) return [];
  if (candidates.length > 4 * max) {
    const chosen = new Set<number>();
    const sample: T[] = [];
    for (let draw = 0; sample.length < max && draw < 16 * max; draw++) {
      const index = hash32(selfId, epoch, draw) % candidates.length;
      if (chosen.has(index) || candidates[index].hostId === selfId) continue;
      chosen.add(index);
      sample.push(candidates[index]);
    }
    return sample;
  }
  return candidates
    .filter((c) => c.hostId !== selfId)
    .map((c) => ({ c, key: hash32(selfId, c.hostId, epoch) }))
    .sort((a, b) => a.key - b.key || a.c.hostId.localeCompare(b.c.hostId))
    .slice(0, max)
    .map(({ c }) => c);
}

/**
 * The simulated fleet's round trips between two hosts (no sockets): a base per pair of 0.15–0.6 ms (one
 * switch fabric), ±20 % per probe, one probe in a hundred two to six times slower (queues), and one in
 * fifty thousand lost. Deterministic per pair and probe number; the same on every replica.
 */
export function simRoundTripMs(a: string, b: string, probe: number): number | null {
  const [x, y] = a < b ? [a, b] : [b, a];
  if (uniform(x, y, probe, 'loss') < 2e-5) return null;
  const base = 0.15 + 0.45 * uniform(x, y, 'base');
  const jitter = 0.8 + 0.4 * uniform(x, y, probe, 'jitter');
  const tail = uniform(x, y, probe, 'tail') < 0.01 ? 2 + 4 * uniform(x, y, probe, 'tail-size') : 1;
  return base * jitter * tail;
}

/**
 * The simulated fleet's base round trip between two regions: 8–25 ms, deterministic per unordered pair
 * (European metros a few hundred to two thousand km apart, fibre paths and a couple of routers).
 */
export function simRegionPairBaseMs(a: string, b: string): number {
  const [x, y] = a < b ? [a, b] : [b, a];
  return 8 + 17 * uniform(x, y, 'region-pair');
}

/**
 * The simulated round trip from a host of `regionA` to one of `regionB`: the pair's base, ±10 % per probe,
 * one probe in a hundred 1.5 times slower, one in twenty thousand lost. Same region: `simRoundTripMs`.
 */
export function simInterRegionRoundTripMs(
  regionA: string,
  a: string,
  regionB: string,
  b: string,
  probe: number,
): number | null {
  if (regionA === regionB) return simRoundTripMs(a, b, probe);
  const [x, y] = a < b ? [a, b] : [b, a];
  if (uniform(x, y, probe, 'wan-loss') < 5e-5) return null;
  const jitter = 0.9 + 0.2 * uniform(x, y, probe, 'wan-jitter');
  const tail = uniform(x, y, probe, 'wan-tail') < 0.01 ? 1.5 : 1;
  return simRegionPairBaseMs(regionA, regionB) * jitter * tail;
}

/** The CPU ticks of all CPUs from `/proc/stat` (its first `cpu` line): the sum of its values, and steal. */
export function parseCpuTicks(procStat: string): { total: number; steal: number } | null {
  const line = procStat.split('\n').find((l) => /^cpu\s/.test(l));
  if (!line) return null;
  // user nice system idle iowait irq softirq steal guest guest_nice: guest time is already in user/nice.
  const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (values.length < 8 || values.some((v) => !Number.isFinite(v) || v < 0)) return null;
  return { total: values.reduce((a, b) => a + b, 0), steal: values[7] };
}

/** Steal ticks over all ticks between two readings (0–1), or null without progress or after a reset. */
export function cpuStealRatio(
  previous: { total: number; steal: number } | null,
  current: { total: number; steal: number },
): number | null {
  if (!previous) return null;
  const total = current.total - previous.total;
  const steal = current.steal - previous.steal;
  if (!(total > 0) || steal < 0) return null;
  return Math.min(1, steal / total);
}

/** Cumulative counters of one server as a driver reads them (they restart with its process). */
export interface UsageCounters {
  cpuSeconds: number;
  diskReadBytes: number;
  diskWriteBytes: number;
  diskReadOps: number;
  diskWriteOps: number;
}

const usageFields = ['cpuSeconds', 'diskReadBytes', 'diskWriteBytes', 'diskReadOps', 'diskWriteOps'] as const;

/**
 * What grew between two readings `seconds` apart. A counter that went down restarted (a new QEMU process):
 * its new value is what grew since the restart. Null without a previous reading or a positive interval.
 */
export function usageDelta(
  serverId: string,
  previous: UsageCounters | undefined,
  current: UsageCounters,
  seconds: number,
): ServerUsageDelta | null {
  if (!previous || !(seconds > 0)) return null;
  const delta = { serverId, seconds: Math.min(seconds, 3600) } as ServerUsageDelta;
  for (const field of usageFields) {
    const grown = current[field] - previous[field];
    delta[field] = grown >= 0 ? grown : Math.max(0, current[field]);
  }
  return delta;
}
