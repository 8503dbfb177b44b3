/**
 * Webhook endpoints of a project: registration (the signing secret sealed in the key store and shown
 * once), changes, rotation with an overlap, deliveries and their attempts, manual retry, replay of a time
 * range, and test deliveries. Delivery itself is the worker's (src/webhooks/worker.ts).
 */
import { inTransaction, type Db } from '../db/index.ts';
import { invalid, newId, notFound, VmcError, type Clock } from '../core/index.ts';
import type { EventRecorder } from '../events/index.ts';
import { requireProject, type Principal } from '../identity/index.ts';
import type { KeyStore } from '../keystore/index.ts';
import type {
  CreateWebhookBody,
  DeliveryList,
  Event,
  ListDeliveriesQuery,
  ReplayResult,
  UpdateWebhookBody,
  Webhook,
  WebhookDelivery,
  WebhookList,
  WebhookWithSecret,
} from '../contract/index.ts';
import { matchesFilters, normalizeFilters } from './filters.ts';
import { newSigningSecret } from './signing.ts';
import { urlProblem } from './safe-fetch.ts';
import { deliveryRow } from './fan-out.ts';
import { retentionMs } from './retry.ts';
import * as store from './store.ts';
import { deliveryView, webhookView } from './views.ts';

export const secretPurpose = 'webhook.signing-secret';
export const maxEndpointsPerProject = 20;
export const maxReplayEvents = 10_000;
const defaultOverlapS = 86_400;

export interface WebhookServiceDeps {
  db: Db;
  clock: Clock;
  events: EventRecorder;
  keyStore: KeyStore;
  /** `serve --webhook-allow-private`: http and private addresses allowed (tests, one-machine setups). */
  allowPrivate: boolean;
  /** A page of a project's events recorded in [sinceAt, untilAt), in stream order, after `after` (a cursor). */
  eventsPage(filter: {
    projectId: string;
    sinceAt: string;
    untilAt?: string;
    after: string | null;
    limit: number;
  }): Promise<{ events: Event[]; last: string }>;
  /** Called after a commit that queued deliveries (wakes this replica's worker). */
  onQueued?: () => void;
}

export type WebhookService = ReturnType<typeof createWebhookService>;

export function createWebhookService(deps: WebhookServiceDeps) {
  const { db, clock } = deps;

  function checkUrl(url: string) {
    const problem = urlProblem(url, deps.allowPrivate);
    if (problem)
      throw invalid(`url: ${problem}`, { reason: 'webhook_url_refused', fields: [{ field: 'url', message: problem }] });
  }

  async function endpointOf(principal: Principal, id: string, role: 'viewer' | 'member') {
    const { projectId } = requireProject(principal, role);
    const endpoint = await store.findEndpoint(db, projectId, id);
    if (!endpoint) throw notFound('webhook', id);
    return endpoint;
  }

  const subject = (projectId: string, id: string) => ({ projectId, resourceType: 'webhook', resourceId: id });

  return {
    async create(principal: Principal, body: CreateWebhookBody): Promise<WebhookWithSecret> {
      const { projectId } = requireProject(principal, 'member');
      checkUrl(body.url);
      const secret = newSigningSecret();
      const now = clock.nowIso();
      const id = newId('webhook', clock.nowMs());
      const endpoint = await inTransaction(db, async (tx, hooks) => {
        if ((await store.countEndpoints(tx, projectId)) >= maxEndpointsPerProject)
          throw new VmcError('conflict', `a project has at most ${maxEndpointsPerProject} webhook endpoints`, {
            reason: 'webhook_limit',
          });
        const secretId = await deps.keyStore.seal(secretPurpose, Buffer.from(secret), tx);
        const record: store.EndpointRecord = {
          id,
          projectId,
          url: body.url,
          description: body.description ?? '',
          events: normalizeFilters(body.events),
          enabled: body.enabled ?? true,
          disabledReason: body.enabled === false ? 'manual' : null,
          secretId,
          previousSecretId: null,
          previousSecretExpiresAt: null,
          failingSince: null,
          createdAt: now,
          updatedAt: now,
        };
        await store.insertEndpoint(tx, record);
        await deps.events.record(tx, hooks, {
          type: 'webhook.created',
          ...subject(projectId, id),
          data: { url: body.url },
        });
        return record;
      });
      return { webhook: webhookView(endpoint), secret };
    },

    async list(principal: Principal, query: { limit?: string; cursor?: string }): Promise<WebhookList> {
      const { projectId } = requireProject(principal, 'viewer');
      const limit = Math.min(Number(query.limit ?? 50) || 50, 100);
      const rows = await store.listEndpoints(db, projectId, query.cursor ?? null, limit + 1);
      const page = rows.slice(0, limit);
      return { webhooks: page.map(webhookView), next_cursor: rows.length > limit ? page[page.length - 1].id : null };
    },

    async get(principal: Principal, id: string): Promise<{ webhook: Webhook }> {
      return { webhook: webhookView(await endpointOf(principal, id, 'viewer')) };
    },

    async update(principal: Principal, id: string, body: UpdateWebhookBody): Promise<{ webhook: Webhook }> {
      const endpoint = await endpointOf(principal, id, 'member');
      if (body.url !== undefined) checkUrl(body.url);
      const updated = await inTransaction(db, async (tx, hooks) => {
        const change: store.EndpointChange = { updatedAt: clock.nowIso() };
        if (body.url !== undefined) change.url = body.url;
        if (body.description !== undefined) change.description = body.description;
        if (body.events !== undefined) change.events = normalizeFilters(body.events);
        if (body.enabled !== undefined && body.enabled !== endpoint.enabled) {
          change.enabled = body.enabled;
          change.disabledReason = body.enabled ? null : 'manual';
          if (body.enabled) change.failingSince = null;
        }
        await store.updateEndpoint(tx, id, change);
        const after = (await store.findEndpoint(tx, endpoint.projectId, id))!;
        await deps.events.record(tx, hooks, {
          type: 'webhook.updated',
          ...subject(endpoint.projectId, id),
          data: { url: after.url, enabled: after.enabled },
        });
        hooks.afterCommit(() => deps.onQueued?.());
        return after;
      });
      return { webhook: webhookView(updated) };
    },

    async delete(principal: Principal, id: string): Promise<void> {
      const endpoint = await endpointOf(principal, id, 'member');
      await inTransaction(db, async (tx, hooks) => {
        await store.deleteEndpoint(tx, id);
        await deps.keyStore.remove(endpoint.secretId, tx);
        if (endpoint.previousSecretId) await deps.keyStore.remove(endpoint.previousSecretId, tx);
        await deps.events.record(tx, hooks, {
          type: 'webhook.deleted',
          ...subject(endpoint.projectId, id),
          data: { url: endpoint.url },
        });
      });
    },

    async rotateSecret(
      principal: Principal,
      id: string,
      body: { overlap_seconds?: number },
    ): Promise<WebhookWithSecret> {
      const endpoint = await endpointOf(principal, id, 'member');
      const overlapS = body.overlap_seconds ?? defaultOverlapS;
      const secret = newSigningSecret();
      const updated = await inTransaction(db, async (tx, hooks) => {
        const secretId = await deps.keyStore.seal(secretPurpose, Buffer.from(secret), tx);
        // The secret before this one stops signing now; the one being replaced signs during the overlap.
        if (endpoint.previousSecretId) await deps.keyStore.remove(endpoint.previousSecretId, tx);
        const expiresAt = overlapS > 0 ? new Date(clock.nowMs() + overlapS * 1000).toISOString() : null;
        if (overlapS === 0) await deps.keyStore.remove(endpoint.secretId, tx);
        await store.updateEndpoint(tx, id, {
          secretId,
          previousSecretId: overlapS > 0 ? endpoint.secretId : null,
          previousSecretExpiresAt: expiresAt,
          updatedAt: clock.nowIso(),
        });
        await deps.events.record(tx, hooks, {
          type: 'webhook.secret_rotated',
          ...subject(endpoint.projectId, id),
          data: { previous_secret_expires_at: expiresAt },
        });
        return (await store.findEndpoint(tx, endpoint.projectId, id))!;
      });
      return { webhook: webhookView(updated), secret };
    },

    async deliveries(principal: Principal, id: string, query: ListDeliveriesQuery): Promise<DeliveryList> {
      const endpoint = await endpointOf(principal, id, 'viewer');
      const limit = Math.min(Number(query.limit ?? 50) || 50, 100);
      let beforeSeq: number | null = null;
      if (query.cursor !== undefined) {
        if (!/^[0-9]{1,15}$/.test(query.cursor))
          throw invalid('cursor must be the next_cursor of a previous page', {
            fields: [{ field: 'cursor', message: 'bad cursor' }],
          });
        beforeSeq = Number(query.cursor);
      }
      const rows = await store.listDeliveries(db, endpoint.id, { status: query.status, beforeSeq, limit: limit + 1 });
      const page = rows.slice(0, limit);
      const attempts = await store.attemptsOf(
        db,
        page.map((d) => d.id),
      );
      return {
        deliveries: page.map((d) =>
          deliveryView(
            d,
            attempts.filter((a) => a.delivery_id === d.id),
          ),
        ),
        next_cursor: rows.length > limit ? String(page[page.length - 1].seq) : null,
      };
    },

    async retry(principal: Principal, id: string, deliveryId: string): Promise<{ delivery: WebhookDelivery }> {
      const endpoint = await endpointOf(principal, id, 'member');
      const delivery = await store.findDelivery(db, endpoint.id, deliveryId);
      if (!delivery) throw notFound('delivery', deliveryId);
      await store.requeueDelivery(db, delivery.id, clock.nowMs());
      deps.onQueued?.();
      const after = (await store.findDelivery(db, endpoint.id, deliveryId))!;
      return { delivery: deliveryView(after, await store.attemptsOf(db, [after.id])) };
    },

    async replay(principal: Principal, id: string, body: { since: string; until?: string }): Promise<ReplayResult> {
      const endpoint = await endpointOf(principal, id, 'member');
      const sinceMs = Date.parse(body.since);
      const untilMs = body.until === undefined ? clock.nowMs() : Date.parse(body.until);
      if (!Number.isFinite(sinceMs) || !Number.isFinite(untilMs) || untilMs <= sinceMs)
        throw invalid('since must be before until', { fields: [{ field: 'since', message: 'must be before until' }] });
      if (sinceMs < clock.nowMs() - retentionMs)
        throw invalid('a replay reaches at most 30 days back', {
          fields: [{ field: 'since', message: 'at most 30 days ago' }],
        });
      const matching: Event[] = [];
      let after: string | null = null;
      let truncated = false;
      for (;;) {
        const page = await deps.eventsPage({
          projectId: endpoint.projectId,
          sinceAt: new Date(sinceMs).toISOString(),
          untilAt: new Date(untilMs).toISOString(),
          after,
          limit: 1000,
        });
        matching.push(...page.events.filter((e) => matchesFilters(endpoint.events, e.type)));
        after = page.last;
        if (matching.length > maxReplayEvents) {
          truncated = true;
          matching.length = maxReplayEvents;
          break;
        }
        if (page.events.length < 1000) break;
      }
      const nowMs = clock.nowMs();
      const nowIso = clock.nowIso();
      await inTransaction(db, async (tx, hooks) => {
        await store.insertDeliveries(
          tx,
          matching.map((e) =>
            deliveryRow(
              endpoint.id,
              {
                id: e.id,
                at: e.at,
                type: e.type,
                projectId: e.project_id,
                resourceType: e.resource.type,
                resourceId: e.resource.id,
                data: e.data as Record<string, unknown>,
              },
              nowMs,
              nowIso,
            ),
          ),
        );
        hooks.afterCommit(() => deps.onQueued?.());
      });
      return { queued: matching.length, truncated };
    },

    async test(principal: Principal, id: string): Promise<{ delivery: WebhookDelivery }> {
      const endpoint = await endpointOf(principal, id, 'member');
      const nowMs = clock.nowMs();
      const nowIso = clock.nowIso();
      const row = deliveryRow(
        endpoint.id,
        {
          id: newId('event', nowMs),
          at: nowIso,
          type: 'webhook.test' as never,
          projectId: endpoint.projectId,
          resourceType: 'webhook',
          resourceId: endpoint.id,
          data: { message: 'a test delivery from VMCloud' },
        },
        nowMs,
        nowIso,
        null,
      );
      await inTransaction(db, async (tx, hooks) => {
        await store.insertDeliveries(tx, [row]);
        hooks.afterCommit(() => deps.onQueued?.());
      });
      const created = (await store.findDelivery(db, endpoint.id, row.id))!;
      return { delivery: deliveryView(created, []) };
    },
  };
}
