/**
 * `GET /v1/servers/{id}/metrics` (Hetzner's shape): a server's CPU, disk and network as time series.
 * Network: the traffic domain's 5-minute samples (what billing counts). CPU and disk: on the simulated
 * fleet, the sim model (src/compute/drivers/sim/sim-usage.ts), marked `simulated`; on a real host, what
 * its agent reported each minute (`usage`, the telemetry domain), with source `agent`.
 */
import { invalid } from '../core/index.ts';
import {
  serverMetricSeries,
  serverMetricsMaxPoints,
  type ServerMetrics,
  type ServerMetricsQuery,
  type ServerMetricType,
} from '../contract/index.ts';
import { simUsageRates } from '../compute/index.ts';

const hourMs = 3_600_000;
/** How far back a window may start: the traffic domain keeps hourly rollups longer, but 90 days is enough here. */
export const serverMetricsRetentionMs = 90 * 24 * hourMs;

export interface MetricsWindow {
  startMs: number;
  endMs: number;
  stepS: number;
}

const badRange = (message: string, field: string) =>
  invalid(message, { reason: 'invalid_range', fields: [{ field, message }] });

/** The window a query asks for, checked: start before end, not in the future, within retention, ≤ 1000 points. */
export function metricsWindow(query: Pick<ServerMetricsQuery, 'start' | 'end' | 'step'>, nowMs: number): MetricsWindow {
  const parse = (text: string | undefined, field: string, fallback: number) => {
    if (text === undefined) return fallback;
    const ms = Date.parse(text);
    if (!Number.isFinite(ms)) throw badRange(`${field} must be an RFC 3339 time`, field);
    return ms;
  };
  const endMs = Math.min(parse(query.end, 'end', nowMs), nowMs);
  const startMs = parse(query.start, 'start', endMs - hourMs);
  if (startMs >= endMs) throw badRange('start must be before end (and before now)', 'start');
  if (startMs < nowMs - serverMetricsRetentionMs)
    throw badRange('start is older than the 90 days metrics are kept', 'start');
  const windowS = (endMs - startMs) / 1000;
  const stepS = query.step !== undefined ? Number(query.step) : Math.max(60, Math.ceil(windowS / 60 / 60) * 60);
  if (!Number.isInteger(stepS) || stepS < 1)
    throw invalid('step must be a whole number of seconds ≥ 1', {
      reason: 'invalid_step',
      fields: [{ field: 'step', message: 'must be ≥ 1' }],
    });
  if (windowS / stepS > serverMetricsMaxPoints)
    throw invalid(`at most ${serverMetricsMaxPoints} points per series: use a larger step or a shorter window`, {
      reason: 'too_many_points',
      fields: [{ field: 'step', message: 'too many points for this window' }],
    });
  return { startMs, endMs, stepS };
}

/** The end of every step of the window (each point covers the step before it), oldest first. */
export function pointTimes(window: MetricsWindow): number[] {
  const out: number[] = [];
  const stepMs = window.stepS * 1000;
  for (let t = window.startMs + stepMs; t <= window.endMs; t += stepMs) out.push(t);
  return out;
}

/** A measured interval: counts over [startMs, startMs + seconds). */
export interface CountedInterval {
  startMs: number;
  seconds: number;
  values: Record<string, number>;
}

/**
 * Rates per step from intervals of counts (5-minute traffic samples): each step's rate is the counts of the
 * intervals it overlaps, weighted by the overlap, over the overlapped time; steps nothing covers are left out.
 */
export function ratesFromIntervals(
  intervals: readonly CountedInterval[],
  window: MetricsWindow,
  names: readonly string[],
): Map<string, Array<[number, number]>> {
  const out = new Map<string, Array<[number, number]>>(names.map((n) => [n, []]));
  const stepMs = window.stepS * 1000;
  for (const t of pointTimes(window)) {
    const from = t - stepMs;
    let coveredMs = 0;
    const sums: Record<string, number> = {};
    for (const interval of intervals) {
      const end = interval.startMs + interval.seconds * 1000;
      const overlap = Math.min(end, t) - Math.max(interval.startMs, from);
      if (overlap <= 0) continue;
      coveredMs += overlap;
      const share = overlap / (interval.seconds * 1000);
      for (const name of names) sums[name] = (sums[name] ?? 0) + (interval.values[name] ?? 0) * share;
    }
    if (coveredMs <= 0) continue;
    for (const name of names) out.get(name)!.push([t / 1000, (sums[name] ?? 0) / (coveredMs / 1000)]);
  }
  return out;
}

/** The sim model's rates averaged over each step (up to 30 minutes sampled per step), while the server existed. */
export function simulatedSeries(
  server: { id: string; vcpus: number; createdAtMs: number },
  window: MetricsWindow,
  type: 'cpu' | 'disk',
): Map<string, Array<[number, number]>> {
  const names = serverMetricSeries[type];
  const out = new Map<string, Array<[number, number]>>(names.map((n) => [n, []]));
  const stepMs = window.stepS * 1000;
  for (const t of pointTimes(window)) {
    const from = Math.max(t - stepMs, server.createdAtMs);
    if (from >= t) continue;
    const samples = Math.max(1, Math.min(30, Math.round((t - from) / 60_000)));
    const sums = [0, 0, 0, 0];
    for (let i = 0; i < samples; i++) {
      const r = simUsageRates(server.id, server.vcpus, from + ((i + 0.5) * (t - from)) / samples);
      const row =
        type === 'cpu' ? [r.cpuPercent] : [r.readIops, r.writeIops, r.readBytesPerSecond, r.writeBytesPerSecond];
      row.forEach((value, k) => (sums[k] += value));
    }
    names.forEach((name, k) => out.get(name)!.push([t / 1000, sums[k] / samples]));
  }
  return out;
}

const formatValue = (value: number) => String(Math.round(value * 1000) / 1000);

export interface ServerMetricsDeps<P> {
  nowMs: () => number;
  /** The caller's server (404 for another project's): its vCPUs, creation time, and whether its host is simulated. */
  server: (
    principal: P,
    serverId: string,
  ) => Promise<{ id: string; vcpus: number; createdAtMs: number; simulated: boolean }>;
  /** The server's counted traffic intervals overlapping [fromMs, toMs) (bytes and packets, the server's side). */
  traffic: (
    principal: P,
    serverId: string,
    fromMs: number,
    toMs: number,
  ) => Promise<
    Array<{ startMs: number; seconds: number; rxBytes: number; txBytes: number; rxPackets: number; txPackets: number }>
  >;
  /** What a real host's agent reported of the server over [fromMs, toMs) (absent: empty series). */
  usage?: (serverId: string, fromMs: number, toMs: number) => Promise<AgentUsageInterval[]>;
}

/** A server's CPU and disk over an interval, as its agent reported them (counter differences). */
export interface AgentUsageInterval {
  startMs: number;
  seconds: number;
  cpuSeconds: number;
  diskReadBytes: number;
  diskWriteBytes: number;
  diskReadOps: number;
  diskWriteOps: number;
}

/** The cpu or disk series from agent-reported intervals: CPU seconds per second × 100, operations and bytes per second. */
export function agentSeries(
  intervals: readonly AgentUsageInterval[],
  window: MetricsWindow,
  type: 'cpu' | 'disk',
): Map<string, Array<[number, number]>> {
  const names = serverMetricSeries[type];
  const pick = (i: AgentUsageInterval): number[] =>
    type === 'cpu' ? [i.cpuSeconds * 100] : [i.diskReadOps, i.diskWriteOps, i.diskReadBytes, i.diskWriteBytes];
  return ratesFromIntervals(
    intervals.map((i) => ({
      startMs: i.startMs,
      seconds: i.seconds,
      values: Object.fromEntries(pick(i).map((value, k) => [names[k], value])),
    })),
    window,
    names,
  );
}

export function createServerMetricsService<P>(deps: ServerMetricsDeps<P>) {
  return {
    async serverMetrics(principal: P, serverId: string, query: ServerMetricsQuery): Promise<ServerMetrics> {
      const server = await deps.server(principal, serverId);
      const window = metricsWindow(query, deps.nowMs());
      const types = [...new Set(query.type.split(','))] as ServerMetricType[];
      const series = new Map<string, Array<[number, number]>>();
      const sources: Record<string, 'agent' | 'traffic' | 'simulated'> = {};
      for (const type of types) {
        if (type === 'network') {
          const intervals = await deps.traffic(
            principal,
            server.id,
            window.startMs - window.stepS * 1000,
            window.endMs,
          );
          const names = serverMetricSeries.network;
          const rates = ratesFromIntervals(
            intervals.map((i) => ({
              startMs: i.startMs,
              seconds: i.seconds,
              values: {
                [names[0]]: i.rxPackets,
                [names[1]]: i.txPackets,
                [names[2]]: i.rxBytes,
                [names[3]]: i.txBytes,
              },
            })),
            window,
            names,
          );
          for (const [name, values] of rates) series.set(name, values);
          sources.network = 'traffic';
        } else if (server.simulated) {
          for (const [name, values] of simulatedSeries(server, window, type)) series.set(name, values);
          sources[type] = 'simulated';
        } else {
          const intervals = deps.usage
            ? await deps.usage(server.id, window.startMs - window.stepS * 1000, window.endMs)
            : [];
          for (const [name, values] of agentSeries(intervals, window, type)) series.set(name, values);
          sources[type] = 'agent';
        }
      }
      return {
        metrics: {
          start: new Date(window.startMs).toISOString(),
          end: new Date(window.endMs).toISOString(),
          step: window.stepS,
          time_series: Object.fromEntries(
            [...series].map(([name, values]) => [name, { values: values.map(([t, v]) => [t, formatValue(v)]) }]),
          ),
        },
        sources,
      };
    },
  };
}

export type ServerMetricsService<P> = ReturnType<typeof createServerMetricsService<P>>;
