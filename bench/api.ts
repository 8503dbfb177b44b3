/**
 * `npm run bench:api`: throughput and latency of the REST API, end to end (HTTP, auth, validation,
 * placement, persistence), against a real `vmcloud serve` child process with a simulated fleet.
 *
 *   node bench/api.ts [--json] [--hosts 1000] [--duration-s 10] [--requests 2000] [--replicas N]
 *
 * Measures POST /v1/servers (unique names, par1/fra1/ams1, the catalog's VPS products) and
 * GET /v1/servers?limit=50 at concurrency 1, 8 and 64. Each phase stops after --requests requests or
 * --duration-s seconds, whichever comes first. With DATABASE_URL=postgres://… the control plane runs on a
 * fresh database `vmcloud_bench_<random>` that is dropped at the end; otherwise on SQLite in a temp dir.
 * `--replicas N` (PostgreSQL) runs N replicas behind one port (`vmcloud serve --replicas N`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { defaultFleet, defaultProducts } from '../src/catalog/vmcloud-defaults.ts';
import { startServeProcess, stopProcess, readCliConfig, type ServeProcess } from '../test/serve-process.ts';
import { runPhase, type Outcome, type PhaseResult } from './lib/api-load.ts';
import { createBenchDatabase, type BenchDatabase } from './lib/api-database.ts';

const usage = `usage: node bench/api.ts [--json] [--hosts N] [--duration-s S] [--requests N]
  --hosts N        simulated fleet size, rounded up to a whole multiple of the default fleet (default 1000)
  --duration-s S   at most S seconds per phase (default 10)
  --requests N     at most N requests per phase (default 2000)
  --json           one JSON object per line and phase
  --replicas N     N control-plane replicas behind one port (needs DATABASE_URL=postgres://…; default 1)
Set DATABASE_URL=postgres://… to run the control plane on a fresh PostgreSQL database.`;

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    hosts: { type: 'string', default: '1000' },
    'duration-s': { type: 'string', default: '10' },
    requests: { type: 'string', default: '2000' },
    replicas: { type: 'string', default: '1' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const positive = (text: string, flag: string) => {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`${flag} must be a positive number\n${usage}`);
    process.exit(2);
  }
  return n;
};
const wantedHosts = positive(values.hosts!, '--hosts');
const phaseDurationMs = positive(values['duration-s']!, '--duration-s') * 1000;
const maxRequests = Math.floor(positive(values.requests!, '--requests'));
const asJson = values.json!;
const replicas = Math.floor(positive(values.replicas!, '--replicas'));

const baseHosts = defaultFleet.reduce((sum, entry) => sum + entry.count, 0);
const fleetScale = Math.max(1, Math.ceil(wantedHosts / baseHosts));
const adminDatabaseUrl = process.env.DATABASE_URL?.startsWith('postgres') ? process.env.DATABASE_URL : undefined;
const db = adminDatabaseUrl ? 'postgres' : 'sqlite';
if (replicas > 1 && !adminDatabaseUrl) {
  console.error(`--replicas needs DATABASE_URL=postgres://…\n${usage}`);
  process.exit(2);
}
const regions = ['par1', 'fra1', 'ams1'];
const vpsProducts = defaultProducts.filter((p) => p.family === 'vps').map((p) => p.code);
const images = ['debian-12', 'ubuntu-24.04', 'rocky-9', 'almalinux-9'];

const log = (line: string) => {
  if (!asJson) console.log(line);
};

const workDir = mkdtempSync(join(tmpdir(), 'vmcloud-bench-api-'));
let database: BenchDatabase | undefined;
let serve: ServeProcess | undefined;
let cleaned = false;

async function cleanUp() {
  if (cleaned) return;
  cleaned = true;
  if (serve) {
    const child = serve.child;
    const killTimer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await stopProcess(child);
    clearTimeout(killTimer);
  }
  await database?.drop().catch((error: Error) => console.error(`could not drop ${database?.name}: ${error.message}`));
  rmSync(workDir, { recursive: true, force: true });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void cleanUp().finally(() => process.exit(130));
  });
}

interface Api {
  url: string;
  request(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

function apiAt(url: string): Api {
  return {
    url,
    async request(method, path, token, body) {
      const response = await fetch(url + path, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // keep the text
      }
      return { status: response.status, body: parsed };
    },
  };
}

const outcomeOf = (
  expected: number,
  response: { status: number; body: { reason?: string; code?: string } | null },
): Outcome =>
  response.status === expected
    ? { ok: true }
    : { ok: false, kind: `${response.status} ${response.body?.reason ?? response.body?.code ?? ''}`.trim() };

async function main() {
  if (adminDatabaseUrl) database = await createBenchDatabase(adminDatabaseUrl);
  const configPath = join(workDir, 'config.json');
  const env: NodeJS.ProcessEnv = {
    VMCLOUD_DATA_DIR: join(workDir, 'data'),
    VMCLOUD_CONFIG: configPath,
    PORT: '0',
    // undefined removes an inherited DATABASE_URL: SQLite in the temp dir
    DATABASE_URL: database?.url,
  };
  log(
    `starting vmcloud serve: ${db}, ${replicas} replica(s), --fleet-scale ${fleetScale} (${baseHosts * fleetScale} simulated hosts)…`,
  );
  const startedAt = performance.now();
  serve = await startServeProcess(
    [
      ...(replicas > 1 ? ['--replicas', String(replicas)] : []),
      ...['--port', '0', '--rate-limit', '0', '--log-level', 'warn', '--fleet-scale', String(fleetScale)],
    ],
    env,
    300_000,
  );
  const startupS = (performance.now() - startedAt) / 1000;
  const profiles = readCliConfig(configPath).profiles;
  const owner = profiles.default.token!;
  const operator = profiles.operator.token!;
  const api = apiAt(serve.url);

  const hostsResponse = await api.request('GET', '/v1/hosts', operator);
  if (hostsResponse.status !== 200)
    throw new Error(`GET /v1/hosts: ${hostsResponse.status} ${JSON.stringify(hostsResponse.body)}`);
  const hosts = (hostsResponse.body.hosts as unknown[]).length;
  const project = await api.request('GET', '/v1/project', owner);
  const raised = await api.request('PATCH', `/v1/projects/${project.body.project.id}/quotas`, operator, {
    servers: 1_000_000,
    vcpus: 1_000_000,
    gpus: 1_000_000,
  });
  if (raised.status !== 200)
    throw new Error(`raising the quotas failed: ${raised.status} ${JSON.stringify(raised.body)}`);
  log(`listening on ${serve.url} after ${startupS.toFixed(1)} s; ${hosts} hosts; quotas raised\n`);

  const run = randomBytes(3).toString('hex');
  const createBody = (index: number) => ({
    name: `bench-${run}-${index}`,
    product: vpsProducts[index % vpsProducts.length],
    region: regions[Math.floor(index / vpsProducts.length) % regions.length],
    image: images[index % images.length],
    labels: { bench: run },
  });
  let serial = 0;
  const create = async (): Promise<Outcome> =>
    outcomeOf(202, await api.request('POST', '/v1/servers', owner, createBody(serial++)));
  const list = async (): Promise<Outcome> => outcomeOf(200, await api.request('GET', '/v1/servers?limit=50', owner));

  // Warm-up: JIT, connection pool, prepared statements; not measured.
  for (let i = 0; i < 20; i++) await create();
  for (let i = 0; i < 20; i++) await list();

  const results: PhaseResult[] = [];
  const phases: Array<{ op: string; concurrency: number; send: () => Promise<Outcome> }> = [
    { op: 'create', concurrency: 1, send: create },
    // 8: the point of comparison with peers (OpenStack Placement's figures are at concurrency 8).
    { op: 'create', concurrency: 8, send: create },
    { op: 'create', concurrency: 64, send: create },
    { op: 'list', concurrency: 1, send: list },
    { op: 'list', concurrency: 8, send: list },
    { op: 'list', concurrency: 64, send: list },
  ];
  if (!asJson)
    console.log(
      `${'op'.padEnd(8)}${'conc'.padStart(5)}${'requests'.padStart(10)}${'per s'.padStart(10)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}${'errors'.padStart(8)}`,
    );
  for (const phase of phases) {
    const result = await runPhase({ ...phase, maxRequests, durationMs: phaseDurationMs });
    results.push(result);
    if (asJson) {
      console.log(
        JSON.stringify({
          op: result.op,
          concurrency: result.concurrency,
          perSec: result.perSec,
          p50Ms: result.p50Ms,
          p99Ms: result.p99Ms,
          errors: result.errors,
          requests: result.requests,
          elapsedS: result.elapsedS,
          hosts,
          db,
          replicas,
          errorKinds: result.errorKinds,
        }),
      );
    } else {
      const kinds = Object.entries(result.errorKinds)
        .map(([k, n]) => `${k}×${n}`)
        .join(', ');
      console.log(
        `${result.op.padEnd(8)}${String(result.concurrency).padStart(5)}${String(result.requests).padStart(10)}${result.perSec.toFixed(1).padStart(10)}${result.p50Ms.toFixed(2).padStart(10)}${result.p99Ms.toFixed(2).padStart(10)}${String(result.errors).padStart(8)}${kinds ? `  (${kinds})` : ''}`,
      );
    }
  }
  const totalServers = (await api.request('GET', '/v1/project', owner)).body.project.usage.servers;
  log(
    `\n${db}, ${replicas} replica(s), ${hosts} hosts, ${totalServers} servers at the end; each phase: at most ${maxRequests} requests or ${phaseDurationMs / 1000} s`,
  );
}

let exitCode = 0;
try {
  await main();
} catch (error) {
  console.error(`bench:api failed: ${(error as Error).stack ?? error}`);
  if (serve) console.error(serve.output().slice(-4000));
  exitCode = 1;
} finally {
  await cleanUp();
}
process.exit(exitCode);
