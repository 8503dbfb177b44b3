import type { Kysely, Migration } from 'kysely';

/** The images a host can boot, as its agent reports them (null: every image of the catalog, e.g. `sim`). */
export function hostImagesMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('hosts').addColumn('images_json', 'text').execute();
    },
  };
}
