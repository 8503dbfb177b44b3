/**
 * Encrypted volumes in the QEMU driver's volume operations, against a fake QMP server and a recording
 * backend: the QMP sequence of a hot-plug (`object-add` of the key's secret before `blockdev-add` with
 * `encrypt.key-secret`, then `device_add`), of an unplug (`object-del` after the nodes closed), the start
 * arguments of a stopped instance's volumes, and resize offline (the backend gets the key) and online
 * (`block_resize`). The key is in no QMP message and no argv; its files are gone once read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../core/log.ts';
import { startFakeQmpServer } from './fake-qmp-server.ts';
import { connectQmp } from './qmp-client.ts';
import type { Runtime } from './instance-runtimes.ts';
import type { VolumeBackend } from './volume-backend.ts';
import { createVolumeOperations, volumePoolDir, volumeQemuNames } from './volumes.ts';
import { localQcow2Backend } from './volume-backend.ts';

const key = 'dm9sdW1lIGtleSBvZiB0aGlydHktdHdvIGJ5dGVzIQ==';
const volumeId = 'vol_01test0000000000000000000a';
const serverId = 'srv_vols';

function recordingBackend(poolDir: string) {
  const calls: { op: string; volumeId: string; sizeBytes?: number; key?: string | null }[] = [];
  const real = localQcow2Backend({ poolDir: '/pool' });
  const backend: VolumeBackend = {
    name: 'recording',
    create: async (id, sizeBytes, k) => {
      await mkdir(poolDir, { recursive: true });
      calls.push({ op: 'create', volumeId: id, sizeBytes, key: k });
    },
    grow: async (id, sizeBytes, k) => void calls.push({ op: 'grow', volumeId: id, sizeBytes, key: k }),
    remove: async (id) => void calls.push({ op: 'remove', volumeId: id }),
    exists: async () => true,
    nodes: (id, node, secret) => real.nodes(id, node, secret),
  };
  return { backend, calls };
}

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'vmc-vols-'));
  const secretsDir = join(dir, 'secrets');
  const names = volumeQemuNames(volumeId);
  const keyFileContents: string[] = [];
  const server: Awaited<ReturnType<typeof startFakeQmpServer>> = await startFakeQmpServer(join(dir, 'qmp.sock'), {
    'query-status': () => ({ return: { status: 'running', running: true } }),
    'object-add': (args) => {
      keyFileContents.push(readFileSync(String(args?.file), 'utf8'));
      return { return: {} };
    },
    'object-del': (args) =>
      args?.id === names.secret && keyFileContents.length > 0
        ? { return: {} }
        : { error: { class: 'GenericError', desc: `object '${String(args?.id)}' not found` } },
    'blockdev-add': () => ({ return: {} }),
    'blockdev-del': () => ({ return: {} }),
    device_add: () => ({ return: {} }),
    device_del: (args) => {
      setTimeout(() => server.emitEvent('DEVICE_DELETED', { device: args?.id }), 5);
      return { return: {} };
    },
    block_resize: () => ({ return: {} }),
  });
  const qmp = await connectQmp(join(dir, 'qmp.sock'));
  const runtime: Runtime = { serverId, pid: process.pid, qmp, console: null };
  let running = true;
  const { backend, calls } = recordingBackend(volumePoolDir(dir));
  const make = () =>
    createVolumeOperations({
      stateDir: dir,
      backend,
      log: silentLogger,
      withLock: (_id, body) => body(),
      hasInstance: async () => true,
      runtimeOf: async () => (running ? runtime : null),
      secretsDir,
    });
  return {
    dir,
    secretsDir,
    names,
    server,
    calls,
    keyFileContents,
    make,
    setRunning: (value: boolean) => (running = value),
    close: async () => {
      qmp.close();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

test('encrypted volumes: created under their key, hot-plugged with a secret object, unplugged, grown', async () => {
  const t = await setup();
  try {
    const ops = t.make();
    await assert.rejects(ops.create(volumeId, 1), /no key in the desired state/);
    ops.learn([{ volumeId, key }]);
    await ops.create(volumeId, 1);
    assert.deepEqual(t.calls[0], { op: 'create', volumeId, sizeBytes: 1024 ** 3, key });
    assert.deepEqual(await ops.list(), [{ volumeId, sizeGiB: 1, serverId: null }], 'drivers report no extra field');
    assert.equal(await ops.encrypted(volumeId), true);
    assert.ok(!(await readFile(join(volumePoolDir(t.dir), `${volumeId}.json`), 'utf8')).includes(key));

    // Offline growth: the backend (qemu-img resize --object secret) gets the key.
    t.setRunning(false);
    await ops.resize(volumeId, 2);
    assert.deepEqual(t.calls[1], { op: 'grow', volumeId, sizeBytes: 2 * 1024 ** 3, key });

    // Hot-plug into the running guest.
    t.setRunning(true);
    await ops.attach(volumeId, serverId);
    const sequence = t.server.received.filter((c) => c.execute !== 'query-status');
    assert.deepEqual(
      sequence.map((c) => c.execute),
      ['object-del', 'object-add', 'blockdev-add', 'blockdev-add', 'device_add'],
    );
    const objectAdd = sequence[1].arguments!;
    assert.equal(objectAdd['qom-type'], 'secret');
    assert.equal(objectAdd.id, t.names.secret);
    assert.deepEqual(t.keyFileContents, [key], 'QEMU read the key from the file named in object-add');
    assert.deepEqual(sequence[3].arguments!.encrypt, { format: 'luks', 'key-secret': t.names.secret });
    assert.equal(sequence[3].arguments!['node-name'], t.names.node);
    assert.ok(!JSON.stringify(t.server.received).includes(key), 'the key is in no QMP message');
    assert.deepEqual(await readdir(t.secretsDir), [], 'the key file is gone once QEMU read it');

    // Online growth: block_resize on the qcow2 node.
    const before = t.server.received.length;
    await ops.resize(volumeId, 3);
    assert.deepEqual(
      t.server.received
        .slice(before)
        .filter((c) => c.execute !== 'query-status')
        .map((c) => [c.execute, c.arguments]),
      [['block_resize', { 'node-name': t.names.node, size: 3 * 1024 ** 3 }]],
    );
    assert.equal(t.calls.length, 2, 'no offline growth while plugged');

    // Unplug: device_del, the guest releases it, the nodes close, then the secret goes.
    const mark = t.server.received.length;
    await ops.detach(volumeId);
    assert.deepEqual(
      t.server.received
        .slice(mark)
        .filter((c) => c.execute !== 'query-status')
        .map((c) => [c.execute, c.arguments?.id ?? c.arguments?.['node-name']]),
      [
        ['device_del', t.names.device],
        ['blockdev-del', t.names.node],
        ['blockdev-del', `${t.names.node}f`],
        ['object-del', t.names.secret],
      ],
    );

    // A stopped instance gets the volume at its next start: a secret object read from a 0600 file.
    t.setRunning(false);
    await ops.attach(volumeId, serverId);
    const start = await ops.startArgs(serverId);
    try {
      const objectAt = start.args.indexOf('-object');
      assert.match(start.args[objectAt + 1], new RegExp(`^secret,id=${t.names.secret},file=`));
      assert.equal(start.keyFiles.length, 1);
      assert.equal(await readFile(start.keyFiles[0].path, 'utf8'), key);
      const blockdevs = start.args.filter((_, i) => start.args[i - 1] === '-blockdev').map((a) => JSON.parse(a));
      assert.deepEqual(blockdevs[1].encrypt, { format: 'luks', 'key-secret': t.names.secret });
      assert.ok(!start.args.join(' ').includes(key), 'the key is not in argv');
    } finally {
      for (const file of start.keyFiles) await file.remove();
    }
    assert.deepEqual(await readdir(t.secretsDir), []);

    // A new driver (agent restart) that has not yet been given the key refuses to open the volume.
    const restarted = t.make();
    await assert.rejects(restarted.startArgs(serverId), /has not reached this host yet/);
    restarted.learn([{ volumeId, key }]);
    const again = await restarted.startArgs(serverId);
    for (const file of again.keyFiles) await file.remove();
  } finally {
    await t.close();
  }
});
