/**
 * The `vmcloud` CLI. Argument parsing, usage errors, help and error rendering are pure and tested as such;
 * every behaviour runs against the real control plane in-process (REST API, scheduler, the seed's fleet of
 * fast simulated hosts, SQLite or PostgreSQL). What the CLI sends is recorded by a wrapping `fetch` passed
 * as `io.fetch`; outcomes the API cannot simply be asked for are produced for real: a placement failure by
 * filling a region an operator has mostly taken out of service, a failed action by a simulated host that
 * has no file of the image, a placement violation by a corrupted allocation row.
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { VmcError } from '../core/errors.ts';
import type { Action, Host, Server, StreamEvent } from '../contract/index.ts';
import { startTestControlPlane, testDialects, until, type TestControlPlane } from '../../test/helpers.ts';
import { startSimHost } from '../../test/sim-host.ts';
import type { CliIo } from './command.ts';
import type { Env } from './config.ts';
import { editDistance, formatError, runCli, splitArgv } from './main.ts';

/** A CliIo that records what the CLI writes. */
function captureIo(env: Env, options: Partial<Omit<CliIo, 'stdout' | 'stderr' | 'env'>> = {}) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io: CliIo = {
    stdout: { write: (chunk: string) => stdout.push(chunk) },
    stderr: { write: (chunk: string) => stderr.push(chunk) },
    env,
    isTTY: false,
    ...options,
  };
  return { io, stdout: () => stdout.join(''), stderr: () => stderr.join('') };
}

// ---- argument parsing ---------------------------------------------------------------------------------

const splitCases: Array<[string[], { path: string[]; rest: string[]; help: boolean }]> = [
  [['server', 'list'], { path: ['server', 'list'], rest: [], help: false }],
  [['-o', 'json', 'server', 'list'], { path: ['server', 'list'], rest: ['-o', 'json'], help: false }],
  [
    ['--profile', 'prod', 'server', 'show', 'web-1', '-o', 'yaml'],
    { path: ['server', 'show'], rest: ['--profile', 'prod', 'web-1', '-o', 'yaml'], help: false },
  ],
  [
    ['server', 'create', '--name', 'web-1', '--wait'],
    { path: ['server', 'create'], rest: ['--name', 'web-1', '--wait'], help: false },
  ],
  [['login', '--token', 'vmc_x'], { path: ['login'], rest: ['--token', 'vmc_x'], help: false }],
  [['capacity', 'extra'], { path: ['capacity'], rest: ['extra'], help: false }],
  [['server', '--help'], { path: ['server'], rest: [], help: true }],
  [['help', 'server', 'create'], { path: ['help', 'server', 'create'], rest: [], help: false }],
  [['server', 'show', '--', '-weird'], { path: ['server', 'show'], rest: ['--', '-weird'], help: false }],
];
for (const [argv, expected] of splitCases) {
  test(`splitArgv ${argv.join(' ')}`, () => assert.deepEqual(splitArgv(argv), expected));
}

test('editDistance', () => {
  assert.equal(editDistance('sever', 'server'), 1);
  assert.equal(editDistance('lst', 'list'), 1);
  assert.equal(editDistance('', 'abc'), 3);
});

const usageCases: Array<[string[], RegExp]> = [
  [[], /error: missing command\nUsage: vmcloud <command>/],
  [['sever', 'list'], /unknown command "sever" \(did you mean "server"\?\)/],
  [['server'], /missing server command\nUsage: vmcloud server create\|list/],
  [['server', 'lst'], /unknown command "server lst" \(did you mean "server list"\?\)/],
  [
    ['server', 'list', '--regoin', 'fra1'],
    /unknown option --regoin \(did you mean "--region"\?\)\nUsage: vmcloud server list/,
  ],
  [['server', 'show'], /missing NAME\|ID\nUsage: vmcloud server show NAME\|ID/],
  [['server', 'show', 'a', 'b'], /unexpected argument "b"/],
  [['server', 'create', '--name'], /option --name needs a value \(NAME\)/],
  [
    ['server', 'create', '--name', 'x', '--product', 'vps-starter', '--region', 'fra1'],
    /missing --image\nUsage: vmcloud server create/,
  ],
  [['server', 'list', '--wait=yes'], /unknown option --wait/],
  [['server', 'list', '--all=yes'], /option --all takes no value/],
  [['server', 'list', '-o', 'wide'], /-o must be one of table, json, yaml, got "wide"/],
  [['server', 'list', '--limit', '0'], /--limit must be a whole number from 1 to 500/],
  [
    ['server', 'create', '--name', 'x', '--product', 'p', '--region', 'r', '--image', 'i', '--label', 'novalue'],
    /--label "novalue" must look like key=value/,
  ],
  [['host', 'set-state', 'host_a', 'broken'], /the state must be one of active, maintenance, draining, got "broken"/],
  [['token', 'create', '--name', 'ci', '--role', 'admin'], /--role must be one of owner, member, viewer/],
];
for (const [argv, pattern] of usageCases) {
  test(`usage error exits 2: vmcloud ${argv.join(' ')}`, async () => {
    const captured = captureIo({
      VMCLOUD_CONFIG: '/nonexistent/vmcloud.json',
      VMCLOUD_TOKEN: 'vmc_x',
      VMCLOUD_URL: 'http://127.0.0.1:9',
    });
    const code = await runCli(argv, captured.io);
    assert.equal(code, 2);
    assert.match(captured.stderr(), pattern);
    assert.equal(captured.stdout(), '');
  });
}

const helpCases: Array<[string[], RegExp]> = [
  [
    ['--help'],
    /Commands:\n {2}login .*\n[\s\S]*server +create and operate servers \[create, list, show, start, stop, reboot, delete, resize, resize-options, rebuild, protect, unprotect, attach-iso, detach-iso, create-image, console, logs, snapshot, export, traffic, metrics, networks, attach-network, detach-network\]/,
  ],
  [['-h'], /Global options:/],
  [['help'], /Usage: vmcloud <command>/],
  [['server', '--help'], /Usage: vmcloud server <command>[\s\S]*create +create a server/],
  [
    ['server', 'create', '--help'],
    /Usage: vmcloud server create --name NAME[\s\S]*--ssh-key FILE\|KEY\|NAME[\s\S]*Examples:/,
  ],
  [['server', 'create', '--bogus', '--help'], /Usage: vmcloud server create/],
  [['help', 'server', 'stop'], /--force/],
  [['help', 'capacity'], /Usage: vmcloud capacity \[--region CODE\]/],
  [['admin', 'audit-placement', '-h'], /exit 1 when any violation/],
];
for (const [argv, pattern] of helpCases) {
  test(`help on stdout, exit 0: vmcloud ${argv.join(' ')}`, async () => {
    const captured = captureIo({});
    assert.equal(await runCli(argv, captured.io), 0);
    assert.match(captured.stdout(), pattern);
    assert.equal(captured.stderr(), '');
  });
}

// ---- error rendering ------------------------------------------------------------------------------------

test('formatError reads the scheduler failure as the control plane sends it (snake_case placement)', () => {
  const message =
    'no host in FRA1 can take 16 vCPUs: 12 hosts lack 16 free cores in one NUMA node; the largest still available is 8 vCPUs with 32 GiB';
  const error = new VmcError('conflict', message, {
    reason: 'no_capacity',
    details: {
      status: 409,
      request_id: 'req_1',
      placement: {
        region: 'fra1',
        hosts_considered: 12,
        rejections: [{ filter: 'numa_cores', hosts: 12, reason: 'lack 16 free cores in one NUMA node' }],
        largest_available: { vcpus: 8, memory_mib: 32768, gpus: 0 },
        message,
      },
    },
  });
  assert.equal(
    formatError(error),
    `error: ${message} (conflict/no_capacity)\n  - numa_cores: 12 hosts: lack 16 free cores in one NUMA node\n`,
  );
  const withoutSentence = new VmcError('conflict', 'no capacity', {
    details: { placement: { rejections: [], largest_available: { vcpus: 4, memory_mib: 8192, gpus: 1 } } },
  });
  assert.equal(
    formatError(withoutSentence),
    'error: no capacity (conflict)\n  largest still available: 4 vCPUs, 8 GiB memory, 1 GPUs\n',
  );
});

test('formatError: request id for server-side failures, hints for auth and rate limits', () => {
  assert.equal(
    formatError(new VmcError('internal', 'boom', { details: { request_id: 'req_9' } })),
    'error: boom (internal)\nrequest id: req_9\n',
  );
  assert.match(
    formatError(new VmcError('rate_limited', 'slow down', { details: { retry_after: '12' } })),
    /hint: retry after 12 s/,
  );
  assert.match(
    formatError(new VmcError('forbidden', 'viewers cannot mutate')),
    /hint: this needs a token with more rights/,
  );
});

test('an unreachable control plane exits 8 and asks whether it runs', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const captured = captureIo({ VMCLOUD_CONFIG: '/nonexistent/vmcloud.json', VMCLOUD_TOKEN: 'vmc_x' });
  const code = await runCli(['server', 'list', '--url', `http://127.0.0.1:${port}`], captured.io);
  assert.equal(code, 8);
  assert.match(
    captured.stderr(),
    new RegExp(`is the control plane running at http://127\\.0\\.0\\.1:${port}\\? \\(unavailable/unreachable\\)`),
  );
  assert.equal(captured.stdout(), '');
});

// ---- behaviour against the real control plane -----------------------------------------------------------

/** One HTTP exchange of the CLI with the control plane, as the wrapping fetch saw it. */
interface Exchange {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  status: number;
  /** The parsed JSON answer (null when empty or not JSON). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  answer: any;
}

/** `GET /v1/servers?name=web-1`: an exchange as one line. */
const requestLine = (e: Exchange) => `${e.method} ${e.path}${e.query.size > 0 ? `?${e.query.toString()}` : ''}`;

/** A fetch that passes everything to the real one and records each exchange in `log`. */
function recordingFetch(log: Exchange[]): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const response = await fetch(input, init);
    // An event stream never ends: it is recorded without its body.
    const streaming = (response.headers.get('content-type') ?? '').startsWith('text/event-stream');
    const text = streaming ? '' : await response.clone().text();
    const parse = (value: string) => {
      try {
        return value === '' ? null : JSON.parse(value);
      } catch {
        return null;
      }
    };
    log.push({
      method: init?.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      body: typeof init?.body === 'string' ? parse(init.body) : undefined,
      status: response.status,
      answer: parse(text),
    });
    return response;
  };
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  /** Variables over the defaults (URL, the project's owner token, config file, a short poll interval). */
  env?: Env;
  token?: string;
  io?: Partial<Omit<CliIo, 'stdout' | 'stderr' | 'env'>>;
}

const spinner = ['|', '/', '-', '\\'];

/** Deduplicated in order: the plain progress display prints a line only when it changes. */
const changes = (lines: string[]) => lines.filter((line, i) => i === 0 || line !== lines[i - 1]);

for (const dialect of testDialects()) {
  describe(`vmcloud against the control plane in-process (${dialect})`, () => {
    let cp: TestControlPlane;
    let projects = 0;

    before(async () => {
      cp = await startTestControlPlane(dialect);
    });
    after(async () => {
      await cp?.dispose();
    });

    /** The operator API, for what a test arranges rather than asserts. */
    const asOperator = (method: string, path: string, body?: unknown) =>
      cp.call(method, path, { token: cp.secrets.operatorToken, body });

    /**
     * A project of its own (lists, names, quotas and events of one test are that test's) with its owner
     * token, a config directory, and `run` (the CLI as that owner; every exchange lands in `exchanges`).
     */
    async function customer(t: TestContext) {
      const name = `cli-test-${++projects}`;
      const made = await asOperator('POST', '/v1/projects', { name, owner_email: `${name}@example.com` });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      const dir = await mkdtemp(join(tmpdir(), 'vmcloud-cli-'));
      t.after(() => rm(dir, { recursive: true, force: true }));
      const token = made.body.secret as string;
      const env: Env = {
        VMCLOUD_CONFIG: join(dir, 'config.json'),
        VMCLOUD_URL: cp.url,
        VMCLOUD_TOKEN: token,
        VMCLOUD_POLL_INTERVAL_MS: '5',
      };
      const exchanges: Exchange[] = [];
      const run = async (argv: string[], options: RunOptions = {}): Promise<Result> => {
        const captured = captureIo(
          { ...env, ...(options.token ? { VMCLOUD_TOKEN: options.token } : {}), ...options.env },
          { cwd: dir, fetch: recordingFetch(exchanges), ...options.io },
        );
        const code = await runCli(argv, captured.io);
        return { code, stdout: captured.stdout(), stderr: captured.stderr() };
      };
      const operator = (argv: string[]) => run(argv, { token: cp.secrets.operatorToken });
      return { name, projectId: made.body.project_id as string, token, dir, env, exchanges, run, operator };
    }

    type Customer = Awaited<ReturnType<typeof customer>>;

    /** `server create` of a VPS-STARTER in FRA1; flags in `extra` win (parseArgs keeps an option's last value). */
    const createArgs = (name: string, extra: string[] = []) => [
      'server',
      'create',
      '--name',
      name,
      '--product',
      'vps-starter',
      '--region',
      'fra1',
      '--image',
      'debian-12',
      ...extra,
    ];

    /** Creates servers through the CLI; returns them as the API answered. */
    async function createServers(c: Customer, names: string[], extra: string[] = []): Promise<Server[]> {
      const servers: Server[] = [];
      for (const name of names) {
        const result = await c.run([...createArgs(name, extra), '-o', 'json']);
        assert.equal(result.code, 0, result.stderr);
        servers.push((JSON.parse(result.stdout) as { server: Server }).server);
      }
      return servers;
    }

    /** An ed25519 public key line that the API's validation accepts. */
    const sshPublicKey = (fill: number, comment: string) => {
      const u32 = (n: number) => Buffer.from([0, 0, 0, n]);
      const type = Buffer.from('ssh-ed25519');
      const blob = Buffer.concat([u32(type.length), type, u32(32), Buffer.alloc(32, fill)]);
      return `ssh-ed25519 ${blob.toString('base64')} ${comment}`;
    };

    test('server create --wait shows each change of the action and prints the running server', async (t) => {
      const c = await customer(t);
      const fileKey = sshPublicKey(1, 'me@laptop');
      const inlineKey = sshPublicKey(2, 'x');
      await writeFile(join(c.dir, 'id.pub'), `# my keys\n${fileKey}\n\n`);
      await writeFile(join(c.dir, 'cloud.yaml'), '#cloud-config\npackages: [nginx]\n');
      const frozenMs = Date.now();
      const result = await c.run(
        [
          'server',
          'create',
          '--name',
          'web-1',
          '--product',
          'VPS-STARTER',
          '--region',
          'FRA1',
          '--image',
          'debian-12',
          '--label',
          'env=prod',
          '--label',
          'tier=web,team=a',
          '--ssh-key',
          'id.pub',
          '--ssh-key',
          inlineKey,
          '--user-data',
          'cloud.yaml',
          '--wait',
        ],
        { io: { now: () => frozenMs } },
      );
      assert.equal(result.code, 0, result.stderr);
      const post = c.exchanges.find((e) => e.method === 'POST' && e.path === '/v1/servers');
      assert.deepEqual(post?.body, {
        name: 'web-1',
        product: 'vps-starter',
        region: 'fra1',
        image: 'debian-12',
        labels: { env: 'prod', tier: 'web', team: 'a' },
        ssh_keys: [fileKey, inlineKey],
        user_data: '#cloud-config\npackages: [nginx]\n',
      });
      assert.equal(post.status, 202);

      // One plain line per change of what the API answered: the accepted action, then every poll.
      const accepted = post.answer.action as Action;
      const polls = c.exchanges.filter((e) => e.path.startsWith('/v1/actions/')).map((e) => e.answer.action as Action);
      assert.ok(polls.length > 0, 'the CLI polled the action');
      assert.ok(polls.every((a) => a.id === accepted.id));
      assert.deepEqual(
        polls.slice(0, -1).map((a) => a.status),
        polls.slice(0, -1).map(() => 'running'),
        'it stops polling once the action ends',
      );
      const lines = changes([accepted, ...polls].map((a) => `create web-1: ${a.status} ${a.progress}%`));
      assert.equal(result.stderr, lines.join('\n') + '\ncreate web-1: done in 0.0s\n');
      assert.match(result.stderr, /^create web-1: running 0%\n/);
      assert.match(result.stderr, /\ncreate web-1: success 100%\ncreate web-1: done in 0\.0s\n$/);

      // The server as it is once the action succeeded.
      assert.match(result.stdout, /^Name: +web-1\nID: +srv_\w+\nStatus: +running\n/);
      assert.match(result.stdout, /\nIPv4: +10\.12\.\d+\.\d+\n/, 'an address of the FRA1 pool');
      assert.match(result.stdout, /\nLabels: +env=prod,tier=web,team=a\n/);
      const last = c.exchanges.at(-1)!;
      assert.equal(requestLine(last), `GET /v1/servers/${accepted.resource.id}`, 'the server is read after the wait');
      assert.equal(last.answer.server.status, 'running');
    });

    test('server create --wait on a terminal redraws one progress line', async (t) => {
      const c = await customer(t);
      const frozenMs = Date.now();
      const result = await c.run(createArgs('web-1', ['--wait']), { io: { isTTY: true, now: () => frozenMs } });
      assert.equal(result.code, 0, result.stderr);
      const post = c.exchanges.find((e) => e.method === 'POST')!;
      const polls = c.exchanges.filter((e) => e.path.startsWith('/v1/actions/')).map((e) => e.answer.action as Action);
      const seen = [post.answer.action as Action, ...polls];

      assert.ok(result.stderr.startsWith('\r\x1b[2K'));
      assert.ok(result.stderr.endsWith('\n'));
      assert.ok(!result.stderr.slice(0, -1).includes('\n'), 'one line, redrawn in place');
      const frames = result.stderr.split('\r\x1b[2K').slice(1);
      // A frame per answer while running (spinner turning), then the final one without spinner.
      assert.equal(frames.length, seen.length);
      frames.slice(0, -1).forEach((frame, i) => {
        const bar = `[${'#'.repeat(Math.round(seen[i].progress / 5))}${'-'.repeat(20 - Math.round(seen[i].progress / 5))}]`;
        assert.equal(
          frame,
          `${spinner[i % 4]} create web-1  ${bar} ${String(seen[i].progress).padStart(3)}%  running  0.0s`,
        );
      });
      assert.equal(frames.at(-1), 'create web-1  [####################] 100%  success  0.0s\n');
    });

    test('server create without --wait prints the server and how to follow the action; -o json prints server and action', async (t) => {
      const c = await customer(t);
      let result = await c.run(createArgs('web-1'));
      assert.equal(result.code, 0, result.stderr);
      const accepted = c.exchanges.find((e) => e.method === 'POST')!.answer as { server: Server; action: Action };
      assert.equal(c.exchanges.filter((e) => e.path.startsWith('/v1/actions/')).length, 0, 'no polling');
      assert.match(result.stdout, new RegExp(`^Name: +web-1\\nID: +${accepted.server.id}\\n`));
      assert.match(result.stdout, /\nStatus: +(pending|starting) \(desired: running\)\n/);
      const id = accepted.action.id;
      assert.equal(
        result.stderr,
        `action ${id} is running: follow it with \`vmcloud action show ${id}\` or pass --wait next time\n`,
      );

      result = await c.run(['action', 'show', id, '--wait']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stdout,
        new RegExp(
          `^ID: +${id}\\nCommand: +create\\nStatus: +success\\nProgress: +100%\\nResource: +server ${accepted.server.id}\\n`,
        ),
      );
      assert.match(result.stderr, new RegExp(`create ${accepted.server.id}: done in`));

      result = await c.run(createArgs('web-2', ['-o', 'json', '--wait']));
      assert.equal(result.code, 0, result.stderr);
      const parsed = JSON.parse(result.stdout) as { server: Server; action: Action };
      assert.equal(parsed.server.name, 'web-2');
      assert.equal(parsed.server.status, 'running');
      assert.equal(parsed.action.status, 'success');
      assert.equal(parsed.action.resource.id, parsed.server.id);
    });

    test('a failed action exits 1 and says why: a server on a simulated host that has no file of its image', async (t) => {
      const c = await customer(t);
      // A host token from the CLI, a simulated host of PAR1 registered with it over the agent API; the
      // other standard hosts of PAR1 go to maintenance so that the new server lands there.
      let result = await c.operator(['host', 'token', 'create', '--name', 'par1-noimage-01', '-o', 'json']);
      assert.equal(result.code, 0, result.stderr);
      const { secret, ca_sha256 } = JSON.parse(result.stdout) as { secret: string; ca_sha256: string };
      const noImageHost = await startSimHost({
        agentUrl: cp.cp.agentListener.url ?? (await cp.cp.agentListener.listen({ host: '127.0.0.1', port: 0 })),
        caSha256: ca_sha256,
        hostToken: secret,
        name: 'par1-noimage-01',
        region: 'par1',
        missingImages: ['debian-12'],
      });
      const hostId = noImageHost.hostId;
      const others = ((await asOperator('GET', '/v1/hosts?region=par1')).body.hosts as Host[]).filter(
        (h) => h.kind === 'standard' && h.id !== hostId,
      );
      assert.ok(others.length > 0);
      t.after(async () => {
        await noImageHost.stop();
        for (const host of others) await asOperator('PATCH', `/v1/hosts/${host.id}`, { state: 'active' });
      });
      for (const host of others) {
        result = await c.operator(['host', 'set-state', host.id, 'maintenance']);
        assert.equal(result.stdout, `host ${host.name} is now maintenance\n`);
      }

      const frozenMs = Date.now();
      result = await c.run(
        [
          'server',
          'create',
          '--name',
          'no-image',
          '--product',
          'vps-starter',
          '--region',
          'par1',
          '--image',
          'debian-12',
          '--wait',
        ],
        { io: { now: () => frozenMs } },
      );
      assert.equal(result.code, 1, result.stderr);
      assert.equal(result.stdout, '');
      const accepted = c.exchanges.find((e) => e.method === 'POST' && e.path === '/v1/servers')!.answer
        .action as Action;
      const polls = c.exchanges.filter((e) => e.path.startsWith('/v1/actions/')).map((e) => e.answer.action as Action);
      const failed = polls.at(-1)!;
      assert.equal(failed.status, 'error');
      assert.deepEqual(failed.error?.code, 'operation_failed');
      assert.equal(
        result.stderr,
        [
          ...changes([accepted, ...polls].map((a) => `create no-image: ${a.status} ${a.progress}%`)),
          'create no-image: failed in 0.0s',
          'error: create failed: start failed 2 times: image debian-12 has no file on this host; import it with `vmcloud image import debian-12 FILE` (internal/operation_failed)',
          '',
        ].join('\n'),
      );
      assert.match(result.stderr, /^create no-image: running 0%\n/);

      result = await c.run(['server', 'show', 'no-image']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /\nStatus: +error \(desired: running\)\n/);
      assert.match(result.stdout, /\nError: +start failed 2 times: image debian-12 has no file on this host/);

      // The same host runs a server whose image it has: the failure was the image, not the host.
      result = await c.run([
        'server',
        'create',
        '--name',
        'has-image',
        '--product',
        'vps-starter',
        '--region',
        'par1',
        '--image',
        'ubuntu-24.04',
        '--wait',
      ]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /\nStatus: +running\n/);
      assert.equal(noImageHost.instanceCount(), 1);
    });

    test('placement failure: the API message, each rejecting filter, exit 6', async (t) => {
      const c = await customer(t);
      // AMS1: three standard hosts in maintenance, one draining, one left to fill; its GPU hosts are kept
      // for GPU products.
      const hosts = (await asOperator('GET', '/v1/hosts?region=ams1')).body.hosts as Host[];
      const standard = hosts.filter((h) => h.kind === 'standard');
      const gpu = hosts.filter((h) => h.kind === 'gpu');
      assert.ok(standard.length >= 5 && gpu.length >= 1, hosts.map((h) => h.name).join(','));
      t.after(async () => {
        for (const host of standard) await asOperator('PATCH', `/v1/hosts/${host.id}`, { state: 'active' });
      });
      const [open, draining, ...closed] = standard;
      for (const host of closed) await asOperator('PATCH', `/v1/hosts/${host.id}`, { state: 'maintenance' });
      await asOperator('PATCH', `/v1/hosts/${draining.id}`, { state: 'draining' });

      const order = (i: number) =>
        c.run([
          'server',
          'create',
          '--name',
          `big-${i}`,
          '--product',
          'VPS-ENTERPRISE+',
          '--region',
          'ams1',
          '--image',
          'debian-12',
        ]);
      let result: Result | null = null;
      let placed = 0;
      for (; placed < 20; placed++) {
        c.exchanges.length = 0;
        result = await order(placed);
        if (result.code !== 0) break;
      }
      assert.ok(placed > 0 && result, 'the open host took some servers first');
      assert.equal(result.code, 6, result.stderr);
      assert.equal(result.stdout, '');
      const lines = result.stderr.split('\n');
      assert.match(
        lines[0],
        new RegExp(
          `^error: no host in AMS1 has 8 free cores \\(16 vCPUs\\), 64 GiB of memory and 1 SR-IOV VF \\(${closed.length} hosts are in maintenance, ${gpu.length} (is|are) reserved for GPU products, 1 is draining, 1 lacks \\d+ free cores\\); the largest still available is \\d+ vCPUs with \\d+ GiB \\(conflict/no_capacity\\)$`,
        ),
      );
      assert.deepEqual(lines.slice(1), [
        `  - maintenance: ${closed.length} hosts: are in maintenance`,
        `  - pool: ${gpu.length} host${gpu.length === 1 ? '' : 's'}: are reserved for GPU products`,
        '  - host_draining: 1 host: are draining',
        lines[4],
        '',
      ]);
      assert.match(lines[4], /^ {2}- (cores|numa_fit|memory): 1 host: lack /);
      // The marketing name was resolved through the catalog before the order.
      assert.deepEqual(
        c.exchanges.map((e) => `${requestLine(e)} ${e.status}`),
        ['GET /v1/products 200', 'POST /v1/servers 409'],
      );
      assert.equal((c.exchanges[1].body as { product: string }).product, 'vps-enterprise-plus');
      assert.equal(c.exchanges[1].answer.placement.hosts_considered, hosts.length);

      // Operators see the same: nothing more of the product fits in AMS1.
      const capacity = await c.operator(['capacity', '--region', 'ams1']);
      assert.match(capacity.stdout, /\nams1 +vps-enterprise-plus +none +0\n/);

      // With the last host in maintenance too, no host lacks only capacity: the API's sentence names no
      // largest size, so the CLI prints the (empty) largest size from the placement details.
      await asOperator('PATCH', `/v1/hosts/${open.id}`, { state: 'maintenance' });
      result = await order(placed + 1);
      assert.equal(result.code, 6, result.stderr);
      assert.equal(
        result.stderr,
        [
          `error: no host in AMS1 has 8 free cores (16 vCPUs), 64 GiB of memory and 1 SR-IOV VF (${closed.length + 1} hosts are in maintenance, ${gpu.length} ${gpu.length === 1 ? 'is' : 'are'} reserved for GPU products, 1 is draining) (conflict/no_capacity)`,
          `  - maintenance: ${closed.length + 1} hosts: are in maintenance`,
          `  - pool: ${gpu.length} host${gpu.length === 1 ? '' : 's'}: are reserved for GPU products`,
          '  - host_draining: 1 host: are draining',
          '  largest still available: 0 vCPUs, 0 GiB memory, 0 GPUs',
          '',
        ].join('\n'),
      );
    });

    test('error mapping to exit codes', async (t) => {
      const c = await customer(t);
      const wellFormedButUnknown = `vmc_${'a'.repeat(36)}`;
      const cases: Array<[string[], Env, number, RegExp]> = [
        [
          ['server', 'create', '--name', 'x', '--product', 'vps-huge', '--region', 'fra1', '--image', 'debian-12'],
          {},
          2,
          /^error: unknown product vps-huge; see `vmcloud product list` \(invalid\/unknown_product\)\n {2}product: unknown product vps-huge\n$/,
        ],
        [
          ['server', 'create', '--name', 'x', '--product', 'vps-starter', '--region', 'lon1', '--image', 'debian-12'],
          {},
          6,
          /^error: region LON1 is in maintenance and takes no new servers; existing servers keep running \(conflict\/region_in_maintenance\)\n$/,
        ],
        [
          ['region', 'list'],
          { VMCLOUD_TOKEN: 'vmc_wrong' },
          3,
          /^error: the token is malformed: .* \(unauthenticated\)\nhint: the token was refused/,
        ],
        [
          ['region', 'list'],
          { VMCLOUD_TOKEN: wellFormedButUnknown },
          3,
          /^error: .* \(unauthenticated\)\nhint: the token was refused; check it with `vmcloud config show`/,
        ],
        [
          ['host', 'list'],
          {},
          4,
          /^error: this route needs an operator token \(forbidden\)\nhint: this needs a token with more rights/,
        ],
        [['server', 'show', 'nope'], {}, 5, /^error: server nope was not found \(not_found\)\n$/],
        [
          ['server', 'show', 'srv_00000000000000000000000099'],
          {},
          5,
          /^error: server srv_00000000000000000000000099 was not found \(not_found\)\n$/,
        ],
        [['action', 'show', 'act_missing'], {}, 5, /^error: action act_missing was not found \(not_found\)\n$/],
        [['region', 'list', '--profile', 'ghost'], {}, 5, /profile "ghost" was not found/],
        [
          ['region', 'list'],
          { VMCLOUD_TOKEN: undefined },
          3,
          /^error: no API token: run `vmcloud login --token vmc_…` or set VMCLOUD_TOKEN \(unauthenticated\/no_token\)\n$/,
        ],
      ];
      for (const [argv, env, code, pattern] of cases) {
        const result = await c.run(argv, { env });
        assert.equal(result.code, code, `${argv.join(' ')}: ${result.stderr}`);
        assert.match(result.stderr, pattern, argv.join(' '));
        assert.equal(result.stdout, '', argv.join(' '));
      }
      assert.ok(
        !c.exchanges.some((e) => e.method === 'POST' && e.status < 300),
        'nothing was created by the refused orders',
      );
    });

    test('server names resolve through GET /v1/servers?name=; ids are used directly', async (t) => {
      const c = await customer(t);
      const [web1, web2] = await createServers(c, ['web-1', 'web-2'], ['--wait']);
      c.exchanges.length = 0;

      let result = await c.run(['server', 'stop', 'web-1', '--force', '--wait']);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `server web-1 (${web1.id}) stopped\n`);
      const seen = c.exchanges.map(requestLine);
      assert.deepEqual(seen.slice(0, 2), ['GET /v1/servers?name=web-1', `POST /v1/servers/${web1.id}/actions/stop`]);
      assert.ok(
        seen.length > 2 && seen.slice(2).every((line) => /^GET \/v1\/actions\/act_\w+$/.test(line)),
        seen.join('\n'),
      );
      assert.deepEqual(c.exchanges[1].body, { force: true });
      assert.equal(c.exchanges[0].answer.servers.length, 1, 'the name matched one server');
      assert.equal(c.exchanges.at(-1)!.answer.action.status, 'success');

      c.exchanges.length = 0;
      result = await c.run(['server', 'start', web1.id]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`^starting server web-1 \\(${web1.id}\\): action act_\\w+ running\\n$`));
      assert.deepEqual(c.exchanges.map(requestLine), [
        `GET /v1/servers/${web1.id}`,
        `POST /v1/servers/${web1.id}/actions/start`,
      ]);
      await cp.waitForAction(c.exchanges[1].answer.action.id, c.token);

      result = await c.run(['server', 'show', 'web-2', '-o', 'json']);
      assert.equal(result.code, 0, result.stderr);
      assert.equal((JSON.parse(result.stdout) as Server).id, web2.id);

      result = await c.run(['server', 'delete', 'web-2', '--wait', '-o', 'yaml']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^action:\n {2}id: act_\w+\n {2}command: delete\n {2}status: success\n/);
      assert.equal((await cp.call('GET', `/v1/servers/${web2.id}`, { token: c.token })).status, 404);
      result = await c.run(['server', 'show', 'web-2']);
      assert.equal(result.code, 5);
      result = await c.run(['server', 'show', 'web-1']);
      assert.match(result.stdout, /\nStatus: +running\n/);
    });

    test('server names are unique in a project: a second server of one name is refused (conflict)', async (t) => {
      // The API never holds two live servers of one name, so `resolveServer`'s ambiguous-name branch cannot
      // be reached here; what a person sees is the refused create.
      const c = await customer(t);
      const [twin] = await createServers(c, ['twin']);
      const result = await c.run(createArgs('twin'));
      assert.equal(result.code, 6);
      assert.equal(
        result.stderr,
        'error: a server named twin already exists in this project (conflict/name_taken)\n  name: already used\n',
      );
      c.exchanges.length = 0;
      const reboot = await c.run(['server', 'show', 'twin', '-o', 'json']);
      assert.equal((JSON.parse(reboot.stdout) as Server).id, twin.id);
      assert.deepEqual(
        c.exchanges[0].answer.servers.map((s: Server) => s.id),
        [twin.id],
      );
    });

    test('server list pages: one page plus a hint, or every page with --all', async (t) => {
      const c = await customer(t);
      const made = await createServers(c, ['s1', 's2', 's3', 's4', 's5'], ['--label', 'env=prod']);
      await createServers(c, ['dev-1'], ['--label', 'env=dev']);
      const other = await c.run([
        'server',
        'create',
        '--name',
        'elsewhere',
        '--product',
        'vps-nano',
        '--region',
        'ams1',
        '--image',
        'debian-12',
        '--label',
        'env=prod',
      ]);
      assert.equal(other.code, 0, other.stderr);
      c.exchanges.length = 0;

      let result = await c.run(['server', 'list', '--limit', '2']);
      assert.equal(result.code, 0, result.stderr);
      const rows = result.stdout.trim().split('\n');
      assert.equal(rows.length, 3);
      assert.match(rows[0], /^NAME +ID +STATUS +PRODUCT +REGION +IPV4 +LABELS +AGE$/);
      assert.match(
        rows[1],
        new RegExp(
          `^s1 +${made[0].id} +(pending|starting|running) +vps-starter +fra1 +10\\.12\\.\\d+\\.\\d+ +env=prod +\\d+s$`,
        ),
      );
      assert.match(rows[2], new RegExp(`^s2 +${made[1].id} `));
      const cursor = c.exchanges[0].answer.next_cursor as string;
      assert.ok(cursor);
      assert.equal(result.stderr, `more servers: pass --all, or --cursor ${cursor} for the next page\n`);

      result = await c.run(['server', 'list', '--limit', '2', '--cursor', cursor, '-o', 'json']);
      assert.deepEqual(
        (JSON.parse(result.stdout) as Server[]).map((s) => s.name),
        ['s3', 's4'],
      );

      c.exchanges.length = 0;
      result = await c.run([
        'server',
        'list',
        '--limit',
        '2',
        '--all',
        '--selector',
        'env=prod',
        '--region',
        'FRA1',
        '-o',
        'json',
      ]);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(
        (JSON.parse(result.stdout) as Server[]).map((s) => s.name),
        ['s1', 's2', 's3', 's4', 's5'],
      );
      assert.equal(result.stderr, '');
      const cursors = c.exchanges.map((e) => e.answer.next_cursor as string | null);
      assert.equal(cursors.at(-1), null);
      assert.deepEqual(
        c.exchanges.map((e) => e.query.get('cursor')),
        [null, ...cursors.slice(0, -1)],
      );
      assert.ok(
        c.exchanges.every(
          (e) =>
            e.query.get('label_selector') === 'env=prod' &&
            e.query.get('region') === 'fra1' &&
            e.query.get('limit') === '2',
        ),
        c.exchanges.map(requestLine).join('\n'),
      );
    });

    test('an empty list says so', async (t) => {
      const c = await customer(t);
      const result = await c.run(['server', 'list']);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, 'No servers found.\n');
      assert.equal(result.stderr, '');
      assert.deepEqual(c.exchanges[0].answer, { servers: [], next_cursor: null });
    });

    test('login verifies the token, writes the profile with mode 0600 and makes it current', async (t) => {
      const c = await customer(t);
      const configFile = c.env.VMCLOUD_CONFIG!;
      const operatorToken = cp.secrets.operatorToken;
      const mask = (token: string) => `${token.slice(0, 8)}…${token.slice(-4)}`;
      const noEnv = { env: { VMCLOUD_URL: undefined, VMCLOUD_TOKEN: undefined } };
      let result = await c.run(['login', '--url', cp.url + '/', '--token', c.token], noEnv);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(
        result.stdout,
        `Logged in to ${cp.url} as project ${c.name} (${c.projectId}).\nSaved profile "default" in ${configFile}.\n`,
      );
      assert.equal((await stat(configFile)).mode & 0o777, 0o600);
      assert.deepEqual(JSON.parse(await readFile(configFile, 'utf8')), {
        current: 'default',
        profiles: { default: { url: cp.url, token: c.token } },
      });

      // Operator token into a second profile: no project, still verified.
      result = await c.run(['login', '--profile', 'ops', '--url', cp.url, '--token', operatorToken], noEnv);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /as an operator \(no project\)/);
      assert.equal((await stat(configFile)).mode & 0o777, 0o600);

      // The CLI now works from the config alone.
      result = await c.run(['host', 'list', '--region', 'fra1'], noEnv);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /\nfra1-std-7543-001 +host_\w+ +fra1 +standard +active +up +\d+\/120 +/);

      result = await c.run(['config', 'list'], noEnv);
      assert.equal(
        result.stdout,
        `CURRENT   NAME      URL${' '.repeat(cp.url.length - 3)}   TOKEN\n` +
          `          default   ${cp.url}   ${mask(c.token)}\n` +
          `*         ops       ${cp.url}   ${mask(operatorToken)}\n`,
      );

      result = await c.run(['config', 'use', 'default'], noEnv);
      assert.equal(result.code, 0);
      result = await c.run(['config', 'show'], noEnv);
      assert.match(
        result.stdout,
        new RegExp(
          `^Profile: +default\\nURL: +http://127\\.0\\.0\\.1:\\d+ \\(from profile\\)\\nToken: +${mask(c.token).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(from profile\\)`,
        ),
      );
      assert.ok(!result.stdout.includes(c.token));
      result = await c.run(['project', 'show'], noEnv);
      assert.match(result.stdout, new RegExp(`^Project: +${c.name}\\nID: +${c.projectId}\\nYour role: +owner\\n`));

      // A wrong token is refused and nothing is saved.
      result = await c.run(['login', '--profile', 'bad', '--url', cp.url, '--token', `vmc_${'b'.repeat(36)}`], noEnv);
      assert.equal(result.code, 3);
      assert.equal(JSON.parse(await readFile(configFile, 'utf8')).profiles.bad, undefined);

      c.exchanges.length = 0;
      result = await c.run(['login'], noEnv);
      assert.equal(result.code, 0, 'login re-verifies the token of the current profile');
      assert.deepEqual(
        c.exchanges.map((e) => `${requestLine(e)} ${e.status}`),
        ['GET /v1/project 200'],
      );
      result = await c.run(['config', 'use', 'nope'], noEnv);
      assert.equal(result.code, 5);
    });

    test('catalog lists: regions, products (filtered, case-insensitive region), images', async (t) => {
      const c = await customer(t);
      let result = await c.run(['region', 'list']);
      assert.equal(result.code, 0, result.stderr);
      const regions = result.stdout.split('\n');
      assert.match(regions[0], /^CODE +NAME +COUNTRY +PEERING +STATUS +ORDERABLE +OPENS$/);
      assert.ok(regions.some((line) => /^fra1 +Frankfurt +DE +DE-CIX 100G +operational +yes +-$/.test(line)));
      assert.ok(regions.some((line) => /^lon1 +London +GB +LINX 40G +maintenance +no +-$/.test(line)));
      assert.ok(regions.some((line) => /^mad1 +Madrid +ES +ESPANIX +planned +no +2025-Q2$/.test(line)));

      result = await c.run(['product', 'list', '--region', 'MAD1']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^CODE +NAME +VCPUS +MEMORY +DISK +TRAFFIC +GPU +SRIOV +HOURLY +MONTHLY +REGIONS\n/);
      assert.match(
        result.stdout,
        /\ngpu-a100 +GPU-A100 +8 +88 GiB +800 GiB +20 TiB +1× nvidia-a100-80g +yes +€2\.29 +€1499\.00 +par1,mad1\n/,
      );
      assert.match(
        result.stdout,
        /\nvps-nano +VPS-NANO +1 +2 GiB +25 GiB +1 TiB +- +no +€/,
        'no SR-IOV VF for VPS-NANO',
      );
      assert.ok(!result.stdout.includes('gpu-t4'), 'GPU-T4 is not sold in MAD1');

      result = await c.run(['image', 'list', '--category', 'AI', '-o', 'yaml']);
      assert.equal(result.code, 0, result.stderr);
      const images = YAML.parse(result.stdout) as Array<{ slug: string; category: string; id: string }>;
      assert.ok(images.length > 0);
      assert.ok(images.every((i) => i.category === 'ai' && i.id.startsWith('img_')));
      assert.ok(images.some((i) => i.slug === 'pytorch-2'));
    });

    test('operator commands: region set-status, host set-state, audit-placement exit codes', async (t) => {
      const c = await customer(t);
      let result = await c.operator(['admin', 'audit-placement']);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, 'No placement violations.\n');
      assert.equal(result.stderr, '');

      t.after(() => asOperator('PATCH', '/v1/regions/lon1', { status: 'maintenance' }));
      result = await c.operator(['region', 'set-status', 'LON1', 'Operational']);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, 'Region:     lon1\nStatus:     operational\nOrderable:  yes\n');
      const [inLondon] = await createServers(c, ['in-london'], ['--region', 'lon1']);
      assert.equal(inLondon.region, 'lon1', 'an operational region takes orders');
      result = await c.operator(['region', 'set-status', 'lon1', 'maintenance']);
      assert.match(result.stdout, /\nOrderable: +no\n/);
      result = await c.run(createArgs('refused', ['--region', 'lon1']));
      assert.equal(result.code, 6, 'in maintenance again');

      // A host drained: its servers move elsewhere and the CLI says how many.
      const [moving] = await createServers(c, ['moving'], ['--wait']);
      // Its host, from the project's own server.created event.
      // (On PostgreSQL the stream shows an event once every older transaction has ended: poll.)
      const createdEvent = await until('the server.created event of moving', async () => {
        const events = (await cp.call('GET', '/v1/events?type=server.created', { token: c.token })).body
          .events as StreamEvent[];
        return events.find((e) => e.resource.id === moving.id) ?? null;
      });
      const hostId = (createdEvent.data as { host_id: string }).host_id;
      const host = (await asOperator('GET', `/v1/hosts/${hostId}`)).body.host as Host;
      t.after(() => asOperator('PATCH', `/v1/hosts/${hostId}`, { state: 'active' }));
      result = await c.operator(['host', 'set-state', hostId, 'draining']);
      assert.equal(result.code, 0, result.stderr);
      const moved = host.usage.servers;
      assert.ok(moved >= 1);
      assert.match(
        result.stdout,
        new RegExp(`^host ${host.name} is now draining\\ndrain: moved ${moved} server${moved === 1 ? '' : 's'}\\n`),
      );
      result = await c.operator(['host', 'set-state', hostId, 'active']);
      assert.equal(result.stdout, `host ${host.name} is now active\n`);

      // A corrupt database (what audit-placement exists to find): an allocation row of a server that does
      // not exist, claiming the threads of a real server. No agent sees it: it has no server row.
      const [owner] = await createServers(c, ['claim-owner'], ['--wait']);
      const db = cp.cp.db;
      const real = await db
        .selectFrom('allocations')
        .selectAll()
        .where('server_id', '=', owner.id)
        .executeTakeFirstOrThrow();
      const ghost = 'srv_0000000000000000000ghost';
      t.after(() => db.deleteFrom('allocations').where('server_id', '=', ghost).execute());
      await db
        .insertInto('allocations')
        .values({ ...real, server_id: ghost })
        .execute();
      result = await c.operator(['admin', 'audit-placement']);
      assert.equal(result.code, 1, result.stderr);
      const threads = JSON.parse(real.threads_json) as number[];
      assert.ok(threads.length > 0);
      const rows = result.stdout.trim().split('\n');
      assert.match(rows[0], /^KIND +HOST-ID +SERVERS +DETAIL$/);
      // The two claimants in either order.
      const pair = (row: string) => row.replace(`${owner.id},${ghost}`, `${ghost},${owner.id}`);
      assert.deepEqual(
        rows.slice(1).map(pair).sort(),
        [
          `server_missing         ${real.host_id}   ${ghost}${' '.repeat(owner.id.length + 1)}   the allocation has no server row`,
          ...threads.map(
            (thread) =>
              `thread_claimed_twice   ${real.host_id}   ${ghost},${owner.id}   thread ${thread} is claimed twice`,
          ),
        ].sort(),
      );
      const count = rows.length - 1;
      assert.equal(result.stderr, `${count} placement violations found\n`);
      result = await c.operator(['admin', 'audit-placement', '-o', 'json']);
      assert.equal(result.code, 1);
      assert.equal((JSON.parse(result.stdout) as { violations: unknown[] }).violations.length, count);
    });

    test('token create shows the secret once, on stdout, with a warning on stderr; the secret works', async (t) => {
      const c = await customer(t);
      const result = await c.run(['token', 'create', '--name', 'ci', '--role', 'Member', '--expires-in-days', '30']);
      assert.equal(result.code, 0, result.stderr);
      const answer = c.exchanges.at(-1)!;
      assert.deepEqual(answer.body, { name: 'ci', role: 'member', expires_in_days: 30 });
      const secret = answer.answer.secret as string;
      assert.match(secret, /^vmc_\w+$/);
      assert.equal(
        result.stdout,
        `ID:       ${answer.answer.token.id}\nName:     ci\nRole:     member\nExpires:  ${answer.answer.token.expires_at}\nSecret:   ${secret}\n`,
      );
      assert.equal(result.stderr, 'Store the secret now: it is shown only once.\n');
      const days = (Date.parse(answer.answer.token.expires_at) - Date.now()) / 86_400_000;
      assert.ok(days > 29 && days <= 30, String(days));

      const shown = await c.run(['project', 'show'], { token: secret });
      assert.match(shown.stdout, new RegExp(`^Project: +${c.name}\\nID: +${c.projectId}\\nYour role: +member\\n`));
      const listed = await c.run(['token', 'list']);
      assert.ok(!listed.stdout.includes(secret), 'never listed again');
      assert.match(listed.stdout, new RegExp(`\\n${answer.answer.token.id} +ci +member `));
    });

    test('capacity: availability per product and region; operators also see the figures', async (t) => {
      const c = await customer(t);
      let result = await c.run(['capacity', '--region', 'FRA1']);
      assert.equal(result.code, 0, result.stderr);
      const rows = result.stdout.trim().split('\n');
      assert.match(rows[0], /^REGION +PRODUCT +AVAILABILITY$/);
      assert.ok(rows.length > 1);
      assert.ok(
        rows.slice(1).every((row) => /^fra1 +[a-z0-9-]+ +(available|scarce|none)$/.test(row)),
        result.stdout,
      );
      assert.ok(rows.some((row) => /^fra1 +vps-starter +available$/.test(row)));
      assert.ok(!rows.some((row) => /gpu-a100/.test(row)), 'GPU-A100 is not sold in FRA1');

      result = await c.operator(['capacity']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^REGION +PRODUCT +AVAILABILITY +FREE\n/);
      assert.match(result.stdout, /\nfra1 +vps-starter +available +\d+\n/);
      const freeOf = (text: string) => Number(/\nfra1 +vps-starter +\w+ +(\d+)\n/.exec(text)![1]);
      const before = freeOf(result.stdout);
      await createServers(c, ['one-more'], ['--wait']);
      assert.equal(freeOf((await c.operator(['capacity'])).stdout), before - 1, 'FREE counts servers that still fit');
    });

    test('capacity for operators: utilization per region after the products', async (t) => {
      const c = await customer(t);
      const result = await c.operator(['capacity', '--region', 'mad1']);
      assert.equal(result.code, 0, result.stderr);
      const hosts = (await asOperator('GET', '/v1/hosts?region=mad1')).body.hosts as Host[];
      const vcpus = hosts.reduce((sum, h) => sum + h.capacity.vcpus, 0);
      const gpus = hosts.reduce((sum, h) => sum + h.capacity.gpus, 0);
      const [products, utilization] = result.stdout.split('\nUtilization\n');
      assert.match(products, /^REGION +PRODUCT +AVAILABILITY +FREE\n/);
      assert.match(products, /\nmad1 +gpu-a100 +available +\d+\n/);
      assert.ok(!products.includes('fra1'));
      assert.match(
        utilization,
        new RegExp(
          `^REGION +HOSTS +VCPUS +CORES +MEMORY +DISK +GPUS\\nmad1 +${hosts.length}/${hosts.length} active +0/${vcpus} +0% +0 MiB/[\\d.]+ TiB \\(0%\\) +0/\\d+ GiB \\(0%\\) +0/${gpus}\\n$`,
        ),
      );
    });

    test('host show: identity, usage and NUMA nodes from the host view', async (t) => {
      const c = await customer(t);
      const host = ((await asOperator('GET', '/v1/hosts?region=fra1')).body.hosts as Host[]).find(
        (h) => h.name === 'fra1-std-7543-001',
      )!;
      const result = await c.operator(['host', 'show', host.id]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stdout,
        new RegExp(
          `^Name: +fra1-std-7543-001\\nID: +${host.id}\\nRegion: +fra1\\nKind: +standard\\nState: +active\\nHealth: +up\\nCPU: +AMD EPYC 7543 32-Core Processor\\nSockets: +2\\nThreads: +128\\nvCPUs: +\\d+/120\\nMemory: +[\\d.]+ [MGT]iB/496 GiB\\nDisk: +\\d+/\\d+ GiB\\nGPUs: +-\\nServers: +\\d+\\nDriver: +sim\\n`,
        ),
      );
      assert.match(result.stdout, /\nHeartbeat: +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \(\d+s ago\)\n/);
      assert.match(
        result.stdout,
        /\nNUMA nodes\nNODE +CORES +THREADS +MEMORY\n0 +32 +64 +256 GiB\n1 +32 +64 +256 GiB\n/,
      );
      const missing = await c.operator(['host', 'show', 'host_missing']);
      assert.equal(missing.code, 5);
      assert.match(missing.stderr, /host host_missing was not found \(not_found\)/);
    });

    test('host token create prints the secret once and how to start the agent with it', async (t) => {
      const c = await customer(t);
      let result = await c.operator(['host', 'token', 'create', '--name', 'fra1-std-042']);
      assert.equal(result.code, 0, result.stderr);
      const made = c.exchanges.at(-1)!;
      assert.deepEqual(made.body, { name: 'fra1-std-042' });
      assert.equal(
        result.stdout,
        `ID:          ${made.answer.token.id}\nName:        fra1-std-042\nKind:        host\nSecret:      ${made.answer.secret}\nCA SHA-256:  ${made.answer.ca_sha256}\n`,
      );
      assert.match(result.stderr, /shown only once/);
      assert.ok(
        result.stderr.includes(
          `vmcloud agent --control-plane https://${new URL(cp.url).hostname}:8443 --ca-sha256 ${made.answer.ca_sha256}`,
        ),
        result.stderr,
      );
      assert.ok(!result.stderr.includes(made.answer.secret), 'the hint never repeats the secret');
      result = await c.operator(['host', 'token', 'create', '--name', 'x', '-o', 'json']);
      assert.match((JSON.parse(result.stdout) as { secret: string }).secret, /^vmc_\w+$/);
      result = await c.operator(['host', 'token', 'make', '--name', 'x']);
      assert.equal(result.code, 2);
      assert.match(
        result.stderr,
        /unknown command "host token make" \(host token create, host token list, host token revoke\)\nUsage: vmcloud host token create --name NAME/,
      );
      result = await c.operator(['host', 'token', 'create']);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /missing --name/);
      result = await c.run(['host', 'token', 'create', '--name', 'x']);
      assert.equal(result.code, 4);
    });

    test('events: a table of the stream, filters passed on, --follow streams from the last sequence number', async (t) => {
      const c = await customer(t);
      // Waited for, so that no event of theirs comes later.
      const [e1, e2] = await createServers(c, ['e1', 'e2'], ['--wait']);
      // On PostgreSQL the stream shows a transaction's events once every older transaction has ended: wait
      // until both servers' last events are readable — their create actions finished, and their IPv6 primary
      // IPs, which an event consumer gives them after server.created.
      await until('both creations finished in the stream', async () => {
        const events = (
          await cp.call('GET', '/v1/events?type=action.finished,primary_ip.created&limit=1000', { token: c.token })
        ).body.events as StreamEvent[];
        const ofBoth = (type: string) =>
          events.filter((e) => e.type === type && [e1.id, e2.id].includes((e.data as { server_id: string }).server_id))
            .length >= 2;
        return ofBoth('action.finished') && ofBoth('primary_ip.created');
      });
      c.exchanges.length = 0;
      let result = await c.run(['events', '--type', 'server.created', '--after', '0']);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(c.exchanges[0].query.toString(), 'after=0&type=server.created');
      const created = c.exchanges[0].answer.events as StreamEvent[];
      assert.deepEqual(
        created.map((e) => e.resource.id),
        [e1.id, e2.id],
        'a project sees its own events only',
      );
      assert.match(
        result.stdout,
        new RegExp(
          `^SEQ +TIME +TYPE +RESOURCE +DATA\\n *${created[0].seq} +\\S+Z +server\\.created +server ${e1.id} +name=e1,product=vps-starter,region=fra1,host_id=host_\\w+,action_id=act_\\w+\\n *${created[1].seq} .*name=e2,`,
        ),
      );

      const all = (await c.run(['events', '-o', 'json'])).stdout;
      const lastSeq = (JSON.parse(all) as StreamEvent[]).at(-1)!.seq;
      result = await c.run(['events', '--after', String(lastSeq)]);
      assert.equal(result.stdout, 'No events.\n');
      result = await c.run(['events', '--limit', '1', '-o', 'json']);
      const [first] = JSON.parse(result.stdout) as StreamEvent[];
      assert.equal(result.stderr, `more events: pass --after ${first.seq} for the next page\n`);

      // --follow: the stream prints both creations, then the one made while following, as it happens.
      const controller = new AbortController();
      c.exchanges.length = 0;
      const captured = captureIo(c.env, { cwd: c.dir, fetch: recordingFetch(c.exchanges), signal: controller.signal });
      const following = runCli(['events', '--follow', '--type', 'server.created', '-o', 'json'], captured.io);
      const names = () =>
        captured
          .stdout()
          .trim()
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => (JSON.parse(line) as { data: { name: string } }).data.name);
      await until('the history printed', () => names().length === 2);
      const [e3] = await createServers(c, ['e3']);
      await until('e3 printed as it happened', () => names().length === 3);
      controller.abort();
      assert.equal(await following, 0, captured.stderr());
      assert.deepEqual(names(), ['e1', 'e2', 'e3']);
      assert.ok(e3);
      const streams = c.exchanges.filter((e) => e.path === '/v1/events/stream');
      assert.equal(streams.length, 1, 'one stream, no polling');
      assert.equal(streams[0].query.get('type'), 'server.created');
      const last = (JSON.parse(captured.stdout().trim().split('\n').at(-1)!) as StreamEvent).seq;
      assert.equal(captured.stderr(), `stopped: resume with --after ${last}\n`);
    });
  });
}
