import type { Db } from '../db/index.ts';
import { newId, type Clock } from '../core/index.ts';

export interface AuditEntry {
  projectId: string | null;
  actorUserId: string | null;
  actorTokenId: string | null;
  /** What was done, e.g. `POST /v1/servers` or `server.create`. */
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
  outcome: string;
  status_code: number | null;
  request_id: string | null;
  source_ip: string | null;
  user_agent: string | null;
}

export interface AuditLog {
  append(entry: AuditEntry): Promise<void>;
  list(filter: { projectId: string | null; limit: number; cursor: string | null }): Promise<{ entries: AuditView[]; nextCursor: string | null }>;
}

export function createAuditLog(deps: { db: Db; clock: Clock }): AuditLog {
  return {
    async append(entry) {
      await deps.db
        .insertInto('audit_log')
        .values({
          id: newId('audit', deps.clock.nowMs()),
          at: deps.clock.nowIso(),
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
        })
        .execute();
    },
    async list(filter) {
      let query = deps.db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(filter.limit + 1);
      if (filter.projectId !== null) query = query.where('project_id', '=', filter.projectId);
      if (filter.cursor) query = query.where('id', '<', filter.cursor);
      const rows = await query.execute();
      const page = rows.slice(0, filter.limit);
      return {
        entries: page.map((r) => ({
          id: r.id,
          at: r.at,
          project_id: r.project_id,
          actor: { user_id: r.actor_user_id, token_id: r.actor_token_id },
          action: r.action,
          resource: { type: r.resource_type, id: r.resource_id },
          outcome: r.outcome,
          status_code: r.status_code,
          request_id: r.request_id,
          source_ip: r.source_ip,
          user_agent: r.user_agent,
        })),
        nextCursor: rows.length > filter.limit ? page[page.length - 1].id : null,
      };
    },
  };
}
