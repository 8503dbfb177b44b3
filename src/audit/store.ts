/** The audit log's rows: written in a caller's transaction, listed newest first (the chain: chain-store.ts). */
import type { Db, Tx } from '../db/index.ts';
import { auditTablesOf, type AuditLogTable } from './tables.ts';
import type { Selectable } from 'kysely';

export type AuditLogRow = Selectable<AuditLogTable>;

export function createAuditStore(db: Db) {
  return {
    async insert(
      q: Tx | Db | null,
      row: Omit<AuditLogTable, 'seq' | 'tx_id' | 'sealed' | 'prev_hash' | 'hash'>,
    ): Promise<void> {
      await auditTablesOf(q ?? db)
        .insertInto('audit_log')
        .values({ ...row, prev_hash: null, hash: null })
        .execute();
    },

    /** Newest first; `before` is the id of the last row of the previous page. */
    async newest(filter: { projectId: string | null; before: string | null; limit: number }): Promise<AuditLogRow[]> {
      let query = auditTablesOf(db).selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(filter.limit);
      if (filter.projectId !== null) query = query.where('project_id', '=', filter.projectId);
      if (filter.before) query = query.where('id', '<', filter.before);
      return query.execute();
    },
  };
}
