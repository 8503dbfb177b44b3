import type { Route } from '../route.ts';
import type { WebhookService } from '../../../webhooks/index.ts';
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listWebhookDeliveries,
  listWebhooks,
  replayWebhook,
  retryWebhookDelivery,
  rotateWebhookSecret,
  testWebhook,
  updateWebhook,
} from '../../../contract/index.ts';

export function registerWebhookRoutes(route: Route, deps: { webhooks: WebhookService }) {
  const { webhooks } = deps;
  route(createWebhook, ({ principal, body }) => webhooks.create(principal, body));
  route(listWebhooks, ({ principal, query }) => webhooks.list(principal, query));
  route(getWebhook, ({ principal, params }) => webhooks.get(principal, params.id));
  route(updateWebhook, ({ principal, params, body }) => webhooks.update(principal, params.id, body));
  route(deleteWebhook, ({ principal, params }) => webhooks.delete(principal, params.id));
  route(rotateWebhookSecret, ({ principal, params, body }) => webhooks.rotateSecret(principal, params.id, body));
  route(listWebhookDeliveries, ({ principal, params, query }) => webhooks.deliveries(principal, params.id, query));
  route(retryWebhookDelivery, ({ principal, params }) => webhooks.retry(principal, params.id, params.delivery_id));
  route(replayWebhook, ({ principal, params, body }) => webhooks.replay(principal, params.id, body));
  route(testWebhook, ({ principal, params }) => webhooks.test(principal, params.id));
}
