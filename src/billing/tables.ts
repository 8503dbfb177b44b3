/** Row types of the billing domain's tables (migration 014). src/db/schema.ts assembles them. */
export interface BillingAccountsTable {
  project_id: string;
  name: string;
  address: string;
  /** ISO 3166-1 alpha-2 (GR for Greece; its VAT prefix is EL). */
  country: string;
  vat_id: string | null;
  sla_tier: string;
  budget_cents: number | null;
  /** The month (YYYY-MM) and the highest budget threshold (50, 80, 100) already announced for it. */
  budget_notified_month: string | null;
  budget_notified_percent: number;
  /** `volume` (included TiB, then overage per TiB) or `percentile95` (per Mbps of the p95), migration 019. */
  traffic_billing: string;
  updated_at: string;
}

export interface BillingPricesTable {
  id: string;
  /** What is priced: `product:VPS-STARTER`, `volume_gib`, `ipv4`, `traffic_overage_tib`, … (src/billing/prices.ts). */
  item: string;
  /** A region code, or `*` for every region. */
  region: string;
  currency: string;
  /** Price per unit (per hour for time-based items, per unit for others), in micro-euros. */
  unit_micros: number;
  /** The cap per resource and month (time-based items), in micro-euros. */
  monthly_cap_micros: number | null;
  /** When this version takes effect (ISO-8601 UTC); versions are never rewritten. */
  valid_from: string;
  created_at: string;
}

export interface UsageIntervalsTable {
  id: string;
  project_id: string;
  /** server | volume | backup */
  kind: string;
  resource_id: string;
  /** The price item this interval is rated with (`product:GPU-A100`, `volume_gib`, `backup_gib`). */
  item: string;
  region: string;
  /** Units × 1000 (GiB for volumes and backups, 1000 for one server). */
  quantity_milli: number;
  started_at_ms: number;
  ended_at_ms: number | null;
}

export interface MeteredEventsTable {
  event_id: string;
  at_ms: number;
}

export interface MeteredServersTable {
  server_id: string;
  project_id: string;
  product: string;
  region: string;
  host_id: string | null;
  /** 1 while the customer wants it running (created or started, not stopped). */
  wants_running: number;
  status: string;
}

export interface DowntimeIntervalsTable {
  id: string;
  project_id: string;
  server_id: string;
  region: string;
  host_id: string | null;
  /** host_down | failed_start | crash */
  cause: string;
  started_at_ms: number;
  ended_at_ms: number | null;
}

export interface InvoicesTable {
  id: string;
  project_id: string;
  kind: string;
  number: string | null;
  status: string;
  period: string;
  run_key: string | null;
  refers_to: string | null;
  currency: string;
  subtotal_cents: number;
  vat_cents: number;
  total_cents: number;
  document_json: string;
  payment_reference: string;
  issued_at: string | null;
  paid_at: string | null;
  voided_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface InvoiceCountersTable {
  issuer: string;
  series: string;
  year: number;
  last_number: number;
}

/** Months the monthly run has finished (the loop does each once). */
export interface BillingRunsTable {
  month: string;
  invoices: number;
  finished_at: string;
}

export interface BillingTables {
  billing_runs: BillingRunsTable;
  billing_accounts: BillingAccountsTable;
  billing_prices: BillingPricesTable;
  usage_intervals: UsageIntervalsTable;
  metered_events: MeteredEventsTable;
  metered_servers: MeteredServersTable;
  downtime_intervals: DowntimeIntervalsTable;
  invoices: InvoicesTable;
  invoice_counters: InvoiceCountersTable;
}
