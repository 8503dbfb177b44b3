/** Row types of the traffic domain's tables (migration 013). src/db/schema.ts assembles them. */

export interface TrafficServersTable {
  server_id: string;
  project_id: string;
  name: string;
  region: string;
  product: string;
  ipv4: string | null;
  host_id: string | null;
  first_seen_ms: number;
  last_seen_ms: number;
  /** When the server stopped existing (deleted); null while it lives. */
  gone_ms: number | null;
}

/** One server's counters for one 5-minute slot (`slot` = epoch seconds / 300), from the server's side. */
export interface TrafficSamplesTable {
  server_id: string;
  slot: number;
  project_id: string;
  rx_bytes: number;
  tx_bytes: number;
  rx_packets: number;
  tx_packets: number;
  rx_unmetered_bytes: number;
  tx_unmetered_bytes: number;
}

export interface TrafficRollupsTable {
  server_id: string;
  /** `hour` or `day`. */
  period: string;
  start_ms: number;
  project_id: string;
  rx_bytes: number;
  tx_bytes: number;
  rx_packets: number;
  tx_packets: number;
  rx_unmetered_bytes: number;
  tx_unmetered_bytes: number;
  samples: number;
}

export interface TrafficMonthsTable {
  /** The server (`srv_…`) or the project (`prj_…`). */
  scope_id: string;
  month: string;
  project_id: string;
  product: string | null;
  rx_bytes: number;
  tx_bytes: number;
  rx_unmetered_bytes: number;
  tx_unmetered_bytes: number;
  included_bytes: number;
  p95_in_bps: number;
  p95_out_bps: number;
  samples: number;
  closed_at: string;
}
