/** Records → the contract's wire shapes. */
import type { Selectable } from 'kysely';
import type { DeliveryAttempt, Webhook, WebhookDelivery } from '../contract/index.ts';
import type { DeliveryRow, EndpointRecord } from './store.ts';
import type { WebhookAttemptsTable } from './tables.ts';

export function webhookView(e: EndpointRecord): Webhook {
  return {
    id: e.id,
    project_id: e.projectId,
    url: e.url,
    description: e.description,
    events: e.events,
    enabled: e.enabled,
    disabled_reason: e.disabledReason,
    failing_since: e.failingSince,
    previous_secret_expires_at: e.previousSecretId ? e.previousSecretExpiresAt : null,
    created_at: e.createdAt,
    updated_at: e.updatedAt,
  };
}

export function deliveryView(d: DeliveryRow, attempts: Selectable<WebhookAttemptsTable>[]): WebhookDelivery {
  return {
    id: d.id,
    webhook_id: d.endpoint_id,
    event_id: d.event_id,
    event_type: d.event_type,
    resource: { type: d.resource_type, id: d.resource_id },
    status: d.status as WebhookDelivery['status'],
    attempts: d.attempts,
    next_attempt_at: d.status === 'pending' ? new Date(d.next_attempt_at_ms).toISOString() : null,
    last_status_code: d.last_status_code,
    last_error: d.last_error,
    created_at: d.created_at,
    delivered_at: d.delivered_at,
    attempt_log: attempts.map((a): DeliveryAttempt => ({
      attempt: a.attempt,
      at: a.at,
      status_code: a.status_code,
      latency_ms: a.latency_ms,
      response: a.response,
      error: a.error,
    })),
  };
}
