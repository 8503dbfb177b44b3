/** The only code that names the telemetry domain's tables. The histogram's JSON is parsed here, once. */
import type { Kysely } from 'kysely';
import { telemetryTablesOf, type ServerUsageTable, type TelemetryTables } from './tables.ts';

type Q = { selectFrom: unknown };
const t = (q: Q): Kysely<TelemetryTables> => telemetryTablesOf(q);

export interface ProbeRollup {
  hostId: string;
  hourMs: number;
  region: string;
  method: string;
  sent: number;
  received: number;
  histogram: number[];
  peers: number;
}

const parseHistogram = (text: string): number[] => {
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) ? value.map((n) => Number(n) || 0) : [];
};

/** The host's row of that hour, or null. */
export async function probeRollup(q: Q, hostId: string, hourMs: number): Promise<ProbeRollup | null> {
  const row = await t(q)
    .selectFrom('host_probe_rollups')
    .selectAll()
    .where('host_id', '=', hostId)
    .where('hour_ms', '=', hourMs)
    .executeTakeFirst();
  return row ? rollupOf(row) : null;
}

const rollupOf = (r: TelemetryTables['host_probe_rollups']): ProbeRollup => ({
  hostId: r.host_id,
  hourMs: Number(r.hour_ms),
  region: r.region,
  method: r.method,
  sent: Number(r.sent),
  received: Number(r.received),
  histogram: parseHistogram(r.histogram_json),
  peers: r.peers,
});

/** Writes the host's row of the hour (the caller has added its report to what `probeRollup` read). */
export async function putProbeRollup(q: Q, row: ProbeRollup, nowMs: number): Promise<void> {
  const values = {
    host_id: row.hostId,
    hour_ms: row.hourMs,
    region: row.region,
    method: row.method,
    sent: row.sent,
    received: row.received,
    histogram_json: JSON.stringify(row.histogram),
    peers: row.peers,
    updated_ms: nowMs,
  };
  await t(q)
    .insertInto('host_probe_rollups')
    .values(values)
    .onConflict((oc) =>
      oc.columns(['host_id', 'hour_ms']).doUpdateSet({
        region: values.region,
        method: values.method,
        sent: values.sent,
        received: values.received,
        histogram_json: values.histogram_json,
        peers: values.peers,
        updated_ms: nowMs,
      }),
    )
    .execute();
}

/** Every host's rows of the hours starting at or after `sinceHourMs`. */
export async function probeRollupsSince(q: Q, sinceHourMs: number): Promise<ProbeRollup[]> {
  const rows = await t(q).selectFrom('host_probe_rollups').selectAll().where('hour_ms', '>=', sinceHourMs).execute();
  return rows.map(rollupOf);
}

export async function deleteProbeRollupsBefore(q: Q, hourMs: number): Promise<number> {
  const result = await t(q).deleteFrom('host_probe_rollups').where('hour_ms', '<', hourMs).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** What a host measured towards the hosts of another region in one hour. */
export interface RegionProbeRollup extends ProbeRollup {
  peerRegion: string;
}

export async function regionProbeRollup(
  q: Q,
  hostId: string,
  hourMs: number,
  peerRegion: string,
): Promise<RegionProbeRollup | null> {
  const row = await t(q)
    .selectFrom('host_region_probe_rollups')
    .selectAll()
    .where('host_id', '=', hostId)
    .where('hour_ms', '=', hourMs)
    .where('peer_region', '=', peerRegion)
    .executeTakeFirst();
  return row ? regionRollupOf(row) : null;
}

const regionRollupOf = (r: TelemetryTables['host_region_probe_rollups']): RegionProbeRollup => ({
  ...rollupOf({ ...r }),
  peerRegion: r.peer_region,
});

export async function putRegionProbeRollup(q: Q, row: RegionProbeRollup, nowMs: number): Promise<void> {
  const values = {
    host_id: row.hostId,
    hour_ms: row.hourMs,
    peer_region: row.peerRegion,
    region: row.region,
    method: row.method,
    sent: row.sent,
    received: row.received,
    histogram_json: JSON.stringify(row.histogram),
    peers: row.peers,
    updated_ms: nowMs,
  };
  await t(q)
    .insertInto('host_region_probe_rollups')
    .values(values)
    .onConflict((oc) =>
      oc.columns(['host_id', 'hour_ms', 'peer_region']).doUpdateSet({
        region: values.region,
        method: values.method,
        sent: values.sent,
        received: values.received,
        histogram_json: values.histogram_json,
        peers: values.peers,
        updated_ms: nowMs,
      }),
    )
    .execute();
}

export async function regionProbeRollupsSince(q: Q, sinceHourMs: number): Promise<RegionProbeRollup[]> {
  const rows = await t(q)
    .selectFrom('host_region_probe_rollups')
    .selectAll()
    .where('hour_ms', '>=', sinceHourMs)
    .execute();
  return rows.map(regionRollupOf);
}

/** A host's CPU steal in one hour. */
export interface StealRollup {
  hostId: string;
  hourMs: number;
  region: string;
  method: string;
  periodSeconds: number;
  stealSeconds: number;
}

const stealOf = (r: TelemetryTables['host_cpu_steal_rollups']): StealRollup => ({
  hostId: r.host_id,
  hourMs: Number(r.hour_ms),
  region: r.region,
  method: r.method,
  periodSeconds: Number(r.period_seconds),
  stealSeconds: Number(r.steal_seconds),
});

/** Adds a report's seconds to the host's row of the hour (a simulated report taints the hour). */
export async function addSteal(q: Q, row: StealRollup, nowMs: number): Promise<void> {
  await t(q)
    .insertInto('host_cpu_steal_rollups')
    .values({
      host_id: row.hostId,
      hour_ms: row.hourMs,
      region: row.region,
      method: row.method,
      period_seconds: row.periodSeconds,
      steal_seconds: row.stealSeconds,
      updated_ms: nowMs,
    })
    .onConflict((oc) =>
      oc.columns(['host_id', 'hour_ms']).doUpdateSet((eb) => ({
        region: row.region,
        method: row.method === 'model' ? 'model' : eb.ref('host_cpu_steal_rollups.method'),
        period_seconds: eb(eb.ref('host_cpu_steal_rollups.period_seconds'), '+', eb.ref('excluded.period_seconds')),
        steal_seconds: eb(eb.ref('host_cpu_steal_rollups.steal_seconds'), '+', eb.ref('excluded.steal_seconds')),
        updated_ms: nowMs,
      })),
    )
    .execute();
}

export async function stealRollupsSince(q: Q, sinceHourMs: number): Promise<StealRollup[]> {
  const rows = await t(q)
    .selectFrom('host_cpu_steal_rollups')
    .selectAll()
    .where('hour_ms', '>=', sinceHourMs)
    .execute();
  return rows.map(stealOf);
}

/** Inter-region and CPU steal rows of hours before `hourMs`, deleted. */
export async function deleteHostHoursBefore(q: Q, hourMs: number): Promise<number> {
  const a = await t(q).deleteFrom('host_region_probe_rollups').where('hour_ms', '<', hourMs).executeTakeFirst();
  const b = await t(q).deleteFrom('host_cpu_steal_rollups').where('hour_ms', '<', hourMs).executeTakeFirst();
  return Number(a.numDeletedRows) + Number(b.numDeletedRows);
}

export interface UsageRow {
  serverId: string;
  startMs: number;
  hostId: string;
  seconds: number;
  cpuSeconds: number;
  diskReadBytes: number;
  diskWriteBytes: number;
  diskReadOps: number;
  diskWriteOps: number;
}

type UsageTable = 'server_usage_minutes' | 'server_usage_rollups';

const usageValues = (r: UsageRow): ServerUsageTable => ({
  server_id: r.serverId,
  start_ms: r.startMs,
  host_id: r.hostId,
  seconds: r.seconds,
  cpu_seconds: r.cpuSeconds,
  disk_read_bytes: r.diskReadBytes,
  disk_write_bytes: r.diskWriteBytes,
  disk_read_ops: r.diskReadOps,
  disk_write_ops: r.diskWriteOps,
});

const usageOf = (r: ServerUsageTable): UsageRow => ({
  serverId: r.server_id,
  startMs: Number(r.start_ms),
  hostId: r.host_id,
  seconds: Number(r.seconds),
  cpuSeconds: Number(r.cpu_seconds),
  diskReadBytes: Number(r.disk_read_bytes),
  diskWriteBytes: Number(r.disk_write_bytes),
  diskReadOps: Number(r.disk_read_ops),
  diskWriteOps: Number(r.disk_write_ops),
});

const summed = [
  'seconds',
  'cpu_seconds',
  'disk_read_bytes',
  'disk_write_bytes',
  'disk_read_ops',
  'disk_write_ops',
] as const;

/** Adds usage to the rows of its slots (a second report in the same slot adds to the first). */
export async function addUsage(q: Q, table: UsageTable, rows: readonly UsageRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) {
    await t(q)
      .insertInto(table)
      .values(rows.slice(i, i + 200).map(usageValues))
      .onConflict((oc) =>
        oc.columns(['server_id', 'start_ms']).doUpdateSet((eb) => ({
          host_id: eb.ref('excluded.host_id'),
          ...Object.fromEntries(
            summed.map((column) => [column, eb(eb.ref(`${table}.${column}`), '+', eb.ref(`excluded.${column}`))]),
          ),
        })),
      )
      .execute();
  }
}

/** A server's rows overlapping [fromMs, toMs): the 5-minute rollups, then the minutes (finer where both). */
export async function usageRows(q: Q, serverId: string, fromMs: number, toMs: number): Promise<UsageRow[]> {
  const read = (table: UsageTable, slackMs: number) =>
    t(q)
      .selectFrom(table)
      .selectAll()
      .where('server_id', '=', serverId)
      .where('start_ms', '>=', fromMs - slackMs)
      .where('start_ms', '<', toMs)
      .orderBy('start_ms')
      .execute();
  const [minutes, rollups] = await Promise.all([
    read('server_usage_minutes', 3_600_000),
    read('server_usage_rollups', 3_600_000),
  ]);
  const firstMinute = minutes.length > 0 ? Number(minutes[0].start_ms) : Infinity;
  return [...rollups.map(usageOf).filter((r) => r.startMs + 300_000 <= firstMinute), ...minutes.map(usageOf)];
}

/** Minute rows started before `beforeMs`, oldest first, at most `limit`. */
export async function minutesBefore(q: Q, beforeMs: number, limit: number): Promise<UsageRow[]> {
  const rows = await t(q)
    .selectFrom('server_usage_minutes')
    .selectAll()
    .where('start_ms', '<', beforeMs)
    .orderBy('start_ms')
    .orderBy('server_id')
    .limit(limit)
    .execute();
  return rows.map(usageOf);
}

export async function deleteMinutes(q: Q, rows: readonly UsageRow[]): Promise<void> {
  for (const row of rows)
    await t(q)
      .deleteFrom('server_usage_minutes')
      .where('server_id', '=', row.serverId)
      .where('start_ms', '=', row.startMs)
      .execute();
}

export async function deleteRollupsBefore(q: Q, beforeMs: number): Promise<number> {
  const result = await t(q).deleteFrom('server_usage_rollups').where('start_ms', '<', beforeMs).executeTakeFirst();
  return Number(result.numDeletedRows);
}
