/** Row types of the DDoS domain's tables (migration 013). src/db/schema.ts assembles them. */

export interface DdosSettingsTable {
  project_id: string;
  tier: string;
  /** JSON array of custom rules (business, enterprise). */
  rules_json: string;
  /** JSON object address → { min_pps, min_bps } (enterprise). */
  thresholds_json: string;
  version: number;
  updated_at: string;
}

export interface DdosAttacksTable {
  id: string;
  project_id: string;
  server_id: string | null;
  address: string;
  tier: string;
  /** `active` or `ended`. */
  status: string;
  vector: string;
  /** `fast_path` (per-second host meters) or `counters` (5-minute samples). */
  detected_by: string;
  started_at: string;
  ended_at: string | null;
  peak_pps: number;
  peak_bps: number;
  dropped_packets: number;
  actions_json: string;
}

/** The detector's state of one public address: its learned baseline and its open attack, if any. */
export interface DdosAddressesTable {
  address: string;
  state_json: string;
  updated_at: string;
}
