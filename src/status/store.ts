/** The only code that names the status domain's tables. JSON columns are parsed here, once. */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { ComponentStatus, IncidentImpact, IncidentStatus } from '../contract/index.ts';
import type { StatusCounts } from './derive.ts';
import {
  statusTablesOf,
  type StatusIncidentsTable,
  type StatusMaintenancesTable,
  type StatusTables,
} from './tables.ts';

type Q = { selectFrom: unknown };
const t = (q: Q): Kysely<StatusTables> => statusTablesOf(q);

// ---------------- incidents ----------------

export interface IncidentRecord {
  id: string;
  title: string;
  impact: IncidentImpact;
  status: IncidentStatus;
  components: string[];
  createdAt: string;
  updatedAt: string;
  resolvedAt: string | null;
}

export interface IncidentUpdateRecord {
  id: string;
  incidentId: string;
  status: IncidentStatus;
  body: string;
  at: string;
}

const incidentOf = (r: Selectable<StatusIncidentsTable>): IncidentRecord => ({
  id: r.id,
  title: r.title,
  impact: r.impact as IncidentImpact,
  status: r.status as IncidentStatus,
  components: JSON.parse(r.components_json) as string[],
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  resolvedAt: r.resolved_at,
});

export async function insertIncident(q: Q, i: IncidentRecord): Promise<void> {
  await t(q)
    .insertInto('status_incidents')
    .values({
      id: i.id,
      title: i.title,
      impact: i.impact,
      status: i.status,
      components_json: JSON.stringify(i.components),
      created_at: i.createdAt,
      updated_at: i.updatedAt,
      resolved_at: i.resolvedAt,
    })
    .execute();
}

export async function saveIncident(q: Q, i: IncidentRecord): Promise<void> {
  await t(q)
    .updateTable('status_incidents')
    .set({
      title: i.title,
      impact: i.impact,
      status: i.status,
      components_json: JSON.stringify(i.components),
      updated_at: i.updatedAt,
      resolved_at: i.resolvedAt,
    })
    .where('id', '=', i.id)
    .execute();
}

export async function insertIncidentUpdate(q: Q, u: IncidentUpdateRecord): Promise<void> {
  await t(q)
    .insertInto('status_incident_updates')
    .values({ id: u.id, incident_id: u.incidentId, status: u.status, body: u.body, at: u.at })
    .execute();
}

export async function findIncident(q: Q, id: string): Promise<IncidentRecord | null> {
  const row = await t(q).selectFrom('status_incidents').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? incidentOf(row) : null;
}

/** Newest first, after `cursor` (an incident id); `state`: active (unresolved) or resolved. */
export async function listIncidents(
  q: Q,
  filter: { state?: 'active' | 'resolved'; cursor: string | null; limit: number; since?: string },
): Promise<IncidentRecord[]> {
  let query = t(q).selectFrom('status_incidents').selectAll();
  if (filter.state === 'active') query = query.where('resolved_at', 'is', null);
  if (filter.state === 'resolved') query = query.where('resolved_at', 'is not', null);
  if (filter.cursor) query = query.where('id', '<', filter.cursor);
  if (filter.since)
    query = query.where((eb) => eb.or([eb('resolved_at', 'is', null), eb('resolved_at', '>=', filter.since!)]));
  const rows = await query.orderBy('id', 'desc').limit(filter.limit).execute();
  return rows.map(incidentOf);
}

/** The updates of some incidents, newest first per incident. */
export async function updatesOf(q: Q, incidentIds: readonly string[]): Promise<Map<string, IncidentUpdateRecord[]>> {
  const out = new Map<string, IncidentUpdateRecord[]>();
  if (incidentIds.length === 0) return out;
  const rows = await t(q)
    .selectFrom('status_incident_updates')
    .selectAll()
    .where('incident_id', 'in', [...incidentIds])
    .orderBy('id', 'desc')
    .execute();
  for (const r of rows) {
    const list = out.get(r.incident_id) ?? [];
    list.push({ id: r.id, incidentId: r.incident_id, status: r.status as IncidentStatus, body: r.body, at: r.at });
    out.set(r.incident_id, list);
  }
  return out;
}

// ---------------- maintenances ----------------

export interface MaintenanceRecord {
  id: string;
  title: string;
  body: string;
  components: string[];
  startsAt: string;
  endsAt: string;
  announced: string;
  cancelledAt: string | null;
  createdAt: string;
  updatedAt: string;
}

const maintenanceOf = (r: Selectable<StatusMaintenancesTable>): MaintenanceRecord => ({
  id: r.id,
  title: r.title,
  body: r.body,
  components: JSON.parse(r.components_json) as string[],
  startsAt: r.starts_at,
  endsAt: r.ends_at,
  announced: r.announced,
  cancelledAt: r.cancelled_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export async function insertMaintenance(q: Q, m: MaintenanceRecord): Promise<void> {
  await t(q)
    .insertInto('status_maintenances')
    .values({
      id: m.id,
      title: m.title,
      body: m.body,
      components_json: JSON.stringify(m.components),
      starts_at: m.startsAt,
      ends_at: m.endsAt,
      announced: m.announced,
      cancelled_at: m.cancelledAt,
      created_at: m.createdAt,
      updated_at: m.updatedAt,
    })
    .execute();
}

export async function saveMaintenance(q: Q, m: MaintenanceRecord): Promise<void> {
  await t(q)
    .updateTable('status_maintenances')
    .set({ announced: m.announced, cancelled_at: m.cancelledAt, updated_at: m.updatedAt })
    .where('id', '=', m.id)
    .execute();
}

export async function findMaintenance(q: Q, id: string): Promise<MaintenanceRecord | null> {
  const row = await t(q).selectFrom('status_maintenances').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? maintenanceOf(row) : null;
}

/** Newest first after `cursor`; `endingAfter`: only those not cancelled and not ended by then (upcoming). */
export async function listMaintenances(
  q: Q,
  filter: { cursor: string | null; limit: number; upcomingAt?: string; pastAt?: string },
): Promise<MaintenanceRecord[]> {
  let query = t(q).selectFrom('status_maintenances').selectAll();
  if (filter.upcomingAt) query = query.where('cancelled_at', 'is', null).where('ends_at', '>', filter.upcomingAt);
  if (filter.pastAt)
    query = query.where((eb) => eb.or([eb('cancelled_at', 'is not', null), eb('ends_at', '<=', filter.pastAt!)]));
  if (filter.cursor) query = query.where('id', '<', filter.cursor);
  const rows = await query.orderBy('id', 'desc').limit(filter.limit).execute();
  return rows.map(maintenanceOf);
}

/** Maintenances not cancelled whose window overlaps [fromIso, toIso). */
export async function maintenancesOverlapping(q: Q, fromIso: string, toIso: string): Promise<MaintenanceRecord[]> {
  const rows = await t(q)
    .selectFrom('status_maintenances')
    .selectAll()
    .where('cancelled_at', 'is', null)
    .where('starts_at', '<', toIso)
    .where('ends_at', '>', fromIso)
    .execute();
  return rows.map(maintenanceOf);
}

/** Maintenances whose last announced phase may be behind their window (neither completed nor cancelled). */
export async function maintenancesToAnnounce(q: Q): Promise<MaintenanceRecord[]> {
  const rows = await t(q)
    .selectFrom('status_maintenances')
    .selectAll()
    .where('announced', 'in', ['scheduled', 'in_progress'])
    .execute();
  return rows.map(maintenanceOf);
}

// ---------------- components ----------------

export interface ComponentRecord {
  id: string;
  status: ComponentStatus;
  reason: string;
  candidate: ComponentStatus | null;
  candidateCount: number;
  changedAt: string;
  updatedAt: string;
}

export async function components(q: Q): Promise<Map<string, ComponentRecord>> {
  const rows = await t(q).selectFrom('status_components').selectAll().execute();
  return new Map(
    rows.map((r) => [
      r.id,
      {
        id: r.id,
        status: r.status as ComponentStatus,
        reason: r.reason,
        candidate: r.candidate as ComponentStatus | null,
        candidateCount: Number(r.candidate_count),
        changedAt: r.changed_at,
        updatedAt: r.updated_at,
      },
    ]),
  );
}

export async function saveComponent(q: Q, c: ComponentRecord, exists: boolean): Promise<void> {
  const values = {
    status: c.status,
    reason: c.reason,
    candidate: c.candidate,
    candidate_count: c.candidateCount,
    changed_at: c.changedAt,
    updated_at: c.updatedAt,
  };
  if (exists) await t(q).updateTable('status_components').set(values).where('id', '=', c.id).execute();
  else
    await t(q)
      .insertInto('status_components')
      .values({ id: c.id, ...values })
      .execute();
}

// ---------------- probe results and rollups ----------------

export interface ProbeResultRecord {
  id: string;
  probe: string;
  target: string;
  at: string;
  atMs: number;
  ok: boolean;
  latencyMs: number | null;
  detail: Record<string, unknown>;
}

export async function insertProbeResults(q: Q, results: readonly ProbeResultRecord[]): Promise<void> {
  if (results.length === 0) return;
  await t(q)
    .insertInto('status_probe_results')
    .values(
      results.map((r) => ({
        id: r.id,
        probe: r.probe,
        target: r.target,
        at: r.at,
        at_ms: r.atMs,
        ok: r.ok ? 1 : 0,
        latency_ms: r.latencyMs,
        detail: JSON.stringify(r.detail),
      })),
    )
    .execute();
}

/** The newest result of a probe for a target. */
export async function latestProbe(q: Q, probe: string, target: string): Promise<ProbeResultRecord | null> {
  const r = await t(q)
    .selectFrom('status_probe_results')
    .selectAll()
    .where('probe', '=', probe)
    .where('target', '=', target)
    .orderBy('at_ms', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!r) return null;
  return {
    id: r.id,
    probe: r.probe,
    target: r.target,
    at: r.at,
    atMs: Number(r.at_ms),
    ok: Number(r.ok) === 1,
    latencyMs: r.latency_ms === null ? null : Number(r.latency_ms),
    detail: JSON.parse(r.detail) as Record<string, unknown>,
  };
}

/** Latencies and outcomes of a probe since a time (all targets, or one). */
export async function probeOutcomesSince(
  q: Q,
  probe: string,
  sinceMs: number,
): Promise<Array<{ target: string; ok: boolean; latencyMs: number | null }>> {
  const rows = await t(q)
    .selectFrom('status_probe_results')
    .select(['target', 'ok', 'latency_ms'])
    .where('probe', '=', probe)
    .where('at_ms', '>=', sinceMs)
    .execute();
  return rows.map((r) => ({
    target: r.target,
    ok: Number(r.ok) === 1,
    latencyMs: r.latency_ms === null ? null : Number(r.latency_ms),
  }));
}

export async function purgeProbeResults(q: Q, beforeMs: number): Promise<number> {
  const result = await t(q).deleteFrom('status_probe_results').where('at_ms', '<', beforeMs).executeTakeFirst();
  return Number(result.numDeletedRows);
}

const rollupColumn: Record<ComponentStatus, 'operational' | 'maintenance' | 'degraded' | 'partial' | 'major'> = {
  operational: 'operational',
  under_maintenance: 'maintenance',
  degraded_performance: 'degraded',
  partial_outage: 'partial',
  major_outage: 'major',
};

/** Counts one pass's status of a component in its day's rollup. */
export async function addRollupSample(q: Q, component: string, day: string, status: ComponentStatus): Promise<void> {
  const column = rollupColumn[status];
  await t(q)
    .insertInto('status_daily_rollups')
    .values({
      component,
      day,
      samples: 1,
      operational: 0,
      maintenance: 0,
      degraded: 0,
      partial: 0,
      major: 0,
      [column]: 1,
    })
    .onConflict((oc) =>
      oc.columns(['component', 'day']).doUpdateSet({
        samples: sql`status_daily_rollups.samples + 1`,
        [column]: sql`status_daily_rollups.${sql.ref(column)} + 1`,
      }),
    )
    .execute();
}

/** Every rollup since a day (inclusive), per component then day. */
export async function rollupsSince(q: Q, fromDay: string): Promise<Map<string, Map<string, StatusCounts>>> {
  const rows = await t(q).selectFrom('status_daily_rollups').selectAll().where('day', '>=', fromDay).execute();
  const out = new Map<string, Map<string, StatusCounts>>();
  for (const r of rows) {
    const days = out.get(r.component) ?? new Map<string, StatusCounts>();
    days.set(r.day, {
      samples: Number(r.samples),
      operational: Number(r.operational),
      maintenance: Number(r.maintenance),
      degraded: Number(r.degraded),
      partial: Number(r.partial),
      major: Number(r.major),
    });
    out.set(r.component, days);
  }
  return out;
}

export async function purgeRollups(q: Q, beforeDay: string): Promise<number> {
  const result = await t(q).deleteFrom('status_daily_rollups').where('day', '<', beforeDay).executeTakeFirst();
  return Number(result.numDeletedRows);
}

// ---------------- settings ----------------

export async function setting(q: Q, key: string): Promise<string | null> {
  const row = await t(q).selectFrom('status_settings').select('value').where('key', '=', key).executeTakeFirst();
  return row?.value ?? null;
}

export async function setSetting(q: Q, key: string, value: string): Promise<void> {
  await t(q)
    .insertInto('status_settings')
    .values({ key, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
    .execute();
}
