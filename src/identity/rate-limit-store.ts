/** The only code that names `rate_limit_windows`. */
import { sql, type Kysely } from 'kysely';
import type { RateLimitWindowsTable } from './tables.ts';

type Q = Kysely<{ rate_limit_windows: RateLimitWindowsTable }>;

export function createRateLimitStore(db: unknown) {
  const q = () => db as Q;
  return {
    /** Counts one request of `key` in the window starting at `windowStartMs`; returns the window's count. */
    async increment(key: string, windowStartMs: number): Promise<number> {
      const { rows } = await sql<{ count: number }>`
        insert into rate_limit_windows (key, window_start_ms, count) values (${key}, ${windowStartMs}, 1)
        on conflict (key, window_start_ms) do update set count = rate_limit_windows.count + 1
        returning count`.execute(q());
      return Number(rows[0].count);
    },
    async deleteBefore(windowStartMs: number): Promise<number> {
      const result = await q()
        .deleteFrom('rate_limit_windows')
        .where('window_start_ms', '<', windowStartMs)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
