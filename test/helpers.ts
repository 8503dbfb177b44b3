import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createControlPlane, type ControlPlane, type BootstrapSecrets, type ControlPlaneConfig } from '../src/app.ts';
import type { DialectName } from '../src/db/index.ts';
import { runCli, type CliIo } from '../src/cli/main.ts';

export interface TestControlPlane {
  cp: ControlPlane;
  url: string;
  secrets: BootstrapSecrets;
  dataDir: string;
  /** Real HTTP against the listening control plane. */
  call(
    method: string,
    path: string,
    options?: { token?: string | null; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; headers: Headers; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Polls an action until it finishes or the deadline passes. */
  waitForAction(actionId: string, token?: string, deadlineMs?: number): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  dispose(): Promise<void>;
}

export const fastSimDelays = { startMs: 20, stopMs: 10, forcedStopMs: 5, rebootMs: 15, destroyMs: 5, volumeMs: 10 };

/** A control plane on a random port with the seed fleet, fast simulated hosts, on the given dialect. */
export async function startTestControlPlane(
  dialect: DialectName,
  overrides: Partial<ControlPlaneConfig> = {},
  /** Runs before the API listens: the last moment Fastify hooks can be added (a test that cuts connections). */
  beforeListen?: (cp: ControlPlane) => void,
): Promise<TestControlPlane> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vmcloud-test-'));
  const pgSchema = dialect === 'postgres' ? `t_${randomBytes(6).toString('hex')}` : undefined;
  const databaseUrl = dialect === 'postgres' ? process.env.TEST_DATABASE_URL! : join(dataDir, 'vmcloud.sqlite');
  const cp = await createControlPlane({
    databaseUrl,
    pgSchema,
    dataDir,
    fleet: 'vmcloud',
    fleetScale: 1,
    simDelays: fastSimDelays,
    rateLimitPerMinute: 0,
    failedAuthPerMinute: 0,
    hostAddressPolicy: 'allow-loopback',
    logLevel: 'silent',
    loopIntervalMs: 200,
    // The status probes (and their canary servers) run only where a test asks (statusProbesOnce, or an override).
    statusProbeIntervalMs: 24 * 3_600_000,
    ...overrides,
  });
  const secrets = (await cp.bootstrap())!;
  await cp.startBackground();
  beforeListen?.(cp);
  await cp.api.listen({ port: 0, host: '127.0.0.1' });
  const address = cp.api.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  const call: TestControlPlane['call'] = async (method, path, options = {}) => {
    const token = options.token === undefined ? secrets.projectToken : options.token;
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    }
    const response = await fetch(url + path, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: response.status, headers: response.headers, body: parsed };
  };

  return {
    cp,
    url,
    secrets,
    dataDir,
    call,
    async waitForAction(actionId, token = secrets.projectToken, deadlineMs = 20_000) {
      const deadline = Date.now() + deadlineMs;
      for (;;) {
        const { body } = await call('GET', `/v1/actions/${actionId}`, { token });
        if (body.action.status !== 'running') return body.action;
        if (Date.now() > deadline)
          throw new Error(`action ${actionId} still running after ${deadlineMs} ms: ${JSON.stringify(body.action)}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async dispose() {
      await cp.close();
      rmSync(dataDir, { recursive: true, force: true });
      if (pgSchema) {
        const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
        await admin.connect();
        await admin.query(`drop schema if exists "${pgSchema}" cascade`);
        await admin.end();
      }
    },
  };
}

/** Polls `probe` until it returns something truthy, or throws once `deadlineMs` has passed. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  deadlineMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The dialects a suite runs on (re-exported for suites beside the code that run the whole system). */
export { testDialects } from '../src/db/test-helpers.ts';

/**
 * Runs `vmcloud ARGV` in this process against the test control plane (no config file, the project token
 * unless another is given, actions polled every 20 ms); what it printed and its exit code.
 */
export async function runCliAgainst(
  t: TestControlPlane,
  argv: string[],
  options: { token?: string; cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io: CliIo = {
    stdout: { write: (chunk: string) => stdout.push(chunk) },
    stderr: { write: (chunk: string) => stderr.push(chunk) },
    env: {
      VMCLOUD_CONFIG: join(t.dataDir, 'no-cli-config.json'),
      VMCLOUD_URL: t.url,
      VMCLOUD_TOKEN: options.token ?? t.secrets.projectToken,
      VMCLOUD_POLL_INTERVAL_MS: '20',
    },
    isTTY: false,
    ...(options.cwd ? { cwd: options.cwd } : {}),
  };
  const code = await runCli(argv, io);
  return { code, stdout: stdout.join(''), stderr: stderr.join('') };
}
