import { Kysely, Migrator, PostgresDialect, SqliteDialect, type Transaction } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';
import { openNodeSqlite } from './sqlite-database.ts';
import { migrationProvider } from './migrations/index.ts';

export type DialectName = 'sqlite' | 'postgres';
export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** Anything that runs queries: the database or a transaction. */
export type Queryable = Kysely<Database>;

export interface DatabaseHandle {
  db: Db;
  dialect: DialectName;
  /** The PostgreSQL schema this handle works in, when not the default. */
  pgSchema?: string;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** `postgres://…` for PostgreSQL; otherwise a SQLite file path (or `:memory:`). */
  url: string;
  /** PostgreSQL schema to use (created if missing): lets tests share one database. */
  pgSchema?: string;
  poolSize?: number;
}

export function dialectOf(url: string): DialectName {
  return /^postgres(ql)?:\/\//.test(url) ? 'postgres' : 'sqlite';
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  const dialect = dialectOf(options.url);
  if (dialect === 'sqlite') {
    const database = openNodeSqlite({ path: options.url });
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
    return { db, dialect, close: () => db.destroy() };
  }
  if (options.pgSchema) {
    const admin = new pg.Client({ connectionString: options.url });
    await admin.connect();
    await admin.query(`create schema if not exists "${options.pgSchema.replace(/"/g, '')}"`);
    await admin.end();
  }
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    options: options.pgSchema ? `-c search_path=${options.pgSchema}` : undefined,
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === 20 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect, pgSchema: options.pgSchema, close: () => db.destroy() };
}

export async function migrateToLatest(handle: DatabaseHandle): Promise<void> {
  // Kysely looks for its migration tables across schemas: name ours, or a sibling schema's would do.
  const migrator = new Migrator({ db: handle.db, provider: migrationProvider(handle.dialect), ...(handle.pgSchema ? { migrationTableSchema: handle.pgSchema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${String(error)}`, { cause: error });
  }
}

/** True when an error is a unique-constraint violation on either dialect. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; errcode?: string; message?: string };
  if (e?.code === '23505') return true;
  return typeof e?.message === 'string' && e.message.includes('UNIQUE constraint failed');
}
