import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, migrateToLatest, type DatabaseHandle, type DialectName } from './connection.ts';

export interface TestDatabase extends DatabaseHandle {
  /** Drop everything this test database made. */
  dispose(): Promise<void>;
}

/**
 * The dialects a store test runs on: SQLite, plus PostgreSQL wherever TEST_DATABASE_URL is set.
 * `TEST_DIALECTS=postgres` (what `npm run test:pg` sets: `npm test` already ran SQLite) picks some of them.
 */
export function testDialects(): DialectName[] {
  const all: DialectName[] = process.env.TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];
  const picked = process.env.TEST_DIALECTS?.split(',').map((d) => d.trim());
  return picked ? all.filter((d) => picked.includes(d)) : all;
}

/** A fresh, migrated database: a temp SQLite file, or a private schema in the PostgreSQL test database. */
export async function createTestDatabase(dialect: DialectName): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'vmcloud-db-'));
    const handle = await openDatabase({ url: join(dir, 'test.sqlite') });
    await migrateToLatest(handle);
    return {
      ...handle,
      dispose: async () => {
        await handle.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set');
  // No retry: the old flake ("relation …audit_log does not exist" under parallel test files) came from
  // Kysely's introspector scanning sibling schemas while they were dropped; see CurrentSchemaIntrospector.
  return createPostgresTestDatabase(url);
}

async function createPostgresTestDatabase(url: string): Promise<TestDatabase> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const handle = await openDatabase({ url, pgSchema: schema, poolSize: 20 });
  const drop = async () => {
    const pg = (await import('pg')).default;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`drop schema if exists "${schema}" cascade`);
    await admin.end();
  };
  try {
    await migrateToLatest(handle);
  } catch (error) {
    await handle.close();
    await drop();
    throw error;
  }
  return {
    ...handle,
    dispose: async () => {
      await handle.close();
      await drop();
    },
  };
}
