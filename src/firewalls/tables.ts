/** Row types of the firewalls domain's tables (src/db/schema.ts includes them). */
export interface FirewallsTable {
  id: string;
  project_id: string;
  name: string;
  labels_json: string;
  /** The rules, normalized, as one JSON list (replaced as a whole). */
  rules_json: string;
  rules_version: number;
  created_at: string;
  updated_at: string;
}

export interface FirewallTargetsTable {
  firewall_id: string;
  project_id: string;
  /** server | label_selector */
  kind: string;
  /** The server id, or the label selector's text. */
  target: string;
  created_at: string;
}

export interface FirewallCountersTable {
  firewall_id: string;
  server_id: string;
  rule_index: number;
  rules_version: number;
  packets: number;
  bytes: number;
  updated_at: string;
}
