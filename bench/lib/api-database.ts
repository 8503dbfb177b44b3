import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** A throw-away PostgreSQL database next to the one `DATABASE_URL` names; dropped by `drop()`. */
export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
  /**
   * What the database's sessions are doing: state, wait, transaction age, the sessions blocking them and
   * the statement (a hung run's evidence).
   */
  activity(): Promise<string[]>;
}

export async function createBenchDatabase(adminUrl: string): Promise<BenchDatabase> {
  const name = `vmcloud_bench_${randomBytes(5).toString('hex')}`;
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  let dropped = false;
  return {
    name,
    url: url.toString(),
    async activity() {
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      try {
        const { rows } = await client.query(
          `select pid, state, wait_event_type, wait_event, pg_blocking_pids(pid) as blocked_by,
                  round(extract(epoch from now() - xact_start) * 1000) as xact_ms, left(query, 160) as query
             from pg_stat_activity
            where datname = current_database() and pid <> pg_backend_pid()
            order by xact_start nulls last`,
        );
        return rows.map(
          (r) =>
            `pid ${r.pid} ${r.state ?? '?'}${r.wait_event ? ` waiting ${r.wait_event_type}/${r.wait_event}` : ''}` +
            `${r.blocked_by?.length ? ` blocked by ${r.blocked_by.join(',')}` : ''}` +
            `${r.xact_ms === null ? '' : ` xact ${r.xact_ms} ms`}: ${String(r.query).replace(/\s+/g, ' ')}`,
        );
      } finally {
        await client.end();
      }
    },
    async drop() {
      if (dropped) return;
      dropped = true;
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}
