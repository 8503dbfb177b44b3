/**
 * A hostile agent, fuzzed (fast-check), on every dialect of testDialects(): host 1 is joined legitimately
 * and runs two servers of project A (one running, one stopped); host 2's certificate — and fresh, never-used
 * join tokens (with no certificate) — then send, over the agent listener (mutual TLS), random sequences
 * of re-registrations and joins (host 1's name among them, random regions, addresses aimed at loopback or
 * the metadata service, malformed topologies: missing fields, huge counts, negative ids, duplicated
 * threads, GPUs on absent NUMA nodes, strings for numbers, deep nesting, junk bodies), reports for random
 * server ids (host 1's real ones among them) with random powers, heartbeats and desired-state reads for
 * host 1's id and random ids.
 *
 * After every action: no answer is a 5xx; nothing aimed at host 1 succeeds; the control plane answers
 * /healthz; host 1's row (as operators see it, plus the address the control plane would use) is
 * unchanged; host 1's servers, its desired state and its token binding are unchanged; the hosts of the
 * attackers never receive host 1's servers. After every sequence: capacity and the placement audit still
 * work and find no violation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { testDialects } from '../src/db/test-helpers.ts';
import type { DialectName } from '../src/db/index.ts';
import type { HostTopology } from '../src/contract/index.ts';
import { startTestControlPlane, type TestControlPlane } from './helpers.ts';
import {
  agentListenerOf,
  agentRequest,
  hostRegistration,
  joinTestHost,
  type AgentListenerOfTest,
} from './trust-fixtures.ts';
import type { HostCredentials } from '../src/agent/mtls/index.ts';
import { createKeyAndCsr } from '../src/pki/index.ts';

/** Sequences per dialect (each of 1–5 actions); FUZZ_RUNS overrides. */
const numRuns = Number(process.env.FUZZ_RUNS ?? 100);

const host1Name = 'victim-fra1-01';
const host2Name = 'intruder-ams1-01';

// ---------------------------------------------------------------------------------------------------------
// The world: host 1 with two servers of A, host 2 in a region of its own

interface World {
  t: TestControlPlane;
  listener: AgentListenerOfTest;
  operator: string;
  host1: { id: string; credentials: HostCredentials; tokenId: string };
  host2: { id: string; credentials: HostCredentials; tokenId: string };
  /** A CSR a fresh join token sends (its key is never used: what matters is who may join). */
  csrPem: string;
  /** Host 1's servers: `running` and `stopped`. */
  servers: { running: string; stopped: string };
}

/** Builds the world; `cleanups` gets what to stop as soon as it runs (so a timeout still cleans up). */
async function buildWorld(dialect: DialectName, cleanups: Array<() => Promise<void>>): Promise<World> {
  // Production's address policy: no loopback or metadata addresses for hosts. Host 1's address is in
  // TEST-NET-1 and never contacted: nothing here reaches a host API.
  const t = await startTestControlPlane(dialect, {
    fleet: 'none',
    hostDownAfterMs: 3_600_000,
    hostAddressPolicy: 'routable-only',
  });
  cleanups.push(() => t.dispose());
  const operator = t.secrets.operatorToken;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const expect = async (what: string, status: number, answer: Promise<{ status: number; body: any }>) => {
    const { status: got, body } = await answer;
    assert.equal(got, status, `${what}: ${JSON.stringify(body)}`);
    return body;
  };
  const listener = await agentListenerOf(t.cp);
  const register = async (name: string, region: string, address: string) => {
    const token = await expect(
      'host token',
      201,
      t.call('POST', '/v1/host-tokens', { token: operator, body: { name } }),
    );
    const registration = hostRegistration({ name, region, address, driver: 'qemu' });
    const credentials = await joinTestHost(listener, token.secret, registration);
    return { id: credentials.hostId, credentials, tokenId: token.token.id as string };
  };
  const host1 = await register(host1Name, 'fra1', 'https://192.0.2.10:8443');
  // AMS1 has no other host: nothing is placed on host 2 but what the attack itself could move there.
  const host2 = await register(host2Name, 'ams1', 'https://192.0.2.20:8443');
  await t.cp.services.scheduler.reload();

  // Host 1 plays its agent by hand: boot both servers, then stop one.
  const create = async (name: string) =>
    expect(
      `create ${name}`,
      202,
      t.call('POST', '/v1/servers', { body: { name, product: 'vps-nano', region: 'fra1', image: 'debian-12' } }),
    );
  const running = await create('victim-web');
  const stopped = await create('victim-db');
  const asHost1 = async (method: string, path: string, body?: unknown) => {
    const answer = await agentRequest(listener, {
      method,
      path,
      credentials: host1.credentials,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: answer.status, body: answer.text === '' ? null : JSON.parse(answer.text) };
  };
  const report = (observed: Array<{ serverId: string; power: string }>) =>
    expect(
      'host 1 reports',
      204,
      asHost1('POST', `/v1/agent/hosts/${host1.id}/report`, {
        observed: observed.map((o) => ({ ...o, rebootGeneration: 0 })),
        full: true,
      }),
    );
  const desired = await expect('host 1 desired', 200, asHost1('GET', `/v1/agent/hosts/${host1.id}/desired`));
  assert.deepEqual(
    desired.instances.map((i: { spec: { serverId: string } }) => i.spec.serverId).sort(),
    [running.server.id, stopped.server.id].sort(),
    'both servers were placed on host 1',
  );
  await report([
    { serverId: running.server.id, power: 'running' },
    { serverId: stopped.server.id, power: 'running' },
  ]);
  for (const created of [running, stopped]) assert.equal((await t.waitForAction(created.action.id)).status, 'success');
  const stop = await expect('stop', 202, t.call('POST', `/v1/servers/${stopped.server.id}/actions/stop`, { body: {} }));
  await report([
    { serverId: running.server.id, power: 'running' },
    { serverId: stopped.server.id, power: 'stopped' },
  ]);
  assert.equal((await t.waitForAction(stop.action.id)).status, 'success');

  return {
    t,
    listener,
    operator,
    host1,
    host2,
    csrPem: (await createKeyAndCsr({ commonName: 'vmcloud-agent' })).csrPem,
    servers: { running: running.server.id, stopped: stopped.server.id },
  };
}

/** Everything about host 1 that no other host may change. */
async function host1State(world: World) {
  const { t, host1, operator, servers } = world;
  const row = await t.call('GET', `/v1/hosts/${host1.id}`, { token: operator });
  assert.equal(row.status, 200);
  const { last_heartbeat_at: _heartbeat, ...host } = row.body.host;
  const serverViews = [];
  for (const id of [servers.running, servers.stopped]) {
    const answer = await t.call('GET', `/v1/servers/${id}`);
    assert.equal(answer.status, 200);
    serverViews.push({ etag: answer.headers.get('etag'), server: answer.body.server });
  }
  const desired = await agentRequest(world.listener, {
    method: 'GET',
    path: `/v1/agent/hosts/${host1.id}/desired`,
    credentials: host1.credentials,
  });
  assert.equal(desired.status, 200);
  const tokens = await t.call('GET', '/v1/host-tokens', { token: operator });
  const binding = tokens.body.tokens.find((tok: { id: string }) => tok.id === host1.tokenId);
  return {
    host,
    // The address the control plane would use to reach host 1's API (console, export…).
    endpoint: await t.cp.services.inventory.hostApiOf(host1.id),
    servers: serverViews,
    desired: (JSON.parse(desired.text) as { instances: unknown[] }).instances,
    binding: { host_id: binding?.host_id, revoked_at: binding?.revoked_at },
  };
}

// ---------------------------------------------------------------------------------------------------------
// What a hostile agent sends

type Actor = 'host2' | 'unbound';
/** `own`: the actor's host (none for an unbound token); `host1`; or a raw id. */
type HostRef = { ref: 'own' } | { ref: 'host1' } | { ref: 'raw'; id: string };

type Action =
  | { kind: 'register'; actor: Actor; body: unknown }
  | { kind: 'report'; actor: Actor; target: HostRef; body: unknown }
  | { kind: 'heartbeat'; actor: Actor; target: HostRef }
  | { kind: 'desired'; actor: Actor; target: HostRef };

/** Text with anything in it: control characters, NUL, lone surrogates, line separators, SQL. */
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ maxLength: 20 }),
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    'srv_\u0000',
    '\u2028',
    '\ud800',
    '\ufeff',
    '\u202e',
    "'; drop table hosts; --",
    '%00',
    '${x}',
  ),
  fc.constantFrom('\u0000', 'a\u0000b', '\u2028', '\ud800'),
);

/** A small valid topology: 1–3 NUMA nodes of 1–6 cores, 1–2 threads each, GPUs and NICs on real nodes. */
const validTopology: fc.Arbitrary<HostTopology> = fc
  .record({
    nodes: fc.integer({ min: 1, max: 3 }),
    cores: fc.integer({ min: 1, max: 6 }),
    threadsPerCore: fc.integer({ min: 1, max: 2 }),
    gpus: fc.integer({ min: 0, max: 2 }),
    nics: fc.integer({ min: 0, max: 2 }),
    vfs: fc.integer({ min: 0, max: 3 }),
  })
  .map(({ nodes, cores, threadsPerCore, gpus, nics, vfs }) => {
    const coresTotal = nodes * cores;
    const numaNodes = Array.from({ length: nodes }, (_, node) => ({
      id: node,
      memoryMiB: 65_536,
      cores: Array.from({ length: cores }, (_, c) => {
        const id = node * cores + c;
        return { id, threads: Array.from({ length: threadsPerCore }, (_, k) => id + k * coresTotal) };
      }),
    }));
    const pci = (bus: number, fn: number) => `0000:${bus.toString(16).padStart(2, '0')}:00.${fn}`;
    return {
      sockets: nodes,
      numaNodes,
      reservedThreads: [0],
      reservedMemoryMiBPerNode: 4096,
      diskGiB: 1000,
      gpus: Array.from({ length: gpus }, (_, g) => ({
        pciAddress: pci(0x41 + g, 0),
        model: 'nvidia-t4',
        numaNode: g % nodes,
        iommuGroup: 20 + g,
      })),
      nics: Array.from({ length: nics }, (_, n) => ({
        name: `enp${n}`,
        pciAddress: pci(0x21 + n, 0),
        numaNode: n % nodes,
        speedGbps: 25,
        vfs: Array.from({ length: vfs }, (_, v) => ({ index: v, pciAddress: pci(0x21 + n, v + 1) })),
      })),
    };
  });

/**
 * Deep nesting, kept small until sent: the placeholder `"<deep:N>"` becomes N arrays inside each other once
 * the body is serialized (fast-check can then print the value, and JSON.stringify never recurses N deep).
 */
const deep = (depth: number) => `<deep:${depth}>`;
const expandDeep = (json: string) =>
  json.replace(
    /"<deep:(\d+)>"/g,
    (_match, depth: string) => '['.repeat(Number(depth)) + '0' + ']'.repeat(Number(depth)),
  );

type Mutation = (topology: Record<string, any>) => void; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Ways to break a topology: each leaves the rest of it valid. */
const topologyMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constantFrom('sockets', 'numaNodes', 'reservedThreads', 'reservedMemoryMiBPerNode', 'diskGiB', 'gpus', 'nics').map(
    (field): Mutation =>
      (t) =>
        delete t[field],
  ),
  fc
    .tuple(
      fc.constantFrom('sockets', 'numaNodes', 'reservedThreads', 'reservedMemoryMiBPerNode', 'diskGiB', 'gpus', 'nics'),
      fc.oneof(
        anyText,
        fc.constantFrom(null, -1, 1.5, 1e21, Number.MAX_SAFE_INTEGER, '8', true, {}, []),
        fc.jsonValue({ maxDepth: 3 }),
      ),
    )
    .map(
      ([field, value]): Mutation =>
        (t) =>
          (t[field] = value),
    ),
  // huge counts
  fc.integer({ min: 65, max: 300 }).map((count): Mutation => (t) => {
    t.numaNodes = Array.from({ length: count }, (_, id) => ({ id, memoryMiB: 1024, cores: [{ id, threads: [id] }] }));
  }),
  fc.integer({ min: 1025, max: 5000 }).map((count): Mutation => (t) => {
    t.numaNodes[0].cores = Array.from({ length: count }, (_, id) => ({ id, threads: [id] }));
  }),
  fc.integer({ min: 9, max: 200 }).map((count): Mutation => (t) => {
    t.numaNodes[0].cores[0].threads = Array.from({ length: count }, (_, id) => 10_000 + id);
  }),
  fc.constantFrom(4097, 1_000_000, 2 ** 31, 2 ** 53).map((id): Mutation => (t) => {
    t.numaNodes[0].cores[0].threads[0] = id;
  }),
  fc.integer({ min: 65, max: 200 }).map((count): Mutation => (t) => {
    t.gpus = Array.from({ length: count }, (_, g) => ({
      pciAddress: `0000:${(g % 256).toString(16).padStart(2, '0')}:01.0`,
      model: 'x',
      numaNode: 0,
      iommuGroup: null,
    }));
  }),
  // negative ids
  fc.integer({ min: -1_000_000, max: -1 }).map(
    (id): Mutation =>
      (t) =>
        (t.numaNodes[0].id = id),
  ),
  fc.integer({ min: -1_000_000, max: -1 }).map(
    (id): Mutation =>
      (t) =>
        (t.numaNodes[0].cores[0].id = id),
  ),
  fc.integer({ min: -1_000_000, max: -1 }).map(
    (id): Mutation =>
      (t) =>
        (t.numaNodes[0].cores[0].threads[0] = id),
  ),
  // inconsistent: duplicated threads, cores and nodes; devices on absent nodes; reserve that does not exist
  fc.constant<Mutation>((t) => t.numaNodes[0].cores.push({ ...t.numaNodes[0].cores[0], id: 900 })),
  fc.constant<Mutation>((t) => t.numaNodes[0].cores.push({ id: t.numaNodes[0].cores[0].id, threads: [901] })),
  fc.constant<Mutation>((t) => t.numaNodes.push({ ...t.numaNodes[0], cores: [{ id: 902, threads: [902] }] })),
  fc.constant<Mutation>((t) => t.numaNodes[0].cores[0].threads.push(t.numaNodes[0].cores[0].threads[0])),
  fc.integer({ min: 3, max: 1023 }).map((node): Mutation => (t) => {
    t.gpus.push({ pciAddress: '0000:e1:00.0', model: 'nvidia-a100', numaNode: node, iommuGroup: 1 });
  }),
  fc.integer({ min: 3, max: 1023 }).map((node): Mutation => (t) => {
    t.nics.push({ name: 'evil0', pciAddress: '0000:e2:00.0', numaNode: node, speedGbps: 100, vfs: [] });
  }),
  fc.constant<Mutation>((t) => {
    t.gpus.push({ pciAddress: '0000:e3:00.0', model: 'a', numaNode: 0, iommuGroup: 1 });
    t.gpus.push({ pciAddress: '0000:E3:00.0', model: 'b', numaNode: 0, iommuGroup: 2 });
  }),
  fc.integer({ min: 5000, max: 4096 * 4 }).map(
    (thread): Mutation =>
      (t) =>
        t.reservedThreads.push(thread),
  ),
  fc.constant<Mutation>((t) => (t.reservedMemoryMiBPerNode = t.numaNodes[0].memoryMiB + 1)),
  fc.constant<Mutation>((t) => (t.numaNodes = [])),
  fc.constant<Mutation>((t) => (t.numaNodes[0].cores[0].threads = [])),
  // strings where numbers go, extra fields, deep nesting
  fc.constant<Mutation>((t) => (t.numaNodes[0].memoryMiB = '65536')),
  fc.constant<Mutation>((t) => (t.numaNodes[0].cores[0].threads = ['0', '1'])),
  fc.constant<Mutation>((t) => {
    Object.defineProperty(t.numaNodes[0], '__proto__', { value: { isAdmin: true }, enumerable: true });
  }),
  fc.constant<Mutation>((t) => (t.extra = { constructor: { prototype: { polluted: true } } })),
  fc.integer({ min: 10, max: 20_000 }).map(
    (depth): Mutation =>
      (t) =>
        (t.numaNodes[0].cores = deep(depth)),
  ),
  fc.integer({ min: 10, max: 20_000 }).map(
    (depth): Mutation =>
      (t) =>
        (t.gpus = deep(depth)),
  ),
);

const topology: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 2, arbitrary: validTopology },
  {
    weight: 5,
    arbitrary: fc
      .tuple(validTopology, fc.array(topologyMutation, { minLength: 1, maxLength: 3 }))
      .map(([base, mutations]) => {
        const copy = structuredClone(base) as Record<string, unknown>;
        for (const mutate of mutations) {
          try {
            mutate(copy);
          } catch {
            // a mutation that does not apply to what an earlier one left: skip it
          }
        }
        return copy;
      }),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
);

/** Usually `valid`, sometimes `broken`: a request that is well formed but for one or two parts. */
const mostly = <T, U>(valid: fc.Arbitrary<T>, broken: fc.Arbitrary<U>) =>
  fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: broken });

const hostName = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(host1Name, host2Name) },
  { weight: 3, arbitrary: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/) },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.constantFrom(host1Name.toUpperCase(), `${host1Name}.`, ` ${host1Name}`, `${host1Name}\u0000`, 'a'.repeat(101)),
      anyText,
    ),
  },
);

const region = mostly(
  fc.constantFrom('fra1', 'ams1', 'par1', 'lon1'),
  fc.oneof(fc.constantFrom('mad1', 'mil1', 'FRA1', '', 'fra1 ', 'x'.repeat(17)), anyText),
);

const address = fc.oneof(
  fc.constantFrom(null, 'http://192.0.2.30:8443', 'https://host.example:8443'),
  fc.constantFrom(
    'http://127.0.0.1:8443',
    'http://localhost:8443',
    'http://[::1]:8443',
    'http://169.254.169.254',
    'http://169.254.169.254:80',
    'http://[fd00:ec2::254]',
    'http://[::ffff:169.254.169.254]',
    'http://[fe80::1]:8443',
    'http://0.0.0.0:8443',
    'http://224.0.0.1',
    'http://user:secret@192.0.2.30:8443',
    'http://192.0.2.30:8443/path',
    'http://192.0.2.30:8443?x=1',
    'http://192.0.2.10:8443',
    'ftp://192.0.2.30',
    'http://',
    'http://[::1',
  ),
  fc.oneof(
    anyText.map((text) => `http://${text}`),
    anyText,
  ),
);

/** The shared agent key is gone: a registration that still carries one is refused (unknown field). */
const agentKey = mostly(
  fc.constant(undefined),
  fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{32,64}$/), fc.constantFrom('short', 'x'.repeat(129)), anyText),
);

const registrationFields = ['name', 'region', 'driver', 'cpu_model', 'topology', 'agent_version', 'address'];

/** A registration, mostly well formed around one or more broken parts; sometimes not an object at all. */
const registration: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .record({
        name: hostName,
        region,
        driver: mostly(fc.constantFrom('qemu', 'sim'), anyText),
        cpu_model: mostly(fc.constant('AMD EPYC 7543 32-Core Processor'), anyText),
        topology,
        agent_version: mostly(fc.constant('1.0.0'), anyText),
        address,
        agent_key: agentKey,
        dropped: mostly(fc.constant([]), fc.subarray(registrationFields, { minLength: 1 })),
        extra: mostly(
          fc.constant(null),
          fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1, maxKeys: 2 }),
        ),
      })
      .map(({ dropped, extra, agent_key, ...fields }) => {
        const body: Record<string, unknown> = { ...fields, ...(agent_key === undefined ? {} : { agent_key }) };
        for (const field of dropped) delete body[field];
        return extra ? { ...body, ...extra } : body;
      }),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 10, max: 50_000 }).map(deep) },
);

function reportBody(serverIds: { running: string; stopped: string }): fc.Arbitrary<unknown> {
  const serverId = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(serverIds.running, serverIds.stopped) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        serverIds.running.toUpperCase(),
        `${serverIds.running} `,
        'srv_00000000000000000000000000',
        's'.repeat(101),
      ),
    },
    { weight: 3, arbitrary: anyText },
  );
  const observed = fc
    .record({
      serverId,
      power: mostly(fc.constantFrom('starting', 'running', 'stopping', 'stopped', 'crashed', 'failed'), anyText),
      rebootGeneration: mostly(
        fc.nat({ max: 5 }),
        fc.oneof(fc.integer(), fc.constantFrom(-1, 1.5, 1e21, Number.MAX_SAFE_INTEGER, '1', null)),
      ),
      detail: fc.option(mostly(anyText, fc.constant('d'.repeat(2001))), { nil: undefined }),
    })
    .map(({ detail, ...fields }) => (detail === undefined ? fields : { ...fields, detail }));
  return fc.oneof(
    { weight: 8, arbitrary: fc.record({ observed: fc.array(observed, { maxLength: 6 }), full: fc.boolean() }) },
    {
      weight: 1,
      arbitrary: fc.record({ observed: fc.array(observed, { minLength: 1, maxLength: 3 }), full: fc.jsonValue() }),
    },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  );
}

const hostRef: fc.Arbitrary<HostRef> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<HostRef>({ ref: 'own' }) },
  { weight: 3, arbitrary: fc.constant<HostRef>({ ref: 'host1' }) },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.stringMatching(/^host_[0-9a-z]{26}$/),
        fc.constantFrom('..', '.', '%2e%2e', 'host_', ' ', 'null', 'undefined', '0', 'h'.repeat(101)),
        fc.string({ minLength: 1, maxLength: 30 }),
      )
      .map((id): HostRef => ({ ref: 'raw', id })),
  },
);

function actionOf(serverIds: { running: string; stopped: string }): fc.Arbitrary<Action> {
  const actor = fc.constantFrom<Actor>('host2', 'host2', 'unbound');
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('register' as const), actor, body: registration }) },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('report' as const),
        actor,
        target: hostRef,
        body: reportBody(serverIds),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('heartbeat' as const), actor, target: hostRef }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('desired' as const), actor, target: hostRef }) },
  );
}

/**
 * Attacks reproduced by hand (the findings and this test's own), run before the random ones so
 * that they are always covered.
 */
function reproducedAttacks(world: World): Array<[Action[]]> {
  const topology: HostTopology = {
    sockets: 1,
    numaNodes: [
      {
        id: 0,
        memoryMiB: 65_536,
        cores: [
          { id: 0, threads: [0, 2] },
          { id: 1, threads: [1, 3] },
        ],
      },
    ],
    reservedThreads: [0],
    reservedMemoryMiBPerNode: 4096,
    diskGiB: 1000,
    gpus: [],
    nics: [{ name: 'enp1', pciAddress: '0000:21:00.0', numaNode: 0, speedGbps: 25, vfs: [] }],
  };
  const valid = {
    ...hostRegistration({ name: host1Name, region: 'fra1', address: 'https://192.0.2.66:8443' }),
    topology,
  };
  const ids = world.servers;
  return [
    // Takeover by name: a fresh token, then host 2's, register as host 1 (address, key, then desired state).
    [
      [
        { kind: 'register', actor: 'unbound', body: { ...valid, agent_key: 'k'.repeat(40) } },
        { kind: 'register', actor: 'host2', body: valid },
        { kind: 'desired', actor: 'host2', target: { ref: 'host1' } },
      ],
    ],
    // A topology without NICs (once fatal to the scheduler), and one with a GPU on an absent NUMA node.
    [
      [
        {
          kind: 'register',
          actor: 'unbound',
          body: { ...valid, name: 'no-nics', topology: { ...valid.topology, nics: undefined } },
        },
        {
          kind: 'register',
          actor: 'host2',
          body: {
            ...valid,
            name: host2Name,
            region: 'ams1',
            topology: {
              ...valid.topology,
              gpus: [{ pciAddress: '0000:e1:00.0', model: 'nvidia-a100', numaNode: 7, iommuGroup: 1 }],
            },
          },
        },
      ],
    ],
    // Reports about host 1's servers, through host 1's id and through host 2's own.
    [
      [
        { kind: 'report', actor: 'host2', target: { ref: 'host1' }, body: { observed: [], full: true } },
        {
          kind: 'report',
          actor: 'host2',
          target: { ref: 'own' },
          body: { observed: [{ serverId: ids.running, power: 'crashed', rebootGeneration: 9 }], full: false },
        },
        { kind: 'heartbeat', actor: 'host2', target: { ref: 'host1' } },
      ],
    ],
    // A NUL in a server id or a detail of a partial report (PostgreSQL refuses NUL in text: a 500).
    [
      [
        {
          kind: 'report',
          actor: 'host2',
          target: { ref: 'own' },
          body: { observed: [{ serverId: 'srv_\u0000', power: 'running', rebootGeneration: 0 }], full: false },
        },
        {
          kind: 'report',
          actor: 'host2',
          target: { ref: 'own' },
          body: {
            observed: [{ serverId: ids.running, power: 'failed', rebootGeneration: 0, detail: 'a\u0000b' }],
            full: true,
          },
        },
      ],
    ],
    // Deep nesting, as a whole body and inside a topology.
    [
      [
        { kind: 'register', actor: 'host2', body: deep(50_000) },
        {
          kind: 'register',
          actor: 'host2',
          body: { ...valid, name: host2Name, topology: { ...valid.topology, gpus: deep(20_000) } },
        },
      ],
    ],
  ];
}

// ---------------------------------------------------------------------------------------------------------
// Running an action

interface Sent {
  status: number;
  text: string;
  /** Whether the request named host 1 (by its id in the path, or by its name in a registration). */
  aimsAtHost1: boolean;
}

async function send(world: World, action: Action, log: string[]): Promise<Sent> {
  const { t } = world;
  let credentials: HostCredentials | null = world.host2.credentials;
  let joinToken: string | undefined;
  let ownHostId: string | null = world.host2.id;
  if (action.actor === 'unbound') {
    const made = await t.call('POST', '/v1/host-tokens', { token: world.operator, body: { name: 'fuzz' } });
    assert.equal(made.status, 201);
    joinToken = made.body.secret;
    credentials = null;
    ownHostId = null;
  }
  let method: string;
  let path: string;
  let body: unknown;
  let aimsAtHost1: boolean;
  if (action.kind === 'register') {
    // Host 2 re-registers on its own route; a fresh token can only join (with a CSR).
    method = 'POST';
    const fields = action.body;
    const isObject = fields !== null && typeof fields === 'object' && !Array.isArray(fields);
    path =
      action.actor === 'unbound' ? '/v1/agent/join' : `/v1/agent/hosts/${encodeURIComponent(world.host2.id)}/register`;
    body = action.actor === 'unbound' && isObject ? { ...fields, csr: world.csrPem } : fields;
    aimsAtHost1 = (action.body as { name?: unknown } | null)?.name === host1Name;
  } else {
    const target = action.target;
    const id = target.ref === 'host1' ? world.host1.id : target.ref === 'own' ? (ownHostId ?? 'host_none') : target.id;
    aimsAtHost1 = id === world.host1.id;
    method = action.kind === 'desired' ? 'GET' : 'POST';
    path = `/v1/agent/hosts/${encodeURIComponent(id)}/${action.kind}`;
    body = action.kind === 'report' ? action.body : undefined;
  }
  const serialized = body === undefined ? undefined : expandDeep(JSON.stringify(body));
  const response = await agentRequest(world.listener, { method, path, credentials, body: serialized, joinToken });
  const text = response.text;
  log.push(
    `${action.actor} ${method} ${path} ${(serialized ?? '').slice(0, 160)} → ${response.status} ${text.slice(0, 160)}`,
  );

  // What an attacker's own host is now told to run never includes host 1's servers.
  if (action.kind === 'desired' && response.status === 200) {
    for (const id of Object.values(world.servers))
      assert.ok(!text.includes(id), `desired state of another host holds ${id}: ${text.slice(0, 300)}`);
  }
  return { status: response.status, text, aimsAtHost1 };
}

async function checkInvariants(world: World, before: Awaited<ReturnType<typeof host1State>>, sent: Sent) {
  const { t } = world;
  assert.ok(sent.status < 500, `a 5xx: ${sent.status} ${sent.text.slice(0, 300)}`);
  if (sent.aimsAtHost1)
    assert.ok(sent.status >= 400, `a request aimed at host 1 succeeded: ${sent.status} ${sent.text.slice(0, 300)}`);
  const health = await fetch(`${t.url}/healthz`);
  assert.equal(health.status, 200, 'the control plane answers /healthz');
  await health.text();
  assert.deepEqual(await host1State(world), before, "host 1's row, servers, desired state and token are unchanged");
  const desired2 = await agentRequest(world.listener, {
    method: 'GET',
    path: `/v1/agent/hosts/${world.host2.id}/desired`,
    credentials: world.host2.credentials,
  });
  assert.equal(desired2.status, 200);
  assert.deepEqual(JSON.parse(desired2.text).instances, [], 'host 2 is never given a server');
}

// ---------------------------------------------------------------------------------------------------------

for (const dialect of testDialects()) {
  test(
    `a hostile agent cannot take over, starve or crash anything that is not its own (${dialect})`,
    {
      timeout: 300_000,
    },
    async (t) => {
      const cleanups: Array<() => Promise<void>> = [];
      t.after(async () => {
        for (const cleanup of cleanups.reverse()) await cleanup();
      });
      const world = await buildWorld(dialect, cleanups);
      const before = await host1State(world);
      assert.equal(before.host.health, 'up');
      assert.equal(before.servers[0].server.status, 'running');
      assert.equal(before.servers[1].server.status, 'stopped');
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(fc.array(actionOf(world.servers), { minLength: 1, maxLength: 5 }), async (actions) => {
          const log: string[] = [];
          try {
            for (const action of actions) {
              const sent = await send(world, action, log);
              statuses.set(sent.status, (statuses.get(sent.status) ?? 0) + 1);
              await checkInvariants(world, before, sent);
            }
            const capacity = await world.t.call('GET', '/v1/capacity', { token: world.operator });
            assert.equal(capacity.status, 200, JSON.stringify(capacity.body));
            const audit = await world.t.call('GET', '/v1/admin/audit-placement', { token: world.operator });
            assert.equal(audit.status, 200);
            assert.deepEqual(audit.body.violations, []);
          } catch (error) {
            throw new Error(`${(error as Error).message}\nrequests:\n${log.join('\n')}`, { cause: error });
          }
        }),
        { numRuns, examples: reproducedAttacks(world) },
      );
      // The attack was not only refused at the door: some registrations and reports went through.
      assert.ok((statuses.get(200) ?? 0) > 0 && (statuses.get(204) ?? 0) > 0, JSON.stringify([...statuses]));
      assert.ok((statuses.get(400) ?? 0) > 0 && (statuses.get(403) ?? 0) > 0, JSON.stringify([...statuses]));
    },
  );
}
