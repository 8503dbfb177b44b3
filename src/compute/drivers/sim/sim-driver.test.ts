import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDriverConformance } from '../conformance.ts';
import { createSimDriver } from './sim-driver.ts';
import type { InstanceSpec } from '../driver.ts';

const fast = { startMs: 1, stopMs: 1, forcedStopMs: 1, rebootMs: 1, destroyMs: 1 };
const spec = (serverId: string, image = 'debian-12'): InstanceSpec => ({
  serverId,
  hostname: serverId,
  vcpus: 2,
  memoryMiB: 2048,
  diskGiB: 20,
  image,
  threads: [2, 66],
  numaNodes: [0],
  gpus: [],
  vfs: [],
  sshKeys: [],
  userData: null,
  ipv4: null,
});

runDriverConformance(
  'sim',
  (stateDir) =>
    createSimDriver({ delays: fast, stateFile: join(stateDir, 'host.json'), missingImages: ['no-such-image'] }),
  {
    spec: (serverId) => spec(serverId),
    missingImage: 'no-such-image',
    crash: async (driver, serverId) => driver.simulate.crash(serverId),
    ignorePowerButton: async (driver, serverId) => driver.simulate.ignorePowerButton(serverId),
    lastStop: async (driver, serverId) => driver.lastStop(serverId),
    guestVolumes: async (driver, serverId) =>
      driver.guestVolumes(serverId).map((v) => ({ volumeId: v.volumeId, sizeBytes: v.sizeGiB * 1024 ** 3 })),
    disk: async (driver, serverId) => driver.disk(serverId)!,
    caseTimeoutMs: 10_000,
  },
);

test('sim driver: a failing image crashes at boot; the crash survives a new driver on the same file', async () => {
  const stateFile = join(mkdtempSync(join(tmpdir(), 'sim-')), 'host.json');
  const first = createSimDriver({ delays: fast, stateFile, failingImages: ['broken'] });
  await first.start(spec('ok'), 0);
  await first.start(spec('bad', 'broken'), 0);
  await first.close();
  const second = createSimDriver({ delays: fast, stateFile });
  assert.deepEqual(
    (await second.list()).map((i) => [i.serverId, i.power, i.detail]),
    [
      ['ok', 'running', undefined],
      ['bad', 'crashed', 'simulated boot failure'],
    ],
  );
});
