/**
 * Property-based fuzzing of the REST API over real HTTP (fast-check), on every dialect of testDialects().
 *
 * Properties:
 * - every malformed or hostile request (bodies, content types, sizes, Authorization, Idempotency-Key,
 *   If-Match, path ids, query strings) gets a 4xx `application/problem+json` with a stable `code` and a
 *   `request_id`, and writes nothing: the rows of servers, allocations, actions, events, hosts, tokens and
 *   projects hash the same before and after each request (audit_log may grow: refused attempts are audited;
 *   hosts.last_heartbeat_at and tokens.last_used_at are telemetry and left out of the hash);
 * - random valid create requests get 202 or a 4xx that says why, never a 5xx.
 *
 * Known bugs (see the `todo` tests at the end) are kept out of the generators by `knownBugs`; fix the bug,
 * flip its switch, and the properties cover those inputs too.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { sql } from 'kysely';
import { testDialects } from '../src/db/test-helpers.ts';
import type { Db } from '../src/db/index.ts';
import { startTestControlPlane, type TestControlPlane } from './helpers.ts';

/** Inputs that break the API today; the properties avoid them while the switch is on (the todo tests show them). */
const knownBugs = {
  /** A NUL character in a string that reaches a PostgreSQL query answers 500 (22021 invalid byte sequence). */
  nulReachesPostgres: false,
  /** A path parameter over 100 characters (find-my-way's maxParamLength) answers 414 as plain JSON, not problem+json. */
  longPathParam: false,
};

const runs = Number(process.env.FUZZ_RUNS ?? 120);
const stableCodes = new Set([
  'invalid',
  'unauthenticated',
  'forbidden',
  'not_found',
  'conflict',
  'precondition_failed',
  'rate_limited',
]);

// ---------------------------------------------------------------------------------------------------------
// HTTP: node:http rather than fetch, so that any content type, latin-1 header value and raw body can be sent.

interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string | undefined>;
  body?: string | Buffer;
}

interface RawResponse {
  status: number;
  contentType: string;
  requestIdHeader: string | undefined;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

function send(baseUrl: string, request: RawRequest): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) if (value !== undefined) headers[name] = value;
  const body =
    request.body === undefined ? undefined : Buffer.isBuffer(request.body) ? request.body : Buffer.from(request.body);
  if (body !== undefined) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method: request.method, path: request.path, headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown = undefined;
          try {
            json = JSON.parse(text);
          } catch {
            // not JSON: the assertion says so
          }
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            requestIdHeader: res.headers['x-request-id'] as string | undefined,
            text,
            json,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends bytes as they are (for what node:http refuses to send) and returns the raw response. */
function sendRawBytes(baseUrl: string, bytes: string): Promise<string> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname, () => socket.end(Buffer.from(bytes, 'latin1')));
    let out = '';
    socket.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
  });
}

function describeRequest(request: RawRequest): string {
  const body =
    request.body === undefined
      ? ''
      : Buffer.isBuffer(request.body)
        ? `<${request.body.length} bytes>`
        : request.body.length > 300
          ? `${request.body.slice(0, 300)}… (${request.body.length} chars)`
          : request.body;
  return `${request.method} ${request.path.length > 300 ? request.path.slice(0, 300) + '…' : request.path} ${JSON.stringify(request.headers ?? {}).slice(0, 500)} ${JSON.stringify(body)}`;
}

/** A 4xx problem document with a stable code and the request id, consistent with the status line. */
function assertProblem(response: RawResponse, request: RawRequest) {
  const what = `${describeRequest(request)}\n→ ${response.status} ${response.contentType} ${response.text.slice(0, 500)}`;
  assert.ok(response.status >= 400 && response.status < 500, `expected a 4xx: ${what}`);
  assert.match(response.contentType, /^application\/problem\+json\b/, `expected problem+json: ${what}`);
  const problem = response.json;
  assert.ok(problem && typeof problem === 'object', `expected a JSON problem document: ${what}`);
  assert.ok(stableCodes.has(problem.code), `unexpected code ${problem.code}: ${what}`);
  assert.equal(problem.status, response.status, `problem.status must match the status line: ${what}`);
  assert.equal(typeof problem.request_id, 'string', `expected a request_id: ${what}`);
  assert.match(problem.request_id, /^req_/, what);
  assert.equal(response.requestIdHeader, problem.request_id, `x-request-id must equal request_id: ${what}`);
  assert.equal(typeof problem.title, 'string', what);
  assert.equal(typeof problem.detail, 'string', what);
  if (problem.errors !== undefined) {
    assert.ok(Array.isArray(problem.errors), what);
    for (const e of problem.errors) assert.ok(typeof e.field === 'string' && typeof e.message === 'string', what);
  }
}

// ---------------------------------------------------------------------------------------------------------
// "Writes nothing": a hash of the rows of the tables that a request could change.

const watchedTables: Record<string, { key: string; volatile: string[] }> = {
  servers: { key: 'id', volatile: [] },
  allocations: { key: 'server_id', volatile: [] },
  actions: { key: 'id', volatile: [] },
  events: { key: 'seq', volatile: [] },
  hosts: { key: 'id', volatile: ['last_heartbeat_at'] },
  tokens: { key: 'id', volatile: ['last_used_at'] },
  projects: { key: 'id', volatile: [] },
};

type Snapshot = Record<string, { rows: number; sha256: string }>;

async function snapshot(db: Db): Promise<Snapshot> {
  const out: Snapshot = {};
  for (const [table, { key, volatile }] of Object.entries(watchedTables)) {
    const { rows } = await sql<
      Record<string, unknown>
    >`select * from ${sql.table(table)} order by ${sql.ref(key)}`.execute(db);
    const hash = createHash('sha256');
    for (const row of rows) {
      for (const column of volatile) delete row[column];
      hash.update(JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
      hash.update('\n');
    }
    out[table] = { rows: rows.length, sha256: hash.digest('hex') };
  }
  return out;
}

/** Polls until two snapshots in a row agree (startup writes settle), with a deadline. */
async function settledSnapshot(db: Db, deadlineMs = 15_000): Promise<Snapshot> {
  const deadline = Date.now() + deadlineMs;
  let previous = await snapshot(db);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const current = await snapshot(db);
    if (JSON.stringify(current) === JSON.stringify(previous)) return current;
    if (Date.now() > deadline) throw new Error(`the database did not settle within ${deadlineMs} ms`);
    previous = current;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Generators. The oracles (what is a hostname, a label, an SSH key) are written from the API contract here,
// not imported from src/, so that a validator that accepts too much is caught.

const hostname = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;
const labelName = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;
const labelPrefix = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;
const isLabelKey = (key: string) =>
  key.includes('/')
    ? labelPrefix.test(key.slice(0, key.indexOf('/'))) && labelName.test(key.slice(key.indexOf('/') + 1))
    : labelName.test(key);
const isLabelValue = (value: string) => value === '' || labelName.test(value);
const noNul = (s: string) => !s.includes('\0');
/** Percent-encodes every byte outside the unreserved set (RFC 3986), so any string fits in a path or query. */
const pct = (s: string) =>
  [...Buffer.from(s)]
    .map((b) =>
      /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).padStart(2, '0').toUpperCase()}`,
    )
    .join('');
const pathParamFits = (encoded: string) => !knownBugs.longPathParam || encoded.length <= 100;
const createFields = new Set([
  'name',
  'product',
  'region',
  'image',
  'labels',
  'ssh_keys',
  'user_data',
  'placement_group',
  'networks',
  'firewalls',
]);

/** Any string: ASCII, unicode, lone surrogates, control characters. */
const anyString = (maxLength = 80) =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
  );
/** Printable latin-1, what node:http will put in a header value. */
const headerValue = (maxLength = 300) =>
  fc.string({
    unit: fc
      .integer({ min: 0x20, max: 0xff })
      .filter((c) => c !== 0x7f)
      .map((c) => String.fromCharCode(c)),
    maxLength,
  });
/** Any JSON-able value; never undefined (JSON.stringify would drop the field and could make a bad body valid). */
const anyValue = fc.anything().filter((v) => v !== undefined);
const notString = anyValue.filter((v) => typeof v !== 'string');
const hostileText = fc.constantFrom(
  "vps-nano'; drop table servers;--",
  '../../etc/passwd',
  '%00',
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  '{{7*7}}',
  'constructor',
  '__proto__',
  'toString',
  ' ',
  '\t\n',
  '\u202e\u0000',
  '🙂'.repeat(40),
  'a'.repeat(5000),
);

function sshKey(type: string, blobType = type, payload: Uint8Array = randomBytes(32)): string {
  const typeBytes = Buffer.from(blobType);
  const blob = Buffer.alloc(4 + typeBytes.length + 4 + payload.length);
  blob.writeUInt32BE(typeBytes.length, 0);
  typeBytes.copy(blob, 4);
  blob.writeUInt32BE(payload.length, 4 + typeBytes.length);
  Buffer.from(payload).copy(blob, 8 + typeBytes.length);
  return `${type} ${blob.toString('base64')}`;
}
const validSshKey = fc
  .tuple(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.constantFrom('', ' me@laptop', ' ci key'))
  .map(([bytes, comment]) => sshKey('ssh-ed25519', 'ssh-ed25519', bytes) + comment);
const validLabelKey = fc.stringMatching(/^[a-z0-9]([a-z0-9._-]{0,10}[a-z0-9])?$/);
const validLabels = fc.dictionary(validLabelKey, fc.oneof(fc.constant(''), validLabelKey), { maxKeys: 6 });

interface Catalog {
  products: Array<{ code: string; family: string; regions: string[]; disk_gib: number }>;
  images: Array<{ id: string; slug: string; requires_gpu: boolean; min_disk_gib: number }>;
  regions: Array<{ code: string; status: string }>;
}

type Body = Record<string, unknown>;
type Mutation = (body: Body) => Body;

/** Changes that each make a create request invalid by themselves (so any sequence of them stays invalid). */
function invalidatingMutations(catalog: Catalog, dbSafe: (s: string) => boolean): fc.Arbitrary<Mutation> {
  const productCodes = new Set(catalog.products.map((p) => p.code));
  const regionCodes = new Set(catalog.regions.map((r) => r.code));
  const imageKeys = new Set(catalog.images.flatMap((i) => [i.slug, i.id]));
  const normalize = (s: string) => s.trim().toLowerCase().replace(/\+$/, '-plus');
  const planned = catalog.regions.filter((r) => r.status === 'planned').map((r) => r.code);
  const vps = catalog.products.filter((p) => p.family === 'vps').map((p) => p.code);
  const gpuImages = catalog.images.filter((i) => i.requires_gpu).map((i) => i.slug);
  const notSoldSomewhere = catalog.products.flatMap((p) =>
    catalog.regions
      .filter((r) => r.status === 'operational' && !p.regions.includes(r.code))
      .map((r) => [p.code, r.code] as const),
  );
  const set =
    (field: string, value: unknown): Mutation =>
    (b) => ({ ...b, [field]: value });
  const field = fc.constantFrom('name', 'product', 'region', 'image');

  return fc.oneof(
    // a required field missing, or of the wrong type
    field.map(
      (f): Mutation =>
        (b) =>
          Object.fromEntries(Object.entries(b).filter(([k]) => k !== f)),
    ),
    fc.tuple(field, notString).map(([f, v]) => set(f, v)),
    // names that are not hostnames (unicode, spaces, leading hyphen, too long, empty)
    fc
      .oneof(anyString(80), hostileText, fc.string({ minLength: 64, maxLength: 400 }))
      .filter((s) => !hostname.test(s))
      .map((s) => set('name', s)),
    // unknown catalog entries
    fc
      .oneof(anyString(70), hostileText)
      .filter((s) => !productCodes.has(normalize(s)) && dbSafe(s))
      .map((s) => set('product', s)),
    fc
      .oneof(anyString(20), hostileText)
      .filter((s) => !regionCodes.has(normalize(s)) && dbSafe(s))
      .map((s) => set('region', s)),
    fc
      .oneof(anyString(130), hostileText)
      .filter((s) => !imageKeys.has(s.trim().toLowerCase()) && !imageKeys.has(s) && dbSafe(s))
      .map((s) => set('image', s)),
    // catalog rules: planned region, product not sold in the region, GPU image on a VPS
    fc.constantFrom(...planned).map((r) => set('region', r)),
    fc.constantFrom(...notSoldSomewhere).map(([p, r]): Mutation => (b) => ({ ...b, product: p, region: r })),
    fc
      .tuple(fc.constantFrom(...vps), fc.constantFrom(...gpuImages))
      .map(([p, i]): Mutation => (b) => ({ ...b, product: p, image: i })),
    // labels: not an object, bad keys, bad or non-string values, too many
    fc
      .oneof(fc.array(fc.string(), { maxLength: 3 }), fc.string(), fc.integer(), fc.boolean(), fc.constant(null))
      .map((l) => set('labels', l)),
    fc
      .tuple(
        anyString(300).filter((k) => !isLabelKey(k)),
        fc.constantFrom('', 'x'),
      )
      .map(([k, v]) => set('labels', { ok: 'yes', [k]: v })),
    fc
      .tuple(
        validLabelKey,
        anyString(100).filter((v) => !isLabelValue(v)),
      )
      .map(([k, v]) => set('labels', { [k]: v })),
    fc.tuple(validLabelKey, notString).map(([k, v]) => set('labels', { [k]: v })),
    fc
      .integer({ min: 65, max: 200 })
      .map((n) => set('labels', Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v'])))),
    // ssh_keys: not an array, too many, not keys, type and blob disagree, injected newlines
    fc
      .oneof(fc.string(), fc.integer(), fc.object({ maxDepth: 1 }), fc.constant(null))
      .filter((v) => v !== null)
      .map((v) => set('ssh_keys', v)),
    fc.array(validSshKey, { minLength: 11, maxLength: 15 }).map((keys) => set('ssh_keys', keys)),
    fc
      .tuple(
        fc.array(validSshKey, { maxLength: 3 }),
        fc.oneof(
          anyString(200),
          notString,
          fc.constant('ssh-rsa AAAA'),
          fc.constant(sshKey('ssh-rsa', 'ssh-ed25519')),
          validSshKey.map((k) => `${k}\nssh-ed25519 AAAA`),
          fc.constant(`ssh-ed25519 ${'A'.repeat(16_400)}`),
        ),
      )
      .map(([good, bad]) => set('ssh_keys', [...good, bad])),
    // user_data: not a string, over 32 KiB (in bytes), NUL bytes
    notString.filter((v) => v !== null && v !== undefined).map((v) => set('user_data', v)),
    fc.constantFrom('é'.repeat(16_385), 'x'.repeat(32_769), '#!/bin/sh\n\0rm -rf /').map((u) => set('user_data', u)),
    // fields that do not exist, including the ones a mass assignment would abuse
    fc
      .tuple(
        fc
          .oneof(
            anyString(40),
            fc.constantFrom(
              'constructor',
              'prototype',
              'toString',
              'hasOwnProperty',
              'project_id',
              'host_id',
              'id',
              'status',
              'is_admin',
              'role',
            ),
          )
          .filter((k) => !createFields.has(k) && k !== '__proto__'),
        anyValue,
      )
      .map(([k, v]) => set(k, v)),
    // placement groups that do not exist (the project has none)
    fc
      .oneof(anyString(100), hostileText)
      .filter((s) => s.length >= 1 && dbSafe(s))
      .map((s) => set('placement_group', s)),
    // networks and firewalls that do not exist (the project has none)
    fc
      .tuple(
        fc.constantFrom('networks', 'firewalls'),
        fc.oneof(anyString(100), hostileText).filter((s) => s.length >= 1 && s.length <= 100 && dbSafe(s)),
      )
      .map(([field, s]) => set(field, [s])),
  );
}

// ---------------------------------------------------------------------------------------------------------

for (const dialect of testDialects()) {
  describe(`fuzzing the REST API (${dialect})`, () => {
    let t: TestControlPlane;
    let catalog: Catalog;
    let target: { id: string; name: string; version: number };
    let tokens: {
      viewer: string;
      revoked: string;
      host: string;
      otherProject: string;
      operator: string;
      owner: string;
    };
    const dbSafe = (s: string) => !(knownBugs.nulReachesPostgres && dialect === 'postgres') || noNul(s);
    let counter = 0;
    const uniqueName = (prefix: string) => `${prefix}-${(counter++).toString(36)}-${randomBytes(3).toString('hex')}`;

    const validCreate = (): Body => ({
      name: uniqueName('fz'),
      product: 'vps-nano',
      region: 'fra1',
      image: 'debian-12',
    });
    const json = (body: unknown) => JSON.stringify(body);
    const auth = (token: string) => `Bearer ${token}`;

    /** Sends one refused request and checks the problem document and that nothing was written. */
    async function expectRefused(request: RawRequest, check?: (response: RawResponse) => void) {
      const beforeSnapshot = await snapshot(t.cp.db);
      const response = await send(t.url, request);
      assertProblem(response, request);
      check?.(response);
      assert.deepEqual(
        await snapshot(t.cp.db),
        beforeSnapshot,
        `the refused request wrote to the database: ${describeRequest(request)} → ${response.status}`,
      );
    }

    before(async () => {
      t = await startTestControlPlane(dialect);
      const [products, images, regions] = await Promise.all([
        t.call('GET', '/v1/products'),
        t.call('GET', '/v1/images'),
        t.call('GET', '/v1/regions'),
      ]);
      catalog = { products: products.body.products, images: images.body.images, regions: regions.body.regions };

      const operator = t.secrets.operatorToken;
      const quotas = await t.call('PATCH', `/v1/projects/${t.secrets.projectId}/quotas`, {
        token: operator,
        body: { servers: 5000, vcpus: 100_000, gpus: 1000 },
      });
      assert.equal(quotas.status, 200, JSON.stringify(quotas.body));
      const created = await t.call('POST', '/v1/servers', {
        body: {
          name: 'fuzz-target',
          product: 'vps-nano',
          region: 'fra1',
          image: 'debian-12',
          labels: { role: 'target' },
        },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      assert.equal((await t.waitForAction(created.body.action.id)).status, 'success');
      const shown = await t.call('GET', `/v1/servers/${created.body.server.id}`);
      target = {
        id: created.body.server.id,
        name: 'fuzz-target',
        version: Number(/\d+/.exec(shown.headers.get('etag') ?? '')?.[0]),
      };

      const viewer = await t.call('POST', '/v1/tokens', { body: { name: 'fuzz-viewer', role: 'viewer' } });
      const revoked = await t.call('POST', '/v1/tokens', { body: { name: 'fuzz-revoked', role: 'owner' } });
      assert.equal((await t.call('DELETE', `/v1/tokens/${revoked.body.token.id}`)).status, 204);
      const host = await t.call('POST', '/v1/host-tokens', { token: operator, body: { name: 'fuzz-host' } });
      const other = await t.call('POST', '/v1/projects', {
        token: operator,
        body: { name: 'fuzz-other', owner_email: 'other@fuzz.example' },
      });
      tokens = {
        viewer: viewer.body.secret,
        revoked: revoked.body.secret,
        host: host.body.secret,
        otherProject: other.body.secret,
        operator,
        owner: t.secrets.projectToken,
      };
      for (const token of Object.values(tokens)) assert.match(token, /^vmc_/);
      // Every token once, so that last_used_at is written now and not during the properties.
      for (const token of Object.values(tokens)) await t.call('GET', '/v1/regions', { token });
      await settledSnapshot(t.cp.db);
    });

    after(async () => {
      await t?.dispose();
    });

    test('POST /v1/servers: hostile JSON bodies are refused with a problem and write nothing', async () => {
      const base = fc.record({
        labels: fc.option(validLabels, { nil: undefined }),
        ssh_keys: fc.option(fc.array(validSshKey, { maxLength: 2 }), { nil: undefined }),
        user_data: fc.option(fc.string({ maxLength: 200 }).filter(noNul), { nil: undefined }),
      });
      const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'Application/JSON');
      await fc.assert(
        fc.asyncProperty(
          base,
          fc.array(invalidatingMutations(catalog, dbSafe), { minLength: 1, maxLength: 3 }),
          contentType,
          async (extras, mutations, type) => {
            let body: Body = {
              ...validCreate(),
              ...Object.fromEntries(Object.entries(extras).filter(([, v]) => v !== undefined)),
            };
            for (const mutate of mutations) body = mutate(body);
            await expectRefused({
              method: 'POST',
              path: '/v1/servers',
              headers: { authorization: auth(tokens.owner), 'content-type': type },
              body: json(body),
            });
          },
        ),
        { numRuns: runs },
      );
    });

    test('POST /v1/servers: prototype pollution keys are refused and pollute nothing', async () => {
      const pollution = fc.constantFrom(
        (valid: string) => valid.replace(/^\{/, '{"__proto__":{"isAdmin":true,"product":"gpu-a100"},'),
        (valid: string) => valid.replace(/^\{/, '{"constructor":{"prototype":{"isAdmin":true}},'),
        (valid: string) => valid.replace(/\}$/, ',"labels":{"__proto__":{"polluted":"yes"}}}'),
        (valid: string) => valid.replace(/\}$/, ',"labels":{"constructor":{"prototype":{"polluted":"yes"}}}}'),
        (valid: string) => valid.replace(/\}$/, ',"labels":{"a":"b","__proto__":"x"}}'),
        (valid: string) => valid.replace(/^\{/, '{"__proto__":null,'),
        (valid: string) => valid.replace(/\}$/, ',"ssh_keys":{"__proto__":[],"length":1}}'),
      );
      await fc.assert(
        fc.asyncProperty(pollution, async (pollute) => {
          await expectRefused({
            method: 'POST',
            path: '/v1/servers',
            headers: { authorization: auth(tokens.owner), 'content-type': 'application/json' },
            body: pollute(json(validCreate())),
          });
          assert.equal(({} as Record<string, unknown>).isAdmin, undefined, 'Object.prototype was polluted');
          assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype was polluted');
        }),
        { numRuns: 20 },
      );
    });

    test('POST /v1/servers: non-JSON bodies and wrong content types are refused and write nothing', async () => {
      const notJsonType = fc.oneof(
        fc.constantFrom(
          undefined,
          'text/plain',
          'text/plain; charset=utf-8',
          'text/html',
          'application/xml',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'application/octet-stream',
          'application/jsonp',
          'application/vnd.vmcloud+json',
          'json',
          '*/*',
          '',
          ';',
          'application/',
        ),
        headerValue(100).filter((v) => !/^\s*application\/json\s*(;|$)/i.test(v)),
      );
      const garbage = fc.oneof(
        anyString(500),
        fc.uint8Array({ maxLength: 500 }).map((b) => Buffer.from(b)),
        fc.constantFrom(
          '',
          '{',
          '{"name":',
          '[]',
          'null',
          'true',
          '0',
          '"x"',
          '{}',
          '{"a":1,}',
          "{'name':'x'}",
          '\ufeff{}',
          'name=x&product=vps-nano',
        ),
        fc.jsonValue().map((v) => JSON.stringify(v)),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            // a valid create body, sent as something that is not JSON: must not be created
            fc.tuple(notJsonType, fc.constant(null)),
            // garbage sent as anything, JSON included
            fc.tuple(
              fc.oneof(
                notJsonType,
                fc.constantFrom(
                  'application/json',
                  'application/json; charset=utf-16',
                  'application/json; charset=latin1',
                ),
              ),
              garbage,
            ),
          ),
          async ([type, text]) => {
            const body = text ?? json(validCreate());
            await expectRefused({
              method: 'POST',
              path: '/v1/servers',
              headers: { authorization: auth(tokens.owner), 'content-type': type },
              body,
            });
          },
        ),
        { numRuns: runs },
      );
    });

    test('POST /v1/servers: bodies over the 1 MiB limit get 413 and write nothing', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1024 * 1024 + 1, max: 3 * 1024 * 1024 }),
          fc.constantFrom('name', 'user_data', 'labels'),
          async (size, field) => {
            const body = {
              ...validCreate(),
              [field]: field === 'labels' ? { big: 'x'.repeat(size) } : 'x'.repeat(size),
            };
            await expectRefused(
              {
                method: 'POST',
                path: '/v1/servers',
                headers: { authorization: auth(tokens.owner), 'content-type': 'application/json' },
                body: json(body),
              },
              (r) => assert.equal(r.status, 413),
            );
          },
        ),
        { numRuns: 10 },
      );
    });

    test('POST /v1/servers: bad or missing Authorization with a valid body: 401/403, nothing created', async () => {
      const validToken = tokens.owner;
      const flipped = (i: number) =>
        validToken.slice(0, i) + (validToken[i] === 'a' ? 'b' : 'a') + validToken.slice(i + 1);
      const authorization = fc.oneof(
        fc.constant(undefined),
        fc.constantFrom(
          '',
          'Bearer',
          'Bearer ',
          'bearer',
          `Basic ${Buffer.from('admin:admin').toString('base64')}`,
          `Token ${validToken}`,
          `Bearer ${validToken} extra`,
          `Bearer  ${validToken}x`,
          `${validToken}`,
          `Bearer vmc_`,
          `Bearer ${validToken.toUpperCase()}`,
        ),
        fc.constantFrom(tokens.revoked, tokens.viewer, tokens.host, tokens.operator).map(auth),
        fc.integer({ min: 4, max: validToken.length - 1 }).map((i) => auth(flipped(i))),
        fc.stringMatching(/^vmc_[0-9A-Za-z]{36}$/).map(auth),
        headerValue(200).map((v) => `Bearer ${v}`),
        headerValue(200),
      );
      await fc.assert(
        fc.asyncProperty(authorization, async (header) => {
          await expectRefused(
            {
              method: 'POST',
              path: '/v1/servers',
              headers: { authorization: header, 'content-type': 'application/json' },
              body: json(validCreate()),
            },
            (r) => assert.ok(['unauthenticated', 'forbidden'].includes(r.json.code), `${header} → ${r.json.code}`),
          );
        }),
        { numRuns: runs },
      );
    });

    test('POST /v1/servers: a bad Idempotency-Key with a valid body is refused and creates nothing', async () => {
      const keyPattern = /^[A-Za-z0-9_\-:.]{1,255}$/;
      const effective = (raw: string) => raw.trim().replace(/^"(.*)"$/, '$1');
      const key = fc
        .oneof(
          headerValue(300),
          fc.string({ minLength: 256, maxLength: 400, unit: fc.constantFrom('a', 'b', '1', '-') }),
          fc.constantFrom(
            '',
            ' ',
            '""',
            'a b',
            'a,b',
            Buffer.from('ключ').toString('latin1'),
            'key/1',
            'key;1',
            '"'.repeat(3),
          ),
        )
        .filter((k) => !keyPattern.test(effective(k)));
      await fc.assert(
        fc.asyncProperty(key, async (k) => {
          await expectRefused(
            {
              method: 'POST',
              path: '/v1/servers',
              headers: { authorization: auth(tokens.owner), 'content-type': 'application/json', 'idempotency-key': k },
              body: json(validCreate()),
            },
            (r) => assert.equal(r.json.code, 'invalid'),
          );
        }),
        { numRuns: runs },
      );
    });

    test('POST /v1/tokens: hostile bodies and callers are refused and write nothing', async () => {
      const good = { name: 'ci', role: 'viewer' };
      const body = fc.oneof(
        anyValue.filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)).map(json),
        fc.tuple(fc.constantFrom('name', 'role'), notString).map(([f, v]) => json({ ...good, [f]: v })),
        fc
          .constantFrom('name', 'role')
          .map((f) => json(Object.fromEntries(Object.entries(good).filter(([k]) => k !== f)))),
        fc
          .oneof(anyString(30), hostileText)
          .filter((r) => !['owner', 'member', 'viewer'].includes(r) && dbSafe(r))
          .map((role) => json({ ...good, role })),
        fc
          .oneof(fc.constantFrom('', ' ', '\t\n '), fc.string({ minLength: 101, maxLength: 500 }))
          .map((name) => json({ ...good, name })),
        fc
          .oneof(
            fc.integer({ max: 0 }),
            fc.integer({ min: 3651 }),
            fc.double({ noInteger: true }),
            fc.string(),
            fc.constant(null),
            fc.boolean(),
          )
          .map((days) => json({ ...good, expires_in_days: days })),
        fc
          .tuple(
            fc
              .oneof(anyString(20), fc.constantFrom('kind', 'project_id', 'secret', 'token_hash', 'constructor'))
              .filter((k) => !['name', 'role', 'expires_in_days', '__proto__'].includes(k)),
            anyValue,
          )
          .map(([k, v]) => json({ ...good, [k]: v })),
        fc.constantFrom(
          '{"name":"x","role":"owner","__proto__":{"role":"owner"}}',
          '{"name":"x","role":"viewer","constructor":{"prototype":{"role":"owner"}}}',
          '',
          '{',
          'name=x&role=owner',
        ),
      );
      const caller = fc.constantFrom(
        { token: tokens.owner, valid: false },
        { token: tokens.viewer, valid: true },
        { token: tokens.operator, valid: true },
        { token: tokens.host, valid: true },
        { token: tokens.revoked, valid: true },
      );
      await fc.assert(
        fc.asyncProperty(caller, body, async ({ token, valid }, text) => {
          // with a caller that may not create tokens, even a valid body must be refused
          await expectRefused({
            method: 'POST',
            path: '/v1/tokens',
            headers: { authorization: auth(token), 'content-type': 'application/json' },
            body: valid ? json(good) : text,
          });
        }),
        { numRuns: runs },
      );
    });

    test('POST /v1/servers/{id}/actions/*, DELETE: bad bodies, unknown ids, other projects and viewers write nothing', async () => {
      const badStopBody = fc.oneof(
        anyValue.filter((v) => v !== null && v !== undefined && (typeof v !== 'object' || Array.isArray(v))).map(json),
        notString.filter((v) => typeof v !== 'boolean' && v !== undefined).map((force) => json({ force })),
        fc.constantFrom('"true"', '1', '0').map((force) => `{"force":${force}}`),
        fc
          .tuple(
            anyString(20).filter((k) => k !== 'force' && k !== '__proto__'),
            anyValue,
          )
          .map(([k, v]) => json({ force: true, [k]: v })),
        fc.constantFrom(
          '{',
          '{"force":}',
          '{"__proto__":{"force":true}}',
          '{"constructor":{"prototype":{"force":true}}}',
        ),
      );
      const unknownId = fc
        .oneof(anyString(120), hostileText, fc.stringMatching(/^srv_[0-9a-z]{26}$/))
        .filter((id) => id !== target.id && id.length > 0 && dbSafe(id) && pathParamFits(pct(id)));
      const cases = fc.oneof(
        badStopBody.map((body) => ({
          token: tokens.owner,
          method: 'POST',
          path: `/v1/servers/${target.id}/actions/stop`,
          body,
          type: 'application/json',
        })),
        fc
          .tuple(
            fc.constantFrom('text/plain', 'application/xml', 'application/x-www-form-urlencoded'),
            fc.constantFrom('force=true', '{"force":true}', 'true'),
          )
          .map(([type, body]) => ({
            token: tokens.owner,
            method: 'POST',
            path: `/v1/servers/${target.id}/actions/stop`,
            body,
            type,
          })),
        fc
          .tuple(unknownId, fc.constantFrom('actions/stop', 'actions/start', 'actions/reboot', ''))
          .map(([id, what]) => ({
            token: tokens.owner,
            method: what === '' ? 'DELETE' : 'POST',
            path: `/v1/servers/${pct(id)}${what ? '/' + what : ''}`,
            body: what === 'actions/stop' ? '{"force":true}' : undefined,
            type: what === 'actions/stop' ? 'application/json' : undefined,
          })),
        fc
          .tuple(
            fc.constantFrom(tokens.otherProject, tokens.viewer, tokens.operator, tokens.host),
            fc.constantFrom('actions/stop', 'actions/reboot', ''),
          )
          .map(([token, what]) => ({
            token,
            method: what === '' ? 'DELETE' : 'POST',
            path: `/v1/servers/${target.id}${what ? '/' + what : ''}`,
            body: what === 'actions/stop' ? '{"force":true}' : undefined,
            type: what === 'actions/stop' ? 'application/json' : undefined,
          })),
      );
      await fc.assert(
        fc.asyncProperty(cases, async ({ token, method, path, body, type }) => {
          await expectRefused(
            { method, path, headers: { authorization: auth(token), 'content-type': type }, body },
            (r) => {
              if (token === tokens.otherProject)
                assert.equal(r.json.code, 'not_found', "another project's server answers 404");
            },
          );
        }),
        { numRuns: runs },
      );
    });

    test('PATCH /v1/servers/{id}: bad bodies, bad or stale If-Match, unknown ids write nothing', async () => {
      const etag = /^"?v(\d+)"?$/;
      const badBody = fc.oneof(
        anyValue.filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)).map(json),
        fc
          .oneof(anyString(80), hostileText, fc.string({ minLength: 64, maxLength: 300 }))
          .filter((n) => !hostname.test(n))
          .map((name) => json({ name })),
        notString.filter((v) => v !== undefined).map((name) => json({ name })),
        fc
          .oneof(fc.array(fc.string(), { maxLength: 2 }), fc.string(), fc.integer(), fc.constant(null))
          .map((labels) => json({ labels })),
        fc
          .tuple(
            anyString(100).filter((k) => !isLabelKey(k) && k !== '__proto__'),
            fc.constant('v'),
          )
          .map(([k, v]) => json({ labels: { [k]: v } })),
        fc
          .tuple(
            validLabelKey,
            fc.oneof(
              anyString(80).filter((v) => !isLabelValue(v)),
              notString.filter((v) => v !== undefined),
            ),
          )
          .map(([k, v]) => json({ labels: { [k]: v } })),
        fc
          .tuple(
            anyString(20).filter((k) => k !== 'name' && k !== 'labels' && k !== '__proto__'),
            anyValue,
          )
          .map(([k, v]) => json({ name: 'renamed', [k]: v })),
        fc.constantFrom(
          '{',
          '{"labels":{"__proto__":{"x":"y"}}}',
          '{"constructor":{"prototype":{"name":"x"}}}',
          'name=x',
        ),
      );
      const badIfMatch = fc
        .oneof(
          headerValue(60),
          fc.constantFrom('*', 'W/"v1"', '"v"', 'v-1', '"v1', 'v1.0', `"v${'9'.repeat(400)}"`),
          fc.nat().map((n) => `"v${n}"`),
        )
        .filter((v) => {
          const m = etag.exec(v.trim());
          return !(m && Number(m[1]) === target.version);
        });
      const cases = fc.oneof(
        badBody.map((body) => ({
          token: tokens.owner,
          path: `/v1/servers/${target.id}`,
          body,
          ifMatch: undefined as string | undefined,
        })),
        badIfMatch.map((ifMatch) => ({
          token: tokens.owner,
          path: `/v1/servers/${target.id}`,
          body: json({ name: 'renamed', labels: { changed: 'yes' } }),
          ifMatch,
        })),
        fc
          .oneof(anyString(120), fc.stringMatching(/^srv_[0-9a-z]{26}$/))
          .filter((id) => id !== target.id && id.length > 0 && dbSafe(id) && pathParamFits(pct(id)))
          .map((id) => ({
            token: tokens.owner,
            path: `/v1/servers/${pct(id)}`,
            body: json({ name: 'renamed' }),
            ifMatch: undefined,
          })),
        fc
          .constantFrom(tokens.otherProject, tokens.viewer, tokens.operator, tokens.host, tokens.revoked)
          .map((token) => ({
            token,
            path: `/v1/servers/${target.id}`,
            body: json({ name: 'renamed' }),
            ifMatch: undefined,
          })),
      );
      await fc.assert(
        fc.asyncProperty(cases, async ({ token, path, body, ifMatch }) => {
          await expectRefused({
            method: 'PATCH',
            path,
            headers: { authorization: auth(token), 'content-type': 'application/json', 'if-match': ifMatch },
            body,
          });
        }),
        { numRuns: runs },
      );
    });

    test('GET /v1/servers: hostile query strings answer 200 or a 4xx problem, never 5xx, and write nothing', async () => {
      const rawValue = fc.oneof(
        anyString(60).filter(dbSafe).map(pct),
        fc.constantFrom('', '%', '%zz', '%E0%A4%A', '+', '%2B', '[]', '..', '%ff%fe', 'a&b', '==', '%3D%3D', '(', ')'),
        fc
          .string({
            minLength: 2001,
            maxLength: 2100,
            unit: fc.constantFrom('a', 'a', 'a', '=', ',', '(', ')', ' ', '!'),
          })
          .map(pct),
      );
      const param = fc.oneof(
        // invalid limits, cursors and selectors: always refused
        fc
          .oneof(
            fc.integer({ max: 0 }).map(String),
            fc.integer({ min: 501, max: 100_000 }).map(String),
            fc.constantFrom('1.5', '-1', '1e2', 'NaN', ' 5', '0x10', 'Infinity', ''),
          )
          .map((v) => ({ text: `limit=${pct(v)}`, refused: true })),
        anyString(100)
          .filter((c) => c !== '' && !/^srv_[0-9a-z]{26}$/.test(Buffer.from(c, 'base64url').toString()))
          .map((c) => ({ text: `cursor=${pct(c)}`, refused: true })),
        fc
          .constantFrom(
            '==',
            '=x',
            'a in (b',
            'a in b)',
            '!',
            '!=a',
            'a b',
            'a,,b',
            '(a)',
            'a=b=c',
            'a notin ((b))',
            `${'a'.repeat(64)}=x`,
            'a=' + 'b'.repeat(64),
          )
          .map((s) => ({ text: `label_selector=${pct(s)}`, refused: true })),
        fc
          .constantFrom('limit', 'cursor', 'label_selector', 'name', 'region', 'status')
          .map((k) => ({ text: `${k}=1&${k}=2`, refused: true })),
        anyString(20)
          .filter((k) => !['limit', 'cursor', 'label_selector', 'name', 'region', 'status', ''].includes(k))
          .map((k) => ({ text: `${pct(k)}=1`, refused: true })),
        // anything at all: 200 or a problem
        fc
          .tuple(
            fc.constantFrom(
              'limit',
              'cursor',
              'label_selector',
              'name',
              'region',
              'status',
              'limit[]',
              'cursor[a]',
              '__proto__',
              'constructor',
            ),
            rawValue,
          )
          .map(([k, v]) => ({ text: `${k}=${v}`, refused: false })),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(param, { minLength: 1, maxLength: 3 }), async (params) => {
          const request: RawRequest = {
            method: 'GET',
            path: `/v1/servers?${params.map((p) => p.text).join('&')}`,
            headers: { authorization: auth(tokens.owner) },
          };
          const beforeSnapshot = await snapshot(t.cp.db);
          const response = await send(t.url, request);
          if (params.some((p) => p.refused) || response.status !== 200) assertProblem(response, request);
          else {
            assert.match(response.contentType, /^application\/json\b/);
            assert.ok(Array.isArray(response.json.servers), describeRequest(request));
          }
          assert.deepEqual(await snapshot(t.cp.db), beforeSnapshot, describeRequest(request));
        }),
        { numRuns: runs },
      );
    });

    test('after all the refused requests, the target server is as it was', async () => {
      const shown = await t.call('GET', `/v1/servers/${target.id}`);
      assert.equal(shown.status, 200);
      assert.equal(shown.body.server.name, target.name);
      assert.equal(shown.body.server.status, 'running');
      assert.deepEqual(shown.body.server.labels, { role: 'target' });
      assert.equal(shown.headers.get('etag'), `"v${target.version}"`);
      const list = await t.call('GET', '/v1/servers?limit=500');
      assert.deepEqual(
        list.body.servers.map((s: { id: string }) => s.id),
        [target.id],
        'no server was created by a refused request',
      );
      const audit = await t.call('GET', '/v1/audit-log?limit=500');
      assert.ok(
        audit.body.entries.some((e: { outcome: string }) => e.outcome === 'failure'),
        'refused mutations are audited',
      );
    });

    // ------------------------------------------------------------------------------------------------------
    // Known bugs: each runs its exact reproduction and is marked todo while the bug is open.

    const onPostgres = dialect === 'postgres';
    test(
      'NUL characters in strings that reach a query are refused with a 4xx, never a 500',
      {
        todo:
          onPostgres && knownBugs.nulReachesPostgres
            ? 'BUG: PostgreSQL rejects NUL in text (22021) and the API answers 500'
            : false,
      },
      async () => {
        const cases: RawRequest[] = [
          {
            method: 'POST',
            path: '/v1/servers',
            body: json({ name: 'nul-1', product: 'vps\0nano', region: 'fra1', image: 'debian-12' }),
          },
          {
            method: 'POST',
            path: '/v1/servers',
            body: json({ name: 'nul-2', product: 'vps-nano', region: 'fra1', image: 'debian\0-12' }),
          },
          {
            method: 'POST',
            path: '/v1/servers',
            body: json({
              name: 'nul-3',
              product: 'vps-nano',
              region: 'fra1',
              image: 'debian-12',
              placement_group: 'a\0b',
            }),
          },
          { method: 'GET', path: '/v1/servers?name=a%00' },
          { method: 'GET', path: '/v1/servers?status=%00' },
          { method: 'GET', path: '/v1/servers?region=fra1%00' },
          { method: 'GET', path: '/v1/servers/srv%00' },
          { method: 'GET', path: '/v1/actions/act%00' },
          { method: 'POST', path: '/v1/servers/a%00b/actions/stop', body: '{}' },
          { method: 'PATCH', path: '/v1/servers/a%00b', body: json({ name: 'x' }) },
          { method: 'DELETE', path: '/v1/servers/a%00b' },
        ];
        for (const request of cases) {
          const full: RawRequest = {
            ...request,
            headers: {
              authorization: auth(tokens.owner),
              ...(request.body !== undefined && { 'content-type': 'application/json' }),
            },
          };
          // A list filtered by a value with a NUL may simply match nothing.
          if (request.path.startsWith('/v1/servers?')) {
            const response = await send(t.url, full);
            if (response.status !== 200) assertProblem(response, full);
          } else await expectRefused(full);
        }
        // A token name with a NUL is refused like any other hostile string.
        await expectRefused({
          method: 'POST',
          path: '/v1/tokens',
          headers: { authorization: auth(tokens.owner), 'content-type': 'application/json' },
          body: json({ name: 'ci\0', role: 'viewer' }),
        });
      },
    );

    test('a path with broken percent-encoding gets a problem document', async () => {
      await expectRefused({
        method: 'GET',
        path: '/v1/servers/%E0%A4%A',
        headers: { authorization: auth(tokens.owner) },
      });
    });

    test(
      'a path parameter over 100 characters gets a problem document',
      {
        todo: knownBugs.longPathParam
          ? 'BUG: FST_ERR_MAX_PARAM_LENGTH answers 414 as plain application/json without request_id'
          : false,
      },
      async () => {
        await expectRefused({
          method: 'POST',
          path: `/v1/servers/${'a'.repeat(101)}/actions/stop`,
          headers: { authorization: auth(tokens.owner), 'content-type': 'application/json' },
          body: '{"force":true}',
        });
      },
    );

    test('a request the HTTP parser refuses gets a problem document', async () => {
      const raw = await sendRawBytes(
        t.url,
        `POST /v1/servers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \x01\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
      );
      assert.match(raw, /^HTTP\/1\.1 4\d\d /);
      assert.match(raw, /content-type: application\/problem\+json/i, raw);
    });

    test('an empty PATCH changes nothing', async () => {
      const beforeSnapshot = await settledSnapshot(t.cp.db);
      const response = await send(t.url, {
        method: 'PATCH',
        path: `/v1/servers/${target.id}`,
        headers: { authorization: auth(tokens.owner), 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(response.status, 200);
      assert.deepEqual(await snapshot(t.cp.db), beforeSnapshot);
    });

    // Runs last: it creates servers.
    test('random valid create requests get 202 or a 4xx that says why, never a 5xx', async () => {
      const regions = catalog.regions.map((r) => r.code);
      const request = fc.record({
        product: fc
          .constantFrom(...catalog.products.map((p) => p.code))
          .chain((code) => fc.constantFrom(code, code.toUpperCase(), ` ${code} `)),
        region: fc.constantFrom(...regions).chain((code) => fc.constantFrom(code, code.toUpperCase())),
        image: fc.constantFrom(...catalog.images.flatMap((i) => [i.slug, i.id])),
        labels: fc.option(validLabels, { nil: undefined }),
        ssh_keys: fc.option(fc.array(validSshKey, { maxLength: 10 }), { nil: undefined }),
        user_data: fc.option(
          fc
            .oneof(fc.string({ maxLength: 2000 }), fc.string({ unit: 'grapheme', maxLength: 500 }), fc.constant(null))
            .map((u) => (typeof u === 'string' ? u.replace(/\0/g, '') : u)),
          { nil: undefined },
        ),
        idempotencyKey: fc.option(fc.stringMatching(/^[A-Za-z0-9_\-:.]{8,64}$/), { nil: undefined }),
      });
      const statuses = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(request, async ({ idempotencyKey, ...fields }) => {
          const body = {
            name: uniqueName('ok'),
            ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)),
          };
          const raw: RawRequest = {
            method: 'POST',
            path: '/v1/servers',
            headers: {
              authorization: auth(tokens.owner),
              'content-type': 'application/json',
              'idempotency-key': idempotencyKey,
            },
            body: json(body),
          };
          const response = await send(t.url, raw);
          const key = `${response.status} ${response.json?.reason ?? ''}`.trim();
          statuses.set(key, (statuses.get(key) ?? 0) + 1);
          if (response.status === 202) {
            assert.match(response.json.server.id, /^srv_/);
            assert.equal(response.json.server.name, body.name);
            assert.equal(response.json.action.command, 'create');
            return;
          }
          assertProblem(response, raw);
          assert.ok(
            typeof response.json.detail === 'string' && response.json.detail.length > 0,
            'the problem says why',
          );
          const region = catalog.regions.find((r) => r.code === String(fields.region).toLowerCase());
          if (region?.status === 'operational' && response.json.reason !== 'no_capacity') {
            assert.ok(
              response.json.errors?.length > 0 || response.json.reason,
              `a refusal names the field or the reason: ${response.text}`,
            );
          }
        }),
        { numRuns: runs },
      );
      assert.ok((statuses.get('202') ?? 0) > 0, `some valid creates succeed: ${JSON.stringify([...statuses])}`);
    });
  });
}

after(() => agent.destroy());
