/**
 * Idempotency-Key on POST (IETF draft semantics, Stripe behaviour): a request with a key runs once; its
 * outcome is written in the same transaction as its mutation, so a crash can never leave a key without
 * its outcome nor an outcome without its change. A retry with the same key and body gets the first answer
 * (kept 24 h); the same key with another body is refused (422); a concurrent duplicate waits for the first
 * and then gets its answer. Requests refused before changing anything keep no outcome (Stripe does the same).
 */
import { createHash } from 'node:crypto';
import type { Db, Tx, TxHooks, TransactionParticipant } from '../db/index.ts';
import { VmcError, type Clock } from '../core/index.ts';
import { createIdempotencyStore, type IdempotencyRecord } from './store.ts';

export const idempotencyTtlMs = 24 * 3600 * 1000;
const keyPattern = /^[A-Za-z0-9_\-:.]{1,255}$/;

export interface IdempotentRequest {
  scope: string;
  key: string;
  method: string;
  path: string;
  fingerprint: string;
}

export type IdempotencyLookup = { kind: 'new' } | { kind: 'replay'; statusCode: number; body: string };

/** Thrown inside a transaction when a concurrent duplicate committed first: the edge answers its outcome. */
export class IdempotentReplay extends Error {
  readonly request: IdempotentRequest;
  constructor(request: IdempotentRequest) {
    super(`request with Idempotency-Key ${request.key} already completed`);
    this.request = request;
  }
}

export function parseIdempotencyKey(header: string | string[] | undefined): string | null {
  if (header === undefined) return null;
  const raw = Array.isArray(header) ? header[0] : header;
  const key = raw.trim().replace(/^"(.*)"$/, '$1');
  if (!keyPattern.test(key)) {
    throw new VmcError('invalid', 'Idempotency-Key must be 1 to 255 characters of letters, digits, _ - : .', {
      reason: 'idempotency_key_invalid',
      fields: [{ field: 'Idempotency-Key', message: 'invalid format' }],
    });
  }
  return key;
}

export function requestFingerprint(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path}\n${JSON.stringify(body ?? null)}`)
    .digest('hex');
}

export function createIdempotencyService(deps: { db: Db; clock: Clock }) {
  const store = createIdempotencyStore(deps.db);
  const { clock } = deps;
  const expiredBefore = () => new Date(clock.nowMs() - idempotencyTtlMs).toISOString();

  const record = (request: IdempotentRequest, statusCode: number, body: string): IdempotencyRecord => ({
    ...request,
    statusCode,
    responseJson: body,
    createdAt: clock.nowIso(),
  });

  return {
    /** Before running a request: a replay of its first outcome, 422 for another body, or new. */
    async lookup(request: IdempotentRequest): Promise<IdempotencyLookup> {
      const found = await store.find(request.scope, request.key, expiredBefore());
      if (!found) return { kind: 'new' };
      if (found.fingerprint !== request.fingerprint) {
        throw new VmcError(
          'invalid',
          `Idempotency-Key ${request.key} was used with another request (${found.method} ${found.path}); use a new key for a new request`,
          { reason: 'idempotency_key_reused' },
        );
      }
      return { kind: 'replay', statusCode: found.statusCode, body: found.responseJson };
    },

    /**
     * A participant of the request's transactions: writes the outcome (`render` of the transaction's
     * result, or nothing when it is not the answer) before each commit; the last transaction wins.
     */
    participant(
      request: IdempotentRequest,
      render: (result: unknown) => { statusCode: number; body: string } | null,
    ): TransactionParticipant & { recorded(): boolean } {
      let state: 'none' | 'pending' | 'committed' = 'none';
      return {
        recorded: () => state === 'committed',
        async beforeCommit(tx: Tx, hooks: TxHooks, result: unknown) {
          const outcome = render(result);
          if (!outcome) return;
          const row = record(request, outcome.statusCode, outcome.body);
          if (state === 'committed') {
            await store.replace(tx, row);
            return;
          }
          if (!(await store.insert(tx, row, expiredBefore()))) throw new IdempotentReplay(request);
          state = 'pending';
          hooks.afterCommit(() => (state = 'committed'));
          hooks.afterRollback(() => (state = 'none'));
        },
      };
    },

    /** The outcome of a request that changed nothing in a transaction of its own (kept all the same). */
    async recordAlone(request: IdempotentRequest, statusCode: number, body: string): Promise<void> {
      await store.insert(deps.db, record(request, statusCode, body), expiredBefore());
    },

    async purgeExpired(): Promise<number> {
      return store.purge(expiredBefore());
    },
  };
}

export type IdempotencyService = ReturnType<typeof createIdempotencyService>;
