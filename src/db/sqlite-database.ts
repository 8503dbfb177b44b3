import { chmodSync, existsSync } from 'node:fs';
import { DatabaseSync, type StatementSync, type SQLInputValue } from 'node:sqlite';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/**
 * Adapts Node's built-in `node:sqlite` to the small better-sqlite3-shaped interface that Kysely's
 * SqliteDialect drives, so that the embedded default needs no native build.
 */
export interface NodeSqliteOptions {
  path: string;
  /** Prepared statements kept per SQL text. */
  statementCacheSize?: number;
}

type Param = SQLInputValue;

function toParams(parameters: ReadonlyArray<unknown>): Param[] {
  return parameters.map((value) => {
    if (value === undefined) return null;
    if (typeof value === 'boolean') return value ? 1 : 0;
    if (value instanceof Date) return value.toISOString();
    return value as Param;
  });
}

export function openNodeSqlite(options: NodeSqliteOptions): SqliteDatabase & { raw: DatabaseSync } {
  const raw = new DatabaseSync(options.path);
  // The database holds token hashes and tenants' data: readable by this user only (WAL files included).
  if (options.path !== ':memory:') {
    for (const file of [options.path, `${options.path}-wal`, `${options.path}-shm`]) {
      if (existsSync(file)) chmodSync(file, 0o600);
    }
  }
  // Durability and speed of the embedded database: docs/adr/0005-sqlite-durability.md.
  raw.exec('PRAGMA journal_mode = WAL');
  raw.exec('PRAGMA synchronous = NORMAL');
  raw.exec('PRAGMA foreign_keys = ON');
  raw.exec('PRAGMA busy_timeout = 5000');
  // Checkpoints (the only fsyncs in WAL mode with synchronous=NORMAL) every ~40 MiB of WAL rather than 4 MiB.
  raw.exec('PRAGMA wal_autocheckpoint = 10000');
  raw.exec('PRAGMA journal_size_limit = 67108864');
  raw.exec('PRAGMA cache_size = -65536');
  raw.exec('PRAGMA temp_store = MEMORY');
  const cacheSize = options.statementCacheSize ?? 500;
  /** Prepared statements by SQL text, least recently used first, with whether each returns rows. */
  const cache = new Map<string, { statement: StatementSync; reader: boolean }>();

  const prepared = (sql: string): { statement: StatementSync; reader: boolean } => {
    let entry = cache.get(sql);
    if (entry) {
      cache.delete(sql);
      cache.set(sql, entry);
      return entry;
    }
    const statement = raw.prepare(sql);
    // columns() is a native call that builds an array: asked once per statement, not per execution.
    entry = { statement, reader: statement.columns().length > 0 };
    cache.set(sql, entry);
    if (cache.size > cacheSize) cache.delete(cache.keys().next().value as string);
    return entry;
  };

  return {
    raw,
    close: () => raw.close(),
    prepare(sql: string): SqliteStatement {
      const { statement, reader } = prepared(sql);
      return {
        reader,
        all: (parameters) => statement.all(...toParams(parameters)) as unknown[],
        run: (parameters) => {
          const result = statement.run(...toParams(parameters));
          return { changes: result.changes, lastInsertRowid: result.lastInsertRowid };
        },
        iterate: (parameters) => statement.iterate(...toParams(parameters)) as IterableIterator<unknown>,
      };
    },
  };
}
