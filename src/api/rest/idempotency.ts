import { createHash } from 'node:crypto';
import type { Db } from '../../db/index.ts';
import { isUniqueViolation } from '../../db/index.ts';
import { VmcError, type Clock } from '../../core/index.ts';

/**
 * Idempotency-Key on POST (IETF draft semantics, Stripe behaviour): the first request with a key runs and
 * its response is kept 24 h; a retry gets the same response; the same key with another body is refused
 * (422); a retry while the first still runs gets 409.
 */
export const idempotencyTtlMs = 24 * 3600 * 1000;
const keyPattern = /^[A-Za-z0-9_\-:.]{1,255}$/;

export type IdempotencyClaim = { kind: 'new' } | { kind: 'replay'; statusCode: number; body: string };

export function parseIdempotencyKey(header: string | string[] | undefined): string | null {
  if (header === undefined) return null;
  const raw = Array.isArray(header) ? header[0] : header;
  const key = raw.trim().replace(/^"(.*)"$/, '$1');
  if (!keyPattern.test(key)) {
    throw new VmcError('invalid', 'Idempotency-Key must be 1 to 255 characters of letters, digits, _ - : .', { reason: 'idempotency_key_invalid', fields: [{ field: 'Idempotency-Key', message: 'invalid format' }] });
  }
  return key;
}

export function requestFingerprint(method: string, path: string, body: unknown): string {
  return createHash('sha256').update(`${method} ${path}\n${JSON.stringify(body ?? null)}`).digest('hex');
}

export function createIdempotencyStore(deps: { db: Db; clock: Clock }) {
  const { db, clock } = deps;
  return {
    async claim(input: { scope: string; key: string; method: string; path: string; fingerprint: string }): Promise<IdempotencyClaim> {
      const expiredBefore = new Date(clock.nowMs() - idempotencyTtlMs).toISOString();
      await db.deleteFrom('idempotency_keys').where('scope', '=', input.scope).where('key', '=', input.key).where('created_at', '<', expiredBefore).execute();
      try {
        await db.insertInto('idempotency_keys').values({ ...input, status_code: null, response_json: null, created_at: clock.nowIso() }).execute();
        return { kind: 'new' };
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
      }
      const row = await db.selectFrom('idempotency_keys').selectAll().where('scope', '=', input.scope).where('key', '=', input.key).executeTakeFirstOrThrow();
      if (row.fingerprint !== input.fingerprint) {
        throw new VmcError('invalid', `Idempotency-Key ${input.key} was used with another request (${row.method} ${row.path}); use a new key for a new request`, { reason: 'idempotency_key_reused' });
      }
      if (row.status_code === null || row.response_json === null) {
        throw new VmcError('conflict', `a request with Idempotency-Key ${input.key} is still in progress; retry later`, { reason: 'idempotency_key_in_use' });
      }
      return { kind: 'replay', statusCode: row.status_code, body: row.response_json };
    },

    async complete(scope: string, key: string, statusCode: number, body: string): Promise<void> {
      await db.updateTable('idempotency_keys').set({ status_code: statusCode, response_json: body }).where('scope', '=', scope).where('key', '=', key).execute();
    },

    /** Forgets a key whose request failed on our side (5xx), so that a retry runs again. */
    async release(scope: string, key: string): Promise<void> {
      await db.deleteFrom('idempotency_keys').where('scope', '=', scope).where('key', '=', key).where('status_code', 'is', null).execute();
    },

    async purgeExpired(): Promise<number> {
      const result = await db.deleteFrom('idempotency_keys').where('created_at', '<', new Date(clock.nowMs() - idempotencyTtlMs).toISOString()).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export type IdempotencyStore = ReturnType<typeof createIdempotencyStore>;
