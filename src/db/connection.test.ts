import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { createTestDatabase, testDialects } from './test-helpers.ts';

const url = process.env.TEST_DATABASE_URL;
const skip = !testDialects().includes('postgres') && 'TEST_DATABASE_URL is not set';

async function adminQuery(text: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/**
 * Makes the race of parallel test files deterministic: a repeatable-read transaction takes its snapshot,
 * then a sibling schema is dropped (committed), then `introspect` runs in that transaction. Its catalog scan
 * still sees the sibling's tables; any name look-up of them (pg_get_serial_sequence) sees them gone.
 */
async function introspectAcrossASiblingDrop<T>(
  db: Kysely<unknown>,
  introspect: (trx: Kysely<unknown>) => Promise<T>,
): Promise<T> {
  const sibling = `sibling_${randomBytes(5).toString('hex')}`;
  await adminQuery(`create schema "${sibling}"; create table "${sibling}".audit_log (seq bigserial primary key)`);
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      await sql`select 1`.execute(trx);
      await adminQuery(`drop schema "${sibling}" cascade`);
      return introspect(trx);
    });
}

test(
  'the flake, reproduced: Kysely’s stock introspector fails when a sibling schema is dropped under it',
  { skip },
  async () => {
    const stock = new Kysely<unknown>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url }) }),
    });
    try {
      await assert.rejects(
        introspectAcrossASiblingDrop(stock, (trx) => trx.introspection.getTables({ withInternalKyselyTables: true })),
        /does not exist/,
      );
    } finally {
      await stock.destroy();
    }
  },
);

test(
  'the fix: the handle’s introspector sees only its own schema, whatever happens to siblings',
  { skip },
  async () => {
    const t = await createTestDatabase('postgres');
    try {
      const tables = await introspectAcrossASiblingDrop(t.db as unknown as Kysely<unknown>, (trx) =>
        trx.introspection.getTables({ withInternalKyselyTables: true }),
      );
      assert.deepEqual([...new Set(tables.map((table) => table.schema))], [t.pgSchema]);
      assert.ok(tables.some((table) => table.name === 'kysely_migration'));
      const events = tables.find((table) => table.name === 'events');
      assert.equal(events?.columns.find((c) => c.name === 'seq')?.isAutoIncrementing, true);
      assert.deepEqual(
        (await t.db.introspection.getSchemas()).map((s) => s.name),
        [t.pgSchema],
      );
    } finally {
      await t.dispose();
    }
  },
);
