import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../connection.ts';

/**
 * The tamper-evident audit log (src/audit/): audit_log is rebuilt with a stream position (seq, and tx_id on
 * PostgreSQL, as events have) and the chain columns (sealed, prev_hash, hash); `audit_chain` holds the
 * chain's head (last sealed row) and anchor (hash of the last pruned row). Existing rows are kept, in id
 * order, unsealed: the sealer chains them first.
 */
const genesisHash = '0'.repeat(64);

export function auditChainMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const text = 'text' as const;
      const pg = dialect === 'postgres';
      let table = db.schema
        .createTable('audit_log_chained')
        .addColumn('seq', pg ? 'bigserial' : 'integer', (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()));
      table = pg
        ? table.addColumn('tx_id', sql`xid8`, (c) => c.notNull().defaultTo(sql`pg_current_xact_id()`))
        : table.addColumn('tx_id', 'integer', (c) => c.notNull().defaultTo(0));
      await table
        .addColumn('id', text, (c) => c.notNull().unique())
        .addColumn('at', text, (c) => c.notNull())
        .addColumn('project_id', text)
        .addColumn('actor_user_id', text)
        .addColumn('actor_token_id', text)
        .addColumn('action', text, (c) => c.notNull())
        .addColumn('resource_type', text)
        .addColumn('resource_id', text)
        .addColumn('outcome', text, (c) => c.notNull())
        .addColumn('status_code', 'integer')
        .addColumn('request_id', text)
        .addColumn('source_ip', text)
        .addColumn('user_agent', text)
        .addColumn('details_json', text, (c) => c.notNull())
        .addColumn('sealed', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('prev_hash', text)
        .addColumn('hash', text)
        .execute();
      const columns = sql.raw(
        'id, at, project_id, actor_user_id, actor_token_id, action, resource_type, resource_id, outcome, status_code, request_id, source_ip, user_agent, details_json',
      );
      await sql`insert into audit_log_chained (${columns}) select ${columns} from audit_log order by id`.execute(db);
      await db.schema.dropTable('audit_log').execute();
      await db.schema.alterTable('audit_log_chained').renameTo('audit_log').execute();
      await db.schema.createIndex('audit_project').on('audit_log').columns(['project_id', 'id']).execute();
      await db.schema.createIndex('audit_stream_order').on('audit_log').columns(['tx_id', 'seq']).execute();
      await db.schema.createIndex('audit_at').on('audit_log').column('at').execute();

      await db.schema
        .createTable('audit_chain')
        .addColumn('name', text, (c) => c.primaryKey())
        .addColumn('head_tx_id', text, (c) => c.notNull())
        .addColumn('head_seq', 'bigint', (c) => c.notNull())
        .addColumn('head_hash', text, (c) => c.notNull())
        .addColumn('anchor_hash', text, (c) => c.notNull())
        .addColumn('pruned_rows', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', text, (c) => c.notNull())
        .execute();
      await sql`insert into audit_chain (name, head_tx_id, head_seq, head_hash, anchor_hash, pruned_rows, updated_at)
        values ('audit_log', '0', 0, ${genesisHash}, ${genesisHash}, 0, ${new Date().toISOString()})`.execute(db);
    },
  };
}
