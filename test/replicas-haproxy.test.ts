/**
 * The HAProxy sample of docs/operations.md in front of two replicas (real processes, real HTTP): requests
 * and the console WebSocket pass through, and requests keep succeeding when a replica is killed (health
 * checks, retries on another replica). Needs PostgreSQL and the `haproxy` binary (Debian: apt install
 * haproxy); skipped without them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { until } from './helpers.ts';
import {
  call,
  createTestDatabase,
  startReplicasProcess,
  type ReplicasProcess,
  type TestDatabase,
} from './replicas-process.ts';

const root = new URL('..', import.meta.url).pathname;
const adminUrl = process.env.TEST_DATABASE_URL;
const haproxy = spawnSync('haproxy', ['-v']).status === 0;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The documented configuration, with this machine's addresses in place of the sample's. */
function haproxyConfigFromDocs(input: {
  apiPort: number;
  agentPort: number;
  replicas: Array<{ api: number; agent: number }>;
}): string {
  const doc = readFileSync(join(root, 'docs/operations.md'), 'utf8');
  const sample = /# \/etc\/haproxy\/haproxy\.cfg\n([\s\S]*?)```/.exec(doc)![1];
  const servers = (port: 'api' | 'agent', options: string) =>
    input.replicas.map((r, i) => `    server cp${i + 1} 127.0.0.1:${r[port]} ${options}`).join('\n');
  return sample
    .replace(/bind :443 .*/, `bind 127.0.0.1:${input.apiPort}`)
    .replace(/bind :8443/, `bind 127.0.0.1:${input.agentPort}`)
    .replace(/( {4}server cp\d 10\.0\.0\.1\d:8080 .*\n)+/, `${servers('api', 'check inter 1s fall 2 rise 2')}\n`)
    .replace(/( {4}server cp\d 10\.0\.0\.1\d:8443 .*\n)+/, `${servers('agent', 'check inter 1s')}\n`);
}

describe(
  'the documented HAProxy configuration in front of two replicas',
  {
    skip: (!adminUrl && 'needs TEST_DATABASE_URL') || (!haproxy && 'needs haproxy (apt install haproxy)'),
  },
  () => {
    let database: TestDatabase;
    let replicas: ReplicasProcess;
    let proxy: ChildProcess;
    let workDir: string;
    let owner: string;
    let url: string;

    before(async () => {
      database = await createTestDatabase(adminUrl!);
      workDir = mkdtempSync(join(tmpdir(), 'vmcloud-haproxy-'));
      replicas = await startReplicasProcess(2, ['--log-level', 'warn', '--sim-speed', '50', '--rate-limit', '0'], {
        DATABASE_URL: database.url,
        VMCLOUD_DATA_DIR: join(workDir, 'data'),
        VMCLOUD_CONFIG: join(workDir, 'config.json'),
      });
      owner = JSON.parse(readFileSync(join(workDir, 'config.json'), 'utf8')).profiles.default.token;
      const agentPorts = [
        ...replicas.output().matchAll(/^\[r(\d)\] Agent listener \(mutual TLS\) on https:\/\/[^:]+:(\d+);/gm),
      ];
      const members = [...replicas.replicas().values()]
        .sort((x, y) => x.index - y.index)
        .map((r) => ({
          api: Number(new URL(r.url).port),
          agent: Number(agentPorts.find((m) => Number(m[1]) === r.index)![2]),
        }));
      const apiPort = await freePort();
      const config = haproxyConfigFromDocs({ apiPort, agentPort: await freePort(), replicas: members });
      writeFileSync(join(workDir, 'haproxy.cfg'), config);
      const check = spawnSync('haproxy', ['-c', '-f', join(workDir, 'haproxy.cfg')], { encoding: 'utf8' });
      assert.equal(check.status, 0, check.stdout + check.stderr);
      proxy = spawn('haproxy', ['-db', '-f', join(workDir, 'haproxy.cfg')], { stdio: ['ignore', 'pipe', 'pipe'] });
      let proxyOutput = '';
      proxy.stdout!.on('data', (chunk: Buffer) => (proxyOutput += chunk.toString()));
      proxy.stderr!.on('data', (chunk: Buffer) => (proxyOutput += chunk.toString()));
      url = `http://127.0.0.1:${apiPort}`;
      await until(
        'HAProxy answering',
        async () => (await call(url, 'GET', '/healthz', null).catch(() => null))?.status === 200,
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${config}\n${proxyOutput}`);
      });
    });

    after(async () => {
      proxy?.kill('SIGTERM');
      await replicas?.stop();
      await database?.drop();
      if (workDir) rmSync(workDir, { recursive: true, force: true });
    });

    test('requests and the console WebSocket pass through', async () => {
      const created = await call(url, 'POST', '/v1/servers', owner, {
        body: { name: 'via-haproxy', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
        headers: { 'idempotency-key': 'via-haproxy-1' },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      const id = created.body.server.id as string;
      await until(
        'running',
        async () => (await call(url, 'GET', `/v1/servers/${id}`, owner)).body.server.status === 'running',
      );
      const ticket = await call(url, 'POST', `/v1/servers/${id}/console`, owner, { body: {} });
      assert.equal(ticket.status, 201);
      const status = await new Promise<number>((resolve, reject) => {
        const socket = new WebSocket(url.replace(/^http/, 'ws') + ticket.body.url);
        socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
        socket.on('open', () => resolve(101));
        socket.on('error', (error) => {
          if (!/Unexpected server response/.test(error.message)) reject(error);
        });
      });
      assert.equal(status, 503, 'the ticket reached a replica (a simulated host has no console to open)');
    });

    test('a replica killed (kill -9): every following request still succeeds', async () => {
      process.kill(replicas.replicas().get(1)!.pid, 'SIGKILL');
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) statuses.push((await call(url, 'GET', '/v1/regions', owner)).status);
      assert.deepEqual(
        statuses.filter((s) => s !== 200),
        [],
        'HAProxy retries a refused connection on the other replica',
      );
    });
  },
);
