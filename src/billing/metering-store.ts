/**
 * The metering side of the billing tables: usage intervals, downtime intervals, the servers the consumer
 * follows, and the events it has applied (so that a replayed event changes nothing).
 */
import type { Db, Tx } from '../db/index.ts';
import type { UsageIntervalsTable, DowntimeIntervalsTable, MeteredServersTable } from './tables.ts';
import type { UsageInterval } from './rating.ts';
import type { DowntimeInterval } from './sla.ts';

type Q = Db | Tx;
const num = (v: number | string | null) => (v === null ? null : Number(v));

export const usageOfRow = (r: UsageIntervalsTable): UsageInterval & { projectId: string } => ({
  projectId: r.project_id,
  kind: r.kind as UsageInterval['kind'],
  resourceId: r.resource_id,
  item: r.item,
  region: r.region,
  quantityMilli: Number(r.quantity_milli),
  startMs: Number(r.started_at_ms),
  endMs: num(r.ended_at_ms),
});

export const downtimeOfRow = (r: DowntimeIntervalsTable): DowntimeInterval & { projectId: string; id: string } => ({
  id: r.id,
  projectId: r.project_id,
  serverId: r.server_id,
  cause: r.cause,
  startMs: Number(r.started_at_ms),
  endMs: num(r.ended_at_ms),
  hostId: r.host_id,
  region: r.region,
});

export function createMeteringStore() {
  return {
    /** Records that `eventId` was applied; false when it already was (a replay). */
    async markApplied(tx: Tx, eventId: string, atMs: number): Promise<boolean> {
      const seen = await tx
        .selectFrom('metered_events')
        .select('event_id')
        .where('event_id', '=', eventId)
        .executeTakeFirst();
      if (seen) return false;
      await tx.insertInto('metered_events').values({ event_id: eventId, at_ms: atMs }).execute();
      return true;
    },

    /** Forgets applied-event ids older than `beforeMs` (their events are long behind the consumer's cursor). */
    async pruneApplied(q: Tx | Db, beforeMs: number): Promise<number> {
      const result = await q.deleteFrom('metered_events').where('at_ms', '<', beforeMs).executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async openUsage(tx: Tx, row: UsageIntervalsTable): Promise<void> {
      await tx
        .insertInto('usage_intervals')
        .values(row)
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    },

    async closeUsage(tx: Tx, resourceId: string, atMs: number): Promise<void> {
      await tx
        .updateTable('usage_intervals')
        .set({ ended_at_ms: atMs })
        .where('resource_id', '=', resourceId)
        .where('ended_at_ms', 'is', null)
        .execute();
    },

    async setUsageQuantity(tx: Tx, resourceId: string, quantityMilli: number, startMs: number): Promise<void> {
      await tx
        .updateTable('usage_intervals')
        .set({ quantity_milli: quantityMilli, started_at_ms: startMs })
        .where('resource_id', '=', resourceId)
        .where('ended_at_ms', 'is', null)
        .execute();
    },

    async deleteOpenUsage(tx: Tx, resourceId: string): Promise<void> {
      await tx
        .deleteFrom('usage_intervals')
        .where('resource_id', '=', resourceId)
        .where('ended_at_ms', 'is', null)
        .execute();
    },

    async server(tx: Tx, serverId: string): Promise<MeteredServersTable | null> {
      return (
        (await tx.selectFrom('metered_servers').selectAll().where('server_id', '=', serverId).executeTakeFirst()) ??
        null
      );
    },

    async putServer(tx: Tx, row: MeteredServersTable): Promise<void> {
      await tx
        .insertInto('metered_servers')
        .values(row)
        .onConflict((oc) =>
          oc.column('server_id').doUpdateSet({
            product: row.product,
            region: row.region,
            host_id: row.host_id,
            wants_running: row.wants_running,
            status: row.status,
          }),
        )
        .execute();
    },

    async updateServer(
      tx: Tx,
      serverId: string,
      change: Partial<Pick<MeteredServersTable, 'host_id' | 'wants_running' | 'status'>>,
    ) {
      await tx.updateTable('metered_servers').set(change).where('server_id', '=', serverId).execute();
    },

    async deleteServer(tx: Tx, serverId: string): Promise<void> {
      await tx.deleteFrom('metered_servers').where('server_id', '=', serverId).execute();
    },

    async openDowntime(tx: Tx, row: DowntimeIntervalsTable): Promise<void> {
      const open = await tx
        .selectFrom('downtime_intervals')
        .select('id')
        .where('server_id', '=', row.server_id)
        .where('ended_at_ms', 'is', null)
        .executeTakeFirst();
      if (open) return; // already down: the first cause stands
      await tx.insertInto('downtime_intervals').values(row).execute();
    },

    async closeDowntime(tx: Tx, serverId: string, atMs: number): Promise<void> {
      await tx
        .updateTable('downtime_intervals')
        .set({ ended_at_ms: atMs })
        .where('server_id', '=', serverId)
        .where('ended_at_ms', 'is', null)
        .execute();
    },

    /** Usage intervals overlapping [fromMs, toMs), of one project or of all. */
    async usageBetween(q: Q, fromMs: number, toMs: number, projectId?: string) {
      let query = q
        .selectFrom('usage_intervals')
        .selectAll()
        .where('started_at_ms', '<', toMs)
        .where((eb) => eb.or([eb('ended_at_ms', 'is', null), eb('ended_at_ms', '>', fromMs)]));
      if (projectId) query = query.where('project_id', '=', projectId);
      return (await query.orderBy('started_at_ms').orderBy('id').execute()).map(usageOfRow);
    },

    async downtimeBetween(q: Q, fromMs: number, toMs: number, projectId?: string) {
      let query = q
        .selectFrom('downtime_intervals')
        .selectAll()
        .where('started_at_ms', '<', toMs)
        .where((eb) => eb.or([eb('ended_at_ms', 'is', null), eb('ended_at_ms', '>', fromMs)]));
      if (projectId) query = query.where('project_id', '=', projectId);
      return (await query.orderBy('started_at_ms').orderBy('id').execute()).map(downtimeOfRow);
    },

    /** Many intervals at once (imports, the billing benchmark), 500 rows per statement. */
    async insertUsageBatch(q: Q, rows: readonly UsageIntervalsTable[]): Promise<void> {
      for (let i = 0; i < rows.length; i += 500)
        await q
          .insertInto('usage_intervals')
          .values(rows.slice(i, i + 500))
          .execute();
    },
    async insertDowntimeBatch(q: Q, rows: readonly DowntimeIntervalsTable[]): Promise<void> {
      for (let i = 0; i < rows.length; i += 500)
        await q
          .insertInto('downtime_intervals')
          .values(rows.slice(i, i + 500))
          .execute();
    },

    /** Every interval, in a stable order (tests compare runs). */
    async allUsage(q: Q) {
      return q.selectFrom('usage_intervals').selectAll().orderBy('id').execute();
    },
    async allDowntime(q: Q) {
      return q.selectFrom('downtime_intervals').selectAll().orderBy('id').execute();
    },
  };
}

export type MeteringStore = ReturnType<typeof createMeteringStore>;
