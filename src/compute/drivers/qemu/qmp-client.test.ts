import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectQmp, QmpError } from './qmp-client.ts';
import { startFakeQmpServer } from './fake-qmp-server.ts';

async function withSocketDir(body: (dir: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), 'vmc-qmp-'));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('negotiates capabilities and returns command results matched by id', () =>
  withSocketDir(async (dir) => {
    const path = join(dir, 'qmp.sock');
    const fake = await startFakeQmpServer(path, {
      'query-status': () => ({ return: { status: 'prelaunch', running: false } }),
      'query-cpus-fast': () => ({ return: [{ 'cpu-index': 0, 'thread-id': 101 }] }),
    });
    const qmp = await connectQmp(path);
    assert.equal(qmp.greeting.version.qemu.major, 7);
    const [status, cpus] = await Promise.all([qmp.execute('query-status'), qmp.execute('query-cpus-fast')]);
    assert.deepEqual(status, { status: 'prelaunch', running: false });
    assert.deepEqual(cpus, [{ 'cpu-index': 0, 'thread-id': 101 }]);
    assert.deepEqual(
      fake.received.map((m) => m.execute),
      ['query-status', 'query-cpus-fast'],
    );
    qmp.close();
    await fake.close();
  }));

test('passes arguments and turns error replies into QmpError', () =>
  withSocketDir(async (dir) => {
    const path = join(dir, 'qmp.sock');
    const fake = await startFakeQmpServer(path, {
      'blockdev-snapshot-internal-sync': (args) =>
        args?.name === 'dup'
          ? { error: { class: 'GenericError', desc: 'Snapshot with name dup already exists' } }
          : { return: {} },
    });
    const qmp = await connectQmp(path);
    await qmp.execute('blockdev-snapshot-internal-sync', { device: 'disk0', name: 'a' });
    await assert.rejects(
      qmp.execute('blockdev-snapshot-internal-sync', { device: 'disk0', name: 'dup' }),
      (error: unknown) => {
        assert.ok(error instanceof QmpError);
        assert.equal(error.errorClass, 'GenericError');
        assert.match(error.message, /already exists/);
        return true;
      },
    );
    await assert.rejects(qmp.execute('no-such-command'), (error: QmpError) => error.errorClass === 'CommandNotFound');
    assert.deepEqual(fake.received[0], {
      execute: 'blockdev-snapshot-internal-sync',
      arguments: { device: 'disk0', name: 'a' },
    });
    qmp.close();
    await fake.close();
  }));

test('delivers events to listeners and waitForEvent', () =>
  withSocketDir(async (dir) => {
    const path = join(dir, 'qmp.sock');
    const fake = await startFakeQmpServer(path, {
      system_powerdown: () => {
        setImmediate(() => {
          fake.emitEvent('POWERDOWN');
          fake.emitEvent('SHUTDOWN', { guest: true, reason: 'guest-shutdown' });
        });
        return { return: {} };
      },
    });
    const qmp = await connectQmp(path);
    const seen: string[] = [];
    const unsubscribe = qmp.onEvent((event) => seen.push(event.event));
    const shutdown = qmp.waitForEvent((event) => event.event === 'SHUTDOWN' && event.data.guest === true, 5000);
    await qmp.execute('system_powerdown');
    const event = await shutdown;
    assert.equal(event.data.reason, 'guest-shutdown');
    assert.deepEqual(seen, ['POWERDOWN', 'SHUTDOWN']);
    unsubscribe();
    qmp.close();
    await fake.close();
  }));

test('a command without reply times out', () =>
  withSocketDir(async (dir) => {
    const path = join(dir, 'qmp.sock');
    const fake = await startFakeQmpServer(path, { hang: () => ({ silent: true }) });
    const qmp = await connectQmp(path);
    await assert.rejects(
      qmp.execute('hang', undefined, { timeoutMs: 20 }),
      (error: QmpError) => error.errorClass === 'Timeout',
    );
    qmp.close();
    await fake.close();
  }));

test('pending commands and event waits fail when QEMU goes away; closed resolves', () =>
  withSocketDir(async (dir) => {
    const path = join(dir, 'qmp.sock');
    const fake = await startFakeQmpServer(path, { hang: () => ({ silent: true }) });
    const qmp = await connectQmp(path);
    const pending = qmp.execute('hang');
    const waiting = qmp.waitForEvent('SHUTDOWN', 60_000);
    fake.disconnectClient();
    await assert.rejects(pending, (error: QmpError) => error.errorClass === 'Disconnected');
    await assert.rejects(waiting, (error: QmpError) => error.errorClass === 'Disconnected');
    await qmp.closed;
    assert.equal(qmp.isOpen(), false);
    await assert.rejects(qmp.execute('query-status'), (error: QmpError) => error.errorClass === 'Disconnected');
    await fake.close();
  }));

test('retries until the socket appears, and gives up after the connect timeout', () =>
  withSocketDir(async (dir) => {
    const path = join(dir, 'late.sock');
    const connecting = connectQmp(path, { connectTimeoutMs: 10_000, retryIntervalMs: 5 });
    const fake = await startFakeQmpServer(path, {});
    const qmp = await connecting;
    assert.equal(qmp.isOpen(), true);
    qmp.close();
    await fake.close();
    await assert.rejects(connectQmp(join(dir, 'never.sock'), { connectTimeoutMs: 30, retryIntervalMs: 5 }), /ENOENT/);
  }));

test('a second client gets no greeting while the first is connected', () =>
  withSocketDir(async (dir) => {
    const path = join(dir, 'qmp.sock');
    const fake = await startFakeQmpServer(path, {});
    const first = await connectQmp(path);
    await assert.rejects(
      connectQmp(path, { connectTimeoutMs: 50 }),
      (error: QmpError) => error.errorClass === 'Timeout',
    );
    first.close();
    await fake.close();
  }));
