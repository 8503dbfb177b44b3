/**
 * The host API and its client over real HTTPS (mutual TLS) and a real WebSocket on 127.0.0.1, against a
 * fake HostFeatureDriver (in-memory console, logs, snapshots, export) and a real image store. The host
 * serves its own certificate and accepts only the control plane's; the client accepts only the host it
 * expects.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex, Readable } from 'node:stream';
import { conflict, invalid, isVmcError, notFound, VmcError } from '../../core/errors.ts';
import { createImageStore } from '../../images/index.ts';
import { createHostClient, type HostClient } from '../host-client/index.ts';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import {
  createKeyAndCsr,
  issueControlPlaneCertificate,
  issueHostCertificate,
  tlsClientOptions,
} from '../../pki/index.ts';
import { testAuthority } from '../../pki/test-support.ts';
import type { CertificateAuthority } from '../../pki/index.ts';
import { createHostApi, type HostApi, type HostApiTls, type HostFeatureDriver } from './index.ts';
import type { DiskSnapshot } from './feature-driver.ts';
import type { ConsoleStream } from '../host-client/index.ts';

/** A console that greets, then echoes what it is sent (`echo:<bytes>`), unless read-only. */
function fakeConsole(readOnly: boolean): Duplex {
  const duplex: Duplex = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      if (!readOnly) duplex.push(Buffer.concat([Buffer.from('echo:'), chunk]));
      callback();
    },
  });
  duplex.push('VMCLOUD-GUEST-UP uptime=1.00\r\n');
  return duplex;
}

function fakeDriver() {
  const snapshots = new Map<string, DiskSnapshot[]>();
  const consoles: Duplex[] = [];
  const known = (serverId: string) => {
    if (!serverId.startsWith('srv_')) throw notFound('server', serverId);
  };
  const driver: HostFeatureDriver = {
    async attachConsole(serverId, options = {}) {
      known(serverId);
      if (serverId === 'srv_stopped') throw conflict(`server ${serverId} is not running`, { reason: 'not_running' });
      const duplex = fakeConsole(options.readOnly === true);
      consoles.push(duplex);
      return duplex;
    },
    async consoleLog(serverId, options = {}) {
      known(serverId);
      return options.previousBoot ? 'previous boot\n' : 'VMCLOUD-GUEST-UP uptime=1.00\nVMCLOUD-GUEST-READY\n';
    },
    async createSnapshot(serverId, name) {
      known(serverId);
      if (!/^[A-Za-z0-9._-]+$/.test(name))
        throw invalid(`snapshot name ${name} is invalid`, {
          fields: [{ field: 'name', message: 'invalid snapshot name' }],
        });
      const list = snapshots.get(serverId) ?? [];
      if (list.some((s) => s.name === name)) throw conflict(`snapshot ${name} exists`, { reason: 'snapshot_exists' });
      const snapshot = { name, id: String(list.length + 1), createdAt: '2026-01-01T00:00:00.000Z', vmStateBytes: 0 };
      snapshots.set(serverId, [...list, snapshot]);
      return snapshot;
    },
    async listSnapshots(serverId) {
      known(serverId);
      return snapshots.get(serverId) ?? [];
    },
    async restoreSnapshot(serverId, name) {
      known(serverId);
      if (serverId === 'srv_running') throw conflict('stop the server first', { reason: 'server_running' });
      if (!(snapshots.get(serverId) ?? []).some((s) => s.name === name)) throw notFound('snapshot', name);
    },
    async deleteSnapshot(serverId, name) {
      known(serverId);
      const list = snapshots.get(serverId) ?? [];
      if (!list.some((s) => s.name === name)) throw notFound('snapshot', name);
      snapshots.set(
        serverId,
        list.filter((s) => s.name !== name),
      );
    },
    async exportDisk(serverId, path, options = {}) {
      known(serverId);
      const bytes = Buffer.alloc(300_000, 7);
      await writeFile(path, bytes);
      return {
        path,
        format: options.format ?? 'qcow2',
        sizeBytes: bytes.length,
        virtualSizeBytes: 1024 ** 3,
        fromRunningServer: true,
      };
    },
    async pinning(serverId) {
      known(serverId);
      return {
        verified: true,
        checkedAt: '2026-01-01T00:00:00.000Z',
        vcpus: [{ vcpu: 0, threadId: 42, hostThread: 1, pinned: true, allowedThreads: [1] }],
      };
    },
  };
  return { driver, consoles };
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Resolves with everything received once `pattern` shows up in it. */
function receive(stream: ConsoleStream, pattern: RegExp): Promise<string> {
  return new Promise((resolve) => {
    let seen = '';
    const onData = (data: Buffer) => {
      seen += data.toString();
      if (pattern.test(seen)) {
        stream.off('data', onData);
        resolve(seen);
      }
    };
    stream.on('data', onData);
  });
}

function ended(stream: ConsoleStream): Promise<{ code: number | null; reason: string }> {
  return new Promise((resolve) =>
    stream.once('close', () => resolve({ code: stream.closeCode, reason: stream.closeReason })),
  );
}

async function pollUntil(what: string, probe: () => Promise<boolean>, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const rejectsWith = (code: string, reason?: string) => (error: unknown) => {
  assert.ok(isVmcError(error), `expected a VmcError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  if (reason !== undefined) assert.equal(error.reason, reason);
  return true;
};

async function hostTls(ca: CertificateAuthority, hostId: string): Promise<HostApiTls> {
  const { keyPem, csrPem } = await createKeyAndCsr({ commonName: 'vmcloud-agent' });
  const { certPem } = await issueHostCertificate(ca, csrPem, { hostId, nowMs: Date.now() });
  return { caPem: ca.certPem, certPem, keyPem };
}

async function controlPlaneTls(ca: CertificateAuthority) {
  const issued = await issueControlPlaneCertificate(ca, { nowMs: Date.now(), serverAuth: true });
  return { caPem: ca.certPem, certPem: issued.certPem, keyPem: issued.keyPem };
}

/** A raw HTTPS GET with the given TLS options: the status, or the error that ended the connection. */
function rawGet(url: string, tls: object): Promise<{ status: number; body: string } | { error: Error }> {
  return new Promise((resolve) => {
    const req = httpsRequest(url, { ...tls, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (error) => resolve({ error }));
    });
    req.on('error', (error) => resolve({ error }));
    req.end();
  });
}

let dir: string;
let api: HostApi;
let client: HostClient;
let fake: ReturnType<typeof fakeDriver>;
let baseUrl: string;
let ca: CertificateAuthority;
let cpTls: Awaited<ReturnType<typeof controlPlaneTls>>;
const hostId = 'host_a';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmc-hostapi-'));
  fake = fakeDriver();
  ca = await testAuthority();
  cpTls = await controlPlaneTls(ca);
  api = createHostApi({
    driver: fake.driver,
    imageStore: createImageStore({ dir: join(dir, 'images') }),
    tls: await hostTls(ca, hostId),
    scratchDir: join(dir, 'scratch'),
  });
  await mkdir(join(dir, 'scratch'));
  baseUrl = await api.listen({ host: '127.0.0.1', port: 0 });
  client = createHostClient({ baseUrl, hostId, tls: cpTls });
});

after(async () => {
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

test('the host API serves HTTPS (TLS 1.3) and accepts only the control plane: another host, no certificate or another CA are refused', async () => {
  assert.match(baseUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.deepEqual(await client.info(), {
    features: { console: true, logs: true, snapshots: true, export: true, images: true, backups: false },
  });

  // Another host's certificate chains to the same CA: TLS lets it through, the host API does not.
  const otherHost = await hostTls(ca, 'host_b');
  const asHost = createHostClient({ baseUrl, hostId, tls: otherHost });
  await assert.rejects(asHost.listSnapshots('srv_a'), rejectsWith('unavailable', 'host_refused_control_plane'));
  await assert.rejects(asHost.openConsole('srv_a'), rejectsWith('unavailable', 'host_refused_control_plane'));
  const raw = await rawGet(`${baseUrl}/logs/srv_a`, tlsClientOptions({ ...otherHost, expectedHostId: hostId }));
  assert.ok('status' in raw);
  assert.equal(raw.status, 403);
  assert.deepEqual([JSON.parse(raw.body).code, JSON.parse(raw.body).reason], ['forbidden', 'not_control_plane']);

  // No client certificate, or one of another CA: refused at the handshake.
  const anonymous = await rawGet(
    `${baseUrl}/logs/srv_a`,
    tlsClientOptions({ caPem: ca.certPem, expectedHostId: hostId }),
  );
  assert.ok('error' in anonymous, 'a client without a certificate gets no answer');
  const foreignCa = await testAuthority('Foreign CA');
  const foreign = createHostClient({
    baseUrl,
    hostId,
    tls: { ...(await controlPlaneTls(foreignCa)), caPem: ca.certPem },
  });
  await assert.rejects(foreign.logs('srv_a'), rejectsWith('unavailable'));
  await assert.rejects(foreign.openConsole('srv_a'), rejectsWith('unavailable'));
  assert.equal(fake.consoles.length, 0, 'no console was attached for a refused request');
});

test('the control plane refuses a host API whose certificate names another host, or chains to another CA', async () => {
  const impostor = createHostClient({ baseUrl, hostId: 'host_b', tls: cpTls });
  await assert.rejects(impostor.logs('srv_a'), rejectsWith('unavailable', 'host_untrusted'));
  await assert.rejects(impostor.openConsole('srv_a'), rejectsWith('unavailable', 'host_untrusted'));
  const foreignCa = await testAuthority('Foreign CA');
  const pinnedElsewhere = createHostClient({ baseUrl, hostId, tls: { ...cpTls, caPem: foreignCa.certPem } });
  await assert.rejects(pinnedElsewhere.logs('srv_a'), rejectsWith('unavailable', 'host_untrusted'));
  assert.equal(fake.consoles.length, 0);
});

test('a renewed host certificate is served to new connections', async () => {
  const before = await rawGet(`${baseUrl}/info`, tlsClientOptions({ ...cpTls, expectedHostId: hostId }));
  assert.ok('status' in before && before.status === 200);
  const renewed = await hostTls(ca, hostId);
  api.setTls(renewed);
  const seen = await new Promise<string>((resolve, reject) => {
    const req = httpsRequest(
      `${baseUrl}/info`,
      { ...tlsClientOptions({ ...cpTls, expectedHostId: hostId }), agent: false },
      (res) => {
        resolve((res.socket as TLSSocket).getPeerCertificate().fingerprint256);
        res.resume();
      },
    );
    req.on('error', reject);
    req.end();
  });
  assert.equal(seen, new X509Certificate(renewed.certPem).fingerprint256);
});

test('console: output streams out, keystrokes go in, read-only sessions drop input', async () => {
  const terminal = await client.openConsole('srv_a');
  assert.match(await receive(terminal, /GUEST-UP/), /VMCLOUD-GUEST-UP/);
  const echoed = receive(terminal, /echo:ls\r/);
  terminal.write('ls\r');
  assert.match(await echoed, /echo:ls\r/);
  terminal.end();
  await pollUntil('the console stream to be released', async () => fake.consoles[0].destroyed);

  const viewer = await client.openConsole('srv_a', { readOnly: true });
  await receive(viewer, /GUEST-UP/);
  viewer.write('rm -rf /\r');
  // The fake echoes only writable sessions; a round trip of the fake stream proves nothing came back.
  fake.consoles[1].push('tick\r\n');
  assert.doesNotMatch(await receive(viewer, /tick/), /echo:/);
  viewer.destroy();
});

test('console: the end of the console stream closes the WebSocket; a stopped server is refused before upgrade', async () => {
  const terminal = await client.openConsole('srv_b');
  await receive(terminal, /GUEST-UP/);
  const gone = ended(terminal);
  fake.consoles.at(-1)!.push(null);
  assert.deepEqual(await gone, { code: 1000, reason: 'the console closed (the server stopped)' });

  await assert.rejects(client.openConsole('srv_stopped'), rejectsWith('conflict', 'not_running'));
  const plain = await rawGet(`${baseUrl}/console/srv_a`, tlsClientOptions({ ...cpTls, expectedHostId: hostId }));
  assert.ok('status' in plain && plain.status === 400, 'a plain GET of the console is refused');
});

test('logs, pinning', async () => {
  assert.match(await client.logs('srv_a'), /VMCLOUD-GUEST-READY/);
  assert.equal(await client.logs('srv_a', { previousBoot: true }), 'previous boot\n');
  await assert.rejects(client.logs('nope'), rejectsWith('not_found'));
  await assert.rejects(client.logs('../etc'), rejectsWith('invalid'));
  const pinning = await client.pinning('srv_a');
  assert.deepEqual(pinning?.vcpus, [
    { vcpu: 0, thread_id: 42, host_thread: 1, pinned: true, allowed_threads: [1], warning: null },
  ]);
});

test('snapshots: create, list, restore, delete; refusals keep their code and reason', async () => {
  const snapshot = await client.createSnapshot('srv_s', 'before-upgrade');
  assert.deepEqual(snapshot, {
    name: 'before-upgrade',
    id: '1',
    created_at: '2026-01-01T00:00:00.000Z',
    vm_state_bytes: 0,
  });
  await assert.rejects(client.createSnapshot('srv_s', 'before-upgrade'), rejectsWith('conflict', 'snapshot_exists'));
  await assert.rejects(client.createSnapshot('srv_s', 'bad name!'), (error: unknown) => {
    assert.ok(error instanceof VmcError);
    assert.deepEqual([error.code, error.fields], ['invalid', [{ field: 'name', message: 'invalid snapshot name' }]]);
    return true;
  });
  assert.deepEqual(
    (await client.listSnapshots('srv_s')).map((s) => s.name),
    ['before-upgrade'],
  );
  await client.restoreSnapshot('srv_s', 'before-upgrade');
  await assert.rejects(client.restoreSnapshot('srv_running', 'x'), rejectsWith('conflict', 'server_running'));
  await client.deleteSnapshot('srv_s', 'before-upgrade');
  await assert.rejects(client.deleteSnapshot('srv_s', 'before-upgrade'), rejectsWith('not_found'));
  assert.deepEqual(await client.listSnapshots('srv_s'), []);
});

test('export streams the file with its headers, then the host deletes its temporary copy', async () => {
  const exported = await client.exportDisk('srv_e', { format: 'raw' });
  assert.deepEqual(
    [exported.sizeBytes, exported.format, exported.virtualSizeBytes, exported.fromRunningServer],
    [300_000, 'raw', 1024 ** 3, true],
  );
  const bytes = await collect(exported.stream);
  assert.equal(bytes.length, 300_000);
  await pollUntil('the scratch directory to be empty', async () => (await readdir(join(dir, 'scratch'))).length === 0);
  await assert.rejects(client.exportDisk('srv_e', { format: 'vmdk' as 'raw' }), rejectsWith('invalid'));
});

test('image upload: streamed into the store, checksum checked, listed and downloadable', async () => {
  const disk = Buffer.alloc(1024 * 1024, 0);
  disk.write('CUSTOM-IMAGE', 0);
  const sha256 = createHash('sha256').update(disk).digest('hex');
  await assert.rejects(
    client.uploadImage('custom-1', Readable.from([disk]), { sha256: 'a'.repeat(64) }),
    rejectsWith('invalid', 'checksum_mismatch'),
  );
  const image = await client.uploadImage('custom-1', Readable.from([disk.subarray(0, 4096), disk.subarray(4096)]), {
    name: 'Custom (1)',
    sha256,
  });
  assert.deepEqual(
    [image.slug, image.name, image.format, image.size_bytes, image.sha256],
    ['custom-1', 'Custom (1)', 'raw', disk.length, sha256],
  );
  await assert.rejects(client.uploadImage('custom-1', Readable.from([disk])), rejectsWith('conflict', 'image_exists'));
  assert.deepEqual(
    (await client.listImages()).map((i) => i.slug),
    ['custom-1'],
  );
  const download = await client.downloadImage('custom-1');
  assert.deepEqual([download.sha256, download.name, download.format], [sha256, 'Custom (1)', 'raw']);
  assert.equal(
    createHash('sha256')
      .update(await collect(download.stream))
      .digest('hex'),
    sha256,
  );
  await assert.rejects(client.downloadImage('nope'), rejectsWith('not_found'));
});

test('custom images: DELETE removes a cimg_ image from the store; catalog images are not removed this way', async () => {
  const disk = Buffer.alloc(64 * 1024, 0);
  await client.uploadImage('cimg_deleteme', Readable.from([disk]));
  assert.ok((await client.listImages()).some((i) => i.slug === 'cimg_deleteme'));
  await client.deleteImage('cimg_deleteme');
  assert.ok(!(await client.listImages()).some((i) => i.slug === 'cimg_deleteme'));
  await assert.rejects(client.deleteImage('cimg_deleteme'), rejectsWith('not_found'));
  await assert.rejects(client.deleteImage('custom-1'), rejectsWith('invalid', 'not_a_custom_image'));
  assert.ok(
    (await client.listImages()).some((i) => i.slug === 'custom-1'),
    'the catalog image stays',
  );
  await assert.rejects(
    client.uploadImage('cimg_noboot', Readable.from([disk]), { bootLike: 'missing' }),
    rejectsWith('conflict', 'boot_image_missing'),
  );
});

test('a host whose driver has no host features (sim) answers 409 unsupported; an unreachable host is unavailable', async () => {
  const simApi = createHostApi({ driver: () => null, imageStore: null, tls: await hostTls(ca, 'host_sim') });
  const simUrl = await simApi.listen({ host: '127.0.0.1', port: 0 });
  const sim = createHostClient({ baseUrl: simUrl, hostId: 'host_sim', tls: cpTls });
  try {
    assert.deepEqual(await sim.info(), {
      features: { console: false, logs: false, snapshots: false, export: false, images: false, backups: false },
    });
    await assert.rejects(sim.listSnapshots('srv_a'), rejectsWith('conflict', 'unsupported'));
    await assert.rejects(
      sim.backupDisk('srv_a', {
        backupId: 'bkp_a',
        parentSnapshot: null,
        local: { region: 'fra1', url: '/r', password: 'p' },
        remote: null,
      }),
      rejectsWith('conflict', 'unsupported'),
    );
    await assert.rejects(sim.openConsole('srv_a'), rejectsWith('conflict', 'unsupported'));
    await assert.rejects(
      sim.uploadImage('x', Readable.from([Buffer.alloc(512)])),
      rejectsWith('conflict', 'unsupported'),
    );
  } finally {
    await simApi.close();
  }
  await assert.rejects(sim.logs('srv_a'), rejectsWith('unavailable', 'host_unreachable'));
  await assert.rejects(sim.openConsole('srv_a'), rejectsWith('unavailable', 'host_unreachable'));
});
