import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../db/index.ts';
import { readOrdered, streamStart, type StreamCursor } from '../events/index.ts';
import type { AuditRow } from './chain-store.ts';

/**
 * One audit row as one JSON line, the shape log shippers (Filebeat → Elasticsearch, Promtail → Loki) ingest
 * as is: `@timestamp` first, flat names, no log level. hash and prev_hash let a copy kept elsewhere prove
 * what the database held.
 */
export function auditJsonLine(row: AuditRow): string {
  return JSON.stringify({
    '@timestamp': row.at,
    id: row.id,
    seq: Number(row.seq),
    action: row.action,
    outcome: row.outcome,
    actor: { user_id: row.actor_user_id, token_id: row.actor_token_id },
    project_id: row.project_id,
    resource: { type: row.resource_type, id: row.resource_id },
    status_code: row.status_code === null ? null : Number(row.status_code),
    request_id: row.request_id,
    source_ip: row.source_ip,
    user_agent: row.user_agent,
    details: JSON.parse(row.details_json) as unknown,
    sealed: Number(row.sealed) === 1,
    prev_hash: row.prev_hash,
    hash: row.hash,
  });
}

/** Every settled row written at or after `since` (ISO 8601), in stream order, page by page. */
export async function* auditJsonLines(
  deps: { db: Kysely<unknown>; dialect: DialectName },
  since: string,
): AsyncIterable<string> {
  let after: StreamCursor = streamStart;
  for (;;) {
    const rows = await readOrdered<AuditRow>(deps.db, deps.dialect, {
      table: 'audit_log',
      after,
      limit: 500,
      where: [sql`at >= ${since}`],
    });
    for (const row of rows) yield auditJsonLine(row);
    if (rows.length < 500) return;
    after = { txId: String(rows[rows.length - 1].tx_id), seq: Number(rows[rows.length - 1].seq) };
  }
}
