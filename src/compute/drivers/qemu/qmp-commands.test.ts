import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectQmp, QmpError, type QmpClient } from './qmp-client.ts';
import { startFakeQmpServer, type FakeQmpHandler, type FakeQmpServer } from './fake-qmp-server.ts';
import {
  blockDirtyBitmapRemove,
  blockdevBackup,
  fullBackupWithNewBitmap,
  jobDismiss,
  objectDel,
  queryBlockstats,
  secretObjectAdd,
  queryJobs,
  queryNamedBlockNodes,
  blockdevSnapshotDeleteInternalSync,
  blockdevSnapshotInternalSync,
  cont,
  onQmpEvent,
  qmpCommandNames,
  queryBlock,
  queryCpusFast,
  queryStatus,
  quit,
  stop,
  systemPowerdown,
  systemReset,
  toTypedQmpEvent,
  waitForQmpEvent,
  type TypedQmpEvent,
} from './qmp-commands.ts';

async function withFakeQmp(
  handlers: Record<string, FakeQmpHandler>,
  body: (qmp: QmpClient, fake: FakeQmpServer) => Promise<void>,
) {
  const dir = await mkdtemp(join(tmpdir(), 'vmc-qmpc-'));
  const fake = await startFakeQmpServer(join(dir, 'qmp.sock'), handlers);
  const qmp = await connectQmp(join(dir, 'qmp.sock'));
  try {
    await body(qmp, fake);
  } finally {
    qmp.close();
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const snapshotInfo = {
  id: '1',
  name: 'before',
  'vm-state-size': 0,
  'date-sec': 1767225600,
  'date-nsec': 0,
  'vm-clock-sec': 3,
  'vm-clock-nsec': 5,
};
const blockInfo = {
  device: '',
  qdev: '/machine/peripheral/vd0/virtio-backend',
  type: 'unknown',
  removable: false,
  locked: false,
  inserted: {
    file: 'disk.qcow2',
    'node-name': 'disk0',
    ro: false,
    drv: 'qcow2',
    backing_file_depth: 1,
    encrypted: false,
  },
};

test('one function per QMP command: wire command, arguments and typed result', async (t) => {
  const table: {
    name: string;
    call: (qmp: QmpClient) => Promise<unknown>;
    wire: { execute: string; arguments?: Record<string, unknown> };
    reply: unknown;
    result: unknown;
  }[] = [
    {
      name: 'queryStatus',
      call: (qmp) => queryStatus(qmp),
      wire: { execute: 'query-status' },
      reply: { running: false, status: 'prelaunch' },
      result: { running: false, status: 'prelaunch' },
    },
    {
      name: 'queryCpusFast',
      call: (qmp) => queryCpusFast(qmp),
      wire: { execute: 'query-cpus-fast' },
      reply: [{ 'cpu-index': 0, 'qom-path': '/machine/unattached/device[0]', 'thread-id': 4242, target: 'x86_64' }],
      result: [{ 'cpu-index': 0, 'qom-path': '/machine/unattached/device[0]', 'thread-id': 4242, target: 'x86_64' }],
    },
    {
      name: 'queryBlock',
      call: (qmp) => queryBlock(qmp),
      wire: { execute: 'query-block' },
      reply: [blockInfo],
      result: [blockInfo],
    },
    { name: 'cont', call: (qmp) => cont(qmp), wire: { execute: 'cont' }, reply: {}, result: undefined },
    { name: 'stop', call: (qmp) => stop(qmp), wire: { execute: 'stop' }, reply: {}, result: undefined },
    {
      name: 'systemPowerdown',
      call: (qmp) => systemPowerdown(qmp),
      wire: { execute: 'system_powerdown' },
      reply: {},
      result: undefined,
    },
    {
      name: 'systemReset',
      call: (qmp) => systemReset(qmp),
      wire: { execute: 'system_reset' },
      reply: {},
      result: undefined,
    },
    { name: 'quit', call: (qmp) => quit(qmp), wire: { execute: 'quit' }, reply: {}, result: undefined },
    {
      name: 'blockdevSnapshotInternalSync',
      call: (qmp) => blockdevSnapshotInternalSync(qmp, { device: 'disk0', name: 'before' }),
      wire: { execute: 'blockdev-snapshot-internal-sync', arguments: { device: 'disk0', name: 'before' } },
      reply: {},
      result: undefined,
    },
    {
      name: 'blockdevSnapshotDeleteInternalSync by name',
      call: (qmp) => blockdevSnapshotDeleteInternalSync(qmp, { device: 'disk0', name: 'before' }),
      wire: { execute: 'blockdev-snapshot-delete-internal-sync', arguments: { device: 'disk0', name: 'before' } },
      reply: snapshotInfo,
      result: snapshotInfo,
    },
    {
      name: 'blockdevSnapshotDeleteInternalSync by id',
      call: (qmp) => blockdevSnapshotDeleteInternalSync(qmp, { device: 'disk0', id: '1' }),
      wire: { execute: 'blockdev-snapshot-delete-internal-sync', arguments: { device: 'disk0', id: '1' } },
      reply: snapshotInfo,
      result: snapshotInfo,
    },
    {
      name: 'queryNamedBlockNodes',
      call: (qmp) => queryNamedBlockNodes(qmp),
      wire: { execute: 'query-named-block-nodes', arguments: { flat: true } },
      reply: [{ 'node-name': 'disk0', 'dirty-bitmaps': [{ name: 'vmc-backup', count: 65536 }] }],
      result: [{ 'node-name': 'disk0', 'dirty-bitmaps': [{ name: 'vmc-backup', count: 65536 }] }],
    },
    {
      name: 'secretObjectAdd (the key stays in the file)',
      call: (qmp) => secretObjectAdd(qmp, 'vk-1', '/run/keys/vk-1'),
      wire: { execute: 'object-add', arguments: { 'qom-type': 'secret', id: 'vk-1', file: '/run/keys/vk-1' } },
      reply: {},
      result: undefined,
    },
    {
      name: 'objectDel',
      call: (qmp) => objectDel(qmp, 'vk-1'),
      wire: { execute: 'object-del', arguments: { id: 'vk-1' } },
      reply: {},
      result: undefined,
    },
    {
      name: 'queryBlockstats',
      call: (qmp) => queryBlockstats(qmp),
      wire: { execute: 'query-blockstats' },
      reply: [
        {
          device: '',
          node_name: 'disk0',
          stats: { rd_bytes: 4096, wr_bytes: 512, rd_operations: 1, wr_operations: 1 },
        },
      ],
      result: [
        {
          device: '',
          node_name: 'disk0',
          stats: { rd_bytes: 4096, wr_bytes: 512, rd_operations: 1, wr_operations: 1 },
        },
      ],
    },
    {
      name: 'queryJobs',
      call: (qmp) => queryJobs(qmp),
      wire: { execute: 'query-jobs' },
      reply: [{ id: 'j1', type: 'backup', status: 'running', 'current-progress': 5, 'total-progress': 10 }],
      result: [{ id: 'j1', type: 'backup', status: 'running', 'current-progress': 5, 'total-progress': 10 }],
    },
    {
      name: 'jobDismiss',
      call: (qmp) => jobDismiss(qmp, 'j1'),
      wire: { execute: 'job-dismiss', arguments: { id: 'j1' } },
      reply: {},
      result: undefined,
    },
    {
      name: 'blockDirtyBitmapRemove',
      call: (qmp) => blockDirtyBitmapRemove(qmp, 'disk0', 'vmc-backup'),
      wire: { execute: 'block-dirty-bitmap-remove', arguments: { node: 'disk0', name: 'vmc-backup' } },
      reply: {},
      result: undefined,
    },
    {
      name: 'blockdevBackup (incremental)',
      call: (qmp) =>
        blockdevBackup(qmp, {
          'job-id': 'j1',
          device: 'disk0',
          target: 'scratch',
          sync: 'incremental',
          bitmap: 'vmc-backup',
          'bitmap-mode': 'on-success',
          'auto-dismiss': false,
        }),
      wire: {
        execute: 'blockdev-backup',
        arguments: {
          'job-id': 'j1',
          device: 'disk0',
          target: 'scratch',
          sync: 'incremental',
          bitmap: 'vmc-backup',
          'bitmap-mode': 'on-success',
          'auto-dismiss': false,
        },
      },
      reply: {},
      result: undefined,
    },
    {
      name: 'fullBackupWithNewBitmap (one transaction)',
      call: (qmp) =>
        fullBackupWithNewBitmap(
          qmp,
          { node: 'disk0', name: 'vmc-backup', granularity: 1048576 },
          { 'job-id': 'j1', device: 'disk0', target: 'scratch', sync: 'full', 'auto-dismiss': false },
        ),
      wire: {
        execute: 'transaction',
        arguments: {
          actions: [
            {
              type: 'block-dirty-bitmap-add',
              data: { node: 'disk0', name: 'vmc-backup', granularity: 1048576, persistent: true },
            },
            {
              type: 'blockdev-backup',
              data: { 'job-id': 'j1', device: 'disk0', target: 'scratch', sync: 'full', 'auto-dismiss': false },
            },
          ],
        },
      },
      reply: {},
      result: undefined,
    },
  ];
  for (const row of table) {
    await t.test(row.name, () =>
      withFakeQmp({ [row.wire.execute]: () => ({ return: row.reply }) }, async (qmp, fake) => {
        assert.deepEqual(await row.call(qmp), row.result);
        assert.deepEqual(fake.received, [row.wire]);
      }),
    );
  }
});

test('every command name of the module is one the functions send', () => {
  assert.deepEqual(Object.values(qmpCommandNames).sort(), [
    'block-dirty-bitmap-remove',
    'block_resize',
    'blockdev-add',
    'blockdev-backup',
    'blockdev-del',
    'blockdev-snapshot-delete-internal-sync',
    'blockdev-snapshot-internal-sync',
    'cont',
    'device_add',
    'device_del',
    'job-dismiss',
    'netdev_add',
    'netdev_del',
    'object-add',
    'object-del',
    'query-block',
    'query-blockstats',
    'query-cpus-fast',
    'query-jobs',
    'query-named-block-nodes',
    'query-status',
    'quit',
    'stop',
    'system_powerdown',
    'system_reset',
    'transaction',
  ]);
});

test('an error reply rejects with the QmpError of the command', () =>
  withFakeQmp(
    {
      [qmpCommandNames.blockdevSnapshotInternalSync]: () => ({
        error: { class: 'GenericError', desc: 'Snapshot with name before already exists' },
      }),
    },
    async (qmp) => {
      await assert.rejects(blockdevSnapshotInternalSync(qmp, { device: 'disk0', name: 'before' }), (error) => {
        assert.ok(error instanceof QmpError);
        assert.equal(error.command, 'blockdev-snapshot-internal-sync');
        assert.equal(error.errorClass, 'GenericError');
        return true;
      });
    },
  ));

test('toTypedQmpEvent', async (t) => {
  const timestamp = { seconds: 1, microseconds: 2 };
  const table: [string, { event: string; data: Record<string, unknown> }, TypedQmpEvent | null][] = [
    [
      'guest shutdown',
      { event: 'SHUTDOWN', data: { guest: true, reason: 'guest-shutdown' } },
      { event: 'SHUTDOWN', data: { guest: true, reason: 'guest-shutdown' }, timestamp },
    ],
    [
      'quit',
      { event: 'SHUTDOWN', data: { guest: false, reason: 'host-qmp-quit' } },
      { event: 'SHUTDOWN', data: { guest: false, reason: 'host-qmp-quit' }, timestamp },
    ],
    [
      'shutdown with an unknown cause',
      { event: 'SHUTDOWN', data: { reason: 'martian' } },
      { event: 'SHUTDOWN', data: { guest: false, reason: 'none' }, timestamp },
    ],
    [
      'reset',
      { event: 'RESET', data: { guest: false, reason: 'host-qmp-system-reset' } },
      { event: 'RESET', data: { guest: false, reason: 'host-qmp-system-reset' }, timestamp },
    ],
    ['powerdown', { event: 'POWERDOWN', data: {} }, { event: 'POWERDOWN', data: {}, timestamp }],
    ['stop', { event: 'STOP', data: {} }, { event: 'STOP', data: {}, timestamp }],
    ['resume', { event: 'RESUME', data: {} }, { event: 'RESUME', data: {}, timestamp }],
    [
      'panic with info',
      { event: 'GUEST_PANICKED', data: { action: 'pause', info: { type: 'hyper-v' } } },
      { event: 'GUEST_PANICKED', data: { action: 'pause', info: { type: 'hyper-v' } }, timestamp },
    ],
    [
      'panic without action',
      { event: 'GUEST_PANICKED', data: {} },
      { event: 'GUEST_PANICKED', data: { action: 'pause' }, timestamp },
    ],
    ['an event the driver does not use', { event: 'RTC_CHANGE', data: { offset: 1 } }, null],
  ];
  for (const [name, raw, expected] of table) {
    await t.test(name, () => assert.deepEqual(toTypedQmpEvent({ ...raw, timestamp }), expected));
  }
});

test('typed events reach listeners and waitForQmpEvent; unused events are filtered out', () => {
  const holder: { fake?: FakeQmpServer } = {};
  return withFakeQmp(
    {
      [qmpCommandNames.systemPowerdown]: () => {
        setImmediate(() => {
          holder.fake?.emitEvent('RTC_CHANGE', { offset: 1 });
          holder.fake?.emitEvent('POWERDOWN');
          holder.fake?.emitEvent('SHUTDOWN', { guest: false, reason: 'host-signal' });
          holder.fake?.emitEvent('SHUTDOWN', { guest: true, reason: 'guest-shutdown' });
        });
        return { return: {} };
      },
    },
    async (qmp, fake) => {
      holder.fake = fake;
      const seen: string[] = [];
      const unsubscribe = onQmpEvent(qmp, (event) => seen.push(event.event));
      const guestShutdown = waitForQmpEvent(qmp, 'SHUTDOWN', 5000, (data) => data.guest);
      await systemPowerdown(qmp);
      const event = await guestShutdown;
      assert.deepEqual(event.data, { guest: true, reason: 'guest-shutdown' });
      assert.deepEqual(seen, ['POWERDOWN', 'SHUTDOWN', 'SHUTDOWN']);
      unsubscribe();
    },
  );
});

test('outside qmp-commands.ts and the QMP client, the driver spells no QMP command name', async () => {
  const dir = new URL('.', import.meta.url).pathname;
  const allowed = new Set(['qmp-commands.ts', 'qmp-client.ts']);
  const files = (await readdir(dir, { recursive: true })).filter(
    (file) => file.endsWith('.ts') && !file.endsWith('.test.ts') && !allowed.has(file),
  );
  const offenders: string[] = [];
  const commandNames = Object.values(qmpCommandNames);
  for (const file of files) {
    const text = await readFile(join(dir, file), 'utf8');
    if (/\.execute\s*[<(]/.test(text)) offenders.push(`${file}: calls execute()`);
    for (const name of commandNames) if (text.includes(`'${name}'`)) offenders.push(`${file}: '${name}'`);
  }
  assert.deepEqual(offenders, []);
});
