import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VmcError } from '../core/errors.ts';
import { configPath, loadProfile, saveProfile, useProfile } from './config.ts';

async function tempDir(t: { after(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'vmcloud-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('configPath: VMCLOUD_CONFIG, then XDG_CONFIG_HOME, then ~/.config', () => {
  assert.equal(configPath({ VMCLOUD_CONFIG: '/etc/x.json', XDG_CONFIG_HOME: '/xdg', HOME: '/home/a' }), '/etc/x.json');
  assert.equal(configPath({ XDG_CONFIG_HOME: '/xdg', HOME: '/home/a' }), '/xdg/vmcloud/config.json');
  assert.equal(configPath({ HOME: '/home/a' }), '/home/a/.config/vmcloud/config.json');
});

test('saveProfile writes the file with mode 0600 in a new directory, first profile becomes current', async (t) => {
  const dir = await tempDir(t);
  const env = { XDG_CONFIG_HOME: join(dir, 'xdg') };
  const path = await saveProfile({ name: 'default', url: 'http://localhost:8080/', token: 'vmc_first' }, env);
  assert.equal(path, join(dir, 'xdg', 'vmcloud', 'config.json'));
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.equal((await stat(join(dir, 'xdg', 'vmcloud'))).mode & 0o777, 0o700);
  assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), {
    current: 'default',
    profiles: { default: { url: 'http://localhost:8080', token: 'vmc_first' } },
  });
});

test('saveProfile keeps other profiles and switches current only when asked', async (t) => {
  const dir = await tempDir(t);
  const env = { VMCLOUD_CONFIG: join(dir, 'config.json') };
  await saveProfile({ name: 'default', url: 'http://a', token: 'vmc_a' }, env);
  await saveProfile({ name: 'prod', url: 'https://b', token: 'vmc_b' }, env);
  let config = JSON.parse(await readFile(env.VMCLOUD_CONFIG, 'utf8'));
  assert.equal(config.current, 'default');
  assert.deepEqual(Object.keys(config.profiles), ['default', 'prod']);
  await saveProfile({ name: 'prod', url: 'https://b', token: 'vmc_b2', makeCurrent: true }, env);
  config = JSON.parse(await readFile(env.VMCLOUD_CONFIG, 'utf8'));
  assert.equal(config.current, 'prod');
  assert.equal(config.profiles.prod.token, 'vmc_b2');
});

test('saveProfile tightens a file that was world readable', async (t) => {
  const dir = await tempDir(t);
  const env = { VMCLOUD_CONFIG: join(dir, 'config.json') };
  await writeFile(env.VMCLOUD_CONFIG, '{"current":null,"profiles":{}}', { mode: 0o644 });
  await saveProfile({ name: 'default', url: 'http://a', token: 'vmc_a' }, env);
  assert.equal((await stat(env.VMCLOUD_CONFIG)).mode & 0o777, 0o600);
});

test('loadProfile: current profile, then env, then flags win', async (t) => {
  const dir = await tempDir(t);
  const env: Record<string, string | undefined> = { VMCLOUD_CONFIG: join(dir, 'config.json') };
  await saveProfile({ name: 'default', url: 'http://a', token: 'vmc_a' }, env);
  await saveProfile({ name: 'prod', url: 'https://b', token: 'vmc_b' }, env);

  let p = await loadProfile(undefined, env);
  assert.deepEqual(
    [p.name, p.url, p.token, p.stored, p.sources],
    ['default', 'http://a', 'vmc_a', true, { url: 'profile', token: 'profile' }],
  );

  p = await loadProfile('prod', env);
  assert.deepEqual([p.name, p.url, p.token], ['prod', 'https://b', 'vmc_b']);

  p = await loadProfile(undefined, {
    ...env,
    VMCLOUD_PROFILE: 'prod',
    VMCLOUD_URL: 'http://env',
    VMCLOUD_TOKEN: 'vmc_env',
  });
  assert.deepEqual(
    [p.name, p.url, p.token, p.sources],
    ['prod', 'http://env', 'vmc_env', { url: 'env', token: 'env' }],
  );

  p = await loadProfile(undefined, { ...env, VMCLOUD_TOKEN: 'vmc_env' }, { url: 'http://flag/', token: 'vmc_flag' });
  assert.deepEqual([p.url, p.token, p.sources], ['http://flag', 'vmc_flag', { url: 'flag', token: 'flag' }]);
});

test('loadProfile without a config file: default URL, no token', async (t) => {
  const dir = await tempDir(t);
  const p = await loadProfile(undefined, { VMCLOUD_CONFIG: join(dir, 'missing.json') });
  assert.deepEqual([p.name, p.url, p.token, p.stored], ['default', 'http://localhost:8080', undefined, false]);
});

test('an unknown named profile is not_found; a malformed file is invalid', async (t) => {
  const dir = await tempDir(t);
  const env = { VMCLOUD_CONFIG: join(dir, 'config.json') };
  await saveProfile({ name: 'default', url: 'http://a', token: 'vmc_a' }, env);
  await assert.rejects(
    loadProfile('staging', env),
    (e: unknown) => e instanceof VmcError && e.code === 'not_found' && /known profiles: default/.test(e.message),
  );
  await assert.rejects(useProfile('staging', env), (e: unknown) => e instanceof VmcError && e.code === 'not_found');
  await writeFile(env.VMCLOUD_CONFIG, '{ nope');
  await assert.rejects(loadProfile(undefined, env), (e: unknown) => e instanceof VmcError && e.code === 'invalid');
});
