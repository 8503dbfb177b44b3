/**
 * The webhooks domain: endpoints of a project (tables `webhook_endpoints`, `webhook_deliveries`,
 * `webhook_attempts`), the fan-out of events into deliveries in the event's transaction, and the delivery
 * worker (Standard Webhooks signatures, retries for about three days, SSRF-safe sending).
 */
export type { WebhookAttemptsTable, WebhookDeliveriesTable, WebhookEndpointsTable } from './tables.ts';
export { createWebhookService, type WebhookService, type WebhookServiceDeps } from './service.ts';
export { createWebhookFanOut, payloadOf } from './fan-out.ts';
export { createWebhookWorker, type WebhookWorker, type WebhookWorkerOptions } from './worker.ts';
export { createWebhookSender, urlProblem, type WebhookSender, type SendResult } from './safe-fetch.ts';
export { isForbiddenAddress } from './address-policy.ts';
export { defaultRetryScheduleMs, defaultDisableAfterMs, nextRetryDelayMs } from './retry.ts';
export { matchesFilters } from './filters.ts';
export { deliveryCounts } from './store.ts';
