import type { Kysely } from 'kysely';
import { createLeases, type Db, type DialectName, type Leases, type Tx } from '../db/index.ts';
import { VmcError, type Clock, type EventBus, type Logger } from '../core/index.ts';
import type { Event } from '../contract/events.ts';
import { encodeStreamCursor, parseStreamCursor, streamStart } from './ordered-read.ts';
import { readEvents } from './query.ts';
import { consumerCursor, saveConsumerCursor } from './store.ts';

/**
 * A named reader of the event stream (the outbox) with its own cursor: webhooks, metering, the status page
 * and the console each run one.
 *
 * Contract:
 * - `handle(events, tx)` gets the next batch, in stream order, inside a transaction that also advances the
 *   consumer's cursor. What the handler writes with `tx` commits with the cursor: database effects happen
 *   exactly once. Anything else it does (an HTTP call) happens at least once: a crash between the effect
 *   and the commit delivers the batch again. Handlers are idempotent per event id and short (a transaction
 *   held open delays every reader of the stream on PostgreSQL); slow deliveries go to their own table.
 * - A handler that throws rolls the batch back; it is retried with capped exponential backoff, the cursor
 *   does not move, and no error leaves the consumer (it logs and goes on).
 * - One replica at a time runs a given consumer: each batch runs under the fenced lease
 *   `event-consumer:<name>` (src/db/lease.ts); a replica that lost the lease cannot advance the cursor.
 * - New events wake the consumer at once when they were recorded in this process (the bus); otherwise it
 *   polls every `pollIntervalMs`.
 * - A consumer new by name starts at the beginning of the stream.
 */
export interface EventConsumerOptions {
  db: Db;
  dialect: DialectName;
  name: string;
  handle: (events: Event[], tx: Tx) => Promise<void>;
  /** Events per batch (default 100). */
  batchSize?: number;
  /** Wait between polls when the stream is drained or another replica holds the lease (default 1000). */
  pollIntervalMs?: number;
  /** First retry delay after a failed batch, doubled at each failure (default 500). */
  retryBaseMs?: number;
  /** Cap of the retry delay (default 60 000). */
  retryMaxMs?: number;
  /** How long the lease lasts without renewal; renewed before a batch once a third of it has passed (default 30 000). */
  leaseTtlMs?: number;
  /**
   * After a batch, the consumer waits at least this long before the next one even when new events wake
   * it, so that a burst of events (a create path at hundreds a second) is handled in a few batches rather
   * than one transaction per event (default 25).
   */
  batchWindowMs?: number;
  bus?: EventBus;
  log: Logger;
  clock: Clock;
  /** This replica's id for the lease (or pass `leases` built with it). */
  holder: string;
  leases?: Leases;
}

export interface EventConsumer {
  readonly name: string;
  /** Starts the loop (idempotent). */
  start(): void;
  /** Stops after the batch in progress and gives up the lease. */
  stop(): Promise<void>;
  /**
   * One step: takes or renews the lease and handles one batch. Returns the number of events handled,
   * or null when another replica holds the lease. Throws what the handler threw (nothing advanced).
   */
  runOnce(): Promise<number | null>;
}

export const consumerLeaseName = (name: string) => `event-consumer:${name}`;

/** Retry delay after `failures` consecutive failures: base · 2^(failures−1), capped. */
export function retryDelayMs(failures: number, baseMs: number, maxMs: number): number {
  if (failures <= 0) return 0;
  return Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 30));
}

export function createEventConsumer(options: EventConsumerOptions): EventConsumer {
  const batchSize = options.batchSize ?? 100;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const retryBaseMs = options.retryBaseMs ?? 500;
  const retryMaxMs = options.retryMaxMs ?? 60_000;
  const leaseTtlMs = options.leaseTtlMs ?? 30_000;
  const batchWindowMs = options.batchWindowMs ?? 25;
  const leaseName = consumerLeaseName(options.name);
  const leases = options.leases ?? createLeases({ db: options.db, dialect: options.dialect, holder: options.holder });
  const log = options.log.child({ consumer: options.name });

  let loop: Promise<void> | null = null;
  let stopped = false;
  let wake: (() => void) | null = null;
  let unsubscribe: (() => void) | null = null;

  /** When this replica last took or renewed the lease (the fenced batch checks it still holds it anyway). */
  let leaseRenewedAtMs: number | null = null;

  async function runOnce(): Promise<number | null> {
    // Real time, like the lease's expiry (the database's clock), not the injected clock.
    const nowMs = performance.now();
    if (leaseRenewedAtMs === null || nowMs - leaseRenewedAtMs >= leaseTtlMs / 3) {
      leaseRenewedAtMs = null;
      if (!(await leases.acquire(leaseName, leaseTtlMs))) return null;
      leaseRenewedAtMs = nowMs;
    }
    return leases
      .withLease(leaseName, async (tx) => {
        const stored = await consumerCursor(tx, options.name);
        const after = stored ? parseStreamCursor(stored) : streamStart;
        const page = await readEvents(tx as unknown as Kysely<unknown>, options.dialect, { after, limit: batchSize });
        if (page.events.length === 0) return 0;
        await options.handle(page.events, tx);
        await saveConsumerCursor(tx, options.name, encodeStreamCursor(page.last), options.clock.nowIso());
        return page.events.length;
      })
      .catch((error: unknown) => {
        leaseRenewedAtMs = null;
        // Taken over by another replica since this one last renewed: not this replica's turn.
        if (error instanceof VmcError && error.reason === 'lease_lost') return null;
        throw error;
      });
  }

  let interrupt: (() => void) | null = null;

  /** Waits `ms`; a stop ends the wait, and so does a new event when `wakeable`. */
  function pause(ms: number, wakeable: boolean): Promise<void> {
    if (stopped || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        interrupt = null;
        wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      interrupt = done;
      wake = wakeable ? done : null;
    });
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (!stopped) {
      let waitMs = pollIntervalMs;
      let wakeable = true;
      try {
        const handled = await runOnce();
        if (failures > 0) log.info({ failures }, 'event consumer recovered');
        failures = 0;
        if (handled === batchSize) waitMs = 0;
        else if (handled !== null && handled > 0) {
          // Let a burst gather: the next batch no sooner than the window, then wait for events as usual.
          await pause(batchWindowMs, false);
          waitMs = pollIntervalMs;
        }
      } catch (error) {
        // A lost lease (or any failure) makes the next pass take the lease again before a batch.
        leaseRenewedAtMs = null;
        failures++;
        waitMs = retryDelayMs(failures, retryBaseMs, retryMaxMs);
        wakeable = false;
        log.error({ err: String(error), failures, retry_in_ms: waitMs }, 'event consumer batch failed; will retry');
      }
      await pause(waitMs, wakeable);
    }
  }

  return {
    name: options.name,
    start() {
      if (loop) return;
      stopped = false;
      unsubscribe = options.bus?.subscribe(() => wake?.()) ?? null;
      loop = run().catch((error) => log.error({ err: String(error) }, 'event consumer loop ended'));
    },
    async stop() {
      stopped = true;
      unsubscribe?.();
      unsubscribe = null;
      interrupt?.();
      await loop;
      loop = null;
      await leases.release(leaseName).catch(() => {});
    },
    runOnce,
  };
}
