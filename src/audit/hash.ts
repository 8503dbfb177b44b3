import { createHash } from 'node:crypto';

/** The prev_hash of the very first row of the chain. */
export const genesisHash = '0'.repeat(64);

/** The fields of an audit row that its hash covers (everything but the chain columns and tx_id). */
export interface HashedAuditFields {
  seq: number;
  id: string;
  at: string;
  project_id: string | null;
  actor_user_id: string | null;
  actor_token_id: string | null;
  action: string;
  resource_type: string | null;
  resource_id: string | null;
  outcome: string;
  status_code: number | null;
  request_id: string | null;
  source_ip: string | null;
  user_agent: string | null;
  details_json: string;
}

/** JSON with object keys sorted at every level: one text per value, whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function hashedFieldsOf(row: HashedAuditFields): HashedAuditFields {
  return {
    seq: Number(row.seq),
    id: row.id,
    at: row.at,
    project_id: row.project_id,
    actor_user_id: row.actor_user_id,
    actor_token_id: row.actor_token_id,
    action: row.action,
    resource_type: row.resource_type,
    resource_id: row.resource_id,
    outcome: row.outcome,
    status_code: row.status_code === null ? null : Number(row.status_code),
    request_id: row.request_id,
    source_ip: row.source_ip,
    user_agent: row.user_agent,
    details_json: row.details_json,
  };
}

/** hash = SHA-256 over the previous row's hash, a newline and the canonical JSON of the row (hex). */
export function chainHash(prevHash: string, row: HashedAuditFields): string {
  return createHash('sha256')
    .update(prevHash)
    .update('\n')
    .update(canonicalJson(hashedFieldsOf(row)))
    .digest('hex');
}
