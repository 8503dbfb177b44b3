/**
 * Traffic accounting: samples in (from the sim model or a host's tap and nft counters), series and monthly
 * summaries out, and the worker's pass (`rollupOnce`): hourly and daily rollups, closing past months with
 * their 95th percentiles, and retention (raw samples 35 days, rollups 13 months). Billing reads
 * `monthlyTrafficUsage`.
 */
import type { Db } from '../db/index.ts';
import { inTransaction } from '../db/index.ts';
import { invalid, type Clock, type Logger } from '../core/index.ts';
import type { EventRecorder } from '../events/index.ts';
import { requireProject, type Principal } from '../identity/index.ts';
import type {
  ServerTraffic,
  ServerTrafficQuery,
  TrafficPoint,
  TrafficSummary,
  TrafficSummaryQuery,
} from '../contract/index.ts';
import { createTrafficStore, type MeteredServerRow, type SampleRow, type Sums } from './store.ts';
import { monthOf, monthRange, slotSeconds, slotsInMonth, toMbps } from './percentile.ts';
import {
  includedBytes,
  meteredOf,
  projectUsage,
  serverUsageFromSamples,
  tebibyte,
  type ProjectUsage,
  type ServerUsage,
} from './usage.ts';

const slotMs = slotSeconds * 1000;
const hourMs = 3_600_000;
const dayMs = 86_400_000;

export interface TrafficServiceDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  events: EventRecorder;
  /** The included traffic of a product, TiB per month (the catalog's `traffic_tib`). */
  includedTiBOf: (product: string) => Promise<number>;
  /** Throws not_found unless the principal's project has this server (compute.requireServer). */
  requireServer: (principal: Principal, serverId: string) => Promise<{ id: string; name: string }>;
  /** Raw 5-minute samples are kept this long (default 35 days). */
  rawRetentionDays?: number;
  /** Hourly and daily rollups are kept this long (default 13 months ≈ 396 days). */
  rollupRetentionDays?: number;
}

/** What billing reads for one project and month (issue 13). */
export interface MonthlyTrafficUsage {
  projectId: string;
  month: string;
  closed: boolean;
  servers: ServerUsage[];
  project: ProjectUsage;
}

const slotOf = (ms: number) => Math.floor(ms / slotMs);
const parseTime = (value: string | undefined, field: string, fallback: number) => {
  if (value === undefined) return fallback;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw invalid(`${field} is not a time`, { fields: [{ field, message: 'not a time' }] });
  return ms;
};

export function createTrafficService(deps: TrafficServiceDeps) {
  const { db, clock } = deps;
  const store = createTrafficStore();
  const rawRetentionMs = (deps.rawRetentionDays ?? 35) * dayMs;
  const rollupRetentionMs = (deps.rollupRetentionDays ?? 396) * dayMs;

  const pointOf = (atMs: number, s: Sums, seconds: number): TrafficPoint => ({
    at: new Date(atMs).toISOString(),
    rx_bytes: s.rxBytes,
    tx_bytes: s.txBytes,
    rx_unmetered_bytes: s.rxUnmeteredBytes,
    tx_unmetered_bytes: s.txUnmeteredBytes,
    rx_packets: s.rxPackets,
    tx_packets: s.txPackets,
    in_mbps: toMbps((s.rxBytes * 8) / seconds),
    out_mbps: toMbps((s.txBytes * 8) / seconds),
  });

  async function usageOfServers(projectId: string, month: string): Promise<MonthlyTrafficUsage> {
    const range = monthRange(month);
    const closedRows = await store.months(db, projectId, month);
    const servers = await store.serversOfProject(db, projectId, range.startMs, range.endMs);
    const names = new Map(servers.map((s) => [s.serverId, s]));
    const projectRow = closedRows.find((r) => r.scopeId === projectId);
    if (projectRow) {
      const usage = closedRows
        .filter((r) => r.scopeId !== projectId)
        .map((r): ServerUsage => {
          const billable = Math.max(0, r.txBytes - r.txUnmeteredBytes);
          return {
            serverId: r.scopeId,
            name: names.get(r.scopeId)?.name ?? r.scopeId,
            product: r.product ?? '',
            rxBytes: r.rxBytes,
            txBytes: r.txBytes,
            unmeteredBytes: r.rxUnmeteredBytes + r.txUnmeteredBytes,
            billableBytes: billable,
            includedBytes: r.includedBytes,
            overageBytes: Math.max(0, billable - r.includedBytes),
            p95InBps: r.p95InBps,
            p95OutBps: r.p95OutBps,
            p95Bps: Math.max(r.p95InBps, r.p95OutBps),
          };
        })
        .sort((a, b) => a.serverId.localeCompare(b.serverId));
      return {
        projectId,
        month,
        closed: true,
        servers: usage,
        project: projectUsage(usage, null, 0, { inBps: projectRow.p95InBps, outBps: projectRow.p95OutBps }),
      };
    }
    const fromSlot = slotOf(range.startMs);
    const toSlot = slotOf(range.endMs);
    const slotCount = slotsInMonth(month);
    const usage: ServerUsage[] = [];
    for (const server of servers) {
      const samples = await store.samples(db, server.serverId, fromSlot, toSlot);
      usage.push(
        serverUsageFromSamples({
          serverId: server.serverId,
          name: server.name,
          product: server.product,
          includedBytes: await includedOf(server, range),
          samples,
          slotCount,
        }),
      );
    }
    const slotSums = await store.projectSlots(db, projectId, fromSlot, toSlot);
    return {
      projectId,
      month,
      closed: false,
      servers: usage,
      project: projectUsage(
        usage,
        slotSums.map((s) => ({ ...s, rxPackets: 0, txPackets: 0 })),
        slotCount,
      ),
    };
  }

  async function includedOf(server: MeteredServerRow, range: { startMs: number; endMs: number }) {
    const tib = await deps.includedTiBOf(server.product).catch(() => 0);
    return includedBytes(tib, { fromMs: server.firstSeenMs, toMs: server.goneMs }, range);
  }

  /** Closes every month that ended before `nowMs − 1 h` and is not closed yet for a project. */
  async function closeMonths(nowMs: number): Promise<number> {
    let closed = 0;
    // Only months whose raw samples are still kept can be closed (the last 35 days reach one month back).
    const previous = monthOf(monthRange(monthOf(nowMs - hourMs)).startMs - 1);
    for (const month of new Set([monthOf(nowMs - 32 * dayMs), previous])) {
      const range = monthRange(month);
      if (range.endMs > nowMs - hourMs) continue;
      for (const projectId of await store.projectsActiveIn(db, range.startMs, range.endMs)) {
        if (await store.monthClosed(db, projectId, month)) continue;
        const usage = await usageOfServers(projectId, month);
        const closedAt = clock.nowIso();
        const servers = await store.serversOfProject(db, projectId, range.startMs, range.endMs);
        const product = new Map(servers.map((s) => [s.serverId, s.product]));
        await inTransaction(db, async (tx, hooks) => {
          await store.insertMonths(tx, [
            ...usage.servers.map((s) => ({
              scopeId: s.serverId,
              month,
              projectId,
              product: product.get(s.serverId) ?? s.product,
              rxBytes: s.rxBytes,
              txBytes: s.txBytes,
              // Kept as sums; billable = tx − tx unmetered is recomputed on read.
              rxUnmeteredBytes: s.unmeteredBytes - (s.txBytes - s.billableBytes),
              txUnmeteredBytes: s.txBytes - s.billableBytes,
              includedBytes: s.includedBytes,
              p95InBps: s.p95InBps,
              p95OutBps: s.p95OutBps,
              samples: 0,
              closedAt,
            })),
            {
              scopeId: projectId,
              month,
              projectId,
              product: null,
              rxBytes: usage.servers.reduce((a, s) => a + s.rxBytes, 0),
              txBytes: usage.servers.reduce((a, s) => a + s.txBytes, 0),
              rxUnmeteredBytes: 0,
              txUnmeteredBytes: usage.servers.reduce((a, s) => a + s.txBytes - s.billableBytes, 0),
              includedBytes: usage.project.includedBytes,
              p95InBps: usage.project.p95InBps,
              p95OutBps: usage.project.p95OutBps,
              samples: 0,
              closedAt,
            },
          ]);
          await deps.events.record(tx, hooks, {
            type: 'traffic.month_closed',
            projectId,
            resourceType: 'project',
            resourceId: projectId,
            data: { month, servers: usage.servers.length },
          });
        });
        closed++;
      }
    }
    return closed;
  }

  return {
    /** The collector saw these servers now (first sight records them; later sights refresh them). */
    async recordServers(
      servers: ReadonlyArray<Omit<MeteredServerRow, 'firstSeenMs' | 'lastSeenMs' | 'goneMs'>>,
      nowMs = clock.nowMs(),
    ) {
      await store.upsertServers(db, servers, nowMs);
    },

    /** Servers not seen since `seenBeforeMs` are gone (deleted): their included traffic stops there. */
    async markGone(seenBeforeMs: number) {
      return store.markGone(db, seenBeforeMs, clock.nowMs());
    },

    /** Stores samples; a slot reported twice keeps the last report (the slot is the idempotency key). */
    async ingestSamples(samples: readonly SampleRow[]) {
      if (samples.length === 0) return;
      await store.upsertSamples(db, samples);
    },

    /** Servers of a project seen since `sinceMs` (flow-log queries over the whole project). */
    async serverIdsOfProject(projectId: string, sinceMs: number): Promise<string[]> {
      return (await store.serversOfProject(db, projectId, sinceMs, clock.nowMs() + dayMs)).map((s) => s.serverId);
    },

    /** A server the accounting knows, deleted ones included. */
    async knownServer(serverId: string) {
      return store.server(db, serverId);
    },

    /** The server that holds a public address now (DDoS incidents name it). */
    async serverByAddress(address: string) {
      return store.serverByAddress(db, address);
    },

    async serverTraffic(principal: Principal, serverId: string, query: ServerTrafficQuery): Promise<ServerTraffic> {
      requireProject(principal, 'viewer');
      const server = await deps.requireServer(principal, serverId);
      const step = query.step ?? '5m';
      const toMs = parseTime(query.to, 'to', clock.nowMs());
      const fromMs = parseTime(query.from, 'from', toMs - dayMs);
      if (fromMs >= toMs)
        throw invalid('from must be before to', { fields: [{ field: 'from', message: 'must be before to' }] });
      const stepMs = step === '5m' ? slotMs : step === '1h' ? hourMs : dayMs;
      if ((toMs - fromMs) / stepMs > 2016)
        throw invalid(`at most 2016 points per query: use a larger step or a shorter window`, {
          reason: 'too_many_points',
          fields: [{ field: 'step', message: 'too many points for this window' }],
        });
      let points: TrafficPoint[];
      if (step === '5m') {
        const rows = await store.samples(db, server.id, slotOf(fromMs), Math.ceil(toMs / slotMs));
        points = rows.map((r) => pointOf(r.slot * slotMs, r, slotSeconds));
      } else {
        const period = step === '1h' ? 'hour' : 'day';
        const start = Math.floor(fromMs / stepMs) * stepMs;
        const rows = await store.rollups(db, server.id, period, start, toMs);
        points = rows.map((r) => pointOf(r.startMs, r, stepMs / 1000));
      }
      const totals = points.reduce(
        (a, p) => {
          const metered = meteredOf({
            rxBytes: p.rx_bytes,
            txBytes: p.tx_bytes,
            rxUnmeteredBytes: p.rx_unmetered_bytes,
            txUnmeteredBytes: p.tx_unmetered_bytes,
            rxPackets: 0,
            txPackets: 0,
          });
          return {
            rx_bytes: a.rx_bytes + p.rx_bytes,
            tx_bytes: a.tx_bytes + p.tx_bytes,
            billable_bytes: a.billable_bytes + metered.outBytes,
            unmetered_bytes: a.unmetered_bytes + p.rx_unmetered_bytes + p.tx_unmetered_bytes,
          };
        },
        { rx_bytes: 0, tx_bytes: 0, billable_bytes: 0, unmetered_bytes: 0 },
      );
      return {
        server_id: server.id,
        from: new Date(fromMs).toISOString(),
        to: new Date(toMs).toISOString(),
        step,
        points,
        totals,
      };
    },

    async summary(principal: Principal, query: TrafficSummaryQuery): Promise<TrafficSummary> {
      const caller = requireProject(principal, 'viewer');
      const month = query.month ?? monthOf(clock.nowMs());
      const usage = await usageOfServers(caller.projectId, month);
      const tib = (bytes: number) => Math.round((bytes / tebibyte) * 1e6) / 1e6;
      return {
        project_id: caller.projectId,
        month,
        closed: usage.closed,
        servers: usage.servers.map((s) => ({
          server_id: s.serverId,
          name: s.name,
          product: s.product,
          rx_bytes: s.rxBytes,
          tx_bytes: s.txBytes,
          unmetered_bytes: s.unmeteredBytes,
          billable_bytes: s.billableBytes,
          included_bytes: s.includedBytes,
          overage_bytes: s.overageBytes,
          p95_in_mbps: toMbps(s.p95InBps),
          p95_out_mbps: toMbps(s.p95OutBps),
          p95_mbps: toMbps(s.p95Bps),
        })),
        project: {
          included_tib: tib(usage.project.includedBytes),
          used_tib: tib(usage.project.billableBytes),
          overage_tib: tib(usage.project.overageBytes),
          included_bytes: usage.project.includedBytes,
          billable_bytes: usage.project.billableBytes,
          unmetered_bytes: usage.project.unmeteredBytes,
          overage_bytes: usage.project.overageBytes,
          p95_in_mbps: toMbps(usage.project.p95InBps),
          p95_out_mbps: toMbps(usage.project.p95OutBps),
          p95_mbps: toMbps(usage.project.p95Bps),
        },
        computed_at: clock.nowIso(),
      };
    },

    /**
     * For billing: a project's month per server (billable and included bytes, p95) and pooled for the project.
     * Closed months come from `traffic_months` and never change; the current month is computed from samples.
     */
    monthlyTrafficUsage(projectId: string, month: string): Promise<MonthlyTrafficUsage> {
      monthRange(month);
      return usageOfServers(projectId, month);
    },

    /**
     * The worker's pass: hourly rollups of the last `hours` complete hours (late samples included), daily
     * rollups of the last two complete days, months closed, old samples and rollups deleted.
     */
    async rollupOnce(nowMs = clock.nowMs(), hours = 3) {
      const thisHour = Math.floor(nowMs / hourMs) * hourMs;
      for (let start = thisHour - hours * hourMs; start < thisHour; start += hourMs) {
        const sums = await store.sumsPerServer(db, slotOf(start), slotOf(start + hourMs));
        await store.upsertRollups(db, 'hour', start, sums);
      }
      const today = Math.floor(nowMs / dayMs) * dayMs;
      for (let start = today - 2 * dayMs; start < today; start += dayMs) {
        await store.upsertRollups(db, 'day', start, await store.hourSumsPerServer(db, start, start + dayMs));
      }
      const closedMonths = await closeMonths(nowMs);
      const deletedSamples = await store.deleteSamplesBefore(db, slotOf(nowMs - rawRetentionMs));
      const deletedHours = await store.deleteRollupsBefore(db, 'hour', nowMs - rollupRetentionMs);
      const deletedDays = await store.deleteRollupsBefore(db, 'day', nowMs - rollupRetentionMs);
      return { closedMonths, deletedSamples, deletedRollups: deletedHours + deletedDays };
    },

    /** Rollups over any window (tests, backfills): hours then days. */
    async rollupRange(fromMs: number, toMs: number) {
      for (let start = Math.floor(fromMs / hourMs) * hourMs; start < toMs; start += hourMs)
        await store.upsertRollups(
          db,
          'hour',
          start,
          await store.sumsPerServer(db, slotOf(start), slotOf(start + hourMs)),
        );
      for (let start = Math.floor(fromMs / dayMs) * dayMs; start < toMs; start += dayMs)
        await store.upsertRollups(db, 'day', start, await store.hourSumsPerServer(db, start, start + dayMs));
    },

    closeMonths,
  };
}
export type TrafficService = ReturnType<typeof createTrafficService>;
