/**
 * A real `vmcloud agent` process (sim driver) against a control plane over mutual TLS: it refuses a control
 * plane whose CA is not the fingerprint it was given, joins with a one-time join token from its environment
 * (never its argv), runs servers, is marked down when killed, and re-attaches with its stored certificate
 * without a token.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { testDialects } from '../src/db/test-helpers.ts';
import { startTestControlPlane, until } from './helpers.ts';
import { stopProcess } from './serve-process.ts';

const root = new URL('..', import.meta.url).pathname;

function startAgent(args: string[], env: NodeJS.ProcessEnv): ChildProcess & { stderrText(): string } {
  const child = spawn(process.execPath, [join(root, 'bin/vmcloud.ts'), 'agent', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, VMCLOUD_JOIN_TOKEN: undefined, VMCLOUD_HOST_TOKEN: undefined, ...env },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return Object.assign(child, { stderrText: () => stderr });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

for (const dialect of testDialects()) {
  test(`a real agent process over mutual TLS: refuses a foreign CA, joins once, runs servers, goes down when killed, re-attaches without a token (${dialect})`, async () => {
    const t = await startTestControlPlane(dialect, { fleet: 'none', hostDownAfterMs: 7000 });
    const agentUrl = await t.cp.agentListener.listen({ host: '127.0.0.1', port: 0 });
    let agent: (ChildProcess & { stderrText(): string }) | null = null;
    try {
      const hostToken = await t.call('POST', '/v1/host-tokens', {
        token: t.secrets.operatorToken,
        body: { name: 'agent-test' },
      });
      assert.equal(hostToken.status, 201, JSON.stringify(hostToken.body));
      assert.equal(hostToken.body.ca_sha256, t.cp.hostTrust.caFingerprintSha256);
      assert.match(hostToken.body.ca_sha256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      const stateDir = join(t.dataDir, 'agent');
      const args = (caSha256: string) => [
        '--control-plane',
        agentUrl,
        '--ca-sha256',
        caSha256,
        '--region',
        'fra1',
        '--driver',
        'sim',
        '--name',
        'fra1-metal-01',
        '--state-dir',
        stateDir,
        '--log-level',
        'error',
      ];

      // Another CA than the operator's fingerprint: the agent refuses to join, and the token is still unused.
      const foreign = startAgent(args('AB:'.repeat(31) + 'AB'), { VMCLOUD_JOIN_TOKEN: hostToken.body.secret });
      assert.equal(await exitOf(foreign), 8);
      assert.match(foreign.stderrText(), /has the CA .* not the AB:AB.* refusing to join/);
      assert.equal((await t.call('GET', '/v1/hosts', { token: t.secrets.operatorToken })).body.hosts.length, 0);
      // The old flag is gone: a secret on the command line would show in `ps`.
      const withFlag = startAgent([...args(hostToken.body.secret), '--token', hostToken.body.secret], {});
      assert.equal(await exitOf(withFlag), 2);
      assert.match(withFlag.stderrText(), /--token was removed/);

      agent = startAgent(args(hostToken.body.ca_sha256), { VMCLOUD_JOIN_TOKEN: hostToken.body.secret });
      const host = await until('registration', async () =>
        (await t.call('GET', '/v1/hosts', { token: t.secrets.operatorToken })).body.hosts.find(
          (h: { name: string; health: string }) => h.name === 'fra1-metal-01',
        ),
      );
      const cmdline = readFileSync(`/proc/${agent.pid}/cmdline`, 'utf8');
      assert.ok(cmdline.includes('fra1-metal-01'), 'the agent argv is readable');
      assert.ok(!cmdline.includes(hostToken.body.secret), 'the join token is not in the agent argv');
      assert.ok(!cmdline.includes('vmc_'), 'no token at all in the agent argv');
      assert.equal(host.driver, 'sim');
      assert.equal(host.topology.threads, 128);
      await until('the host API address registered', async () =>
        /^https:\/\/127\.0\.0\.1:\d+$/.test((await t.cp.services.inventory.hostApiOf(host.id))?.address ?? ''),
      );
      assert.equal(statSync(join(stateDir, 'identity', 'host.pem')).mode & 0o777, 0o600);
      assert.equal(statSync(join(stateDir, 'identity')).mode & 0o777, 0o700);
      await t.cp.services.scheduler.reload();

      const created = await t.call('POST', '/v1/servers', {
        body: { name: 'on-metal', product: 'vps-performance', region: 'fra1', image: 'debian-12' },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      assert.equal((await t.waitForAction(created.body.action.id)).status, 'success');

      // The public API no longer serves the agent protocol.
      const onPublicApi = await t.call('POST', `/v1/agent/hosts/${host.id}/heartbeat`, {
        token: t.secrets.operatorToken,
      });
      assert.equal(onPublicApi.status, 404);
      // The join token was consumed by the join: it authenticates nowhere any more.
      const reused = await t.call('GET', '/v1/regions', { token: hostToken.body.secret });
      assert.equal(reused.status, 401);

      await stopProcess(agent, 'SIGKILL');
      await until(
        'host down',
        async () =>
          (await t.call('GET', `/v1/hosts/${host.id}`, { token: t.secrets.operatorToken })).body.host.health === 'down',
      );
      const unknown = await until('server unknown', async () => {
        const server = (await t.call('GET', `/v1/servers/${created.body.server.id}`)).body.server;
        return server.status === 'unknown' ? server : null;
      });
      assert.equal(unknown.desired_state, 'running', 'not lost: still wanted running');
      const refused = await t.call('POST', '/v1/servers', {
        body: { name: 'while-down', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
      });
      assert.equal(refused.status, 409, 'a down host takes no new servers');
      assert.match(refused.body.detail, /down/);

      // Restarted without any token: the stored certificate is enough.
      agent = startAgent(args(hostToken.body.ca_sha256), {});
      await until(
        'host up',
        async () =>
          (await t.call('GET', `/v1/hosts/${host.id}`, { token: t.secrets.operatorToken })).body.host.health === 'up',
      );
      await until(
        'server running again',
        async () => (await t.call('GET', `/v1/servers/${created.body.server.id}`)).body.server.status === 'running',
      );
      const hosts = (await t.call('GET', '/v1/hosts', { token: t.secrets.operatorToken })).body.hosts;
      assert.equal(hosts.length, 1, 're-attaching reuses the host');
      assert.equal((await t.cp.hostTrust.certificates.listForHost(host.id)).length, 1, 'no new certificate');
    } finally {
      if (agent) await stopProcess(agent);
      await t.dispose();
    }
  });
}
