import type { Kysely, Migration } from 'kysely';

/**
 * Snapshots to forget in a region's repository: written in the transaction that drops a backup copy (tenant
 * delete, retention), removed once `restic forget` succeeded. A forget that fails (the repository is locked,
 * unreachable) or a crash between the two is retried at the worker's next pass: no snapshot stays behind
 * unreferenced.
 */
export function backupForgetsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('backup_forgets')
        .addColumn('region', 'text', (c) => c.notNull())
        .addColumn('snapshot', 'text', (c) => c.notNull())
        .addColumn('backup_id', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('backup_forgets_pk', ['region', 'snapshot'])
        .execute();
    },
  };
}
