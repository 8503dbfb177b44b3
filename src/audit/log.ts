import type { Kysely } from 'kysely';
import type { Db, DialectName, Tx } from '../db/index.ts';
import { newId, type Clock, type TransactionParticipant } from '../core/index.ts';
import { createAuditStore } from './store.ts';
import { sealAuditChain, verifyAuditChain, pruneAuditChain, type VerifyResult } from './chain-store.ts';
import { auditJsonLines } from './export.ts';

/** What happened, by whom, from where. Written in the mutation's own transaction. */
export interface AuditEntry {
  projectId: string | null;
  actorUserId: string | null;
  actorTokenId: string | null;
  /** What was done: `POST /v1/servers`, or one of `auditActions` (auth.failed, server.console_opened…). */
  action: string;
  resourceType: string | null;
  resourceId: string | null;
  outcome: 'success' | 'failure';
  statusCode: number | null;
  requestId: string | null;
  sourceIp: string | null;
  userAgent: string | null;
  details?: Record<string, unknown>;
}

export interface AuditView {
  id: string;
  at: string;
  project_id: string | null;
  actor: { user_id: string | null; token_id: string | null };
  action: string;
  resource: { type: string | null; id: string | null };
  outcome: 'success' | 'failure';
  status_code: number | null;
  request_id: string | null;
  source_ip: string | null;
  user_agent: string | null;
}

export interface AuditLog {
  /**
   * Writes an entry inside the caller's transaction (`q` = the mutation's transaction: the row commits or
   * rolls back with it), or alone when `q` is null. Never waits on other writers: the chain is made later.
   */
  append(q: Tx | Db | null, entry: AuditEntry): Promise<void>;
  /**
   * A participant of a request's transactions (src/core/transaction-scope.ts) that writes its entry
   * (`entryOf` the transaction's result) in the first one to commit; `committed()` says whether it did.
   */
  participant(entryOf: (result: unknown) => AuditEntry): TransactionParticipant<Tx> & { committed(): boolean };
  /** Newest first, for `GET /v1/audit-log`. */
  list(filter: {
    projectId: string | null;
    limit: number;
    cursor: string | null;
  }): Promise<{ entries: AuditView[]; nextCursor: string | null }>;
  /** Chains the next settled rows in commit order; returns how many it sealed (run it in a loop). */
  seal(options?: { batchSize?: number }): Promise<number>;
  /** Walks the chain from its anchor: the first row whose hash or link does not hold, if any. */
  verify(): Promise<VerifyResult>;
  /** Deletes sealed rows older than `olderThanDays`, oldest first, keeping the chain verifiable. */
  prune(options: { olderThanDays: number }): Promise<{ pruned: number }>;
  /** Every row at or after `since`, in stream order, one JSON object per line (ELK, Loki). */
  exportJsonLines(options: { since: string }): AsyncIterable<string>;
}

/** Rows are kept this long by default (`prune`). */
export const defaultAuditRetentionDays = 90;

export function createAuditLog(deps: { db: Db; dialect: DialectName; clock: Clock }): AuditLog {
  const { db, dialect, clock } = deps;
  const store = createAuditStore(db);
  return {
    async append(q, entry) {
      await store.insert(q, {
        id: newId('audit', clock.nowMs()),
        at: clock.nowIso(),
        project_id: entry.projectId,
        actor_user_id: entry.actorUserId,
        actor_token_id: entry.actorTokenId,
        action: entry.action,
        resource_type: entry.resourceType,
        resource_id: entry.resourceId,
        outcome: entry.outcome,
        status_code: entry.statusCode,
        request_id: entry.requestId,
        source_ip: entry.sourceIp,
        user_agent: entry.userAgent,
        details_json: JSON.stringify(entry.details ?? {}),
      });
    },

    participant(entryOf) {
      let state: 'none' | 'pending' | 'committed' = 'none';
      const append = (q: Tx, entry: AuditEntry) => this.append(q, entry);
      return {
        committed: () => state === 'committed',
        async beforeCommit(tx, hooks, result) {
          if (state !== 'none') return;
          await append(tx, entryOf(result));
          state = 'pending';
          hooks.afterCommit(() => (state = 'committed'));
          hooks.afterRollback(() => (state = 'none'));
        },
      };
    },

    async list(filter) {
      const rows = await store.newest({ projectId: filter.projectId, before: filter.cursor, limit: filter.limit + 1 });
      const page = rows.slice(0, filter.limit);
      return {
        entries: page.map((r) => ({
          id: r.id,
          at: r.at,
          project_id: r.project_id,
          actor: { user_id: r.actor_user_id, token_id: r.actor_token_id },
          action: r.action,
          resource: { type: r.resource_type, id: r.resource_id },
          outcome: r.outcome === 'success' ? ('success' as const) : ('failure' as const),
          status_code: r.status_code,
          request_id: r.request_id,
          source_ip: r.source_ip,
          user_agent: r.user_agent,
        })),
        nextCursor: rows.length > filter.limit ? page[page.length - 1].id : null,
      };
    },

    seal: (options) => sealAuditChain({ db, dialect, clock }, options?.batchSize ?? 500),
    verify: () => verifyAuditChain({ db, dialect }),
    prune: (options) => pruneAuditChain({ db, dialect, clock }, options.olderThanDays),
    exportJsonLines: (options) => auditJsonLines({ db: db as unknown as Kysely<unknown>, dialect }, options.since),
  };
}
