import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureIo, startFakeApi, type FakeApi } from './fake-api.ts';
import { VmcError } from '../core/errors.ts';
import { editDistance, formatError, runCli, splitArgv } from './main.ts';

const ownerToken = 'vmc_test_owner';
const operatorToken = 'vmc_test_operator';

async function setup(t: { after(fn: () => Promise<void>): void }, options: Parameters<typeof startFakeApi>[0] = {}) {
  const api = await startFakeApi(options);
  const dir = await mkdtemp(join(tmpdir(), 'vmcloud-cli-'));
  t.after(async () => {
    await api.close();
    await rm(dir, { recursive: true, force: true });
  });
  const env = { VMCLOUD_CONFIG: join(dir, 'config.json'), VMCLOUD_URL: api.url, VMCLOUD_TOKEN: ownerToken };
  const run = async (argv: string[], extra: { env?: Record<string, string | undefined>; isTTY?: boolean } = {}) => {
    const captured = captureIo({ ...env, ...extra.env }, { isTTY: extra.isTTY, cwd: dir });
    const code = await runCli(argv, captured.io);
    return { code, stdout: captured.stdout(), stderr: captured.stderr() };
  };
  return { api, dir, env, run };
}

async function createServers(api: FakeApi, run: (argv: string[]) => Promise<{ code: number }>, names: string[]) {
  for (const name of names) {
    const { code } = await run(['server', 'create', '--name', name, '--product', 'vps-starter', '--region', 'fra1', '--image', 'debian-12', '--label', 'env=prod']);
    assert.equal(code, 0);
  }
  assert.equal(api.servers.length, names.length);
}

// ---- argument parsing ---------------------------------------------------------------------------------

const splitCases: Array<[string[], { path: string[]; rest: string[]; help: boolean }]> = [
  [['server', 'list'], { path: ['server', 'list'], rest: [], help: false }],
  [['-o', 'json', 'server', 'list'], { path: ['server', 'list'], rest: ['-o', 'json'], help: false }],
  [['--profile', 'prod', 'server', 'show', 'web-1', '-o', 'yaml'], { path: ['server', 'show'], rest: ['--profile', 'prod', 'web-1', '-o', 'yaml'], help: false }],
  [['server', 'create', '--name', 'web-1', '--wait'], { path: ['server', 'create'], rest: ['--name', 'web-1', '--wait'], help: false }],
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
  [['server', 'list', '--regoin', 'fra1'], /unknown option --regoin \(did you mean "--region"\?\)\nUsage: vmcloud server list/],
  [['server', 'show'], /missing NAME\|ID\nUsage: vmcloud server show NAME\|ID/],
  [['server', 'show', 'a', 'b'], /unexpected argument "b"/],
  [['server', 'create', '--name'], /option --name needs a value \(NAME\)/],
  [['server', 'create', '--name', 'x', '--product', 'vps-starter', '--region', 'fra1'], /missing --image\nUsage: vmcloud server create/],
  [['server', 'list', '--wait=yes'], /unknown option --wait/],
  [['server', 'list', '--all=yes'], /option --all takes no value/],
  [['server', 'list', '-o', 'wide'], /-o must be one of table, json, yaml, got "wide"/],
  [['server', 'list', '--limit', '0'], /--limit must be a whole number from 1 to 500/],
  [['server', 'create', '--name', 'x', '--product', 'p', '--region', 'r', '--image', 'i', '--label', 'novalue'], /--label "novalue" must look like key=value/],
  [['host', 'set-state', 'host_a', 'broken'], /the state must be one of active, maintenance, draining, got "broken"/],
  [['token', 'create', '--name', 'ci', '--role', 'admin'], /--role must be one of owner, member, viewer/],
];
for (const [argv, pattern] of usageCases) {
  test(`usage error exits 2: vmcloud ${argv.join(' ')}`, async () => {
    const captured = captureIo({ VMCLOUD_CONFIG: '/nonexistent/vmcloud.json', VMCLOUD_TOKEN: 'vmc_x', VMCLOUD_URL: 'http://127.0.0.1:9' });
    const code = await runCli(argv, captured.io);
    assert.equal(code, 2);
    assert.match(captured.stderr(), pattern);
    assert.equal(captured.stdout(), '');
  });
}

const helpCases: Array<[string[], RegExp]> = [
  [['--help'], /Commands:\n {2}login .*\n[\s\S]*server +create and operate servers \[create, list, show, start, stop, reboot, delete, console, logs, snapshot, export\]/],
  [['-h'], /Global options:/],
  [['help'], /Usage: vmcloud <command>/],
  [['server', '--help'], /Usage: vmcloud server <command>[\s\S]*create +create a server/],
  [['server', 'create', '--help'], /Usage: vmcloud server create --name NAME[\s\S]*--ssh-key FILE\|KEY[\s\S]*Examples:/],
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

// ---- behaviour against a real HTTP server ---------------------------------------------------------------

test('server create --wait shows progress to success and prints the running server', async (t) => {
  const { api, run, dir } = await setup(t);
  await writeFile(join(dir, 'id.pub'), '# my keys\nssh-ed25519 AAAAfile me@laptop\n\n');
  await writeFile(join(dir, 'cloud.yaml'), '#cloud-config\npackages: [nginx]\n');
  const result = await run([
    'server', 'create', '--name', 'web-1', '--product', 'VPS-STARTER', '--region', 'FRA1', '--image', 'debian-12',
    '--label', 'env=prod', '--label', 'tier=web,team=a', '--ssh-key', 'id.pub', '--ssh-key', 'ssh-ed25519 AAAAinline x', '--user-data', 'cloud.yaml', '--wait',
  ]);
  assert.equal(result.code, 0, result.stderr);
  const post = api.requests.find((r) => r.method === 'POST' && r.path === '/v1/servers');
  assert.deepEqual(post?.body, {
    name: 'web-1',
    product: 'vps-starter',
    region: 'fra1',
    image: 'debian-12',
    labels: { env: 'prod', tier: 'web', team: 'a' },
    ssh_keys: ['ssh-ed25519 AAAAfile me@laptop', 'ssh-ed25519 AAAAinline x'],
    user_data: '#cloud-config\npackages: [nginx]\n',
  });
  assert.equal(
    result.stderr,
    'create web-1: running 0%\ncreate web-1: running 50%\ncreate web-1: success 100%\ncreate web-1: done in 0.0s\n',
  );
  assert.match(result.stdout, /^Name: +web-1\nID: +srv_\d+\nStatus: +running\n/);
  assert.match(result.stdout, /IPv4: +192\.0\.2\.10/);
  assert.match(result.stdout, /Labels: +env=prod,tier=web,team=a/);
  assert.equal(api.requests.filter((r) => r.path.startsWith('/v1/actions/')).length, 2);
});

test('server create --wait on a terminal redraws one progress line', async (t) => {
  const { run } = await setup(t, { progressStep: 25 });
  const result = await run(['server', 'create', '--name', 'web-1', '--product', 'vps-starter', '--region', 'fra1', '--image', 'debian-12', '--wait'], { isTTY: true });
  assert.equal(result.code, 0);
  const frames = result.stderr.split('\r\x1b[2K').filter(Boolean);
  assert.deepEqual(
    frames.map((f) => /(\d+)% {2}(\w+)/.exec(f)?.slice(1).join(' ')),
    ['0 running', '25 running', '50 running', '75 running', '100 success'],
  );
  assert.ok(result.stderr.endsWith('\n'));
});

test('server create without --wait prints the server and how to follow the action; -o json prints server and action', async (t) => {
  const { run } = await setup(t);
  let result = await run(['server', 'create', '--name', 'web-1', '--product', 'vps-starter', '--region', 'fra1', '--image', 'debian-12']);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /Status: +starting \(desired: running\)/);
  assert.match(result.stderr, /action act_\d+ is running: follow it with `vmcloud action show act_\d+`/);
  result = await run(['server', 'create', '--name', 'web-2', '--product', 'vps-starter', '--region', 'fra1', '--image', 'debian-12', '-o', 'json', '--wait']);
  const parsed = JSON.parse(result.stdout);
  assert.equal(parsed.server.status, 'running');
  assert.equal(parsed.action.status, 'success');
});

test('a failed action exits with its code and says why', async (t) => {
  const { run } = await setup(t);
  const result = await run(['server', 'create', '--name', 'fail-1', '--product', 'vps-starter', '--region', 'fra1', '--image', 'debian-12', '--wait']);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /create fail-1: failed in/);
  assert.match(result.stderr, /error: create failed: the host agent reported a boot failure \(internal\)\n/);
});

test('placement failure: the API message, each rejecting filter, exit 6', async (t) => {
  const { run, api } = await setup(t);
  const result = await run(['server', 'create', '--name', 'big', '--product', 'VPS-ENTERPRISE+', '--region', 'fra1', '--image', 'debian-12']);
  assert.equal(result.code, 6);
  assert.equal(
    result.stderr,
    [
      'error: no host in FRA1 has 16 free cores in one NUMA node (3 hosts lack cores, 1 is draining) (conflict/no_capacity)',
      '  - numa_cores: 3 hosts: lack 16 free cores in one NUMA node',
      '  - host_state: 1 host: draining',
      '  largest still available: 8 vCPUs, 32 GiB memory, 0 GPUs',
      '',
    ].join('\n'),
  );
  // The marketing name was resolved through the catalog.
  assert.equal((api.requests.find((r) => r.method === 'POST')?.body as { product: string }).product, 'vps-enterprise-plus');
});

test('error mapping to exit codes', async (t) => {
  const { run } = await setup(t);
  const cases: Array<[string[], Record<string, string>, number, RegExp]> = [
    [['server', 'create', '--name', 'x', '--product', 'vps-huge', '--region', 'fra1', '--image', 'debian-12'], {}, 2, /error: unknown product vps-huge; see `vmcloud product list` \(invalid\/unknown_product\)\n {2}product: unknown product vps-huge\n/],
    [['server', 'create', '--name', 'x', '--product', 'vps-starter', '--region', 'lon1', '--image', 'debian-12'], {}, 6, /region LON1 is in maintenance and takes no new servers; existing servers keep running \(conflict\/region_in_maintenance\)/],
    [['region', 'list'], { VMCLOUD_TOKEN: 'vmc_wrong' }, 3, /the API token is not valid \(unauthenticated\)\nhint: the token was refused/],
    [['host', 'list'], {}, 4, /operator route \(forbidden\)/],
    [['server', 'show', 'nope'], {}, 5, /error: server nope was not found \(not_found\)/],
    [['server', 'show', 'srv_00000000000000000000000099'], {}, 5, /server srv_00000000000000000000000099 was not found \(not_found\)/],
    [['action', 'show', 'act_missing'], {}, 5, /action act_missing was not found/],
    [['region', 'list', '--profile', 'ghost'], {}, 5, /profile "ghost" was not found/],
    [['region', 'list'], { VMCLOUD_TOKEN: undefined }, 3, /no API token: run `vmcloud login --token vmc_…` or set VMCLOUD_TOKEN \(unauthenticated\/no_token\)/],
  ] as Array<[string[], Record<string, string>, number, RegExp]>;
  for (const [argv, env, code, pattern] of cases) {
    const result = await run(argv, { env });
    assert.equal(result.code, code, `${argv.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, pattern);
  }
});

test('an unreachable control plane exits 8 and asks whether it runs', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const captured = captureIo({ VMCLOUD_CONFIG: '/nonexistent/vmcloud.json', VMCLOUD_TOKEN: 'vmc_x' });
  const code = await runCli(['server', 'list', '--url', `http://127.0.0.1:${port}`], captured.io);
  assert.equal(code, 8);
  assert.match(captured.stderr(), new RegExp(`is the control plane running at http://127\\.0\\.0\\.1:${port}\\? \\(unavailable/unreachable\\)`));
});

test('server names resolve through GET /v1/servers?name=; ids are used directly', async (t) => {
  const { api, run } = await setup(t);
  await createServers(api, run, ['web-1', 'web-2']);
  const id = api.servers[0].id;
  api.requests.length = 0;

  let result = await run(['server', 'stop', 'web-1', '--force', '--wait']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `server web-1 (${id}) stopped\n`);
  const seen = api.requests.map((r) => `${r.method} ${r.path}${r.query.size ? '?' + r.query.toString() : ''}`);
  assert.deepEqual(seen.slice(0, 2), ['GET /v1/servers?name=web-1', `POST /v1/servers/${id}/actions/stop`]);
  assert.ok(seen.length > 2 && seen.slice(2).every((line) => /^GET \/v1\/actions\/act_\d+$/.test(line)), seen.join('\n'));
  assert.deepEqual(api.requests[1].body, { force: true });

  api.requests.length = 0;
  result = await run(['server', 'start', id]);
  assert.equal(result.code, 0);
  assert.match(result.stdout, new RegExp(`^starting server web-1 \\(${id}\\): action act_\\d+ running\\n$`));
  assert.deepEqual(api.requests.map((r) => `${r.method} ${r.path}`), [`GET /v1/servers/${id}`, `POST /v1/servers/${id}/actions/start`]);

  result = await run(['server', 'show', 'web-2', '-o', 'json']);
  assert.equal(JSON.parse(result.stdout).name, 'web-2');

  result = await run(['server', 'delete', 'web-2', '--wait', '-o', 'yaml']);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /^action:\n {2}id: act_\d+\n {2}command: delete\n {2}status: success\n/);
  assert.equal(api.servers[1].status, 'deleted');
});

test('two servers with one name: conflict, use the id', async (t) => {
  const { api, run } = await setup(t);
  await createServers(api, run, ['twin', 'twin']);
  const result = await run(['server', 'reboot', 'twin']);
  assert.equal(result.code, 6);
  assert.match(result.stderr, /2 servers are named twin \(srv_\d+, srv_\d+\): use the id \(conflict\/ambiguous_name\)/);
});

test('server list pages: one page plus a hint, or every page with --all', async (t) => {
  const { api, run } = await setup(t);
  await createServers(api, run, ['s1', 's2', 's3', 's4', 's5']);
  api.requests.length = 0;

  let result = await run(['server', 'list', '--limit', '2']);
  assert.equal(result.code, 0);
  assert.equal(result.stdout.trim().split('\n').length, 3);
  assert.match(result.stdout, /^NAME {3}ID +STATUS +PRODUCT +REGION +IPV4 +LABELS +AGE\ns1 +srv_\d+ +starting +vps-starter +fra1 +- +env=prod +5m\n/);
  assert.match(result.stderr, new RegExp(`more servers: pass --all, or --cursor ${api.servers[1].id} for the next page`));

  api.requests.length = 0;
  result = await run(['server', 'list', '--limit', '2', '--all', '--selector', 'env=prod', '--region', 'FRA1', '-o', 'json']);
  assert.equal(result.code, 0);
  assert.deepEqual(JSON.parse(result.stdout).map((s: { name: string }) => s.name), ['s1', 's2', 's3', 's4', 's5']);
  assert.equal(result.stderr, '');
  assert.deepEqual(
    api.requests.map((r) => r.query.get('cursor')),
    [null, api.servers[1].id, api.servers[3].id],
  );
  assert.ok(api.requests.every((r) => r.query.get('label_selector') === 'env=prod' && r.query.get('region') === 'fra1' && r.query.get('limit') === '2'));
});

test('an empty list says so', async (t) => {
  const { run } = await setup(t);
  const result = await run(['server', 'list']);
  assert.equal(result.stdout, 'No servers found.\n');
});

test('login verifies the token, writes the profile with mode 0600 and makes it current', async (t) => {
  const { api, run, env } = await setup(t);
  const noEnv = { VMCLOUD_URL: undefined, VMCLOUD_TOKEN: undefined };
  let result = await run(['login', '--url', api.url + '/', '--token', ownerToken], { env: noEnv });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `Logged in to ${api.url} as project acme (prj_test).\nSaved profile "default" in ${env.VMCLOUD_CONFIG}.\n`);
  assert.equal((await stat(env.VMCLOUD_CONFIG)).mode & 0o777, 0o600);
  assert.deepEqual(JSON.parse(await readFile(env.VMCLOUD_CONFIG, 'utf8')), { current: 'default', profiles: { default: { url: api.url, token: ownerToken } } });

  // Operator token into a second profile: no project, still verified.
  result = await run(['login', '--profile', 'ops', '--url', api.url, '--token', operatorToken], { env: noEnv });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /as an operator \(no project\)/);

  // The CLI now works from the config alone.
  result = await run(['host', 'list'], { env: noEnv });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /fra1-std-01 +host_a +fra1 +standard +active +up +8\/128 +16 GiB\/512 GiB/);

  result = await run(['config', 'list'], { env: noEnv });
  assert.equal(result.stdout, `CURRENT   NAME      URL${' '.repeat(api.url.length - 3)}   TOKEN\n          default   ${api.url}   vmc_test…wner\n*         ops       ${api.url}   vmc_test…ator\n`);

  result = await run(['config', 'use', 'default'], { env: noEnv });
  assert.equal(result.code, 0);
  result = await run(['config', 'show'], { env: noEnv });
  assert.match(result.stdout, /Profile: +default\nURL: +http:\/\/127\.0\.0\.1:\d+ \(from profile\)\nToken: +vmc_test…wner \(from profile\)/);
  assert.ok(!result.stdout.includes(ownerToken));

  // A wrong token is refused and nothing is saved.
  result = await run(['login', '--profile', 'bad', '--url', api.url, '--token', 'vmc_wrong'], { env: noEnv });
  assert.equal(result.code, 3);
  assert.equal(JSON.parse(await readFile(env.VMCLOUD_CONFIG, 'utf8')).profiles.bad, undefined);

  result = await run(['login'], { env: noEnv });
  assert.equal(result.code, 0, 'login re-verifies the token of the current profile');
  result = await run(['config', 'use', 'nope'], { env: noEnv });
  assert.equal(result.code, 5);
});

test('catalog lists: regions, products (filtered, case-insensitive region), images', async (t) => {
  const { run } = await setup(t);
  let result = await run(['region', 'list']);
  assert.equal(
    result.stdout,
    [
      'CODE   NAME        COUNTRY   PEERING       STATUS        ORDERABLE   OPENS',
      'fra1   Frankfurt   DE        DE-CIX 100G   operational   yes         -',
      'lon1   London      GB        LINX 40G      maintenance   no          -',
      'mad1   Madrid      ES        ESPANIX       planned       no          2025-Q2',
      '',
    ].join('\n'),
  );
  result = await run(['product', 'list', '--region', 'MAD1']);
  assert.match(result.stdout, /^CODE +NAME +VCPUS +MEMORY +DISK +TRAFFIC +GPU +HOURLY +MONTHLY +REGIONS\ngpu-a100 +GPU-A100 +8 +88 GiB +800 GiB +20 TiB +1× nvidia-a100-80g +€2\.29 +€1499\.00 +mad1\n$/);
  result = await run(['image', 'list', '--category', 'AI', '-o', 'yaml']);
  assert.match(result.stdout, /^- id: img_pytorch\n/);
});

test('operator commands: region set-status, host set-state, audit-placement exit codes', async (t) => {
  const { run } = await setup(t, { violations: [{ kind: 'thread_claimed_twice', host_id: 'host_a', server_ids: ['srv_1', 'srv_2'], detail: 'thread 12 is claimed twice' }] });
  const op = { env: { VMCLOUD_TOKEN: operatorToken } };
  let result = await run(['region', 'set-status', 'LON1', 'Operational'], op);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /Region: +lon1\nStatus: +operational\nOrderable: +yes/);
  result = await run(['host', 'set-state', 'host_a', 'draining'], op);
  assert.equal(result.stdout, 'host fra1-std-01 is now draining\n');
  result = await run(['admin', 'audit-placement'], op);
  assert.equal(result.code, 1);
  assert.match(result.stdout, /KIND +HOST-ID +SERVERS +DETAIL\nthread_claimed_twice +host_a +srv_1,srv_2 +thread 12 is claimed twice\n/);
  assert.equal(result.stderr, '1 placement violation found\n');
});

test('audit-placement without violations exits 0', async (t) => {
  const { run } = await setup(t);
  const result = await run(['admin', 'audit-placement'], { env: { VMCLOUD_TOKEN: operatorToken } });
  assert.equal(result.code, 0);
  assert.equal(result.stdout, 'No placement violations.\n');
});

test('token create shows the secret once, on stdout, with a warning on stderr', async (t) => {
  const { run, api } = await setup(t);
  const result = await run(['token', 'create', '--name', 'ci', '--role', 'Member', '--expires-in-days', '30']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /Secret: +vmc_new_secret/);
  assert.match(result.stderr, /shown only once/);
  assert.deepEqual(api.requests.at(-1)?.body, { name: 'ci', role: 'member', expires_in_days: 30 });
});

test('capacity: availability per product and region; operators also see the figures', async (t) => {
  const { run } = await setup(t);
  let result = await run(['capacity', '--region', 'FRA1']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'REGION   PRODUCT               AVAILABILITY\nfra1     vps-starter           available\nfra1     vps-enterprise-plus   scarce\n');
  result = await run(['capacity'], { env: { VMCLOUD_TOKEN: operatorToken } });
  assert.match(result.stdout, /^REGION +PRODUCT +AVAILABILITY +FREE\nfra1 +vps-starter +available +812\n/);
});

test('formatError reads the scheduler failure as the control plane sends it (snake_case placement)', () => {
  const message = 'no host in FRA1 can take 16 vCPUs: 12 hosts lack 16 free cores in one NUMA node; the largest still available is 8 vCPUs with 32 GiB';
  const error = new VmcError('conflict', message, {
    reason: 'no_capacity',
    details: {
      status: 409,
      request_id: 'req_1',
      placement: { region: 'fra1', hosts_considered: 12, rejections: [{ filter: 'numa_cores', hosts: 12, reason: 'lack 16 free cores in one NUMA node' }], largest_available: { vcpus: 8, memory_mib: 32768, gpus: 0 }, message },
    },
  });
  assert.equal(formatError(error), `error: ${message} (conflict/no_capacity)\n  - numa_cores: 12 hosts: lack 16 free cores in one NUMA node\n`);
  const withoutSentence = new VmcError('conflict', 'no capacity', { details: { placement: { rejections: [], largest_available: { vcpus: 4, memory_mib: 8192, gpus: 1 } } } });
  assert.equal(formatError(withoutSentence), 'error: no capacity (conflict)\n  largest still available: 4 vCPUs, 8 GiB memory, 1 GPUs\n');
});

test('formatError: request id for server-side failures, hints for auth and rate limits', () => {
  assert.equal(formatError(new VmcError('internal', 'boom', { details: { request_id: 'req_9' } })), 'error: boom (internal)\nrequest id: req_9\n');
  assert.match(formatError(new VmcError('rate_limited', 'slow down', { details: { retry_after: '12' } })), /hint: retry after 12 s/);
  assert.match(formatError(new VmcError('forbidden', 'viewers cannot mutate')), /hint: this needs a token with more rights/);
});

test('host show: identity, usage and NUMA nodes from the host view', async (t) => {
  const { run } = await setup(t);
  const result = await run(['host', 'show', 'host_a'], { env: { VMCLOUD_TOKEN: operatorToken } });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^Name: +fra1-std-01\nID: +host_a\nRegion: +fra1\nKind: +standard\nState: +active\nHealth: +up\nCPU: +AMD EPYC 9354\nSockets: +1\nThreads: +128\nvCPUs: +8\/128\nMemory: +16 GiB\/512 GiB\nDisk: +100\/7680 GiB\nGPUs: +-\nServers: +2\n/);
  assert.match(result.stdout, /Heartbeat: +2025-01-01T00:04:58\.000Z \(2s ago\)/);
  assert.match(result.stdout, /\nNUMA nodes\nNODE +CORES +THREADS +MEMORY\n0 +32 +64 +256 GiB\n1 +32 +64 +256 GiB\n$/);
});

test('host token create prints the secret once and how to start the agent with it', async (t) => {
  const { run, api } = await setup(t);
  const op = { env: { VMCLOUD_TOKEN: operatorToken } };
  let result = await run(['host', 'token', 'create', '--name', 'fra1-std-042'], op);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'ID:      tok_2\nName:    fra1-std-042\nKind:    host\nSecret:  vmc_host_secret\n');
  assert.match(result.stderr, /shown only once/);
  assert.match(result.stderr, new RegExp(`vmcloud agent --control-plane ${api.url} --token <secret> --region REGION`));
  assert.deepEqual(api.requests.at(-1)?.body, { name: 'fra1-std-042' });
  result = await run(['host', 'token', 'create', '--name', 'x', '-o', 'json'], op);
  assert.equal(JSON.parse(result.stdout).secret, 'vmc_host_secret');
  result = await run(['host', 'token', 'make', '--name', 'x'], op);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown command "host token make" \(only "host token create"\)\nUsage: vmcloud host token create --name NAME/);
  result = await run(['host', 'token', 'create'], op);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /missing --name/);
  result = await run(['host', 'token', 'create', '--name', 'x']);
  assert.equal(result.code, 4);
});

test('capacity for operators: utilization per region after the products', async (t) => {
  const { run } = await setup(t);
  const result = await run(['capacity', '--region', 'mad1'], { env: { VMCLOUD_TOKEN: operatorToken } });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    result.stdout,
    [
      'REGION   PRODUCT    AVAILABILITY   FREE',
      'mad1     gpu-a100   none              0',
      '',
      'Utilization',
      'REGION        HOSTS   VCPUS   CORES                   MEMORY                    DISK   GPUS',
      'mad1     1/1 active   96/96    100%   720 GiB/720 GiB (100%)   3200/7680 GiB (41.7%)    4/4',
      '',
    ].join('\n'),
  );
});

test('events: a table of the stream, filters passed on, --follow polls from the last sequence number', async (t) => {
  const { api, run } = await setup(t);
  await createServers(api, run, ['e1', 'e2']);
  let result = await run(['events', '--type', 'server.created', '--after', '0']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^SEQ +TIME +TYPE +RESOURCE +DATA\n +1 +2025-01-01T00:00:00\.000Z +server\.created +server srv_\d+ +name=e1,product=vps-starter,region=fra1\n +2 .*name=e2/);
  assert.equal(api.requests.at(-1)?.query.toString(), 'after=0&type=server.created');
  result = await run(['events', '--after', '2']);
  assert.equal(result.stdout, 'No events.\n');
  result = await run(['events', '--limit', '1', '-o', 'json']);
  assert.deepEqual(JSON.parse(result.stdout).map((e: { seq: number }) => e.seq), [1]);
  assert.equal(result.stderr, 'more events: pass --after 1 for the next page\n');

  // --follow: the first poll returns both events, the second (after 2) a third made while following.
  const controller = new AbortController();
  let sleeps = 0;
  const captured = captureIo({ VMCLOUD_CONFIG: '/nonexistent/vmcloud.json', VMCLOUD_URL: api.url, VMCLOUD_TOKEN: ownerToken });
  const io = {
    ...captured.io,
    signal: controller.signal,
    sleep: async (ms: number) => {
      assert.equal(ms, 1000);
      if (++sleeps === 1) await runCli(['server', 'create', '--name', 'e3', '--product', 'vps-starter', '--region', 'fra1', '--image', 'debian-12'], captureIo(captured.io.env).io);
      else controller.abort();
    },
  };
  assert.equal(await runCli(['events', '--follow', '-o', 'json'], io), 0);
  assert.deepEqual(captured.stdout().trim().split('\n').map((line) => JSON.parse(line).data.name), ['e1', 'e2', 'e3']);
  const polls = api.requests.filter((r) => r.path === '/v1/events').slice(-2).map((r) => r.query.get('after'));
  assert.deepEqual(polls, ['0', '2']);
  assert.equal(captured.stderr(), 'stopped: resume with --after 3\n');
});
