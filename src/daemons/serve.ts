import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { fingerprintSha256, loadOrCreateAutoTlsFiles } from '../pki/index.ts';
import { readFileSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { createControlPlane, type ControlPlaneConfig } from '../app.ts';
import { saveProfile } from '../cli/index.ts';
import { startMetricsListener, type LogLevel } from '../core/index.ts';
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
  --tls-cert FILE       serve HTTPS (TLS 1.3 only) with this certificate (env VMCLOUD_TLS_CERT), with --tls-key
  --tls-key FILE        the certificate's private key (env VMCLOUD_TLS_KEY)
  --tls auto            HTTPS with a self-signed certificate made in DATA_DIR/tls on first start (its SHA-256
                        fingerprint is printed; clients pass it with --ca-cert DATA_DIR/tls/server.crt)
  --insecure-http       allow plain HTTP on an address other than loopback (logs a warning)
  --allow-loopback-hosts  let agents register loopback host API addresses (one-machine installs, tests)
  --webhook-allow-private  let webhooks reach http:// and private/loopback addresses (env VMCLOUD_WEBHOOK_ALLOW_PRIVATE=1)
  --agent-listen H:P    the agent listener: agents join and talk over mutual TLS here
                        (env VMCLOUD_AGENT_LISTEN, default 127.0.0.1:8443)
  --key-store file|pkcs11  where the key-encryption keys live: a key file in DATA_DIR/keys (default) or a
                        PKCS#11 token (HSM)
  --pkcs11-token LABEL  with --key-store pkcs11: the token's label
  --pkcs11-module PATH  the PKCS#11 module (default /usr/lib/softhsm/libsofthsm2.so)
  --pkcs11-pin-file F   the token's user PIN from a file (else env VMCLOUD_PKCS11_PIN; never a flag)
  --log-level L         debug|info|warn|error|silent (env LOG_LEVEL, default info)
  --metrics-listen H:P  also serve GET /metrics without a token on this address (env VMCLOUD_METRICS_LISTEN;
                        a management network or loopback: see docs/observability.md). Without it, scrape
                        GET /metrics on the API with an operator token
  --replicas N          run N replicas on one PostgreSQL behind --port (and --agent-listen): a TCP balancer
                        in this process, each replica a child process, restarted when it dies (bench, tests;
                        production: HAProxy, see docs/operations.md)

Environment only: VMCLOUD_PASSKEY_RP_ID (the passkeys' relying party ID, e.g. console.example.eu; default the
host the console is reached at) and VMCLOUD_PASSKEY_ORIGINS (comma-separated origins allowed to sign, e.g.
https://console.example.eu; default the request's origin). See docs/adr/0013-passkeys.md.
`;

export interface ServeIo {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export type TlsMode = { kind: 'none' } | { kind: 'auto' } | { kind: 'files'; certPath: string; keyPath: string };

/** Loopback addresses (and names): plain HTTP there reaches only this machine. */
export function isLoopbackAddress(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

export function serveConfigFromArgs(
  argv: string[],
  env: NodeJS.ProcessEnv,
): ControlPlaneConfig & {
  port: number;
  host: string;
  tlsMode: TlsMode;
  insecureHttp: boolean;
  localHost: LocalHostOptions | null;
  agentListen: { host: string; port: number };
  metricsListen: { host: string; port: number } | null;
} {
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
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      tls: { type: 'string' },
      'insecure-http': { type: 'boolean' },
      'allow-loopback-hosts': { type: 'boolean' },
      'webhook-allow-private': { type: 'boolean' },
      'agent-listen': { type: 'string' },
      'key-store': { type: 'string' },
      'pkcs11-token': { type: 'string' },
      'pkcs11-module': { type: 'string' },
      'pkcs11-pin-file': { type: 'string' },
      'metrics-listen': { type: 'string' },
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
  const tlsCert = values['tls-cert'] ?? env.VMCLOUD_TLS_CERT;
  const tlsKey = values['tls-key'] ?? env.VMCLOUD_TLS_KEY;
  if (values.tls !== undefined && values.tls !== 'auto') throw new Error(`--tls must be auto, got ${values.tls}`);
  if (Boolean(tlsCert) !== Boolean(tlsKey)) throw new Error('--tls-cert and --tls-key go together');
  if (values.tls === 'auto' && tlsCert) throw new Error('--tls auto and --tls-cert exclude each other');
  const host = values.host ?? env.HOST ?? '127.0.0.1';
  const tlsMode: TlsMode =
    values.tls === 'auto'
      ? { kind: 'auto' }
      : tlsCert
        ? { kind: 'files', certPath: resolve(tlsCert), keyPath: resolve(tlsKey!) }
        : { kind: 'none' };
  if (tlsMode.kind === 'none' && !isLoopbackAddress(host) && !values['insecure-http']) {
    throw new Error(
      `listening on ${host} without TLS would send tokens in clear: pass --tls-cert/--tls-key or --tls auto, or --insecure-http if a TLS proxy is in front`,
    );
  }
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(logLevel))
    throw new Error(`--log-level must be debug, info, warn, error or silent`);
  const agentListen = hostAndPort(
    values['agent-listen'] ?? env.VMCLOUD_AGENT_LISTEN ?? '127.0.0.1:8443',
    '--agent-listen',
  );
  const keyStoreKind = values['key-store'] ?? 'file';
  if (keyStoreKind !== 'file' && keyStoreKind !== 'pkcs11')
    throw new Error(`--key-store must be file or pkcs11, got ${keyStoreKind}`);
  let keyStore: ControlPlaneConfig['keyStore'];
  if (keyStoreKind === 'pkcs11') {
    const tokenLabel = values['pkcs11-token'];
    if (!tokenLabel) throw new Error('--key-store pkcs11 needs --pkcs11-token LABEL');
    const pinFile = values['pkcs11-pin-file'];
    const pin = pinFile ? readFileSync(pinFile, 'utf8').trim() : env.VMCLOUD_PKCS11_PIN;
    if (!pin) throw new Error('--key-store pkcs11 needs the PIN in VMCLOUD_PKCS11_PIN or --pkcs11-pin-file FILE');
    keyStore = { kind: 'pkcs11', tokenLabel, pin, modulePath: values['pkcs11-module'] };
  } else {
    keyStore = { kind: 'file', directory: join(dataDir, 'keys') };
  }
  const metricsListenText = values['metrics-listen'] ?? env.VMCLOUD_METRICS_LISTEN;
  return {
    agentListen,
    metricsListen: metricsListenText ? hostAndPort(metricsListenText, '--metrics-listen') : null,
    keyStore,
    port: number(values.port ?? env.PORT, 8080, '--port'),
    host,
    tlsMode,
    insecureHttp: values['insecure-http'] === true,
    hostAddressPolicy:
      values['allow-loopback-hosts'] || env.VMCLOUD_ALLOW_LOOPBACK_HOSTS === '1' ? 'allow-loopback' : 'routable-only',
    webhookAllowPrivate: values['webhook-allow-private'] === true || env.VMCLOUD_WEBHOOK_ALLOW_PRIVATE === '1',
    passkeys: {
      rpId: env.VMCLOUD_PASSKEY_RP_ID || undefined,
      origins: env.VMCLOUD_PASSKEY_ORIGINS?.split(',')
        .map((o) => o.trim())
        .filter((o) => o !== ''),
    },
    dataDir,
    databaseUrl: values['database-url'] ?? env.DATABASE_URL ?? join(dataDir, 'vmcloud.sqlite'),
    fleet,
    fleetScale: number(values['fleet-scale'], 1, '--fleet-scale'),
    simDelays:
      speed === 1
        ? undefined
        : {
            startMs: 1500 / speed,
            stopMs: 800 / speed,
            forcedStopMs: 100 / speed,
            rebootMs: 1200 / speed,
            destroyMs: 300 / speed,
          },
    rateLimitPerMinute: number(values['rate-limit'] ?? env.VMCLOUD_RATE_LIMIT, 3600, '--rate-limit'),
    logLevel,
    loopIntervalMs: env.VMCLOUD_LOOP_INTERVAL_MS
      ? number(env.VMCLOUD_LOOP_INTERVAL_MS, 5000, 'VMCLOUD_LOOP_INTERVAL_MS')
      : undefined,
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

/** The API's certificate and key: from files, or self-signed in the data dir (`--tls auto`). */
async function loadTls(
  mode: TlsMode,
  config: { dataDir: string; host: string },
  io: ServeIo,
): Promise<{ certPem: string; keyPem: string; fingerprint: string; caFile: string | null } | null> {
  if (mode.kind === 'none') return null;
  if (mode.kind === 'files') {
    const [certPem, keyPem] = await Promise.all([readFile(mode.certPath, 'utf8'), readFile(mode.keyPath, 'utf8')]);
    return { certPem, keyPem, fingerprint: fingerprintSha256(certPem), caFile: null };
  }
  const ipAddresses = [
    '127.0.0.1',
    '::1',
    ...(isIP(config.host) && config.host !== '0.0.0.0' && config.host !== '::' ? [config.host] : []),
  ];
  const dnsNames = ['localhost', hostname(), ...(isIP(config.host) ? [] : [config.host])];
  const files = await loadOrCreateAutoTlsFiles({ directory: config.dataDir, dnsNames, ipAddresses, nowMs: Date.now() });
  if (files.created)
    io.stderr(
      `Made a self-signed TLS certificate ${files.certPath} (SHA-256 ${files.fingerprintSha256}); clients trust it with --ca-cert ${files.certPath}\n`,
    );
  return { certPem: files.certPem, keyPem: files.keyPem, fingerprint: files.fingerprintSha256, caFile: files.certPath };
}

/** `HOST:PORT` or `[v6]:PORT`. */
function hostAndPort(text: string, flag: string): { host: string; port: number } {
  const match = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(text);
  if (!match || Number(match[2]) > 65535) throw new Error(`${flag} must be HOST:PORT, got ${text}`);
  return { host: match[1], port: Number(match[2]) };
}

/** `vmcloud serve`: runs until SIGINT/SIGTERM. */
export async function runServe(argv: string[], io: ServeIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout(serveUsage);
    return 0;
  }
  if (argv.some((arg) => arg === '--replicas' || arg.startsWith('--replicas=')))
    return (await import('./replicas.ts')).runReplicas(argv, io);
  // Files the control plane makes (database, WAL, keys, certificates) are this user's only.
  process.umask(0o077);
  let config;
  try {
    config = serveConfigFromArgs(argv, io.env);
  } catch (error) {
    io.stderr(`error: ${(error as Error).message}\n\n${serveUsage}`);
    return 2;
  }
  let tls: { certPem: string; keyPem: string; fingerprint: string; caFile: string | null } | null;
  try {
    tls = await loadTls(config.tlsMode, config, io);
  } catch (error) {
    io.stderr(`error: ${(error as Error).message}\n`);
    return 2;
  }
  const cp = await createControlPlane({ ...config, tls: tls ?? undefined });
  if (config.insecureHttp && !tls)
    cp.log.warn({ host: config.host }, 'plain HTTP on a network address: tokens cross the network in clear');
  const secrets = await cp.bootstrap();
  await cp.startBackground();
  const localHost = config.localHost ? await startLocalQemuHost(cp, config.localHost) : null;
  await cp.api.listen({ port: config.port, host: config.host });
  const agentUrl = await cp.agentListener.listen(config.agentListen);
  const metricsListener = config.metricsListen
    ? await startMetricsListener({ ...config.metricsListen, render: cp.metrics.render, log: cp.log })
    : null;
  if (metricsListener) io.stderr(`Metrics (no token) on ${metricsListener.url}\n`);
  const bound = cp.api.server.address();
  const port = typeof bound === 'object' && bound ? bound.port : config.port;
  const scheme = tls ? 'https' : 'http';
  // Behind `serve --replicas` (or a load balancer) clients use the balancer's address.
  const url =
    io.env.VMCLOUD_PUBLIC_URL ||
    `${scheme}://${config.host === '127.0.0.1' || config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host}:${port}`;
  if (secrets) {
    const configFile = await saveProfile(
      { name: 'default', url, token: secrets.projectToken, caCert: tls?.caFile ?? undefined, makeCurrent: true },
      io.env,
    );
    await saveProfile(
      { name: 'operator', url, token: secrets.operatorToken, caCert: tls?.caFile ?? undefined },
      io.env,
    );
    io.stderr(
      [
        'First start: created the operator and the project "default". These tokens are shown once:',
        `  project owner token: ${secrets.projectToken}`,
        `  operator token:      ${secrets.operatorToken}`,
        `Saved to ${configFile} (profiles "default" and "operator"): the CLI works now, e.g. npx vmcloud server list`,
        `Web console: open this one-time link to choose the password of ${secrets.ownerSignIn.email} and sign in`,
        `  ${url}${secrets.ownerSignIn.path}`,
        `  (valid until ${secrets.ownerSignIn.expiresAt}; a new one: npx vmcloud --profile operator user reset-link ${secrets.ownerSignIn.email})`,
        '',
      ].join('\n'),
    );
  }
  io.stderr(
    `Agent listener (mutual TLS) on ${agentUrl}; hosts' CA SHA-256 fingerprint ${cp.hostTrust.caFingerprintSha256}\n`,
  );
  io.stderr(
    `VMCloud control plane listening on ${scheme}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port} (${cp.dialect}, data in ${config.dataDir}); API docs at ${url}/docs\n` +
      (tls ? `TLS 1.3, certificate SHA-256 fingerprint ${tls.fingerprint}\n` : ''),
  );
  await new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    // A replica of `serve --replicas` stops when its launcher goes away (its IPC channel closes).
    if (process.send) process.once('disconnect', stop);
  });
  io.stderr('shutting down\n');
  await localHost?.stop();
  await metricsListener?.close();
  await cp.close();
  return 0;
}
