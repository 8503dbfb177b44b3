import type { Kysely, Migration } from 'kysely';

/** Trust boundaries: why a host is unusable (a quarantined topology). */
export function trustBoundariesMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('hosts').addColumn('health_reason', 'text').execute();
    },
  };
}
