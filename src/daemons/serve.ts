import { parseArgs } from 'node:util';
import { resolve, join } from 'node:path';
import { createControlPlane, type ControlPlaneConfig } from '../app.ts';
import { saveProfile } from '../cli/main.ts';
import type { LogLevel } from '../core/index.ts';
import { startLocalQemuHost, type LocalHostOptions } from './local-host.ts';

export const serveUsage = `Usage: vmcloud serve [options]

Runs the control plane: REST API (/v1), OpenAPI (/v1/openapi.json), API docs (/docs), the scheduler and
the simulated fleet. Embedded defaults: SQLite under the data dir, the VMCloud fleet of simulated hosts.

Options:
  --port N              port to listen on (env PORT, default 8080)
  --host ADDR           address to listen on (env HOST, default 127.0.0.1)
  --data-dir DIR        where data lives (env VMCLOUD_DATA_DIR, default ./data)
  --database-url URL    postgres://… to run on PostgreSQL (env DATABASE_URL; default SQLite in the data dir)
  --fleet vmcloud|none  the simulated VMCloud fleet, or none (only registered hosts)
  --fleet-scale N       multiply the simulated fleet (benchmarks), default 1
  --sim-speed X         simulated boot/stop delays divided by X (default 1: realistic)
  --local-host qemu     this machine is also a QEMU host (with --region; e.g. --fleet none --local-host qemu --region fra1)
  --region CODE         the region of the local host
  --image-dir DIR       the local host's image store (env VMCLOUD_IMAGE_DIR, default DATA_DIR/images)
  --network on|off      the local host gives each server a tap on bridge vmcbr0 (default: on as root)
  --reserved-cores N    cores per NUMA node the local host keeps for itself (default 1)
  --rate-limit N        requests per minute per token (env VMCLOUD_RATE_LIMIT, default 3600; 0 disables)
  --log-level L         debug|info|warn|error|silent (env LOG_LEVEL, default info)
`;

export interface ServeIo {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export function serveConfigFromArgs(argv: string[], env: NodeJS.ProcessEnv): ControlPlaneConfig & { port: number; host: string; localHost: LocalHostOptions | null } {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      'database-url': { type: 'string' },
      fleet: { type: 'string' },
      'fleet-scale': { type: 'string' },
      'sim-speed': { type: 'string' },
      'rate-limit': { type: 'string' },
      'log-level': { type: 'string' },
      'local-host': { type: 'string' },
      region: { type: 'string' },
      'image-dir': { type: 'string' },
      network: { type: 'string' },
      'reserved-cores': { type: 'string' },
    },
    strict: true,
  });
  const number = (text: string | undefined, fallback: number, name: string) => {
    if (text === undefined || text === '') return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got ${text}`);
    return value;
  };
  const dataDir = resolve(values['data-dir'] ?? env.VMCLOUD_DATA_DIR ?? './data');
  const fleet = values.fleet ?? 'vmcloud';
  if (fleet !== 'vmcloud' && fleet !== 'none') throw new Error(`--fleet must be vmcloud or none, got ${fleet}`);
  const speed = number(values['sim-speed'], 1, '--sim-speed') || 1;
  const logLevel = (values['log-level'] ?? env.LOG_LEVEL ?? 'info') as LogLevel;
  const localHost = values['local-host'];
  if (localHost !== undefined && localHost !== 'qemu') throw new Error(`--local-host must be qemu, got ${localHost}`);
  if (localHost && !values.region) throw new Error('--local-host needs --region, e.g. --region fra1');
  const network = values.network ?? (process.getuid?.() === 0 ? 'on' : 'off');
  if (network !== 'on' && network !== 'off') throw new Error('--network must be on or off');
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(logLevel)) throw new Error(`--log-level must be debug, info, warn, error or silent`);
  return {
    port: number(values.port ?? env.PORT, 8080, '--port'),
    host: values.host ?? env.HOST ?? '127.0.0.1',
    dataDir,
    databaseUrl: values['database-url'] ?? env.DATABASE_URL ?? join(dataDir, 'vmcloud.sqlite'),
    fleet,
    fleetScale: number(values['fleet-scale'], 1, '--fleet-scale'),
    simDelays: speed === 1 ? undefined : { startMs: 1500 / speed, stopMs: 800 / speed, forcedStopMs: 100 / speed, rebootMs: 1200 / speed, destroyMs: 300 / speed },
    rateLimitPerMinute: number(values['rate-limit'] ?? env.VMCLOUD_RATE_LIMIT, 3600, '--rate-limit'),
    logLevel,
    localHost: localHost
      ? {
          region: values.region!.toLowerCase(),
          dataDir,
          imageDir: resolve(values['image-dir'] ?? env.VMCLOUD_IMAGE_DIR ?? join(dataDir, 'images')),
          network: network === 'on',
          reservedCoresPerNode: number(values['reserved-cores'], 1, '--reserved-cores'),
        }
      : null,
  };
}

/** `vmcloud serve`: runs until SIGINT/SIGTERM. */
export async function runServe(argv: string[], io: ServeIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout(serveUsage);
    return 0;
  }
  let config;
  try {
    config = serveConfigFromArgs(argv, io.env);
  } catch (error) {
    io.stderr(`error: ${(error as Error).message}\n\n${serveUsage}`);
    return 2;
  }
  const cp = await createControlPlane(config);
  const secrets = await cp.bootstrap();
  await cp.startBackground();
  const localHost = config.localHost ? await startLocalQemuHost(cp, config.localHost) : null;
  await cp.api.listen({ port: config.port, host: config.host });
  const bound = cp.api.server.address();
  const port = typeof bound === 'object' && bound ? bound.port : config.port;
  const url = `http://${config.host === '127.0.0.1' || config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host}:${port}`;
  if (secrets) {
    const configFile = await saveProfile({ name: 'default', url, token: secrets.projectToken, makeCurrent: true }, io.env);
    await saveProfile({ name: 'operator', url, token: secrets.operatorToken }, io.env);
    io.stderr(
      [
        'First start: created the operator and the project "default". These tokens are shown once:',
        `  project owner token: ${secrets.projectToken}`,
        `  operator token:      ${secrets.operatorToken}`,
        `Saved to ${configFile} (profiles "default" and "operator"): the CLI works now, e.g. npx vmcloud server list`,
        '',
      ].join('\n'),
    );
  }
  io.stderr(`VMCloud control plane listening on http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port} (${cp.dialect}, data in ${config.dataDir}); API docs at ${url}/docs\n`);
  await new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  io.stderr('shutting down\n');
  await localHost?.stop();
  await cp.close();
  return 0;
}
