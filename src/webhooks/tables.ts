/** Row types of the webhooks domain's tables (migration 015). src/db/schema.ts assembles them. */
import type { Generated, Kysely } from 'kysely';

export interface WebhookEndpointsTable {
  /** `whk_…` */
  id: string;
  project_id: string;
  url: string;
  description: string;
  /** The event filters (`server.*`, `*`…) as a JSON array. */
  events_json: string;
  enabled: number;
  /** `failing` or `manual` while disabled. */
  disabled_reason: string | null;
  /** The sealed signing secret (`sealed_secrets.id`, purpose `webhook.signing-secret`). */
  secret_id: string;
  /** After a rotation: the old secret, which signs too until `previous_secret_expires_at`. */
  previous_secret_id: string | null;
  previous_secret_expires_at: string | null;
  /** Since when every delivery attempt failed; null after a success. */
  failing_since: string | null;
  created_at: string;
  updated_at: string;
}

export interface WebhookDeliveriesTable {
  seq: Generated<number>;
  /** The writing transaction (xid8 text on PostgreSQL, 0 on SQLite): the order per resource is (tx_id, seq). */
  tx_id: Generated<string>;
  /** `msg_…`: the `webhook-id` header, the same for every attempt. */
  id: string;
  endpoint_id: string;
  project_id: string;
  event_id: string | null;
  event_type: string;
  resource_type: string;
  resource_id: string;
  /** The request body, fixed when the delivery is written. */
  payload_json: string;
  /** `pending`, `succeeded`, `failed`. */
  status: string;
  attempts: number;
  next_attempt_at_ms: number;
  /** A worker holds the delivery until then (it is being sent). */
  lease_until_ms: number;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  created_at_ms: number;
  delivered_at: string | null;
}

export interface WebhookAttemptsTable {
  id: string;
  delivery_id: string;
  endpoint_id: string;
  attempt: number;
  at: string;
  at_ms: number;
  status_code: number | null;
  latency_ms: number;
  response: string;
  error: string | null;
}

export interface WebhookTables {
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
}

/** The webhooks domain's typed view of a database handle or transaction. */
export const webhookTablesOf = (q: { selectFrom: unknown }) => q as unknown as Kysely<WebhookTables>;
