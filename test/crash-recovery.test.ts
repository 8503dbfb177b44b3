import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServeProcess, stopProcess, readCliConfig } from './serve-process.ts';

async function api(url: string, token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: (await response.json().catch(() => null)) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

test('serve: first start prints and saves a token; kill -9 mid-action loses nothing and the action finishes after restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmcloud-crash-'));
  const env = {
    VMCLOUD_DATA_DIR: join(dir, 'data'),
    VMCLOUD_CONFIG: join(dir, 'cli.json'),
    PORT: '0',
    LOG_LEVEL: 'warn',
  };
  try {
    const first = await startServeProcess([], env);
    assert.match(first.output(), /project owner token: vmc_/);
    const config = readCliConfig(env.VMCLOUD_CONFIG);
    assert.equal(statSync(env.VMCLOUD_CONFIG).mode & 0o777, 0o600);
    const token = config.profiles.default.token!;
    const created = await api(first.url, token, 'POST', '/v1/servers', {
      name: 'survivor',
      product: 'vps-business',
      region: 'par1',
      image: 'rocky-9',
    });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    const running = await api(first.url, token, 'POST', '/v1/servers', {
      name: 'early',
      product: 'vps-nano',
      region: 'par1',
      image: 'debian-12',
    });
    assert.equal(created.body.action.status, 'running');
    await stopProcess(first.child, 'SIGKILL');

    const second = await startServeProcess([], env);
    assert.doesNotMatch(second.output(), /project owner token/, 'the token is printed once, on the first start only');
    const deadline = Date.now() + 20_000;
    let action;
    do {
      action = (await api(second.url, token, 'GET', `/v1/actions/${created.body.action.id}`)).body.action;
      if (action.status !== 'running') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    } while (Date.now() < deadline);
    assert.equal(action.status, 'success');
    const servers = (await api(second.url, token, 'GET', '/v1/servers')).body.servers;
    assert.deepEqual(servers.map((s: { name: string }) => s.name).sort(), ['early', 'survivor']);
    const survivor = servers.find((s: { name: string }) => s.name === 'survivor');
    assert.equal(survivor.status, 'running');
    assert.ok(running.body.server.id);
    await stopProcess(second.child);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
