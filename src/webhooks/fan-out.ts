/**
 * The outbox of webhooks: in the transaction that records an event, one delivery row per enabled endpoint
 * of the event's project whose filters match. A crash loses the event and its deliveries together or
 * neither. Events of no project (operators' hosts, regions) go to no webhook, except the public status
 * events (`incident.*`, `maintenance.*`, `component.*`, also on the public status page): those go to every
 * enabled endpoint, of any project, whose filters name them — a family or the type, never `*` alone
 * (status subscriptions are opt-in).
 */
import { newId, type Clock, type DomainEvent } from '../core/index.ts';
import type { Tx } from '../db/index.ts';
import { matchesFilters } from './filters.ts';
import { enabledEndpointsOf, enabledEndpointsOfAll, insertDeliveries, type NewDelivery } from './store.ts';

/** The JSON body of a delivery (Standard Webhooks: type, timestamp, data). */
export function payloadOf(
  event: Pick<DomainEvent, 'id' | 'at' | 'type' | 'projectId' | 'resourceType' | 'resourceId' | 'data'>,
): string {
  return JSON.stringify({
    type: event.type,
    timestamp: event.at,
    data: {
      event_id: event.id,
      project_id: event.projectId,
      resource: { type: event.resourceType, id: event.resourceId },
      ...event.data,
    },
  });
}

export function deliveryRow(
  endpointId: string,
  event: Pick<DomainEvent, 'id' | 'at' | 'type' | 'projectId' | 'resourceType' | 'resourceId' | 'data'>,
  nowMs: number,
  nowIso: string,
  eventId: string | null = event.id,
  /** The endpoint's project, for a public event (which has none). */
  projectId: string = event.projectId!,
): NewDelivery {
  return {
    id: newId('webhookMessage', nowMs),
    endpoint_id: endpointId,
    project_id: projectId,
    event_id: eventId,
    event_type: event.type,
    resource_type: event.resourceType,
    resource_id: event.resourceId,
    payload_json: payloadOf(event),
    status: 'pending',
    attempts: 0,
    next_attempt_at_ms: nowMs,
    lease_until_ms: 0,
    last_status_code: null,
    last_error: null,
    created_at: nowIso,
    created_at_ms: nowMs,
    delivered_at: null,
  };
}

/** Status events, public on the status page: delivered to endpoints that subscribed to them by name. */
export const isPublicStatusEvent = (type: string) => /^(incident|maintenance|component)\./.test(type);

export function createWebhookFanOut(deps: { clock: Clock }) {
  return async function fanOut(tx: Tx, event: DomainEvent): Promise<void> {
    if (!event.projectId) {
      if (!isPublicStatusEvent(event.type)) return;
      const nowMs = deps.clock.nowMs();
      const rows = (await enabledEndpointsOfAll(tx))
        .filter((e) =>
          matchesFilters(
            e.events.filter((f) => f !== '*'),
            event.type,
          ),
        )
        .map((e) => deliveryRow(e.id, event, nowMs, deps.clock.nowIso(), event.id, e.projectId));
      await insertDeliveries(tx, rows);
      return;
    }
    const endpoints = await enabledEndpointsOf(tx, event.projectId);
    if (endpoints.length === 0) return;
    const nowMs = deps.clock.nowMs();
    const nowIso = deps.clock.nowIso();
    const rows = endpoints
      .filter((e) => matchesFilters(e.events, event.type))
      .map((e) => deliveryRow(e.id, event, nowMs, nowIso));
    await insertDeliveries(tx, rows);
  };
}
