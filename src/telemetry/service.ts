/**
 * Agent telemetry on the control plane: takes each agent's probe figures (its region's peers, and a couple
 * of hosts of each other region), its host's CPU steal and server usage, answers the
 * peers it is to probe, and serves the region figures (the status promises, `GET /metrics`) and a server's
 * CPU and disk history (`GET /v1/servers/{id}/metrics` on real hosts). Retention: probe rows 90 days per
 * host and hour; usage per minute 7 days, folded into 5-minute rows kept 35 days (`prune`).
 */
import { inTransaction, type Db } from '../db/index.ts';
import type { Clock, Logger, MetricFamily } from '../core/index.ts';
import type {
  HostCpuSteal,
  ProbePeer,
  ProbeReport,
  RemoteRegionProbes,
  ServerUsageDelta,
  TelemetryAnswer,
  TelemetryBody,
} from '../contract/index.ts';
import { addHistograms, emptyHistogram, histogramPercentile, lossRatio, samplePeers } from './stats.ts';
import * as store from './store.ts';

const hourMs = 3_600_000;
const dayMs = 24 * hourMs;

export interface TelemetryOptions {
  /** Peers each agent probes (a sample of its region's hosts, changing every hour). */
  maxPeers: number;
  /** Hosts of each other region each agent also probes (inter-region round trips). */
  maxRemotePeersPerRegion: number;
  probeIntervalMs: number;
  reportIntervalMs: number;
  probeRetentionDays: number;
  usageMinutesRetentionDays: number;
  usageRollupRetentionDays: number;
}

export const defaultTelemetryOptions: TelemetryOptions = {
  maxPeers: 8,
  maxRemotePeersPerRegion: 2,
  probeIntervalMs: 1000,
  reportIntervalMs: 60_000,
  probeRetentionDays: 90,
  usageMinutesRetentionDays: 7,
  usageRollupRetentionDays: 35,
};

/** A host as telemetry sees it: its region, whether it is simulated, and where its echo responder is. */
export interface TelemetryHost {
  hostId: string;
  region: string;
  simulated: boolean;
  up: boolean;
  /** The host API's URL (https://ADDRESS:PORT), or null. */
  apiUrl: string | null;
}

export interface TelemetryDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  host(hostId: string): Promise<TelemetryHost | null>;
  /**
   * Every host by region, each list in a stable order (by id). Return the same Map while the fleet is
   * unchanged: the service keeps the probeable hosts of each region per Map, not per call.
   */
  hostsByRegion(): Promise<ReadonlyMap<string, readonly TelemetryHost[]>>;
  /** The live servers placed on a host: a host reports usage for those only. */
  serverIdsOnHost(hostId: string): Promise<string[]>;
  options?: Partial<TelemetryOptions>;
}

/** A region's intra-DC figures over a window. */
export interface RegionProbeFigures {
  region: string;
  sent: number;
  received: number;
  lossRatio: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  /** Hosts that reported in the window. */
  hosts: number;
  /** Some of the figures come from the sim model. */
  simulated: boolean;
  windowMs: number;
}

/** A pair of regions' round trips over a window: both directions' probes summed. */
export interface RegionPairFigures {
  /** The two regions, in alphabetical order. */
  regions: [string, string];
  sent: number;
  received: number;
  lossRatio: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  hosts: number;
  simulated: boolean;
  windowMs: number;
}

/** A host's CPU steal over a window: steal seconds over the seconds its agent reported. */
export interface HostStealFigures {
  hostId: string;
  region: string;
  /** Percent of the CPUs' time stolen (0–100), or null when nothing was reported. */
  stealPercent: number | null;
  /** Seconds the reports cover. */
  periodSeconds: number;
  simulated: boolean;
}

const round3 = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);

/** Sums of hosts' hourly rows per unordered region pair (both directions), sorted by pair. */
export function regionPairFigures(rows: readonly store.RegionProbeRollup[], windowMs: number): RegionPairFigures[] {
  const byPair = new Map<string, { regions: [string, string]; rows: store.RegionProbeRollup[] }>();
  for (const row of rows) {
    if (row.region === row.peerRegion) continue;
    const regions: [string, string] =
      row.region < row.peerRegion ? [row.region, row.peerRegion] : [row.peerRegion, row.region];
    const key = regions.join(' ');
    if (!byPair.has(key)) byPair.set(key, { regions, rows: [] });
    byPair.get(key)!.rows.push(row);
  }
  return [...byPair]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, { regions, rows: list }]) => {
      let histogram = emptyHistogram();
      let sent = 0;
      let received = 0;
      for (const row of list) {
        if (row.histogram.length === histogram.length) histogram = addHistograms(histogram, row.histogram);
        sent += row.sent;
        received += row.received;
      }
      return {
        regions,
        sent,
        received,
        lossRatio: lossRatio(sent, received),
        p50Ms: round3(histogramPercentile(histogram, 50)),
        p99Ms: round3(histogramPercentile(histogram, 99)),
        hosts: new Set(list.map((r) => r.hostId)).size,
        simulated: list.some((r) => r.method === 'model'),
        windowMs,
      };
    });
}

/** Per host: its hours' steal seconds over their reported seconds, sorted by host. */
export function hostStealFigures(rows: readonly store.StealRollup[]): HostStealFigures[] {
  const byHost = new Map<string, store.StealRollup[]>();
  for (const row of rows) {
    if (!byHost.has(row.hostId)) byHost.set(row.hostId, []);
    byHost.get(row.hostId)!.push(row);
  }
  return [...byHost]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([hostId, list]) => {
      const period = list.reduce((sum, r) => sum + r.periodSeconds, 0);
      const steal = list.reduce((sum, r) => sum + r.stealSeconds, 0);
      return {
        hostId,
        region: [...list].sort((a, b) => b.hourMs - a.hourMs)[0].region,
        stealPercent: period > 0 ? Math.round((steal / period) * 100 * 1e4) / 1e4 : null,
        periodSeconds: Math.round(period),
        simulated: list.some((r) => r.method === 'model'),
      };
    });
}

/** The echo responder of a host API URL: its address and the same port number over UDP. */
export function echoEndpointOf(apiUrl: string | null): { address: string; port: number } | null {
  if (!apiUrl) return null;
  try {
    const url = new URL(apiUrl);
    const address = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    return address && port > 0 ? { address, port } : null;
  } catch {
    return null;
  }
}

/** Sums of hosts' hourly rows per region. */
export function regionFigures(rows: readonly store.ProbeRollup[], windowMs: number): RegionProbeFigures[] {
  const byRegion = new Map<string, { rows: store.ProbeRollup[] }>();
  for (const row of rows) {
    if (!byRegion.has(row.region)) byRegion.set(row.region, { rows: [] });
    byRegion.get(row.region)!.rows.push(row);
  }
  return [...byRegion]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([region, { rows: list }]) => {
      let histogram = emptyHistogram();
      let sent = 0;
      let received = 0;
      for (const row of list) {
        if (row.histogram.length === histogram.length) histogram = addHistograms(histogram, row.histogram);
        sent += row.sent;
        received += row.received;
      }
      const round = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);
      return {
        region,
        sent,
        received,
        lossRatio: lossRatio(sent, received),
        p50Ms: round(histogramPercentile(histogram, 50)),
        p99Ms: round(histogramPercentile(histogram, 99)),
        hosts: new Set(list.map((r) => r.hostId)).size,
        simulated: list.some((r) => r.method === 'model'),
        windowMs,
      };
    });
}

export function createTelemetryService(deps: TelemetryDeps) {
  const { db, clock } = deps;
  const options: TelemetryOptions = { ...defaultTelemetryOptions, ...deps.options };
  let lastPruneMs = -Infinity;

  /** The hosts of a region a host of this kind can probe (up, same kind, an echo endpoint for real ones). */
  const probeable = new WeakMap<ReadonlyMap<string, readonly TelemetryHost[]>, Map<string, TelemetryHost[]>>();
  function probeableIn(
    fleet: ReadonlyMap<string, readonly TelemetryHost[]>,
    region: string,
    simulated: boolean,
  ): TelemetryHost[] {
    let byKey = probeable.get(fleet);
    if (!byKey) probeable.set(fleet, (byKey = new Map()));
    const key = `${region}\u0000${simulated}`;
    let list = byKey.get(key);
    if (!list) {
      list = (fleet.get(region) ?? []).filter(
        (h) => h.up && h.simulated === simulated && (h.simulated || echoEndpointOf(h.apiUrl) !== null),
      );
      byKey.set(key, list);
    }
    return list;
  }

  async function peersOf(host: TelemetryHost, nowMs: number): Promise<ProbePeer[]> {
    const fleet = await deps.hostsByRegion();
    const epoch = Math.floor(nowMs / hourMs);
    const peerOf = (h: TelemetryHost, remote: boolean): ProbePeer => {
      const endpoint = h.simulated ? null : echoEndpointOf(h.apiUrl);
      return {
        hostId: h.hostId,
        address: endpoint?.address ?? null,
        port: endpoint?.port ?? null,
        ...(remote && { region: h.region }),
      };
    };
    const local = samplePeers(
      host.hostId,
      probeableIn(fleet, host.region, host.simulated),
      options.maxPeers,
      epoch,
    ).map((h) => peerOf(h, false));
    if (options.maxRemotePeersPerRegion <= 0) return local;
    // Inter-region probes: a few hosts of each other region.
    const remote = [...fleet.keys()]
      .filter((region) => region !== host.region)
      .sort()
      .flatMap((region) =>
        samplePeers(host.hostId, probeableIn(fleet, region, host.simulated), options.maxRemotePeersPerRegion, epoch),
      )
      .map((h) => peerOf(h, true));
    return [...local, ...remote];
  }

  async function recordRemote(
    host: TelemetryHost,
    remote: readonly RemoteRegionProbes[],
    method: string,
    nowMs: number,
  ) {
    const hour = Math.floor(nowMs / hourMs) * hourMs;
    await inTransaction(db, async (tx) => {
      for (const report of remote) {
        if (report.sent <= 0 || report.region === host.region) continue;
        const row = (await store.regionProbeRollup(tx, host.hostId, hour, report.region)) ?? {
          hostId: host.hostId,
          hourMs: hour,
          peerRegion: report.region,
          region: host.region,
          method,
          sent: 0,
          received: 0,
          histogram: emptyHistogram(),
          peers: 0,
        };
        const histogram =
          row.histogram.length === report.histogram.length
            ? addHistograms(row.histogram, report.histogram)
            : report.histogram;
        await store.putRegionProbeRollup(
          tx,
          {
            ...row,
            region: host.region,
            method: row.method === 'model' || host.simulated ? 'model' : method,
            sent: row.sent + report.sent,
            received: row.received + Math.min(report.received, report.sent),
            histogram,
            peers: report.peers,
          },
          nowMs,
        );
      }
    });
  }

  async function recordSteal(host: TelemetryHost, cpu: HostCpuSteal, nowMs: number) {
    await store.addSteal(
      db,
      {
        hostId: host.hostId,
        hourMs: Math.floor(nowMs / hourMs) * hourMs,
        region: host.region,
        method: host.simulated ? 'model' : cpu.method,
        periodSeconds: cpu.periodS,
        stealSeconds: cpu.periodS * cpu.stealRatio,
      },
      nowMs,
    );
  }

  async function recordProbes(host: TelemetryHost, report: ProbeReport, nowMs: number) {
    const hour = Math.floor(nowMs / hourMs) * hourMs;
    await inTransaction(db, async (tx) => {
      const row = (await store.probeRollup(tx, host.hostId, hour)) ?? {
        hostId: host.hostId,
        hourMs: hour,
        region: host.region,
        method: report.method,
        sent: 0,
        received: 0,
        histogram: emptyHistogram(),
        peers: 0,
      };
      const histogram =
        row.histogram.length === report.histogram.length
          ? addHistograms(row.histogram, report.histogram)
          : report.histogram;
      await store.putProbeRollup(
        tx,
        {
          ...row,
          region: host.region,
          // A simulated figure taints the hour: the promise says so.
          method: row.method === 'model' || host.simulated ? 'model' : report.method,
          sent: row.sent + report.sent,
          received: row.received + Math.min(report.received, report.sent),
          histogram,
          peers: report.peers.length,
        },
        nowMs,
      );
    });
  }

  async function recordUsage(host: TelemetryHost, usage: readonly ServerUsageDelta[], nowMs: number) {
    const mine = new Set(await deps.serverIdsOnHost(host.hostId));
    const rows: store.UsageRow[] = usage
      .filter((u) => mine.has(u.serverId))
      .map((u) => ({
        serverId: u.serverId,
        startMs: Math.floor((nowMs - u.seconds * 1000) / 60_000) * 60_000,
        hostId: host.hostId,
        seconds: u.seconds,
        cpuSeconds: u.cpuSeconds,
        diskReadBytes: u.diskReadBytes,
        diskWriteBytes: u.diskWriteBytes,
        diskReadOps: u.diskReadOps,
        diskWriteOps: u.diskWriteOps,
      }));
    const refused = usage.length - rows.length;
    if (refused > 0)
      deps.log.warn({ host_id: host.hostId, servers: refused }, 'usage reported for servers not on this host: ignored');
    if (rows.length > 0) await store.addUsage(db, 'server_usage_minutes', rows);
  }

  /** Per region: round trips and loss between its hosts over the hours of the last `windowMs`. */
  async function regionProbes(windowMs = dayMs): Promise<RegionProbeFigures[]> {
    const nowMs = clock.nowMs();
    const since = Math.floor((nowMs - windowMs) / hourMs) * hourMs;
    return regionFigures(await store.probeRollupsSince(db, since), windowMs);
  }

  return {
    options,

    /** An agent's telemetry: its figures stored, the peers it is to probe next answered. */
    async receive(hostId: string, body: TelemetryBody): Promise<TelemetryAnswer> {
      const nowMs = clock.nowMs();
      const host = await deps.host(hostId);
      if (!host)
        return { peers: [], probeIntervalMs: options.probeIntervalMs, reportIntervalMs: options.reportIntervalMs };
      if (body.probes && body.probes.sent > 0) await recordProbes(host, body.probes, nowMs);
      if (body.probes?.remote && body.probes.remote.length > 0)
        await recordRemote(host, body.probes.remote, body.probes.method, nowMs);
      if (body.cpu && body.cpu.periodS > 0) await recordSteal(host, body.cpu, nowMs);
      if (body.usage && body.usage.length > 0) await recordUsage(host, body.usage, nowMs);
      return {
        peers: await peersOf(host, nowMs),
        region: host.region,
        probeIntervalMs: options.probeIntervalMs,
        reportIntervalMs: options.reportIntervalMs,
      };
    },

    regionProbes,

    /** Per region pair: round trips between their hosts (both directions) over the hours of the last `windowMs`. */
    async regionPairProbes(windowMs = dayMs): Promise<RegionPairFigures[]> {
      const since = Math.floor((clock.nowMs() - windowMs) / hourMs) * hourMs;
      return regionPairFigures(await store.regionProbeRollupsSince(db, since), windowMs);
    },

    /** Per host: its CPU steal over the hours of the last `windowMs`. */
    async hostSteal(windowMs = dayMs): Promise<HostStealFigures[]> {
      const since = Math.floor((clock.nowMs() - windowMs) / hourMs) * hourMs;
      return hostStealFigures(await store.stealRollupsSince(db, since));
    },

    /** A server's usage intervals overlapping [fromMs, toMs) (minutes, or 5-minute rows past 7 days). */
    async serverUsage(serverId: string, fromMs: number, toMs: number) {
      return (await store.usageRows(db, serverId, fromMs, toMs)).map((r) => ({
        startMs: r.startMs,
        seconds: r.seconds,
        cpuSeconds: r.cpuSeconds,
        diskReadBytes: r.diskReadBytes,
        diskWriteBytes: r.diskWriteBytes,
        diskReadOps: r.diskReadOps,
        diskWriteOps: r.diskWriteOps,
      }));
    },

    /** Retention: minutes past 7 days folded into 5-minute rows; older rows deleted (at most every 10 min unless forced). */
    async prune(force = false): Promise<{ folded: number; deleted: number }> {
      const nowMs = clock.nowMs();
      if (!force && nowMs - lastPruneMs < 10 * 60_000) return { folded: 0, deleted: 0 };
      lastPruneMs = nowMs;
      let folded = 0;
      for (;;) {
        const minutes = await store.minutesBefore(db, nowMs - options.usageMinutesRetentionDays * dayMs, 1000);
        if (minutes.length === 0) break;
        await inTransaction(db, async (tx) => {
          const slots = new Map<string, store.UsageRow>();
          for (const m of minutes) {
            const startMs = Math.floor(m.startMs / 300_000) * 300_000;
            const key = `${m.serverId} ${startMs}`;
            const slot = slots.get(key);
            if (!slot) slots.set(key, { ...m, startMs });
            else
              slots.set(key, {
                ...slot,
                seconds: slot.seconds + m.seconds,
                cpuSeconds: slot.cpuSeconds + m.cpuSeconds,
                diskReadBytes: slot.diskReadBytes + m.diskReadBytes,
                diskWriteBytes: slot.diskWriteBytes + m.diskWriteBytes,
                diskReadOps: slot.diskReadOps + m.diskReadOps,
                diskWriteOps: slot.diskWriteOps + m.diskWriteOps,
              });
          }
          await store.addUsage(tx, 'server_usage_rollups', [...slots.values()]);
          await store.deleteMinutes(tx, minutes);
        });
        folded += minutes.length;
        if (minutes.length < 1000) break;
      }
      const deleted =
        (await store.deleteRollupsBefore(db, nowMs - options.usageRollupRetentionDays * dayMs)) +
        (await store.deleteProbeRollupsBefore(db, nowMs - options.probeRetentionDays * dayMs)) +
        (await store.deleteHostHoursBefore(db, nowMs - options.probeRetentionDays * dayMs));
      return { folded, deleted };
    },

    /** `GET /metrics` (serve): each region's intra-DC round trips and loss over the current and previous hour. */
    async metricFamilies(): Promise<MetricFamily[]> {
      const figures = await regionProbes(hourMs);
      const gauge = (name: string, help: string, value: (f: RegionProbeFigures) => number | null): MetricFamily => ({
        name,
        help,
        type: 'gauge',
        samples: figures.flatMap((f) => {
          const v = value(f);
          return v === null ? [] : [{ labels: { region: f.region }, value: v }];
        }),
      });
      return [
        gauge(
          'vmcloud_region_intra_dc_rtt_p50_seconds',
          'Median round trip between the hosts of a region (agents probing each other, this and the previous hour)',
          (f) => (f.p50Ms === null ? null : f.p50Ms / 1000),
        ),
        gauge(
          'vmcloud_region_intra_dc_rtt_p99_seconds',
          '99th percentile round trip between the hosts of a region (this and the previous hour)',
          (f) => (f.p99Ms === null ? null : f.p99Ms / 1000),
        ),
        gauge(
          'vmcloud_region_intra_dc_packet_loss_ratio',
          'Share of probes between the hosts of a region left unanswered (this and the previous hour)',
          (f) => f.lossRatio,
        ),
        gauge(
          'vmcloud_region_intra_dc_probes',
          'Probes sent between the hosts of a region (this and the previous hour)',
          (f) => f.sent,
        ),
        gauge(
          'vmcloud_region_intra_dc_simulated',
          '1 when the region figures come from the simulated fleet model, 0 when measured over sockets',
          (f) => (f.simulated ? 1 : 0),
        ),
      ];
    },
  };
}

export type TelemetryService = ReturnType<typeof createTelemetryService>;
