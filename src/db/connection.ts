import {
  Kysely,
  Migrator,
  PostgresAdapter,
  PostgresDialect,
  sql,
  type DatabaseIntrospector,
  type Driver,
  type PostgresDialectConfig,
  type SchemaMetadata,
  type TableMetadata,
  type Transaction,
} from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';
import { openNodeSqlite } from './sqlite-database.ts';
import { guardPooledDriver, guardedSqliteDialect, registerGuard } from './transaction-guard.ts';
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
  /** PostgreSQL's pool: connections open, idle and clients waiting for one (null on SQLite). */
  poolStats?: () => { total: number; idle: number; waiting: number };
}

/** Told of every transaction `inTransaction` runs on a database handle (metrics). */
export interface TransactionObserver {
  (outcome: 'commit' | 'rollback', seconds: number): void;
}

const transactionObserverKey = Symbol('vmcloud.transactionObserver');

/** Sets the observer of the transactions run on `db` (one per handle; a later call replaces it). */
export function observeTransactions(db: Db, observer: TransactionObserver | null): void {
  Object.defineProperty(db, transactionObserverKey, { value: observer, configurable: true, writable: true });
}

/** The observer set on `db`, if any. */
export function transactionObserverOf(db: Db): TransactionObserver | null {
  return (db as unknown as Record<symbol, TransactionObserver | null | undefined>)[transactionObserverKey] ?? null;
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

/** Which dialect a database handle or transaction speaks (for code handed only a `Db`). */
export function dialectOfDb(q: Kysely<never> | Kysely<Database>): DialectName {
  return q.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  const dialect = dialectOf(options.url);
  if (dialect === 'sqlite') {
    const database = openNodeSqlite({ path: options.url });
    const { dialect: guarded, guard } = guardedSqliteDialect({ database });
    const db = new Kysely<Database>({ dialect: guarded });
    registerGuard(db, guard);
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
    // A transaction left open by a stuck client would hold back every ordered reader (events, audit
    // sealing: their horizon is the oldest running transaction): PostgreSQL ends it after 60 s.
    options: [
      '-c idle_in_transaction_session_timeout=60000',
      ...(options.pgSchema ? [`-c search_path=${options.pgSchema}`] : []),
    ].join(' '),
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === 20
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // A connection that breaks (PostgreSQL restarted, a failover) must not end the process: idle ones are
  // dropped by the pool (its 'error'), one checked out between two queries of a transaction errors with no
  // listener of its own — its next query fails (a retryable 503) and the pool drops it when released.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
    acceptCopyFromStdin(client);
  });
  const guard = {};
  const maxConnections = options.poolSize ?? 10;
  const db = new Kysely<Database>({
    dialect: new CurrentSchemaPostgresDialect({ pool }, (driver) =>
      guardPooledDriver(driver, guard, () => pool.idleCount === 0 && pool.totalCount >= maxConnections),
    ),
  });
  registerGuard(db, guard);
  return {
    db,
    dialect,
    pgSchema: options.pgSchema,
    close: () => db.destroy(),
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
  };
}

/**
 * Why not Kysely's own PostgresIntrospector: the Migrator asks it, before every run, whether its migration
 * tables exist, and it answers by listing every column of every table of **every schema**, calling
 * `pg_get_serial_sequence('schema.table', column)` on each. That function looks the name up again in the
 * catalog as it is now, while the scan reads the catalog as it was when the statement began. When another
 * connection drops a schema in between (parallel test files dispose of theirs), the scan
 * still sees the table while the look-up no longer finds it: `relation "t_….audit_log" does not exist`,
 * `schema "t_…" does not exist` or `column "role" of relation "tokens" does not exist`, thrown from a
 * migration of an unrelated schema. That was the PostgreSQL test flake. Proof: src/db/connection.test.ts
 * reproduces it deterministically (a repeatable-read snapshot taken before a sibling schema's drop) with
 * Kysely's introspector and shows
 * that this one is immune; a stress run of 8 workers × 25 create-migrate-drop cycles in parallel failed 10
 * of 200 migrations with Kysely's introspector and 0 of 200 with this one.
 *
 * This introspector sees only the connection's current schema (its search_path), which nobody drops while
 * it is in use. It also stops the Migrator from taking a sibling schema's `kysely_migration` for its own.
 */
class CurrentSchemaIntrospector implements DatabaseIntrospector {
  readonly #db: Kysely<unknown>;
  constructor(db: Kysely<unknown>) {
    this.#db = db;
  }

  async getSchemas(): Promise<SchemaMetadata[]> {
    const { rows } = await sql<{ name: string }>`select current_schema() as name`.execute(this.#db);
    return rows.filter((r) => r.name !== null);
  }

  async getTables(): Promise<TableMetadata[]> {
    const { rows } = await sql<{
      schema: string;
      table: string;
      kind: string;
      column: string;
      type: string;
      type_schema: string;
      not_null: boolean;
      has_default: boolean;
      serial: string | null;
    }>`
      select ns.nspname as schema, c.relname as table, c.relkind as kind, a.attname as column,
             typ.typname as type, tns.nspname as type_schema, a.attnotnull as not_null, a.atthasdef as has_default,
             pg_get_serial_sequence(quote_ident(ns.nspname) || '.' || quote_ident(c.relname), a.attname) as serial
      from pg_catalog.pg_attribute a
      join pg_catalog.pg_class c on a.attrelid = c.oid
      join pg_catalog.pg_namespace ns on c.relnamespace = ns.oid
      join pg_catalog.pg_type typ on a.atttypid = typ.oid
      join pg_catalog.pg_namespace tns on typ.typnamespace = tns.oid
      where ns.nspname = current_schema() and c.relkind in ('r', 'v', 'p') and a.attnum >= 0 and not a.attisdropped
      order by c.relname, a.attnum`.execute(this.#db);
    const tables = new Map<string, TableMetadata & { columns: TableMetadata['columns'][number][] }>();
    for (const r of rows) {
      let table = tables.get(r.table);
      if (!table) {
        table = { name: r.table, schema: r.schema, isView: r.kind === 'v', columns: [] };
        tables.set(r.table, table);
      }
      table.columns.push({
        name: r.column,
        dataType: r.type,
        dataTypeSchema: r.type_schema,
        isNullable: !r.not_null,
        hasDefaultValue: r.has_default,
        isAutoIncrementing: r.serial !== null,
      });
    }
    return [...tables.values()];
  }

  async getMetadata() {
    return { tables: await this.getTables() };
  }
}

/** PostgreSQL, introspecting only the current schema (see CurrentSchemaIntrospector). */
class CurrentSchemaPostgresDialect extends PostgresDialect {
  private readonly wrapDriver: (driver: Driver) => Driver;
  constructor(config: PostgresDialectConfig, wrapDriver: (driver: Driver) => Driver = (driver) => driver) {
    super(config);
    this.wrapDriver = wrapDriver;
  }
  override createDriver(): Driver {
    return this.wrapDriver(super.createDriver());
  }
  override createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new CurrentSchemaIntrospector(db);
  }
}

export async function migrateToLatest(handle: DatabaseHandle): Promise<void> {
  // The migration tables live in the handle's schema (its search_path); the introspector sees only that one.
  const migrator = new Migrator({
    db: handle.db,
    provider: migrationProvider(handle.dialect),
    ...(handle.pgSchema ? { migrationTableSchema: handle.pgSchema } : {}),
  });
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

/**
 * `COPY … FROM STDIN` through Kysely (the fastest bulk load PostgreSQL has, used by the flow-log ingest):
 * `db.executeQuery(CompiledQuery.raw('copy t (a, b) from stdin', [buffer]))`, the buffer being the rows in
 * COPY's text format. Kysely hands a raw query to `client.query(text, parameters)`; this wraps each pooled
 * client's `query` so that exactly that shape (a `copy … from stdin` text and one Buffer) streams the buffer
 * with the protocol's CopyData messages instead — in the caller's transaction, on its connection. Any other
 * call goes to pg unchanged. (pg speaks the COPY sub-protocol through a "submittable"; no package needed.)
 */
function acceptCopyFromStdin(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const [text, values] = args;
    if (
      args.length === 2 &&
      typeof text === 'string' &&
      /^\s*copy\s[^;]*\sfrom\s+stdin\s*$/i.test(text) &&
      Array.isArray(values) &&
      values.length === 1 &&
      Buffer.isBuffer(values[0])
    )
      return copyIn(client, text, values[0]);
    return query(...args);
  };
}

interface PgWire {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

function copyIn(
  client: pg.PoolClient,
  text: string,
  data: Buffer,
): Promise<{ command: string; rowCount: number; rows: [] }> {
  return new Promise((resolve, reject) => {
    let failed = false;
    let rowCount = 0;
    const noop = () => undefined;
    const submittable = {
      submit: (connection: PgWire) => connection.query(text),
      handleCopyInResponse: (connection: PgWire) => {
        // CopyData messages of ≤ 1 MiB each (the server accepts any size; smaller ones stream better).
        for (let i = 0; i < data.length; i += 1 << 20) connection.sendCopyFromChunk(data.subarray(i, i + (1 << 20)));
        connection.endCopyFrom();
      },
      handleCommandComplete: (msg: { text: string }) => {
        rowCount = Number(msg.text.split(' ').pop());
      },
      // As pg's own queries: an error settles at once (a broken connection sends no ReadyForQuery; a
      // rejected COPY's ReadyForQuery follows, and the client queues the next query until it has).
      handleError: (err: unknown) => {
        failed = true;
        reject(err as Error);
      },
      handleReadyForQuery: () => {
        if (!failed) resolve({ command: 'COPY', rowCount, rows: [] });
      },
      handleRowDescription: noop,
      handleDataRow: noop,
      handleEmptyQuery: noop,
      handlePortalSuspended: noop,
      handleCopyData: noop,
    };
    (client.query as unknown as (s: unknown) => unknown).call(client, submittable);
  });
}
