/**
 * Webhooks: endpoints a project registers to receive its events, signed per the Standard Webhooks
 * specification (`webhook-id`, `webhook-timestamp`, `webhook-signature`), delivered at least once and in
 * order per resource, retried for about three days. docs/webhooks.md has the verification recipes.
 */
import { Type, type Static } from 'typebox';
import {
  CursorQuery,
  LimitQuery,
  Literals,
  NextCursor,
  Nullable,
  NullableTimestamp,
  Timestamp,
  plainTextPattern,
} from './common.ts';
import { defineOperation } from './operation.ts';

/** `server.*`, `backup.completed`, `*`: a type, a family, or everything. */
export const eventFilterPattern = '^(\\*|[a-z][a-z0-9_]*\\.(\\*|[a-z][a-z0-9_]*))$';
export const maxEventFilters = 50;

export const WebhookUrl = Type.String({
  minLength: 8,
  maxLength: 2000,
  pattern: '^https?://[^\\s]+$',
  description: 'https URL (http and private addresses only where the operator allows them)',
});

export const EventFilters = Type.Array(Type.String({ pattern: eventFilterPattern, maxLength: 100 }), {
  minItems: 1,
  maxItems: maxEventFilters,
  description: 'event types to deliver: `server.*`, `backup.succeeded`, `*` (default: every type)',
});

export const Webhook = Type.Object({
  id: Type.String({ description: 'whk_…' }),
  project_id: Type.String(),
  url: Type.String(),
  description: Type.String(),
  events: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  /** Why the endpoint is disabled: `failing` (days of failed deliveries) or `manual`. */
  disabled_reason: Nullable(Type.String()),
  /** Since when every delivery fails (null while deliveries succeed). */
  failing_since: NullableTimestamp,
  /** Until when the previous secret still signs too (after a rotation). */
  previous_secret_expires_at: NullableTimestamp,
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Webhook = Static<typeof Webhook>;

const Description = Type.String({ maxLength: 500, pattern: plainTextPattern });

export const CreateWebhookBody = Type.Object(
  {
    url: WebhookUrl,
    events: Type.Optional(EventFilters),
    description: Type.Optional(Description),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CreateWebhookBody = Static<typeof CreateWebhookBody>;

export const UpdateWebhookBody = Type.Object(
  {
    url: Type.Optional(WebhookUrl),
    events: Type.Optional(EventFilters),
    description: Type.Optional(Description),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type UpdateWebhookBody = Static<typeof UpdateWebhookBody>;

/** The signing secret, shown once: at creation and at each rotation. */
export const WebhookWithSecret = Type.Object({
  webhook: Webhook,
  secret: Type.String({ description: 'whsec_… (base64 key): shown once, keep it' }),
});
export type WebhookWithSecret = Static<typeof WebhookWithSecret>;

export const WebhookEnvelope = Type.Object({ webhook: Webhook });
export type WebhookEnvelope = Static<typeof WebhookEnvelope>;

export const WebhookList = Type.Object({ webhooks: Type.Array(Webhook), next_cursor: NextCursor });
export type WebhookList = Static<typeof WebhookList>;

export const RotateWebhookSecretBody = Type.Object(
  {
    overlap_seconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 7 * 86_400,
        description: 'how long the old secret keeps signing too (default 86400)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type RotateWebhookSecretBody = Static<typeof RotateWebhookSecretBody>;

export const deliveryStatuses = ['pending', 'succeeded', 'failed'] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

export const DeliveryAttempt = Type.Object({
  attempt: Type.Integer(),
  at: Timestamp,
  status_code: Nullable(Type.Integer()),
  latency_ms: Type.Integer(),
  /** The first bytes of the answer (at most 512), or what went wrong before an answer. */
  response: Type.String(),
  error: Nullable(Type.String()),
});
export type DeliveryAttempt = Static<typeof DeliveryAttempt>;

export const WebhookDelivery = Type.Object({
  id: Type.String({ description: 'msg_…: the webhook-id header, the same for every attempt' }),
  webhook_id: Type.String(),
  event_id: Nullable(Type.String({ description: 'evt_… (null for test deliveries)' })),
  event_type: Type.String(),
  resource: Type.Object({ type: Type.String(), id: Type.String() }),
  status: Literals(deliveryStatuses),
  attempts: Type.Integer(),
  next_attempt_at: NullableTimestamp,
  last_status_code: Nullable(Type.Integer()),
  last_error: Nullable(Type.String()),
  created_at: Timestamp,
  delivered_at: NullableTimestamp,
  attempt_log: Type.Array(DeliveryAttempt, { description: 'the attempts of the last 30 days, oldest first' }),
});
export type WebhookDelivery = Static<typeof WebhookDelivery>;

export const ListDeliveriesQuery = Type.Object(
  {
    status: Type.Optional(Literals(deliveryStatuses)),
    limit: Type.Optional(LimitQuery),
    cursor: Type.Optional(CursorQuery),
  },
  { additionalProperties: false },
);
export type ListDeliveriesQuery = Static<typeof ListDeliveriesQuery>;

export const DeliveryList = Type.Object({ deliveries: Type.Array(WebhookDelivery), next_cursor: NextCursor });
export type DeliveryList = Static<typeof DeliveryList>;

export const DeliveryEnvelope = Type.Object({ delivery: WebhookDelivery });
export type DeliveryEnvelope = Static<typeof DeliveryEnvelope>;

export const ReplayWebhookBody = Type.Object(
  {
    since: Type.String({ format: 'date-time', description: 'resend the matching events recorded since then' }),
    until: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);
export type ReplayWebhookBody = Static<typeof ReplayWebhookBody>;

export const ReplayResult = Type.Object({
  queued: Type.Integer({ description: 'new deliveries queued (each with a new webhook-id)' }),
  truncated: Type.Boolean({ description: 'true when more than 10 000 events matched: replay again from later' }),
});
export type ReplayResult = Static<typeof ReplayResult>;

export const WebhookParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
export const DeliveryParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 100 }),
  delivery_id: Type.String({ minLength: 1, maxLength: 100 }),
});

const tags = ['webhooks'];
const resource = 'webhook';

export const createWebhook = defineOperation({
  operationId: 'createWebhook',
  method: 'POST',
  path: '/v1/webhooks',
  tags,
  summary: 'Register a webhook endpoint',
  description: 'Answers the signing secret (`whsec_…`) once. Deliveries follow the Standard Webhooks specification.',
  auth: 'project',
  body: CreateWebhookBody,
  status: 201,
  response: WebhookWithSecret,
  resource,
});

export const listWebhooks = defineOperation({
  operationId: 'listWebhooks',
  method: 'GET',
  path: '/v1/webhooks',
  tags,
  summary: 'List webhook endpoints',
  auth: 'project',
  query: Type.Object(
    { limit: Type.Optional(LimitQuery), cursor: Type.Optional(CursorQuery) },
    { additionalProperties: false },
  ),
  status: 200,
  response: WebhookList,
});

export const getWebhook = defineOperation({
  operationId: 'getWebhook',
  method: 'GET',
  path: '/v1/webhooks/:id',
  tags,
  summary: 'Show a webhook endpoint',
  auth: 'project',
  params: WebhookParams,
  status: 200,
  response: WebhookEnvelope,
});

export const updateWebhook = defineOperation({
  operationId: 'updateWebhook',
  method: 'PATCH',
  path: '/v1/webhooks/:id',
  tags,
  summary: 'Change a webhook endpoint (URL, event filters, description, enabled)',
  description: 'Enabling an endpoint disabled for failures clears its failure record; its pending deliveries resume.',
  auth: 'project',
  params: WebhookParams,
  body: UpdateWebhookBody,
  status: 200,
  response: WebhookEnvelope,
  resource,
});

export const deleteWebhook = defineOperation({
  operationId: 'deleteWebhook',
  method: 'DELETE',
  path: '/v1/webhooks/:id',
  tags,
  summary: 'Delete a webhook endpoint (its pending deliveries are dropped)',
  auth: 'project',
  params: WebhookParams,
  status: 204,
  resource,
});

export const rotateWebhookSecret = defineOperation({
  operationId: 'rotateWebhookSecret',
  method: 'POST',
  path: '/v1/webhooks/:id/actions/rotate-secret',
  tags,
  summary: 'Rotate the signing secret',
  description:
    'Answers the new secret once. During the overlap both secrets sign (two `v1,` signatures in `webhook-signature`).',
  auth: 'project',
  params: WebhookParams,
  body: RotateWebhookSecretBody,
  status: 200,
  response: WebhookWithSecret,
  resource,
});

export const listWebhookDeliveries = defineOperation({
  operationId: 'listWebhookDeliveries',
  method: 'GET',
  path: '/v1/webhooks/:id/deliveries',
  tags,
  summary: 'Deliveries of an endpoint, newest first, with their attempts',
  auth: 'project',
  params: WebhookParams,
  query: ListDeliveriesQuery,
  status: 200,
  response: DeliveryList,
});

export const retryWebhookDelivery = defineOperation({
  operationId: 'retryWebhookDelivery',
  method: 'POST',
  path: '/v1/webhooks/:id/deliveries/:delivery_id/retry',
  tags,
  summary: 'Send a delivery again now (same webhook-id)',
  auth: 'project',
  params: DeliveryParams,
  status: 202,
  response: DeliveryEnvelope,
  resource,
});

export const replayWebhook = defineOperation({
  operationId: 'replayWebhook',
  method: 'POST',
  path: '/v1/webhooks/:id/replay',
  tags,
  summary: 'Resend the matching events of a time range (at most 30 days back)',
  auth: 'project',
  params: WebhookParams,
  body: ReplayWebhookBody,
  status: 202,
  response: ReplayResult,
  resource,
});

export const testWebhook = defineOperation({
  operationId: 'testWebhook',
  method: 'POST',
  path: '/v1/webhooks/:id/test',
  tags,
  summary: 'Send a `webhook.test` delivery to the endpoint',
  auth: 'project',
  params: WebhookParams,
  status: 202,
  response: DeliveryEnvelope,
  resource,
});

export const webhookOperations = {
  createWebhook,
  listWebhooks,
  getWebhook,
  updateWebhook,
  deleteWebhook,
  rotateWebhookSecret,
  listWebhookDeliveries,
  retryWebhookDelivery,
  replayWebhook,
  testWebhook,
};
