import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { testDialects } from '../src/db/test-helpers.ts';
import { startTestControlPlane, until } from './helpers.ts';
import { stopProcess } from './serve-process.ts';

const root = new URL('..', import.meta.url).pathname;

function startAgent(args: string[]): ChildProcess {
  return spawn(process.execPath, [join(root, 'bin/vmcloud.ts'), 'agent', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}


for (const dialect of testDialects()) {
  test(`a real agent process over HTTP: registers, runs servers, is marked down when it dies and re-attaches (${dialect})`, async () => {
    const t = await startTestControlPlane(dialect, { fleet: 'none', hostDownAfterMs: 7000 });
    let agent: ChildProcess | null = null;
    try {
      const hostToken = await t.call('POST', '/v1/host-tokens', { token: t.secrets.operatorToken, body: { name: 'agent-test' } });
      assert.equal(hostToken.status, 201);
      const args = ['--control-plane', t.url, '--token', hostToken.body.secret, '--region', 'fra1', '--driver', 'sim', '--name', 'fra1-metal-01', '--state-dir', join(t.dataDir, 'agent'), '--log-level', 'error'];
      agent = startAgent(args);
      const host = await until('registration', async () => (await t.call('GET', '/v1/hosts', { token: t.secrets.operatorToken })).body.hosts.find((h: { name: string }) => h.name === 'fra1-metal-01'));
      assert.equal(host.driver, 'sim');
      assert.equal(host.topology.threads, 128);
      await t.cp.services.scheduler.reload();

      const created = await t.call('POST', '/v1/servers', { body: { name: 'on-metal', product: 'vps-performance', region: 'fra1', image: 'debian-12' } });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      assert.equal((await t.waitForAction(created.body.action.id)).status, 'success');

      const customerToken = await t.call('GET', '/v1/agent/hosts/' + host.id + '/desired');
      assert.equal(customerToken.status, 403, 'agent routes refuse project tokens');
      const otherHost = await t.call('POST', '/v1/agent/hosts/host_other/heartbeat', { token: hostToken.body.secret });
      assert.equal(otherHost.status, 403, 'a host token speaks for its own host only');

      await stopProcess(agent, 'SIGKILL');
      await until('host down', async () => (await t.call('GET', `/v1/hosts/${host.id}`, { token: t.secrets.operatorToken })).body.host.health === 'down');
      const unknown = await until('server unknown', async () => {
        const server = (await t.call('GET', `/v1/servers/${created.body.server.id}`)).body.server;
        return server.status === 'unknown' ? server : null;
      });
      assert.equal(unknown.desired_state, 'running', 'not lost: still wanted running');
      const refused = await t.call('POST', '/v1/servers', { body: { name: 'while-down', product: 'vps-nano', region: 'fra1', image: 'debian-12' } });
      assert.equal(refused.status, 409, 'a down host takes no new servers');
      assert.match(refused.body.detail, /down/);

      agent = startAgent(args);
      await until('host up', async () => (await t.call('GET', `/v1/hosts/${host.id}`, { token: t.secrets.operatorToken })).body.host.health === 'up');
      await until('server running again', async () => (await t.call('GET', `/v1/servers/${created.body.server.id}`)).body.server.status === 'running');
      const hosts = (await t.call('GET', '/v1/hosts', { token: t.secrets.operatorToken })).body.hosts;
      assert.equal(hosts.length, 1, 're-registration reuses the host');
    } finally {
      if (agent) await stopProcess(agent);
      await t.dispose();
    }
  });
}
