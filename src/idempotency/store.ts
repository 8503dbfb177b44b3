/** The only code that names the `idempotency_keys` table. */
import type { Db, Tx } from '../db/index.ts';

export interface IdempotencyRecord {
  scope: string;
  key: string;
  method: string;
  path: string;
  fingerprint: string;
  statusCode: number;
  responseJson: string;
  createdAt: string;
}

export function createIdempotencyStore(db: Db) {
  return {
    /** The outcome recorded for a key, unless it is older than `createdAfter` (expired: as if absent). */
    async find(scope: string, key: string, createdAfter?: string): Promise<IdempotencyRecord | null> {
      const row = await db
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('scope', '=', scope)
        .where('key', '=', key)
        .executeTakeFirst();
      if (!row || row.status_code === null || row.response_json === null) return null;
      if (createdAfter !== undefined && row.created_at < createdAfter) return null;
      return {
        scope: row.scope,
        key: row.key,
        method: row.method,
        path: row.path,
        fingerprint: row.fingerprint,
        statusCode: row.status_code,
        responseJson: row.response_json,
        createdAt: row.created_at,
      };
    },

    /**
     * Inserts the outcome (replacing an expired one); false when the key already has a live one (a
     * concurrent duplicate committed first).
     */
    async insert(q: Tx | Db, record: IdempotencyRecord, expiredBefore: string): Promise<boolean> {
      const result = await q
        .insertInto('idempotency_keys')
        .values({
          scope: record.scope,
          key: record.key,
          method: record.method,
          path: record.path,
          fingerprint: record.fingerprint,
          status_code: record.statusCode,
          response_json: record.responseJson,
          created_at: record.createdAt,
        })
        .onConflict((oc) =>
          oc
            .columns(['scope', 'key'])
            .doUpdateSet({
              method: record.method,
              path: record.path,
              fingerprint: record.fingerprint,
              status_code: record.statusCode,
              response_json: record.responseJson,
              created_at: record.createdAt,
            })
            .where('idempotency_keys.created_at', '<', expiredBefore),
        )
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    /** Replaces the outcome recorded earlier in the same request (a later transaction of it). */
    async replace(q: Tx | Db, record: IdempotencyRecord): Promise<void> {
      await q
        .updateTable('idempotency_keys')
        .set({ status_code: record.statusCode, response_json: record.responseJson })
        .where('scope', '=', record.scope)
        .where('key', '=', record.key)
        .execute();
    },

    async purge(createdBefore: string): Promise<number> {
      const result = await db.deleteFrom('idempotency_keys').where('created_at', '<', createdBefore).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export type IdempotencyStore = ReturnType<typeof createIdempotencyStore>;
