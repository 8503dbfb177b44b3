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
  raw.exec('PRAGMA journal_mode = WAL');
  raw.exec('PRAGMA synchronous = NORMAL');
  raw.exec('PRAGMA foreign_keys = ON');
  raw.exec('PRAGMA busy_timeout = 5000');
  const cacheSize = options.statementCacheSize ?? 500;
  const cache = new Map<string, StatementSync>();

  const prepared = (sql: string): StatementSync => {
    let statement = cache.get(sql);
    if (statement) {
      cache.delete(sql);
      cache.set(sql, statement);
      return statement;
    }
    statement = raw.prepare(sql);
    cache.set(sql, statement);
    if (cache.size > cacheSize) cache.delete(cache.keys().next().value as string);
    return statement;
  };

  return {
    raw,
    close: () => raw.close(),
    prepare(sql: string): SqliteStatement {
      const statement = prepared(sql);
      return {
        reader: statement.columns().length > 0,
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
