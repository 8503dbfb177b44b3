/**
 * Replicas survive a PostgreSQL restart: their pools and change-notice listeners reconnect, requests in
 * flight fail with a retryable 503 (`database_unavailable`, Retry-After) and a client that retries with its
 * Idempotency-Key ends with exactly one server per key; requests after the restart succeed.
 *
 * Opt-in (VMCLOUD_TEST_PG_RESTART=1, with TEST_DATABASE_URL): it restarts the local PostgreSQL 15 cluster
 * (`pg_ctlcluster 15 main restart`), which disturbs every other test using it. Run it alone, last.
 * VMCLOUD_TEST_PG_RESTART=terminate instead ends every connection to the test's own database
 * (pg_terminate_backend: the same errors, 57P01, without touching anyone else's).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from './helpers.ts';
import {
  call,
  createTestDatabase,
  startReplicasProcess,
  type ReplicasProcess,
  type TestDatabase,
} from './replicas-process.ts';

const adminUrl = process.env.TEST_DATABASE_URL;
const mode = process.env.VMCLOUD_TEST_PG_RESTART;
const enabled = Boolean(adminUrl) && (mode === '1' || mode === 'terminate');

/** Restarts PostgreSQL, or ends every connection to the test's database. */
async function disrupt(database: TestDatabase) {
  if (mode === 'terminate') {
    await database.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
    );
    return;
  }
  const restart = spawnSync('pg_ctlcluster', ['15', 'main', 'restart'], { encoding: 'utf8' });
  assert.equal(restart.status, 0, restart.stderr);
}

describe(
  'replicas across a PostgreSQL restart',
  { skip: !enabled && 'opt-in: VMCLOUD_TEST_PG_RESTART=1 with TEST_DATABASE_URL' },
  () => {
    let database: TestDatabase;
    let replicas: ReplicasProcess;
    let workDir: string;
    let owner: string;

    before(async () => {
      database = await createTestDatabase(adminUrl!);
      workDir = mkdtempSync(join(tmpdir(), 'vmcloud-pg-restart-'));
      replicas = await startReplicasProcess(2, ['--log-level', 'warn', '--sim-speed', '50', '--rate-limit', '0'], {
        DATABASE_URL: database.url,
        VMCLOUD_DATA_DIR: join(workDir, 'data'),
        VMCLOUD_CONFIG: join(workDir, 'config.json'),
        VMCLOUD_LOOP_INTERVAL_MS: '500',
      });
      owner = JSON.parse(readFileSync(join(workDir, 'config.json'), 'utf8')).profiles.default.token;
    });

    after(async () => {
      if (process.env.VMCLOUD_TEST_OUTPUT) writeFileSync(process.env.VMCLOUD_TEST_OUTPUT, replicas?.output() ?? '');
      await replicas?.stop();
      await until(
        'PostgreSQL back',
        async () =>
          database.query('select 1').then(
            () => true,
            () => false,
          ),
        60_000,
      ).catch(() => undefined);
      await database?.drop();
      if (workDir) rmSync(workDir, { recursive: true, force: true });
    });

    test('no replica dies, in-flight requests are retryable 503s, retries with their key make one server each', async (t) => {
      const pidsBefore = [...replicas.replicas().values()].map((r) => `${r.index}:${r.pid}`).sort();
      const statuses = new Map<string, number>();
      const keys: string[] = [];
      let stop = false;
      let serial = 0;

      /** A client that retries a create with its Idempotency-Key until it gets an answer that is not a 503. */
      async function client() {
        while (!stop) {
          const key = randomUUID();
          const name = `restart-${serial++}`;
          keys.push(key);
          for (;;) {
            let status: number;
            let reason: string | undefined;
            try {
              const answer = await call(replicas.url, 'POST', '/v1/servers', owner, {
                body: { name, product: 'vps-nano', region: 'fra1', image: 'debian-12' },
                headers: { 'idempotency-key': key },
              });
              status = answer.status;
              reason = answer.body?.reason;
              if (status === 503) assert.ok(answer.headers.get('retry-after'), 'a 503 says when to retry');
            } catch {
              status = -1; // the connection itself failed: retry as well
            }
            const label = `${status}${reason ? ` ${reason}` : ''}`;
            statuses.set(label, (statuses.get(label) ?? 0) + 1);
            if (status !== 503 && status !== -1) break;
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        }
      }

      const clients = Array.from({ length: 4 }, () => client());
      await until('some servers created', () => (statuses.get('202') ?? 0) >= 10);
      await disrupt(database);
      const createdBefore = statuses.get('202') ?? 0;
      await until('servers created after the restart', () => (statuses.get('202') ?? 0) >= createdBefore + 20, 60_000);
      stop = true;
      await Promise.all(clients);

      t.diagnostic(`answers: ${JSON.stringify(Object.fromEntries(statuses))}`);
      const labels = [...statuses.keys()];
      assert.deepEqual(
        labels.filter((l) => l !== '202' && l !== '503 database_unavailable' && l !== '-1'),
        [],
        `only 202, retryable 503s and dropped connections: ${JSON.stringify(Object.fromEntries(statuses))}`,
      );
      const pidsAfter = [...replicas.replicas().values()].map((r) => `${r.index}:${r.pid}`).sort();
      assert.deepEqual(pidsAfter, pidsBefore, 'no replica died');

      const rows = await database.query<{ name: string; n: string }>(
        `select name, count(*) as n from servers where name like 'restart-%' group by name`,
      );
      assert.equal(rows.length, keys.length, 'one server per Idempotency-Key');
      assert.deepEqual(
        rows.filter((r) => Number(r.n) !== 1),
        [],
        'no key made two servers',
      );

      // The change-notice listeners reconnected: a token revoked through one replica is refused by the other.
      const urls = [...replicas.replicas().values()].map((r) => r.url);
      const made = await call(urls[0], 'POST', '/v1/tokens', owner, {
        body: { name: 'after-restart', role: 'viewer' },
      });
      assert.equal(made.status, 201);
      assert.equal((await call(urls[1], 'GET', '/v1/regions', made.body.secret)).status, 200);
      assert.equal((await call(urls[0], 'DELETE', `/v1/tokens/${made.body.token.id}`, owner)).status, 204);
      await until(
        'the other replica refusing the revoked token',
        async () => (await call(urls[1], 'GET', '/v1/regions', made.body.secret)).status === 401,
        5000,
      );
    });
  },
);
