/**
 * TLS on the public API and secrets at rest (finding 13 of the trust-boundaries issue), with real
 * `vmcloud serve` processes:
 * - `--tls auto`: TLS 1.3 only (openssl s_client with -tls1_2 is refused, -tls1_3 connects), HSTS on
 *   answers, the printed fingerprint is the one of DATA_DIR/tls/server.crt, the CLI works with
 *   `--ca-cert` (and with the profiles serve saved) and fails without it;
 * - `--tls-cert/--tls-key` serve the given certificate;
 * - `--host 0.0.0.0` without TLS exits 2 with a message, with `--insecure-http` starts;
 * - the data dir ends 0700 and the SQLite files 0600 even when the data dir existed with 0755.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchTrusting } from '../src/client/index.ts';
import { runCli, type CliIo } from '../src/cli/index.ts';
import { readCliConfig, startServeProcess, stopProcess, type ServeProcess } from './serve-process.ts';
import { until } from './helpers.ts';

const root = new URL('..', import.meta.url).pathname;

/** Runs `vmcloud serve ARGS` expecting it to exit by itself; its exit code and output. */
function serveUntilExit(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin/vmcloud.ts'), 'serve', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not exit:\n${output}`));
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** openssl s_client with stdin closed and a deadline: its exit status and output. */
function sClient(port: number, version: '-tls1_2' | '-tls1_3') {
  const result = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, version], {
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 15_000,
    encoding: 'utf8',
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function cliIo(env: Record<string, string>) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
    isTTY: false,
  };
  return { io, out: () => stdout, err: () => stderr };
}

const portOf = (url: string) => Number(new URL(url).port);
const modeOf = (path: string) => statSync(path).mode & 0o777;

describe('serve --tls auto', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmcloud-tls-'));
  const dataDir = join(dir, 'data');
  const configFile = join(dir, 'cli.json');
  const certPath = join(dataDir, 'tls', 'server.crt');
  let serve: ServeProcess;

  before(async () => {
    // A data dir made beforehand with the usual 0755: serve must close it.
    mkdirSync(dataDir, { mode: 0o755 });
    assert.equal(modeOf(dataDir), 0o755);
    // The simulated fleet too: its state directory is made under the data dir with the process's umask.
    serve = await startServeProcess(['--tls', 'auto', '--port', '0', '--data-dir', dataDir], {
      VMCLOUD_CONFIG: configFile,
      LOG_LEVEL: 'warn',
    });
  });
  after(async () => {
    if (serve) await stopProcess(serve.child);
    rmSync(dir, { recursive: true, force: true });
  });

  test('the data dir is 0700 and the SQLite files 0600 after a start', () => {
    assert.equal(modeOf(dataDir), 0o700);
    const sqliteFiles = readdirSync(dataDir).filter((name) => name.startsWith('vmcloud.sqlite'));
    assert.ok(sqliteFiles.includes('vmcloud.sqlite'), sqliteFiles.join(' '));
    for (const name of sqliteFiles) assert.equal(modeOf(join(dataDir, name)), 0o600, name);
    assert.equal(modeOf(join(dataDir, 'tls', 'server.key')), 0o600);
    // serve's umask 077: nothing it made under the data dir is open to group or others (but the certificate).
    const everything = readdirSync(dataDir, { recursive: true }).map((name) => join(dataDir, String(name)));
    assert.ok(everything.includes(join(dataDir, 'sim-hosts')), everything.join(' '));
    for (const path of everything.filter((p) => !p.endsWith('.crt')))
      assert.equal(modeOf(path) & 0o077, 0, `${path} is ${modeOf(path).toString(8)}`);
  });

  test('TLS 1.2 is refused, TLS 1.3 connects', () => {
    assert.match(serve.url, /^https:\/\//);
    const port = portOf(serve.url);
    const old = sClient(port, '-tls1_2');
    assert.notEqual(old.status, 0, old.output);
    // openssl names the version it asked for even when refused: no certificate came, a protocol alert did.
    assert.match(old.output, /no peer certificate available/);
    assert.match(old.output, /alert protocol version/);
    const current = sClient(port, '-tls1_3');
    assert.equal(current.status, 0, current.output);
    assert.match(current.output, /TLSv1\.3/);
  });

  test('the printed fingerprint is the one of DATA_DIR/tls/server.crt; answers carry HSTS', async () => {
    const printed = await until('the fingerprint line', () =>
      /certificate SHA-256 fingerprint ([0-9A-Fa-f:]+)/.exec(serve.output()),
    );
    const openssl = spawnSync('openssl', ['x509', '-in', certPath, '-noout', '-fingerprint', '-sha256'], {
      encoding: 'utf8',
    });
    assert.equal(openssl.status, 0, openssl.stderr);
    const expected = /Fingerprint=([0-9A-Fa-f:]+)/i.exec(openssl.stdout)![1];
    assert.equal(printed[1].toUpperCase(), expected.toUpperCase());

    const response = await fetchTrusting(certPath)(`https://localhost:${portOf(serve.url)}/healthz`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('strict-transport-security') ?? '', /max-age=\d+/);
  });

  test('the CLI works with --ca-cert (or the profiles serve saved) and fails without it', async () => {
    const config = readCliConfig(configFile) as ReturnType<typeof readCliConfig> & {
      profiles: Record<string, { caCert?: string }>;
    };
    assert.equal(config.profiles.default.caCert, certPath);
    assert.equal(config.profiles.operator.caCert, certPath);
    const url = `https://localhost:${portOf(serve.url)}`;
    const env = {
      VMCLOUD_CONFIG: join(dir, 'no-config.json'),
      VMCLOUD_URL: url,
      VMCLOUD_TOKEN: config.profiles.default.token!,
    };

    const trusted = cliIo(env);
    assert.equal(await runCli(['--ca-cert', certPath, 'region', 'list'], trusted.io), 0, trusted.err());
    assert.match(trusted.out(), /\nfra1 /);

    const untrusted = cliIo(env);
    const code = await runCli(['region', 'list'], untrusted.io);
    assert.notEqual(code, 0);
    assert.ok(
      code === 8 || /certificate|TLS|self[- ]signed/i.test(untrusted.err()),
      `exit ${code}: ${untrusted.err()}`,
    );

    const profile = cliIo({ VMCLOUD_CONFIG: configFile });
    assert.equal(await runCli(['--profile', 'operator', 'host', 'list'], profile.io), 0, profile.err());
  });
});

describe('serve --tls-cert/--tls-key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmcloud-tls-files-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('serves HTTPS with the given certificate', async () => {
    const certPath = join(dir, 'server.crt');
    const keyPath = join(dir, 'server.key');
    const made = spawnSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1'],
        ...['-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
        ...['-keyout', keyPath, '-out', certPath],
      ],
      { encoding: 'utf8' },
    );
    assert.equal(made.status, 0, made.stderr);
    const serve = await startServeProcess(
      ['--tls-cert', certPath, '--tls-key', keyPath, '--fleet', 'none', '--port', '0'],
      { VMCLOUD_DATA_DIR: join(dir, 'data'), VMCLOUD_CONFIG: join(dir, 'cli.json'), LOG_LEVEL: 'warn' },
    );
    try {
      assert.match(serve.url, /^https:\/\//);
      const response = await fetchTrusting(certPath)(`https://localhost:${portOf(serve.url)}/healthz`);
      assert.equal(response.status, 200);
      assert.ok(response.headers.get('strict-transport-security'));
      const plain = await fetch(`http://127.0.0.1:${portOf(serve.url)}/healthz`).then(
        (r) => r.status,
        () => 'refused',
      );
      assert.notEqual(plain, 200, 'no plain HTTP on the TLS port');
      const printed = /certificate SHA-256 fingerprint ([0-9A-Fa-f:]+)/.exec(serve.output())?.[1] ?? '';
      const openssl = spawnSync('openssl', ['x509', '-in', certPath, '-noout', '-fingerprint', '-sha256'], {
        encoding: 'utf8',
      });
      assert.equal(printed.toUpperCase(), /Fingerprint=([0-9A-Fa-f:]+)/i.exec(openssl.stdout)![1].toUpperCase());
    } finally {
      await stopProcess(serve.child);
    }
  });
});

describe('serve on a non-loopback address', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmcloud-insecure-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const env = () => ({ VMCLOUD_DATA_DIR: join(dir, 'data'), VMCLOUD_CONFIG: join(dir, 'cli.json'), LOG_LEVEL: 'warn' });

  test('without TLS exits 2 with a message', async () => {
    const { code, output } = await serveUntilExit(['--host', '0.0.0.0', '--port', '0', '--fleet', 'none'], env());
    assert.equal(code, 2, output);
    assert.match(output, /without TLS would send tokens in clear/);
    assert.match(output, /--insecure-http/);
  });

  test('with --insecure-http starts (and warns)', async () => {
    const serve = await startServeProcess(
      ['--host', '0.0.0.0', '--insecure-http', '--port', '0', '--fleet', 'none'],
      env(),
    );
    try {
      assert.match(serve.url, /^http:\/\/0\.0\.0\.0:\d+$/);
      const response = await fetch(`http://127.0.0.1:${portOf(serve.url)}/healthz`);
      assert.equal(response.status, 200);
      await until('the warning', () => /plain HTTP on a network address/.test(serve.output()));
    } finally {
      await stopProcess(serve.child);
    }
  });
});
