/**
 * Test support for several replicas: a throw-away PostgreSQL database and `vmcloud serve --replicas N` as
 * a real process (its balancer's URL and each replica's own URL and pid parsed from its output).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';

const root = new URL('..', import.meta.url).pathname;

export interface TestDatabase {
  url: string;
  query<T extends pg.QueryResultRow = Record<string, unknown>>(text: string, values?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

export async function createTestDatabase(adminUrl: string): Promise<TestDatabase> {
  const name = `vmcloud_replicas_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
  pool.on('error', () => undefined);
  return {
    url: url.toString(),
    async query(text, values) {
      return (await pool.query(text, values)).rows;
    },
    async drop() {
      await pool.end();
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

export interface ReplicaInfo {
  index: number;
  pid: number;
  url: string;
}

export interface ReplicasProcess {
  child: ChildProcess;
  /** The balancer's address. */
  url: string;
  /** The latest start of each replica (index from 1). */
  replicas(): Map<number, ReplicaInfo>;
  output(): string;
  stop(): Promise<void>;
}

export function startReplicasProcess(
  replicas: number,
  args: string[],
  env: NodeJS.ProcessEnv,
  deadlineMs = 180_000,
): Promise<ReplicasProcess> {
  const child = spawn(
    process.execPath,
    [
      join(root, 'bin/vmcloud.ts'),
      'serve',
      '--replicas',
      String(replicas),
      '--port',
      '0',
      '--agent-listen',
      '127.0.0.1:0',
      ...args,
    ],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const known = new Map<number, ReplicaInfo>();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve --replicas did not start within ${deadlineMs} ms:\n${output}`));
    }, deadlineMs);
    let started = false;
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      for (const match of output.matchAll(/^replica (\d+) \(pid (\d+)\) ready at (\S+)$/gm))
        known.set(Number(match[1]), { index: Number(match[1]), pid: Number(match[2]), url: match[3] });
      const ready = /^VMCloud control plane listening on (\S+)/m.exec(output);
      if (ready && !started) {
        started = true;
        clearTimeout(timer);
        resolve({
          child,
          url: ready[1],
          replicas: () => known,
          output: () => output,
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null || child.signalCode !== null) return done();
              const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
              child.once('exit', () => {
                clearTimeout(kill);
                done();
              });
              child.kill('SIGTERM');
            }),
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!started) reject(new Error(`serve --replicas exited with ${code}:\n${output}`));
    });
  });
}

/** One HTTP call with a bearer token; the body parsed when JSON. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export async function call(
  baseUrl: string,
  method: string,
  path: string,
  token: string | null,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Json; headers: Headers }> {
  const response = await fetch(baseUrl + path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, body, headers: response.headers };
}
