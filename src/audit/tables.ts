/**
 * Row types of the audit domain's tables. The database type (src/db/schema.ts) must use them:
 * `audit_log: AuditLogTable` (replacing the old one) and `audit_chain: AuditChainTable`.
 */
import type { Generated, Kysely } from 'kysely';

export interface AuditLogTable {
  /** Stream position (ordered read: src/events/ordered-read.ts). */
  seq: Generated<number>;
  /** Writing transaction: xid8 as decimal text on PostgreSQL; 0 on SQLite. */
  tx_id: Generated<string>;
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
  /** 1 once the sealer has chained the row. */
  sealed: Generated<number>;
  prev_hash: string | null;
  hash: string | null;
}

/** One row, name 'audit_log': where the chain ends (head) and where it starts after pruning (anchor). */
export interface AuditChainTable {
  name: string;
  head_tx_id: string;
  head_seq: number;
  head_hash: string;
  /** Hash of the last pruned row (the genesis hash until the first prune): the first row's prev_hash. */
  anchor_hash: string;
  pruned_rows: number;
  updated_at: string;
}

export interface AuditTables {
  audit_log: AuditLogTable;
  audit_chain: AuditChainTable;
}

/** The audit domain's typed view of a database handle or transaction. */
export const auditTablesOf = (q: { selectFrom: unknown }) => q as unknown as Kysely<AuditTables>;
