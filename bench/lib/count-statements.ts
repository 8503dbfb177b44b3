/**
 * Counts the SQLite statements a piece of work executes (profiling aid for benchmarks and tests): wraps
 * node:sqlite's StatementSync methods while `count` runs and returns the SQL texts with their counts.
 */
import { StatementSync } from 'node:sqlite';

export async function countStatements<T>(
  work: () => Promise<T>,
): Promise<{ result: T; statements: Map<string, number> }> {
  const statements = new Map<string, number>();
  const proto = StatementSync.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const originals = { run: proto.run, all: proto.all, get: proto.get, iterate: proto.iterate };
  for (const name of Object.keys(originals) as Array<keyof typeof originals>) {
    const original = originals[name];
    proto[name] = function (this: StatementSync, ...args: unknown[]) {
      const sql = this.sourceSQL;
      statements.set(sql, (statements.get(sql) ?? 0) + 1);
      return original.apply(this, args);
    };
  }
  try {
    return { result: await work(), statements };
  } finally {
    Object.assign(proto, originals);
  }
}
