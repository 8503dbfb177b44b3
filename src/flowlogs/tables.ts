/**
 * Row types of the flow-log domain's tables (migration 013). The records themselves live in per-day tables
 * (`flow_logs_YYYYMMDD`) that the store creates and drops: they are not in `Database` (see store.ts).
 */

export interface FlowLogSettingsTable {
  project_id: string;
  enabled: number;
  /** JSON array of server ids; empty: every server of the project. */
  server_ids_json: string;
  retention_days: number;
  updated_at: string;
}

export interface FlowLogPartitionsTable {
  day: string;
  table_name: string;
  created_at: string;
}
