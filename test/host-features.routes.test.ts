/**
 * The control plane's host-feature routes end to end over real HTTP and WebSockets: a control plane (real
 * SQLite, real tokens) with the server-host and image-upload routes, proxying over mutual TLS to two host
 * APIs whose certificates the control plane's CA issued, whose driver is a fake (console, logs,
 * snapshots, export) and whose image stores are real.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex, PassThrough } from 'node:stream';
import { createControlPlane, type ControlPlane } from '../src/app.ts';
import { createApi, type Api } from '../src/api/rest/server.ts';
import { createLogger } from '../src/core/index.ts';
import { conflict, createManualClock, notFound, type Clock } from '../src/core/index.ts';
import { requireProject, type Principal } from '../src/identity/index.ts';
import { createImageStore } from '../src/images/index.ts';
import { createHostApi, type HostApi, type HostFeatureDriver } from '../src/agent/host-api/index.ts';
import { createHostClient, WebSocket, type HostClient, type WsSocket } from '../src/agent/host-client/index.ts';
import { registerServerHostRoutes } from '../src/api/rest/routes/server-host.ts';
import type { HostedServer } from '../src/compute/index.ts';
import { registerImageUploadRoutes } from '../src/api/rest/routes/images-upload.ts';
import type { DiskSnapshot } from '../src/compute/drivers/qemu/index.ts';
import { runCli } from '../src/cli/main.ts';
import { attachTerminal, consoleWebSocketUrl, splitAtDetach } from '../src/cli/commands/console-session.ts';

/** The export keys the fake host was asked to encrypt under, in order (null: a plain export). */
const exportKeysSeen: (string | null)[] = [];

function fakeDriver(): HostFeatureDriver {
  const snapshots: DiskSnapshot[] = [];
  return {
    async attachConsole(serverId, options = {}) {
      const duplex: Duplex = new Duplex({
        read() {},
        write(chunk: Buffer, _encoding, callback) {
          if (!options.readOnly) duplex.push(Buffer.concat([Buffer.from('echo:'), chunk]));
          callback();
        },
      });
      duplex.push(`console of ${serverId}\r\n`);
      return duplex;
    },
    consoleLog: async (serverId, options = {}) => (options.previousBoot ? 'old boot\n' : `boot log of ${serverId}\n`),
    async createSnapshot(_serverId, name) {
      if (snapshots.some((s) => s.name === name))
        throw conflict(`snapshot ${name} exists`, { reason: 'snapshot_exists' });
      const snapshot = {
        name,
        id: String(snapshots.length + 1),
        createdAt: '2026-01-01T00:00:00.000Z',
        vmStateBytes: 0,
      };
      snapshots.push(snapshot);
      return snapshot;
    },
    listSnapshots: async () => [...snapshots],
    async restoreSnapshot(_serverId, name) {
      if (!snapshots.some((s) => s.name === name)) throw notFound('snapshot', name);
    },
    async deleteSnapshot(_serverId, name) {
      const index = snapshots.findIndex((s) => s.name === name);
      if (index < 0) throw notFound('snapshot', name);
      snapshots.splice(index, 1);
    },
    async exportDisk(_serverId, path, options = {}) {
      exportKeysSeen.push(options.encryptionKey ?? null);
      await writeFile(path, Buffer.alloc(123_456, 1));
      return {
        path,
        format: options.format ?? 'qcow2',
        sizeBytes: 123_456,
        virtualSizeBytes: 1024 ** 3,
        fromRunningServer: false,
        encrypted: options.encryptionKey !== undefined,
      };
    },
    pinning: async () => null,
  };
}

let dir: string;
let cp: ControlPlane;
let url: string;
let clock: Clock & { advanceMs(ms: number): void };
let ownerToken: string;
let viewerToken: string;
let operatorToken: string;
let projectId: string;
let api: Api;
const hosts: Array<{ hostId: string; api: HostApi; client: HostClient; imageDir: string }> = [];
const servers = new Map<string, HostedServer & { projectId: string }>();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmc-hostroutes-'));
  cp = await createControlPlane({
    databaseUrl: join(dir, 'cp.sqlite'),
    dataDir: dir,
    fleet: 'none',
    fleetScale: 1,
    rateLimitPerMinute: 0,
    logLevel: 'silent',
  });
  const secrets = (await cp.bootstrap())!;
  ownerToken = secrets.projectToken;
  operatorToken = secrets.operatorToken;
  projectId = secrets.projectId;
  const owner = await cp.services.identity.authenticate(ownerToken);
  viewerToken = (await cp.services.identity.createToken(owner, { name: 'viewer', role: 'viewer' })).secret;

  for (const hostId of ['host_a', 'host_b']) {
    const imageDir = join(dir, hostId);
    const api = createHostApi({
      driver: fakeDriver(),
      imageStore: createImageStore({ dir: imageDir }),
      tls: await cp.hostTrust.issueLocalHostCredentials(hostId),
    });
    const baseUrl = await api.listen({ host: '127.0.0.1', port: 0 });
    hosts.push({
      hostId,
      api,
      client: createHostClient({ baseUrl, hostId, tls: cp.hostTrust.controlPlaneTls() }),
      imageDir,
    });
  }
  // host_c answers at an address with the certificate of host_a: the control plane must not trust it.
  const impostor = createHostApi({
    driver: fakeDriver(),
    imageStore: null,
    tls: await cp.hostTrust.issueLocalHostCredentials('host_a'),
  });
  const impostorUrl = await impostor.listen({ host: '127.0.0.1', port: 0 });
  hosts.push({
    hostId: 'host_c',
    api: impostor,
    client: createHostClient({ baseUrl: impostorUrl, hostId: 'host_c', tls: cp.hostTrust.controlPlaneTls() }),
    imageDir: join(dir, 'host_c'),
  });
  servers.set('srv_run', { id: 'srv_run', name: 'web-1', hostId: 'host_a', status: 'running', projectId });
  servers.set('srv_off', { id: 'srv_off', name: 'db 1', hostId: 'host_a', status: 'stopped', projectId });
  servers.set('srv_elsewhere', { id: 'srv_elsewhere', name: 'c-1', hostId: 'host_c', status: 'running', projectId });
  servers.set('srv_other', {
    id: 'srv_other',
    name: 'theirs',
    hostId: 'host_a',
    status: 'running',
    projectId: 'prj_other',
  });

  clock = createManualClock(Date.now());
  // A bare API with only these routes, over fake servers and fake hosts (the control plane's own routes use the real ones).
  const created = await createApi({
    clock,
    log: createLogger({ level: 'silent' }),
    identity: cp.services.identity,
    audit: cp.services.audit,
    idempotency: cp.services.idempotency,
    failedAuth: { record: async () => {}, flush: async () => {} },
    rateLimitPerMinute: 0,
    version: 'test',
    checkHealth: async () => {},
  });
  api = created.app;
  registerServerHostRoutes(api, created.route, {
    clock,
    recheckToken: cp.services.identity.recheckToken,
    hostClientFor: async (hostId) => hosts.find((h) => h.hostId === hostId)!.client,
    requireServer: async (principal: Principal, serverId, role) => {
      const server = servers.get(serverId);
      if (!server || principal.kind !== 'project' || principal.projectId !== server.projectId)
        throw notFound('server', serverId);
      requireProject(principal, role);
      return server;
    },
  });
  registerImageUploadRoutes(api, created.route, {
    regionExists: async (code) => (await cp.services.catalog.getRegionRecord(code).catch(() => null)) !== null,
    recordImage: cp.services.catalog.recordUploadedImage,
    hostHasImage: async () => undefined,
    hostClientsInRegion: async (region) => (region === 'fra1' ? hosts.filter((h) => h.hostId !== 'host_c') : []),
  });
  await api.listen({ host: '127.0.0.1', port: 0 });
  const address = api.server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

after(async () => {
  for (const host of hosts) await host.api.close();
  await api.close();
  await cp.close();
  await rm(dir, { recursive: true, force: true });
});

async function call(method: string, path: string, token: string | null, body?: unknown) {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // text
  }
  return { status: response.status, headers: response.headers, body: parsed as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Opens the console WebSocket: resolves with the socket once open, or with the HTTP status it was refused with. */
function connect(
  path: string,
): Promise<{ socket: WsSocket; received: () => string } | { status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url.replace('http', 'ws') + path);
    let received = '';
    socket.on('message', (data) => {
      received += data.toString();
    });
    socket.once('open', () => resolve({ socket, received: () => received }));
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    socket.once('error', reject);
  });
}

async function until(what: string, probe: () => boolean) {
  const deadline = Date.now() + 5000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test('console: a ticket (owner/member only) opens the WebSocket once; used, expired or foreign tickets get 401', async () => {
  assert.equal((await call('POST', '/v1/servers/srv_run/console', viewerToken)).status, 403);
  assert.equal((await call('POST', '/v1/servers/srv_other/console', ownerToken)).status, 404);
  assert.equal((await call('POST', '/v1/servers/srv_off/console', ownerToken)).body.reason, 'not_running');
  const issued = await call('POST', '/v1/servers/srv_run/console', ownerToken);
  assert.equal(issued.status, 201);
  assert.match(issued.body.url, /^\/v1\/servers\/srv_run\/console\?ticket=ct_/);
  assert.equal(Date.parse(issued.body.expires_at) - clock.nowMs(), 60_000);

  const session = await connect(issued.body.url);
  assert.ok('socket' in session);
  await until('the console banner', () => session.received().includes('console of srv_run'));
  session.socket.send(Buffer.from('uptime\r'), { binary: true });
  await until('the echo', () => session.received().includes('echo:uptime'));
  session.socket.close();

  const reused = await connect(issued.body.url);
  assert.ok('status' in reused);
  assert.equal(reused.status, 401);
  assert.equal(JSON.parse(reused.body).reason, 'invalid_ticket');

  const late = await call('POST', '/v1/servers/srv_run/console', ownerToken);
  clock.advanceMs(60_001);
  const expired = await connect(late.body.url);
  assert.ok('status' in expired && expired.status === 401);

  const other = await call('POST', '/v1/servers/srv_run/console', ownerToken);
  const wrongServer = await connect(`/v1/servers/srv_off/console?ticket=${other.body.ticket}`);
  assert.ok('status' in wrongServer && wrongServer.status === 401);
  const missing = await connect('/v1/servers/srv_run/console');
  assert.ok('status' in missing && missing.status === 401);
});

test("a host whose API presents another host's certificate is not trusted: 503 host_untrusted, nothing proxied", async () => {
  const logs = await call('GET', '/v1/servers/srv_elsewhere/logs', viewerToken);
  assert.deepEqual([logs.status, logs.body.code, logs.body.reason], [503, 'unavailable', 'host_untrusted']);
  const ticket = await call('POST', '/v1/servers/srv_elsewhere/console', ownerToken);
  const session = await connect(ticket.body.url);
  assert.ok('status' in session, 'the console is refused before the upgrade');
  assert.equal(session.status, 503);
});

test('logs: text/plain for viewers and up', async () => {
  const log = await call('GET', '/v1/servers/srv_run/logs', viewerToken);
  assert.deepEqual(
    [log.status, log.headers.get('content-type'), log.body],
    [200, 'text/plain; charset=utf-8', 'boot log of srv_run\n'],
  );
  assert.equal((await call('GET', '/v1/servers/srv_run/logs?previous_boot=true', viewerToken)).body, 'old boot\n');
  assert.equal((await call('GET', '/v1/servers/srv_other/logs', viewerToken)).status, 404);
});

test('snapshots: members create and delete, restore needs a stopped server', async () => {
  assert.equal((await call('POST', '/v1/servers/srv_off/snapshots', viewerToken, { name: 'x' })).status, 403);
  const created = await call('POST', '/v1/servers/srv_off/snapshots', ownerToken, { name: 'before-upgrade' });
  assert.equal(created.status, 201);
  assert.equal(created.body.snapshot.name, 'before-upgrade');
  assert.equal(
    (await call('POST', '/v1/servers/srv_off/snapshots', ownerToken, { name: 'before-upgrade' })).body.reason,
    'snapshot_exists',
  );
  assert.equal((await call('POST', '/v1/servers/srv_off/snapshots', ownerToken, { name: 'bad name' })).status, 400);
  const named = await call('POST', '/v1/servers/srv_off/snapshots', ownerToken);
  assert.match(named.body.snapshot.name, /^snap-\d{8}-\d{6}$/);
  assert.deepEqual(
    (await call('GET', '/v1/servers/srv_off/snapshots', viewerToken)).body.snapshots.map(
      (s: { name: string }) => s.name,
    ),
    ['before-upgrade', named.body.snapshot.name],
  );

  const refused = await call('POST', '/v1/servers/srv_run/snapshots/before-upgrade/actions/restore', ownerToken);
  assert.deepEqual([refused.status, refused.body.reason], [409, 'server_running']);
  const restored = await call('POST', '/v1/servers/srv_off/snapshots/before-upgrade/actions/restore', ownerToken);
  assert.deepEqual([restored.status, restored.body.snapshot.name], [200, 'before-upgrade']);
  assert.equal((await call('POST', '/v1/servers/srv_off/snapshots/nope/actions/restore', ownerToken)).status, 404);
  assert.equal((await call('DELETE', '/v1/servers/srv_off/snapshots/before-upgrade', ownerToken)).status, 204);
  assert.equal((await call('DELETE', '/v1/servers/srv_off/snapshots/before-upgrade', ownerToken)).status, 404);
  const audit = await cp.db
    .selectFrom('audit_log')
    .select(['action', 'resource_id', 'status_code'])
    .where('resource_type', '=', 'server')
    .execute();
  assert.ok(
    audit.some(
      (entry) =>
        entry.action === 'DELETE /v1/servers/:id/snapshots/:name' &&
        entry.resource_id === 'srv_off' &&
        entry.status_code === 204,
    ),
  );
});

test('export streams the disk as an attachment named after the server', async () => {
  const response = await fetch(`${url}/v1/servers/srv_off/export?format=raw`, {
    headers: { authorization: `Bearer ${ownerToken}` },
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-disposition'), 'attachment; filename="db_1.raw"');
  assert.equal(response.headers.get('content-length'), '123456');
  assert.equal((await response.arrayBuffer()).byteLength, 123_456);
  assert.equal((await call('GET', '/v1/servers/srv_off/export', viewerToken)).status, 403);
});

test('encrypted export: a fresh key per export goes to the host over mutual TLS and to the owner once', async () => {
  const get = (query: string) =>
    fetch(`${url}/v1/servers/srv_off/export${query}`, { headers: { authorization: `Bearer ${ownerToken}` } });
  exportKeysSeen.length = 0;
  const plain = await get('');
  await plain.arrayBuffer();
  assert.deepEqual(
    [plain.headers.get('x-vmcloud-encrypted'), plain.headers.get('x-vmcloud-export-key')],
    ['false', null],
  );
  const first = await get('?encrypted=true');
  await first.arrayBuffer();
  const second = await get('?encrypted=true');
  await second.arrayBuffer();
  const keys = [first.headers.get('x-vmcloud-export-key'), second.headers.get('x-vmcloud-export-key')];
  assert.match(keys[0] ?? '', /^[A-Za-z0-9+/]{43}=$/);
  assert.notEqual(keys[0], keys[1], 'a key per export');
  assert.equal(first.headers.get('x-vmcloud-encrypted'), 'true');
  assert.equal(first.headers.get('cache-control'), 'no-store');
  assert.deepEqual(exportKeysSeen, [null, ...keys], 'the host got exactly the key the owner got');
  const raw = await get('?encrypted=true&format=raw');
  assert.equal(raw.status, 400);
  assert.equal(exportKeysSeen.length, 3, 'a refused export reaches no host');
});

test('image upload: operators stream a file to every host of the region; the catalog row records it', async () => {
  const disk = Buffer.alloc(2 * 1024 * 1024, 0);
  disk.write('UPLOADED', 0);
  const sha256 = createHash('sha256').update(disk).digest('hex');
  const put = (path: string, token: string, body: Buffer) =>
    fetch(url + path, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      body,
    });

  assert.equal((await put('/v1/images/my-os?region=fra1', ownerToken, disk)).status, 403);
  assert.equal((await put('/v1/images/my-os?region=par1', operatorToken, disk)).status, 503, 'no host in par1');
  const mismatch = await put(`/v1/images/my-os?region=fra1&sha256=${'0'.repeat(64)}`, operatorToken, disk);
  assert.equal(((await mismatch.json()) as { reason: string }).reason, 'checksum_mismatch');

  const response = await put(`/v1/images/my-os?region=fra1&name=My%20OS&sha256=${sha256}`, operatorToken, disk);
  const body = (await response.json()) as {
    image: Record<string, unknown>;
    hosts: Array<{ host_id: string; status: string }>;
  };
  assert.equal(response.status, 201, JSON.stringify(body));
  assert.deepEqual(
    [
      body.image.slug,
      body.image.name,
      body.image.category,
      body.image.status,
      body.image.format,
      body.image.size_bytes,
      body.image.sha256,
      body.image.min_disk_gib,
    ],
    ['my-os', 'My OS', 'custom', 'available', 'raw', disk.length, sha256, 1],
  );
  assert.deepEqual(
    body.hosts.map((h) => [h.host_id, h.status]),
    [
      ['host_a', 'imported'],
      ['host_b', 'imported'],
    ],
  );
  for (const host of hosts.filter((h) => h.hostId !== 'host_c'))
    assert.equal((await createImageStore({ dir: host.imageDir }).get('my-os'))?.sha256, sha256);
  assert.ok(
    (await cp.services.catalog.listImages()).some((image) => image.slug === 'my-os'),
    'the catalog lists the uploaded image',
  );
});

test('CLI console session: keystrokes reach the guest, Ctrl-] detaches, a refused ticket is the API problem', async () => {
  assert.deepEqual(splitAtDetach(Buffer.from('ab\x1dcd')), { before: Buffer.from('ab'), detach: true });
  assert.equal(
    consoleWebSocketUrl('https://api.example.eu/', '/v1/servers/x/console?ticket=t'),
    'wss://api.example.eu/v1/servers/x/console?ticket=t',
  );
  const issued = await call('POST', '/v1/servers/srv_run/console', ownerToken);
  const stdin = new PassThrough();
  let shown = '';
  const stdout = { write: (chunk: Uint8Array | string) => (shown += Buffer.from(chunk).toString()) };
  let hints = '';
  const session = attachTerminal(
    consoleWebSocketUrl(url, issued.body.url),
    { stdin, stdout, stderr: { write: (text: string) => (hints += text) } },
    'web-1',
  );
  await until('the banner', () => shown.includes('console of srv_run'));
  assert.match(hints, /Ctrl-\] detaches/);
  stdin.write('id\r');
  await until('the echo', () => shown.includes('echo:id'));
  stdin.write(Buffer.from([0x1d]));
  assert.deepEqual(await session, { how: 'detached', code: 1000, reason: 'detached' });
  await assert.rejects(
    attachTerminal(
      consoleWebSocketUrl(url, issued.body.url),
      { stdin: new PassThrough(), stdout, stderr: { write: () => 0 } },
      'web-1',
    ),
    (error: Error & { code?: string; reason?: string }) =>
      error.code === 'unauthenticated' && error.reason === 'invalid_ticket',
  );
});

test('CLI image import: checksummed locally, streamed to PUT /v1/images/{slug}', async () => {
  const file = join(dir, 'cli.raw');
  await writeFile(file, Buffer.alloc(1024 * 1024, 3));
  let out = '';
  let err = '';
  const io = {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
    env: { VMCLOUD_URL: url, VMCLOUD_TOKEN: operatorToken, VMCLOUD_CONFIG: join(dir, 'none.yaml') },
    isTTY: false,
    cwd: dir,
  };
  const code = await runCli(
    ['image', 'import', 'cli.raw', '--slug', 'cli-img', '--name', 'From the CLI', '--region', 'FRA1', '-o', 'json'],
    io,
  );
  assert.equal(code, 0, err);
  const result = JSON.parse(out) as { image: { slug: string; name: string; sha256: string }; hosts: unknown[] };
  assert.deepEqual([result.image.slug, result.image.name, result.hosts.length], ['cli-img', 'From the CLI', 2]);
  assert.equal(
    result.image.sha256,
    createHash('sha256')
      .update(Buffer.alloc(1024 * 1024, 3))
      .digest('hex'),
  );
});
