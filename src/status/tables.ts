/** Row types of the status domain's tables (migration 017). src/db/schema.ts assembles them. */
import type { Kysely } from 'kysely';

export interface StatusIncidentsTable {
  /** `inc_…` */
  id: string;
  title: string;
  /** none | minor | major | critical */
  impact: string;
  /** investigating | identified | monitoring | resolved */
  status: string;
  /** Affected component ids as a JSON array. */
  components_json: string;
  created_at: string;
  updated_at: string;
  resolved_at: string | null;
}

export interface StatusIncidentUpdatesTable {
  /** `inu_…` (time-ordered) */
  id: string;
  incident_id: string;
  status: string;
  body: string;
  at: string;
}

export interface StatusMaintenancesTable {
  /** `mnt_…` */
  id: string;
  title: string;
  body: string;
  components_json: string;
  starts_at: string;
  ends_at: string;
  /** The last phase announced by an event. */
  announced: string;
  cancelled_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface StatusComponentsTable {
  /** `fra1.compute`, `global.api` */
  id: string;
  /** The measured status after hysteresis (incidents and maintenances are applied when read). */
  status: string;
  reason: string;
  candidate: string | null;
  candidate_count: number;
  changed_at: string;
  updated_at: string;
}

export interface StatusProbeResultsTable {
  /** `prb_…` */
  id: string;
  /** api | canary | hosts | billing */
  probe: string;
  /** `global`, a region code */
  target: string;
  at: string;
  at_ms: number;
  ok: number;
  latency_ms: number | null;
  /** A JSON object: what the probe saw. */
  detail: string;
}

export interface StatusDailyRollupsTable {
  component: string;
  /** YYYY-MM-DD (UTC) */
  day: string;
  /** Probe passes that day, and how many of them saw each status. */
  samples: number;
  operational: number;
  maintenance: number;
  degraded: number;
  partial: number;
  major: number;
}

export interface StatusSettingsTable {
  key: string;
  value: string;
}

export interface StatusTables {
  status_incidents: StatusIncidentsTable;
  status_incident_updates: StatusIncidentUpdatesTable;
  status_maintenances: StatusMaintenancesTable;
  status_components: StatusComponentsTable;
  status_probe_results: StatusProbeResultsTable;
  status_daily_rollups: StatusDailyRollupsTable;
  status_settings: StatusSettingsTable;
}

/** The status domain's typed view of a database handle or transaction. */
export const statusTablesOf = (q: { selectFrom: unknown }) => q as unknown as Kysely<StatusTables>;
