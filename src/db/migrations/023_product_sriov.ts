import type { Kysely, Migration } from 'kysely';

/**
 * Products get an SR-IOV flag (`products.sriov`, 0/1, default 0): a server of such a product is given a
 * virtual function of the host NIC on its NUMA node. Existing rows keep 0 (an operator's catalog is not
 * changed behind their back); the defaults that have it are inserted with 1 on a fresh database.
 */
export function productSriovMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('products')
        .addColumn('sriov', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  };
}
