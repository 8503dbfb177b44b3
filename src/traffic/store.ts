/**
 * The only code that names the traffic domain's tables: `traffic_servers`, `traffic_samples` (5-minute
 * counters), `traffic_rollups` (hour and day sums) and `traffic_months` (closed months).
 */
import type { Db, Tx } from '../db/index.ts';

export interface SampleRow {
  serverId: string;
  projectId: string;
  slot: number;
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
  rxUnmeteredBytes: number;
  txUnmeteredBytes: number;
}

export interface MeteredServerRow {
  serverId: string;
  projectId: string;
  name: string;
  region: string;
  product: string;
  ipv4: string | null;
  hostId: string | null;
  firstSeenMs: number;
  lastSeenMs: number;
  goneMs: number | null;
}

export interface MonthRow {
  scopeId: string;
  month: string;
  projectId: string;
  product: string | null;
  rxBytes: number;
  txBytes: number;
  rxUnmeteredBytes: number;
  txUnmeteredBytes: number;
  includedBytes: number;
  p95InBps: number;
  p95OutBps: number;
  samples: number;
  closedAt: string;
}

export type Sums = Omit<SampleRow, 'serverId' | 'projectId' | 'slot'>;

const sumColumns = {
  rxBytes: 'rx_bytes',
  txBytes: 'tx_bytes',
  rxPackets: 'rx_packets',
  txPackets: 'tx_packets',
  rxUnmeteredBytes: 'rx_unmetered_bytes',
  txUnmeteredBytes: 'tx_unmetered_bytes',
} as const;

const sumsOf = (r: Record<string, unknown>): Sums => ({
  rxBytes: Number(r.rx_bytes ?? 0),
  txBytes: Number(r.tx_bytes ?? 0),
  rxPackets: Number(r.rx_packets ?? 0),
  txPackets: Number(r.tx_packets ?? 0),
  rxUnmeteredBytes: Number(r.rx_unmetered_bytes ?? 0),
  txUnmeteredBytes: Number(r.tx_unmetered_bytes ?? 0),
});

const serverOf = (r: {
  server_id: string;
  project_id: string;
  name: string;
  region: string;
  product: string;
  ipv4: string | null;
  host_id: string | null;
  first_seen_ms: number;
  last_seen_ms: number;
  gone_ms: number | null;
}): MeteredServerRow => ({
  serverId: r.server_id,
  projectId: r.project_id,
  name: r.name,
  region: r.region,
  product: r.product,
  ipv4: r.ipv4,
  hostId: r.host_id,
  firstSeenMs: Number(r.first_seen_ms),
  lastSeenMs: Number(r.last_seen_ms),
  goneMs: r.gone_ms === null ? null : Number(r.gone_ms),
});

/** Rows per multi-row insert: 9 columns × 500 stays under every dialect's parameter limit. */
const batchRows = 500;

export function createTrafficStore() {
  return {
    /** Records (or refreshes) what the accounting knows of servers it saw at `nowMs`. */
    async upsertServers(
      q: Db | Tx,
      servers: ReadonlyArray<Omit<MeteredServerRow, 'firstSeenMs' | 'lastSeenMs' | 'goneMs'>>,
      nowMs: number,
    ): Promise<void> {
      for (let i = 0; i < servers.length; i += batchRows) {
        const rows = servers.slice(i, i + batchRows).map((s) => ({
          server_id: s.serverId,
          project_id: s.projectId,
          name: s.name,
          region: s.region,
          product: s.product,
          ipv4: s.ipv4,
          host_id: s.hostId,
          first_seen_ms: nowMs,
          last_seen_ms: nowMs,
          gone_ms: null,
        }));
        await q
          .insertInto('traffic_servers')
          .values(rows)
          .onConflict((oc) =>
            oc.column('server_id').doUpdateSet((eb) => ({
              name: eb.ref('excluded.name'),
              product: eb.ref('excluded.product'),
              ipv4: eb.ref('excluded.ipv4'),
              host_id: eb.ref('excluded.host_id'),
              last_seen_ms: eb.ref('excluded.last_seen_ms'),
              gone_ms: null,
            })),
          )
          .execute();
      }
    },

    /** Servers last seen before `nowMs` and not yet gone: they were deleted. */
    async markGone(q: Db | Tx, seenBeforeMs: number, goneMs: number): Promise<number> {
      const result = await q
        .updateTable('traffic_servers')
        .set({ gone_ms: goneMs })
        .where('last_seen_ms', '<', seenBeforeMs)
        .where('gone_ms', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    async server(q: Db | Tx, serverId: string): Promise<MeteredServerRow | null> {
      const row = await q
        .selectFrom('traffic_servers')
        .selectAll()
        .where('server_id', '=', serverId)
        .executeTakeFirst();
      return row ? serverOf(row) : null;
    },

    async serverByAddress(q: Db | Tx, ipv4: string): Promise<MeteredServerRow | null> {
      const row = await q
        .selectFrom('traffic_servers')
        .selectAll()
        .where('ipv4', '=', ipv4)
        .where('gone_ms', 'is', null)
        .orderBy('last_seen_ms', 'desc')
        .executeTakeFirst();
      return row ? serverOf(row) : null;
    },

    /** The project's servers that existed at some time in [startMs, endMs). */
    async serversOfProject(q: Db | Tx, projectId: string, startMs: number, endMs: number) {
      const rows = await q
        .selectFrom('traffic_servers')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('first_seen_ms', '<', endMs)
        .where((eb) => eb.or([eb('gone_ms', 'is', null), eb('gone_ms', '>=', startMs)]))
        .orderBy('server_id')
        .execute();
      return rows.map(serverOf);
    },

    /** Projects with servers that existed at some time in [startMs, endMs). */
    async projectsActiveIn(q: Db | Tx, startMs: number, endMs: number): Promise<string[]> {
      const rows = await q
        .selectFrom('traffic_servers')
        .select('project_id')
        .distinct()
        .where('first_seen_ms', '<', endMs)
        .where((eb) => eb.or([eb('gone_ms', 'is', null), eb('gone_ms', '>=', startMs)]))
        .execute();
      return rows.map((r) => r.project_id);
    },

    /** Writes samples; a slot written again (a retried report) replaces the first. */
    async upsertSamples(q: Db | Tx, samples: readonly SampleRow[]): Promise<void> {
      for (let i = 0; i < samples.length; i += batchRows) {
        const rows = samples.slice(i, i + batchRows).map((s) => ({
          server_id: s.serverId,
          slot: s.slot,
          project_id: s.projectId,
          rx_bytes: s.rxBytes,
          tx_bytes: s.txBytes,
          rx_packets: s.rxPackets,
          tx_packets: s.txPackets,
          rx_unmetered_bytes: s.rxUnmeteredBytes,
          tx_unmetered_bytes: s.txUnmeteredBytes,
        }));
        await q
          .insertInto('traffic_samples')
          .values(rows)
          .onConflict((oc) =>
            oc.columns(['server_id', 'slot']).doUpdateSet((eb) => ({
              rx_bytes: eb.ref('excluded.rx_bytes'),
              tx_bytes: eb.ref('excluded.tx_bytes'),
              rx_packets: eb.ref('excluded.rx_packets'),
              tx_packets: eb.ref('excluded.tx_packets'),
              rx_unmetered_bytes: eb.ref('excluded.rx_unmetered_bytes'),
              tx_unmetered_bytes: eb.ref('excluded.tx_unmetered_bytes'),
            })),
          )
          .execute();
      }
    },

    /** One server's samples in [fromSlot, toSlot). */
    async samples(q: Db | Tx, serverId: string, fromSlot: number, toSlot: number): Promise<SampleRow[]> {
      const rows = await q
        .selectFrom('traffic_samples')
        .selectAll()
        .where('server_id', '=', serverId)
        .where('slot', '>=', fromSlot)
        .where('slot', '<', toSlot)
        .orderBy('slot')
        .execute();
      return rows.map((r) => ({ serverId: r.server_id, projectId: r.project_id, slot: Number(r.slot), ...sumsOf(r) }));
    },

    /** Per slot, the sums over a project's servers in [fromSlot, toSlot) (the project's 95th percentile). */
    async projectSlots(q: Db | Tx, projectId: string, fromSlot: number, toSlot: number) {
      const rows = await q
        .selectFrom('traffic_samples')
        .select((eb) => [
          'slot',
          eb.fn.sum<number>('rx_bytes').as('rx_bytes'),
          eb.fn.sum<number>('tx_bytes').as('tx_bytes'),
          eb.fn.sum<number>('rx_unmetered_bytes').as('rx_unmetered_bytes'),
          eb.fn.sum<number>('tx_unmetered_bytes').as('tx_unmetered_bytes'),
        ])
        .where('project_id', '=', projectId)
        .where('slot', '>=', fromSlot)
        .where('slot', '<', toSlot)
        .groupBy('slot')
        .execute();
      return rows.map((r) => ({ slot: Number(r.slot), ...sumsOf(r) }));
    },

    /** Sums per server over [fromSlot, toSlot) for every server with samples there. */
    async sumsPerServer(q: Db | Tx, fromSlot: number, toSlot: number, projectId?: string) {
      let query = q
        .selectFrom('traffic_samples')
        .select((eb) => [
          'server_id',
          'project_id',
          eb.fn.countAll<number>().as('samples'),
          ...Object.values(sumColumns).map((c) => eb.fn.sum<number>(c).as(c)),
        ])
        .where('slot', '>=', fromSlot)
        .where('slot', '<', toSlot);
      if (projectId) query = query.where('project_id', '=', projectId);
      const rows = await query.groupBy(['server_id', 'project_id']).execute();
      return rows.map((r) => ({
        serverId: r.server_id,
        projectId: r.project_id,
        samples: Number(r.samples),
        ...sumsOf(r as Record<string, unknown>),
      }));
    },

    async upsertRollups(
      q: Db | Tx,
      period: 'hour' | 'day',
      startMs: number,
      rows: ReadonlyArray<Sums & { serverId: string; projectId: string; samples: number }>,
    ): Promise<void> {
      for (let i = 0; i < rows.length; i += batchRows) {
        await q
          .insertInto('traffic_rollups')
          .values(
            rows.slice(i, i + batchRows).map((r) => ({
              server_id: r.serverId,
              period,
              start_ms: startMs,
              project_id: r.projectId,
              rx_bytes: r.rxBytes,
              tx_bytes: r.txBytes,
              rx_packets: r.rxPackets,
              tx_packets: r.txPackets,
              rx_unmetered_bytes: r.rxUnmeteredBytes,
              tx_unmetered_bytes: r.txUnmeteredBytes,
              samples: r.samples,
            })),
          )
          .onConflict((oc) =>
            oc.columns(['server_id', 'period', 'start_ms']).doUpdateSet((eb) => ({
              rx_bytes: eb.ref('excluded.rx_bytes'),
              tx_bytes: eb.ref('excluded.tx_bytes'),
              rx_packets: eb.ref('excluded.rx_packets'),
              tx_packets: eb.ref('excluded.tx_packets'),
              rx_unmetered_bytes: eb.ref('excluded.rx_unmetered_bytes'),
              tx_unmetered_bytes: eb.ref('excluded.tx_unmetered_bytes'),
              samples: eb.ref('excluded.samples'),
            })),
          )
          .execute();
      }
    },

    /** Sums of hourly rollups per server over [fromMs, toMs) (what a day rollup is made of). */
    async hourSumsPerServer(q: Db | Tx, fromMs: number, toMs: number) {
      const rows = await q
        .selectFrom('traffic_rollups')
        .select((eb) => [
          'server_id',
          'project_id',
          eb.fn.sum<number>('samples').as('samples'),
          ...Object.values(sumColumns).map((c) => eb.fn.sum<number>(c).as(c)),
        ])
        .where('period', '=', 'hour')
        .where('start_ms', '>=', fromMs)
        .where('start_ms', '<', toMs)
        .groupBy(['server_id', 'project_id'])
        .execute();
      return rows.map((r) => ({
        serverId: r.server_id,
        projectId: r.project_id,
        samples: Number(r.samples),
        ...sumsOf(r as Record<string, unknown>),
      }));
    },

    async rollups(q: Db | Tx, serverId: string, period: 'hour' | 'day', fromMs: number, toMs: number) {
      const rows = await q
        .selectFrom('traffic_rollups')
        .selectAll()
        .where('server_id', '=', serverId)
        .where('period', '=', period)
        .where('start_ms', '>=', fromMs)
        .where('start_ms', '<', toMs)
        .orderBy('start_ms')
        .execute();
      return rows.map((r) => ({ startMs: Number(r.start_ms), samples: Number(r.samples), ...sumsOf(r) }));
    },

    async deleteSamplesBefore(q: Db | Tx, slot: number): Promise<number> {
      const result = await q.deleteFrom('traffic_samples').where('slot', '<', slot).executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async deleteRollupsBefore(q: Db | Tx, period: 'hour' | 'day', startMs: number): Promise<number> {
      const result = await q
        .deleteFrom('traffic_rollups')
        .where('period', '=', period)
        .where('start_ms', '<', startMs)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async insertMonths(q: Db | Tx, rows: readonly MonthRow[]): Promise<void> {
      for (let i = 0; i < rows.length; i += batchRows) {
        await q
          .insertInto('traffic_months')
          .values(
            rows.slice(i, i + batchRows).map((r) => ({
              scope_id: r.scopeId,
              month: r.month,
              project_id: r.projectId,
              product: r.product,
              rx_bytes: r.rxBytes,
              tx_bytes: r.txBytes,
              rx_unmetered_bytes: r.rxUnmeteredBytes,
              tx_unmetered_bytes: r.txUnmeteredBytes,
              included_bytes: r.includedBytes,
              p95_in_bps: Math.round(r.p95InBps),
              p95_out_bps: Math.round(r.p95OutBps),
              samples: r.samples,
              closed_at: r.closedAt,
            })),
          )
          .onConflict((oc) => oc.columns(['scope_id', 'month']).doNothing())
          .execute();
      }
    },

    async months(q: Db | Tx, projectId: string, month: string): Promise<MonthRow[]> {
      const rows = await q
        .selectFrom('traffic_months')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('month', '=', month)
        .execute();
      return rows.map((r) => ({
        scopeId: r.scope_id,
        month: r.month,
        projectId: r.project_id,
        product: r.product,
        rxBytes: Number(r.rx_bytes),
        txBytes: Number(r.tx_bytes),
        rxUnmeteredBytes: Number(r.rx_unmetered_bytes),
        txUnmeteredBytes: Number(r.tx_unmetered_bytes),
        includedBytes: Number(r.included_bytes),
        p95InBps: Number(r.p95_in_bps),
        p95OutBps: Number(r.p95_out_bps),
        samples: Number(r.samples),
        closedAt: r.closed_at,
      }));
    },

    async monthClosed(q: Db | Tx, projectId: string, month: string): Promise<boolean> {
      const row = await q
        .selectFrom('traffic_months')
        .select('scope_id')
        .where('scope_id', '=', projectId)
        .where('month', '=', month)
        .executeTakeFirst();
      return row !== undefined;
    },
  };
}
export type TrafficStore = ReturnType<typeof createTrafficStore>;
