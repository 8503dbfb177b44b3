/**
 * `npm run bench:agents`: what the agents of a large simulated fleet cost one control-plane replica when
 * nothing else happens — heartbeats (every 10 s), desired-state resyncs (every 15 s), reports and
 * telemetry (every 60 s) of every host.
 *
 *   node bench/agents.ts [--json] [--hosts 20000] [--servers 0] [--warmup-s 30] [--duration-s 60]
 *
 * The control plane runs in this process (SQLite in a temp dir, or a fresh PostgreSQL database next to
 * DATABASE_URL), with the seed-shaped fleet scaled to `--hosts`; its simulated agents run in the same
 * process and call it through the in-process link, so `cpuPctPerReplica` (CPU time of the process over wall
 * time, 100 = one core) is an upper bound: it includes the agents' own side of each call, which on a real
 * fleet runs on the hosts. `--servers N` first creates N servers through the REST API (desired states
 * then carry instances). Prints `hosts`, `servers`, `callsPerSec` (all link calls), `reportsPerSec`
 * (heartbeats and reports), `byOp`, `cpuPctPerReplica`, `eventLoopDelayP99Ms`, `heapMiB`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createControlPlane } from '../src/app.ts';
import { defaultFleet } from '../src/catalog/vmcloud-defaults.ts';
import { createBenchDatabase, type BenchDatabase } from './lib/api-database.ts';

const usage = `usage: node bench/agents.ts [--json] [--hosts N] [--servers N] [--warmup-s S] [--duration-s S]
  --hosts N        simulated hosts, rounded up to a whole multiple of the default fleet (default 20000)
  --servers N      servers created through the API before measuring (default 0)
  --warmup-s S     seconds after the agents start before measuring (default 30)
  --duration-s S   seconds measured (default 60)
  --json           one JSON line
Set DATABASE_URL=postgres://… to run on a fresh PostgreSQL database (dropped at the end).`;

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    hosts: { type: 'string', default: '20000' },
    servers: { type: 'string', default: '0' },
    'warmup-s': { type: 'string', default: '30' },
    'duration-s': { type: 'string', default: '60' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const count = (text: string, flag: string, min: number) => {
  const n = Number(text);
  if (!Number.isFinite(n) || n < min) {
    console.error(`${flag} must be a number ≥ ${min}\n${usage}`);
    process.exit(2);
  }
  return n;
};
const wantedHosts = count(values.hosts!, '--hosts', 1);
const serverCount = Math.floor(count(values.servers!, '--servers', 0));
const warmupMs = count(values['warmup-s']!, '--warmup-s', 0) * 1000;
const durationMs = count(values['duration-s']!, '--duration-s', 1) * 1000;
const baseHosts = defaultFleet.reduce((sum, entry) => sum + entry.count, 0);
const fleetScale = Math.max(1, Math.ceil(wantedHosts / baseHosts));
const log = (line: string) => {
  if (!values.json) console.error(line);
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const dataDir = mkdtempSync(join(tmpdir(), 'vmcloud-bench-agents-'));
let database: BenchDatabase | undefined;
if (process.env.DATABASE_URL?.startsWith('postgres')) database = await createBenchDatabase(process.env.DATABASE_URL);
const cp = await createControlPlane({
  databaseUrl: database?.url ?? join(dataDir, 'vmcloud.sqlite'),
  dataDir,
  fleet: 'vmcloud',
  fleetScale,
  rateLimitPerMinute: 0,
  failedAuthPerMinute: 0,
  logLevel: 'error',
  // The status probes would add canary servers: not what is measured.
  statusProbeIntervalMs: 24 * 3_600_000,
});
try {
  const setupStarted = performance.now();
  const secrets = (await cp.bootstrap())!;
  const hosts = (await cp.services.inventory.simulatedHostIds()).length;
  log(`${hosts} simulated hosts seeded in ${Math.round(performance.now() - setupStarted)} ms`);

  if (serverCount > 0) {
    await cp.api.listen({ port: 0, host: '127.0.0.1' });
    const address = cp.api.server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const call = async (method: string, path: string, token: string, body: unknown) => {
      const response = await fetch(url + path, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    };
    await call('PATCH', `/v1/projects/${secrets.projectId}/quotas`, secrets.operatorToken, {
      servers: 1_000_000,
      vcpus: 1_000_000,
      gpus: 1_000_000,
    });
    let next = 0;
    const products = ['vps-nano', 'vps-starter', 'vps-pro'];
    const regions = ['par1', 'fra1', 'ams1'];
    const worker = async () => {
      for (let i = next++; i < serverCount; i = next++)
        await call('POST', '/v1/servers', secrets.projectToken, {
          name: `agents-bench-${i}`,
          product: products[i % products.length],
          region: regions[i % regions.length],
          image: 'debian-12',
        });
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    log(`${serverCount} servers created`);
  }

  await cp.startBackground();
  log(`agents started; warming up for ${warmupMs / 1000} s`);
  await sleep(warmupMs);

  const callsByOp = async () => {
    const metric = await cp.metrics.registry.getSingleMetric('vmcloud_sim_agent_calls_total')!.get();
    return new Map(metric.values.map((v) => [String(v.labels.op), v.value]));
  };
  const before = await callsByOp();
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await sleep(durationMs);
  const cpu = process.cpuUsage(cpuBefore);
  const wallMs = performance.now() - started;
  delay.disable();
  const after = await callsByOp();

  const seconds = wallMs / 1000;
  const byOp = Object.fromEntries(
    [...after].map(([op, value]) => [op, Math.round(((value - (before.get(op) ?? 0)) / seconds) * 10) / 10]),
  );
  const callsPerSec = Object.values(byOp).reduce((sum, perSec) => sum + perSec, 0);
  const reportOps = ['heartbeat', 'report', 'reportVolumes', 'reportNetwork', 'telemetry'];
  const reportsPerSec = reportOps.reduce((sum, op) => sum + (byOp[op] ?? 0), 0);
  const result = {
    db: database ? 'postgres' : 'sqlite',
    hosts,
    servers: serverCount,
    durationS: Math.round(seconds),
    callsPerSec: Math.round(callsPerSec),
    reportsPerSec: Math.round(reportsPerSec),
    byOp,
    cpuPctPerReplica: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 1000) / 10,
    eventLoopDelayP99Ms: Math.round(delay.percentile(99) / 1e4) / 100,
    heapMiB: Math.round(process.memoryUsage().heapUsed / 1048576),
  };
  console.log(values.json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
} finally {
  await cp.close();
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
}
