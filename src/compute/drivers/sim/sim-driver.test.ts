import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSimDriver } from './sim-driver.ts';
import type { InstanceSpec } from '../driver.ts';

const fast = { startMs: 1, stopMs: 1, forcedStopMs: 1, rebootMs: 1, destroyMs: 1 };
const spec = (serverId: string, image = 'debian-12'): InstanceSpec => ({ serverId, hostname: serverId, vcpus: 2, memoryMiB: 2048, diskGiB: 20, image, threads: [2, 66], numaNodes: [0], gpus: [], vfs: [], sshKeys: [], userData: null, ipv4: null });

test('sim driver: start, reboot, stop, destroy', async () => {
  const driver = createSimDriver({ delays: fast });
  await driver.start(spec('s1'), 0);
  assert.deepEqual(await driver.list(), [{ serverId: 's1', power: 'running', rebootGeneration: 0 }]);
  await driver.reboot('s1', 1);
  assert.equal((await driver.list())[0].rebootGeneration, 1);
  await driver.stop('s1', { gracefulTimeoutMs: 1000 });
  assert.equal((await driver.list())[0].power, 'stopped');
  await driver.destroy('s1');
  assert.deepEqual(await driver.list(), []);
});

test('sim driver: failing image crashes; state survives a new driver on the same file', async () => {
  const stateFile = join(mkdtempSync(join(tmpdir(), 'sim-')), 'host.json');
  const first = createSimDriver({ delays: fast, stateFile, failingImages: ['broken'] });
  await first.start(spec('ok'), 0);
  await first.start(spec('bad', 'broken'), 0);
  await first.close();
  const second = createSimDriver({ delays: fast, stateFile });
  const seen = Object.fromEntries((await second.list()).map((i) => [i.serverId, i.power]));
  assert.deepEqual(seen, { ok: 'running', bad: 'crashed' });
});
