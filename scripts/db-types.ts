/**
 * `npm run db:types [-- --check]`: the database row types as the migrations make them. Migrates a fresh
 * PostgreSQL schema (TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/test), generates
 * src/db/generated-schema.ts from it with kysely-codegen, and drops the schema. `--check` fails when the
 * committed file differs (CI). src/db/schema.typecheck.ts then makes `tsc` fail when a domain's row types
 * (src/db/schema.ts and the tables.ts of each domain) disagree with what the migrations create.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase, migrateToLatest } from '../src/db/index.ts';

const url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const check = process.argv.includes('--check');
const root = join(import.meta.dirname, '..');
const schema = `codegen_${randomBytes(4).toString('hex')}`;

const handle = await openDatabase({ url, pgSchema: schema });
try {
  await migrateToLatest(handle);
} finally {
  await handle.close();
}
try {
  const result = spawnSync(
    join(root, 'node_modules/.bin/kysely-codegen'),
    [
      '--dialect',
      'postgres',
      '--url',
      url,
      '--default-schema',
      schema,
      '--include-pattern',
      `${schema}.*`,
      '--exclude-pattern',
      `${schema}.kysely_*`,
      '--type-mapping',
      JSON.stringify({ int8: 'number', xid8: 'string' }),
      '--out-file',
      join(root, 'src/db/generated-schema.ts'),
      ...(check ? ['--verify'] : []),
    ],
    { stdio: 'inherit' },
  );
  process.exitCode = result.status ?? 1;
} finally {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`drop schema if exists "${schema}" cascade`);
  await admin.end();
}
