/**
 * The delivery worker. Every replica runs one: it takes due deliveries under a lease (a row another
 * worker holds is skipped; a replica killed mid-delivery leaves rows whose lease runs out and another
 * worker — or the same one restarted — sends them again: at least once), signs and sends them through the
 * SSRF-safe sender, and writes each attempt and the delivery's next state in one transaction per batch.
 *
 * In order per resource: only the oldest pending delivery of a resource for an endpoint is taken
 * (src/webhooks/store.ts claimDue); a failing one holds back the later ones of that resource until it
 * succeeds or its retries run out (about three days, src/webhooks/retry.ts).
 *
 * Maintenance (once a minute): endpoints failing for `disableAfterMs` are disabled with a
 * `webhook.disabled` event; attempts and finished deliveries older than 30 days are deleted.
 */
import { inTransaction, type Db, type DialectName } from '../db/index.ts';
import type { Clock, EventBus, Logger } from '../core/index.ts';
import type { EventRecorder } from '../events/index.ts';
import type { KeyStore } from '../keystore/index.ts';
import { webhookHeaders, signingKeyOf } from './signing.ts';
import { defaultDisableAfterMs, defaultRetryScheduleMs, nextRetryDelayMs, retentionMs } from './retry.ts';
import type { WebhookSender } from './safe-fetch.ts';
import { secretPurpose } from './service.ts';
import * as store from './store.ts';

export interface WebhookWorkerOptions {
  db: Db;
  dialect: DialectName;
  clock: Clock;
  log: Logger;
  bus?: EventBus;
  events: EventRecorder;
  keyStore: KeyStore;
  sender: WebhookSender;
  retryScheduleMs?: readonly number[];
  disableAfterMs?: number;
  /** How long a worker holds the deliveries it took (default 30 s: above the 15 s total timeout). */
  leaseMs?: number;
  /** Deliveries per batch (default 200). */
  batchSize?: number;
  /** Batches in flight at once (default 2: one is sent while the next is taken). */
  parallelBatches?: number;
  /** Wait between polls when nothing is due (default 1000; new events of this replica wake it at once). */
  pollIntervalMs?: number;
  random?: () => number;
}

export interface WebhookWorker {
  start(): void;
  stop(): Promise<void>;
  /** One batch: returns how many deliveries were attempted. */
  runOnce(): Promise<number>;
  /** Disable long-failing endpoints, prune old attempts (tests call it directly). */
  maintain(override?: { disableAfterMs?: number }): Promise<{ disabled: number; prunedAttempts: number }>;
  /** Wake the loop (a delivery was queued in this process). */
  wake(): void;
}

export function createWebhookWorker(options: WebhookWorkerOptions): WebhookWorker {
  const { db, dialect, clock, log } = options;
  const schedule = options.retryScheduleMs ?? defaultRetryScheduleMs;
  const leaseMs = options.leaseMs ?? 30_000;
  const batchSize = options.batchSize ?? 200;
  const parallel = options.parallelBatches ?? 2;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const disableAfterMs = options.disableAfterMs ?? defaultDisableAfterMs;
  const random = options.random ?? Math.random;
  /** Opened secrets by sealed id: a secret never changes under its id (rotation seals a new one). */
  const keys = new Map<string, Buffer>();
  let leaseCounter = 0;

  async function keyOf(secretId: string): Promise<Buffer> {
    let key = keys.get(secretId);
    if (!key) {
      key = signingKeyOf((await options.keyStore.open(secretId, { purpose: secretPurpose })).toString('utf8'));
      keys.set(secretId, key);
    }
    return key;
  }

  async function keysInForce(endpoint: store.EndpointRecord, nowMs: number): Promise<Buffer[]> {
    const inForce = [await keyOf(endpoint.secretId)];
    if (
      endpoint.previousSecretId &&
      endpoint.previousSecretExpiresAt &&
      Date.parse(endpoint.previousSecretExpiresAt) > nowMs
    )
      inForce.push(await keyOf(endpoint.previousSecretId));
    return inForce;
  }

  async function runOnce(): Promise<number> {
    const nowMs = clock.nowMs();
    // The lease's end, made distinct per batch (a few ms apart): a batch writes its outcomes only while the
    // rows still carry its value, so a worker that lost them to another (its lease ran out) changes nothing.
    const leaseUntilMs = nowMs + leaseMs + (leaseCounter++ % 997);
    const claimed = await inTransaction(db, (tx) => store.claimDue(tx, dialect, nowMs, leaseUntilMs, batchSize));
    if (claimed.length === 0) return 0;
    const endpoints = new Map(
      (await store.endpointsByIds(db, [...new Set(claimed.map((d) => d.endpoint_id))])).map((e) => [e.id, e]),
    );
    const outcomes = await Promise.all(
      claimed.map(async (delivery): Promise<store.AttemptOutcome> => {
        const endpoint = endpoints.get(delivery.endpoint_id);
        const at = clock.nowIso();
        const atMs = clock.nowMs();
        let result;
        if (!endpoint) result = { statusCode: null, latencyMs: 0, response: '', error: 'endpoint deleted' };
        else {
          const timestampS = Math.floor(atMs / 1000);
          const headers = webhookHeaders(
            await keysInForce(endpoint, atMs),
            delivery.id,
            timestampS,
            delivery.payload_json,
          );
          result = await options.sender.send(endpoint.url, headers, delivery.payload_json);
        }
        const ok = result.error === null;
        const attemptsMade = delivery.attempts + 1;
        const delay = ok ? null : nextRetryDelayMs(attemptsMade, schedule, random());
        return {
          delivery,
          attempt: {
            id: `${delivery.id}.${attemptsMade}`,
            at,
            at_ms: atMs,
            status_code: result.statusCode,
            latency_ms: result.latencyMs,
            response: result.response,
            error: result.error,
          },
          next: ok
            ? { status: 'succeeded' }
            : delay === null
              ? { status: 'failed' }
              : { status: 'pending', atMs: clock.nowMs() + delay },
        };
      }),
    );
    await inTransaction(db, (tx) => store.recordOutcomes(tx, outcomes, leaseUntilMs, clock.nowIso()));
    return claimed.length;
  }

  async function maintain(override: { disableAfterMs?: number } = {}) {
    const cutoff = new Date(clock.nowMs() - (override.disableAfterMs ?? disableAfterMs)).toISOString();
    let disabled = 0;
    for (const endpoint of await store.endpointsFailingSince(db, cutoff)) {
      await inTransaction(db, async (tx, hooks) => {
        const current = await store.findEndpoint(tx, null, endpoint.id);
        if (!current || !current.enabled || !current.failingSince || current.failingSince >= cutoff) return;
        await store.updateEndpoint(tx, endpoint.id, {
          enabled: false,
          disabledReason: 'failing',
          updatedAt: clock.nowIso(),
        });
        await options.events.record(tx, hooks, {
          type: 'webhook.disabled',
          projectId: endpoint.projectId,
          resourceType: 'webhook',
          resourceId: endpoint.id,
          data: { url: endpoint.url, failing_since: current.failingSince, reason: 'failing' },
        });
        disabled++;
      });
    }
    if (disabled > 0) log.warn({ disabled }, 'webhook endpoints disabled after days of failed deliveries');
    const pruned = await store.pruneOlderThan(db, clock.nowMs() - retentionMs);
    return { disabled, prunedAttempts: pruned.attempts };
  }

  let stopped = true;
  let loops: Promise<void>[] = [];
  const waiters = new Set<() => void>();
  let unsubscribe: (() => void) | null = null;
  let maintenanceTimer: NodeJS.Timeout | null = null;

  function wake() {
    for (const waiter of waiters) waiter();
  }

  function pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiters.add(done);
    });
  }

  async function loop(index: number) {
    let failures = 0;
    // Loops start a little apart so that they take different batches.
    if (index > 0) await pause(index * 10);
    while (!stopped) {
      try {
        const handled = await runOnce();
        failures = 0;
        if (handled < batchSize) await pause(pollIntervalMs);
      } catch (error) {
        failures++;
        log.error({ err: String(error), failures }, 'webhook delivery batch failed; will retry');
        await pause(Math.min(30_000, 500 * 2 ** Math.min(failures, 6)));
      }
    }
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      unsubscribe = options.bus?.subscribe(() => wake()) ?? null;
      loops = Array.from({ length: parallel }, (_, i) => loop(i));
      maintenanceTimer = setInterval(() => {
        maintain().catch((error: unknown) => log.error({ err: String(error) }, 'webhook maintenance failed'));
      }, 60_000);
      maintenanceTimer.unref();
    },
    async stop() {
      stopped = true;
      unsubscribe?.();
      unsubscribe = null;
      if (maintenanceTimer) clearInterval(maintenanceTimer);
      wake();
      await Promise.all(loops);
      loops = [];
    },
    runOnce,
    maintain,
    wake,
  };
}
