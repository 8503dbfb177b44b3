/**
 * Three `vmcloud serve` replicas on one PostgreSQL behind `serve --replicas 3` (real processes, real HTTP):
 * caches follow changes made by another replica, the rate limit is shared, console tickets work whichever
 * replica they land on, and singleton roles move when their replica is killed (kill -9). PostgreSQL only.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { tokenCacheTtlMs } from '../src/identity/index.ts';
import { until } from './helpers.ts';
import {
  call,
  createTestDatabase,
  startReplicasProcess,
  type ReplicasProcess,
  type TestDatabase,
} from './replicas-process.ts';

const adminUrl = process.env.TEST_DATABASE_URL;
const rateLimitPerMinute = 100;

const root = new URL('..', import.meta.url).pathname;
const pidOfHolder = (holder: string) => Number(/^cp-.*-(\d+)-[0-9a-f]+$/.exec(holder)?.[1]);

describe('three replicas on one PostgreSQL', { skip: !adminUrl && 'needs TEST_DATABASE_URL' }, () => {
  let database: TestDatabase;
  let replicas: ReplicasProcess;
  let workDir: string;
  let owner: string;
  let operator: string;
  let agent: ChildProcess | null = null;
  const replicaUrl = (index: number) => replicas.replicas().get(index)!.url;

  before(async () => {
    database = await createTestDatabase(adminUrl!);
    workDir = mkdtempSync(join(tmpdir(), 'vmcloud-replicas-'));
    replicas = await startReplicasProcess(
      3,
      [
        '--log-level',
        'warn',
        '--sim-speed',
        '50',
        '--rate-limit',
        String(rateLimitPerMinute),
        '--allow-loopback-hosts',
      ],
      {
        DATABASE_URL: database.url,
        VMCLOUD_DATA_DIR: join(workDir, 'data'),
        VMCLOUD_CONFIG: join(workDir, 'config.json'),
        VMCLOUD_LOOP_INTERVAL_MS: '500',
      },
    );
    const profiles = JSON.parse(readFileSync(join(workDir, 'config.json'), 'utf8')).profiles;
    owner = profiles.default.token;
    operator = profiles.operator.token;
    assert.equal(profiles.default.url, replicas.url, 'the CLI profile names the balancer, not a replica');
    assert.equal(replicas.replicas().size, 3);
  });

  after(async () => {
    agent?.kill('SIGKILL');
    await replicas?.stop();
    await database?.drop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  test('any replica answers: a server created through one is listed by each', async () => {
    const created = await call(replicas.url, 'POST', '/v1/servers', owner, {
      body: { name: 'any-replica', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
    });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    for (const index of [1, 2, 3]) {
      const shown = await call(replicaUrl(index), 'GET', `/v1/servers/${created.body.server.id}`, owner);
      assert.equal(shown.status, 200, `replica ${index}`);
    }
  });

  test('a server created through a replica that does not run the simulated agents starts before their resync', async () => {
    const simFleet = await until('the sim-fleet lease held', async () => {
      const rows = await database.query<{ holder: string }>(`select holder from leases where name = 'sim-fleet'`);
      return rows[0];
    });
    const other = [...replicas.replicas().values()].find((r) => r.pid !== pidOfHolder(simFleet.holder))!;
    const startedMs = Date.now();
    const created = await call(other.url, 'POST', '/v1/servers', owner, {
      body: { name: 'elsewhere', product: 'vps-nano', region: 'ams1', image: 'debian-12' },
    });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    // The agents resync every 15 s by themselves; the desired-state notice wakes them at once.
    await until(
      'the server running',
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        return (
          (await call(other.url, 'GET', `/v1/servers/${created.body.server.id}`, owner)).body.server?.status ===
          'running'
        );
      },
      15_000 - (Date.now() - startedMs) - 2000,
    );
  });

  test('a token revoked on replica 1 is refused by replica 2 before its cached check could expire', async () => {
    const made = await call(replicaUrl(1), 'POST', '/v1/tokens', owner, { body: { name: 'revoked', role: 'viewer' } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const secret = made.body.secret as string;
    assert.equal((await call(replicaUrl(2), 'GET', '/v1/regions', secret)).status, 200, 'replica 2 now caches it');
    const cachedAtMs = Date.now();
    const revoked = await call(replicaUrl(1), 'DELETE', `/v1/tokens/${made.body.token.id}`, owner);
    assert.equal(revoked.status, 204);
    // Without the change notice replica 2 would accept the token until its cache entry expires.
    const deadlineMs = tokenCacheTtlMs - (Date.now() - cachedAtMs) - 1000;
    await until(
      'replica 2 refusing the revoked token',
      async () => (await call(replicaUrl(2), 'GET', '/v1/regions', secret)).status === 401,
      deadlineMs,
    );
    assert.equal((await call(replicaUrl(3), 'GET', '/v1/regions', secret)).status, 401);
  });

  test('a region status changed on replica 1 is seen by replicas 2 and 3', async () => {
    for (const index of [2, 3])
      assert.equal((await call(replicaUrl(index), 'GET', '/v1/regions/ams1', owner)).body.region.status, 'operational');
    const changed = await call(replicaUrl(1), 'PATCH', '/v1/regions/ams1', operator, {
      body: { status: 'maintenance' },
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    for (const index of [2, 3])
      await until(`replica ${index} seeing ams1 in maintenance`, async () => {
        const region = await call(replicaUrl(index), 'GET', '/v1/regions/ams1', operator);
        return region.body.region.status === 'maintenance';
      });
    const refused = await call(replicaUrl(3), 'POST', '/v1/servers', owner, {
      body: { name: 'in-maintenance', product: 'vps-nano', region: 'ams1', image: 'debian-12' },
    });
    assert.notEqual(refused.status, 202, 'no new servers in a region under maintenance');
    await call(replicaUrl(1), 'PATCH', '/v1/regions/ams1', operator, { body: { status: 'operational' } });
  });

  test('the rate limit of a token is shared by the replicas', async () => {
    // Not across a minute boundary (fixed windows).
    const intoMinuteMs = Date.now() % 60_000;
    if (intoMinuteMs > 45_000) await new Promise((resolve) => setTimeout(resolve, 60_500 - intoMinuteMs));
    const made = await call(replicaUrl(1), 'POST', '/v1/tokens', owner, { body: { name: 'limited', role: 'viewer' } });
    const secret = made.body.secret as string;
    const remaining: number[] = [];
    for (let i = 0; i < rateLimitPerMinute; i++) {
      const answer = await call(replicaUrl((i % 3) + 1), 'GET', '/v1/regions', secret);
      assert.equal(answer.status, 200, `request ${i + 1}`);
      remaining.push(Number(answer.headers.get('ratelimit-remaining')));
    }
    assert.deepEqual(
      remaining,
      Array.from({ length: rateLimitPerMinute }, (_, i) => rateLimitPerMinute - 1 - i),
      'one count for all replicas',
    );
    for (const index of [1, 2, 3]) {
      const limited = await call(replicaUrl(index), 'GET', '/v1/regions', secret);
      assert.equal(limited.status, 429, `replica ${index}`);
      assert.equal(limited.body.code, 'rate_limited');
    }
  });

  test('a console ticket issued by replica 1 is taken by replica 2, once', async () => {
    const created = await call(replicas.url, 'POST', '/v1/servers', owner, {
      body: { name: 'console-anywhere', product: 'vps-nano', region: 'par1', image: 'debian-12' },
    });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    const id = created.body.server.id as string;
    await until(
      'the server running',
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 200));
        return (await call(replicaUrl(3), 'GET', `/v1/servers/${id}`, owner)).body.server?.status === 'running';
      },
      30_000,
    );
    const ticket = await call(replicaUrl(1), 'POST', `/v1/servers/${id}/console`, owner, { body: {} });
    assert.equal(ticket.status, 201, JSON.stringify(ticket.body));
    const open = (index: number, path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const socket = new WebSocket(replicaUrl(index).replace(/^http/, 'ws') + path);
        socket.on('unexpected-response', (_request, response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString()));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        });
        socket.on('open', () => {
          socket.close();
          resolve({ status: 101, body: '' });
        });
        socket.on('error', (error) => {
          if (!/Unexpected server response/.test(error.message)) reject(error);
        });
      });
    // The ticket is accepted on replica 2; a simulated host has no console to reach (503 host_has_no_api).
    const first = await open(2, ticket.body.url);
    assert.equal(first.status, 503, first.body);
    assert.equal(JSON.parse(first.body).reason, 'host_has_no_api');
    const again = await open(3, ticket.body.url);
    assert.equal(again.status, 401, 'a ticket is used once, whichever replica saw it');
    assert.equal(JSON.parse(again.body).reason, 'invalid_ticket');
  });

  test('singleton roles move to another replica when theirs is killed (kill -9)', async () => {
    const leases = async () =>
      database.query<{ name: string; holder: string; live: boolean }>(
        `select name, holder, expires_at_ms > (extract(epoch from clock_timestamp()) * 1000)::bigint as live from leases`,
      );
    const simFleet = await until('the sim-fleet lease held', async () =>
      (await leases()).find((l) => l.name === 'sim-fleet' && l.live),
    );
    const victim = pidOfHolder(simFleet.holder);
    const pids = [...replicas.replicas().values()].map((r) => r.pid);
    assert.ok(pids.includes(victim), `the holder ${simFleet.holder} is one of the replicas ${pids}`);
    const heldByVictim = (await leases()).filter((l) => pidOfHolder(l.holder) === victim).map((l) => l.name);
    process.kill(victim, 'SIGKILL');
    // Each role moves once its lease expires: within its time to live (30 s at most: the event consumers'
    // and the backup worker's leases; the sim fleet's is 5 s).
    for (const name of heldByVictim)
      await until(
        `lease ${name} taken by another replica`,
        async () => {
          const lease = (await leases()).find((l) => l.name === name);
          return lease && lease.live && pidOfHolder(lease.holder) !== victim;
        },
        45_000,
      );
    // The simulated hosts' agents run again: a server created now converges.
    const created = await call(replicas.url, 'POST', '/v1/servers', owner, {
      body: { name: 'after-the-kill', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
    });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    await until(
      'the server created after the kill running',
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 200));
        const shown = await call(replicas.url, 'GET', `/v1/servers/${created.body.server.id}`, owner);
        return shown.body.server?.status === 'running';
      },
      30_000,
    );
  });

  test('a real agent joins through the balancer and keeps its link whichever replica dies (kill -9)', async () => {
    const agentPort = /agents on [^:]+:(\d+)/.exec(replicas.output())![1];
    const hostToken = await call(replicas.url, 'POST', '/v1/host-tokens', operator, { body: { name: 'replicas' } });
    assert.equal(hostToken.status, 201, JSON.stringify(hostToken.body));
    agent = spawn(
      process.execPath,
      [
        join(root, 'bin/vmcloud.ts'),
        'agent',
        ...['--control-plane', `https://127.0.0.1:${agentPort}`, '--ca-sha256', hostToken.body.ca_sha256],
        ...['--region', 'fra1', '--driver', 'sim', '--name', 'fra1-replicas-01', '--log-level', 'error'],
        ...['--state-dir', join(workDir, 'agent')],
      ],
      { stdio: 'ignore', env: { ...process.env, VMCLOUD_JOIN_TOKEN: hostToken.body.secret } },
    );
    const heartbeatMs = async () => {
      const rows = await database.query<{ last_heartbeat_at: string | null; health: string }>(
        `select last_heartbeat_at, health from hosts where name = 'fra1-replicas-01'`,
      );
      return rows[0]?.last_heartbeat_at ? Date.parse(rows[0].last_heartbeat_at) : 0;
    };
    const joinedMs = await until('the agent joined', async () => heartbeatMs(), 60_000);
    await until('the agent registered and heartbeating', async () => (await heartbeatMs()) > joinedMs, 60_000);
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (const index of [1, 2]) {
      // A replica killed by an earlier test may still be starting again.
      await until(`replica ${index} up`, () => alive(replicas.replicas().get(index)!.pid), 60_000);
      const victim = replicas.replicas().get(index)!.pid;
      process.kill(victim, 'SIGKILL');
      const killedAtMs = Date.now();
      await until(
        `a heartbeat after replica ${index} was killed`,
        async () => (await heartbeatMs()) > killedAtMs,
        30_000,
      );
      await until(`replica ${index} started again`, () => replicas.replicas().get(index)!.pid !== victim, 60_000);
    }
    const host = (await call(replicas.url, 'GET', '/v1/hosts', operator)).body.hosts.find(
      (h: { name: string }) => h.name === 'fra1-replicas-01',
    );
    assert.equal(host.health, 'up');
  });
});
