/**
 * The one place that wires stores → services → edges. `createControlPlane` builds a control plane from a
 * config; `serve` (bin) and the tests use it alike. It holds no SQL.
 */
import { periodicLoop } from './core/periodic-loop.ts';
import { chmodSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  openDatabase,
  migrateToLatest,
  createLeases,
  whileRenewing,
  createLocalNotifier,
  createPgNotifier,
  createSingleton,
  observeTransactions,
  type DatabaseHandle,
} from './db/index.ts';
import {
  createEventBus,
  createLogger,
  systemClock,
  VmcError,
  withTransactionParticipants,
  type Clock,
  type EventBus,
  type LogLevel,
} from './core/index.ts';
import {
  createEventConsumer,
  createEventRecorder,
  createEventTail,
  encodeStreamCursor,
  eventConsumerLag,
  listEvents,
  parseStreamCursor,
  readEvents,
  streamStart,
} from './events/index.ts';
import { createCatalogService, defaultFleet } from './catalog/index.ts';
import { createInventoryService, type HostAddressPolicy } from './inventory/index.ts';
import { createConsoleTickets, createIdentityService, createSharedRateCounter } from './identity/index.ts';
import {
  createPasskeyService,
  createPasswordHasher,
  createPeopleService,
  type PasskeyConfig,
} from './identity/index.ts';
import {
  createAuditLog,
  createAuditSealer,
  createFailedAuthRecorder,
  defaultAuditRetentionDays,
} from './audit/index.ts';
import { createIdempotencyService } from './idempotency/index.ts';
import {
  createComputeService,
  createDiskKeyVault,
  createHostRecovery,
  createHostSync,
  createResourceActions,
  createSimBackupModel,
  type SimDelays,
} from './compute/index.ts';
import { createVolumeService, createVolumeSync } from './volumes/index.ts';
import { createCustomImageService, createCustomImageWorker } from './custom-images/index.ts';
import { createHostNetworkSync, createNetworkService, createNetworkSync, vtepOfAddress } from './networks/index.ts';
import {
  createAddressService,
  createAddressSync,
  defaultAddressPlans,
  type RegionAddressPlan,
} from './addresses/index.ts';
import { registerNetworkRoutes } from './api/rest/routes/networks.ts';
import { createFirewallService, createFirewallSync } from './firewalls/index.ts';
import { registerFirewallRoutes } from './api/rest/routes/firewalls.ts';
import { createSshKeyService } from './sshkeys/index.ts';
import { registerSshKeyRoutes } from './api/rest/routes/ssh-keys.ts';
import { createBackupService, createRoutedExecutor, createRestic, type RepositoryAccess } from './backups/index.ts';
import { registerBackupRoutes } from './api/rest/routes/backups.ts';
import { registerMetricsRoutes } from './api/rest/routes/metrics.ts';
import { createBillingService, type BillingPorts } from './billing/index.ts';
import { registerBillingRoutes } from './api/rest/routes/billing.ts';
import { createScheduler, wireDrainReport } from './scheduler/index.ts';
import { createSimFleet, createInProcessLink, countedLink } from './agent/index.ts';
import { createHostClient } from './agent/host-client/index.ts';
import { createHostEnrollment, createHostTrust } from './agent/enrollment/index.ts';
import { createKeyStore, openConfiguredKekProvider, type KeyStoreConfig } from './keystore/index.ts';
import { createAgentListener } from './api/agent/index.ts';
import { registerAdminRoutes } from './api/rest/routes/admin.ts';
import { createApi } from './api/rest/server.ts';
import { registerCatalogRoutes } from './api/rest/routes/catalog.ts';
import { registerServerRoutes } from './api/rest/routes/servers.ts';
import { registerIdentityRoutes } from './api/rest/routes/identity.ts';
import { registerAuthRoutes } from './api/rest/routes/auth.ts';
import { registerConsole } from './api/rest/console-static.ts';
import { sessionCookieNames } from './api/rest/cookies.ts';
import { registerHostRoutes } from './api/rest/routes/hosts.ts';
import { registerEventRoutes } from './api/rest/routes/events.ts';
import { registerCapacityRoutes } from './api/rest/routes/capacity.ts';
import { registerServerHostRoutes } from './api/rest/routes/server-host.ts';
import { registerImageUploadRoutes } from './api/rest/routes/images-upload.ts';
import { registerVolumeRoutes } from './api/rest/routes/volumes.ts';
import { registerCustomImageRoutes } from './api/rest/routes/custom-images.ts';
import { registerWebhookRoutes } from './api/rest/routes/webhooks.ts';
import { registerGraphql } from './api/graphql/plugin.ts';
import {
  createWebhookFanOut,
  createWebhookSender,
  createWebhookService,
  createWebhookWorker,
  type WebhookWorkerOptions,
} from './webhooks/index.ts';
import {
  createHostTrafficReceiver,
  createSimTrafficCollector,
  createTrafficService,
  toMbps,
  type HostTrafficReceiver,
} from './traffic/index.ts';
import { createFlowLogService } from './flowlogs/index.ts';
import {
  createDdosService,
  createDesiredStateMitigator,
  createLoggingScrubbing,
  targetTextOrNull,
  type Mitigator,
} from './ddos/index.ts';
import { registerTrafficRoutes } from './api/rest/routes/traffic.ts';
import { notFound } from './core/index.ts';
import { createStatusProbes, createStatusService, type StatusOptions } from './status/index.ts';
import { createControlPlaneMetrics, createServerMetricsService } from './metrics/index.ts';
import { createTelemetryService, type TelemetryOptions } from './telemetry/index.ts';
import { deliveryCounts } from './webhooks/index.ts';
import type { LoginThrottleLimit, Principal } from './identity/index.ts';
import { registerStatusRoutes } from './api/rest/routes/status.ts';

export const vmcloudVersion = '0.1.0';

/** Change-notice channels between replicas (src/db/notify.ts). */
const hostsChannel = 'hosts';
const desiredChannel = 'desired';

export interface ControlPlaneConfig {
  /** `postgres://…`, or a SQLite file path. */
  databaseUrl: string;
  /** PostgreSQL schema to use (tests share one database, one schema each). */
  pgSchema?: string;
  /** Where SQLite, simulated host state and images live. */
  dataDir: string;
  /** `vmcloud`: the seed's simulated fleet; `none`: only hosts that register. */
  fleet: 'vmcloud' | 'none';
  /** Multiplies the host count of every fleet entry (benchmarks: `--fleet-scale 50`). */
  fleetScale: number;
  simDelays?: Partial<SimDelays>;
  rateLimitPerMinute: number;
  /** Failed authentications per minute per client address before 429 (default 60; 0 disables). */
  failedAuthPerMinute?: number;
  logLevel: LogLevel;
  clock?: Clock;
  /** A host with no heartbeat for this long is down. */
  hostDownAfterMs?: number;
  /** Actions that have not converged after this long fail with `timeout`. */
  actionTimeoutMs?: number;
  loopIntervalMs?: number;
  /**
   * An open event stream (SSE) writes a keep-alive and checks its credential again this often, and so does an
   * open GraphQL WebSocket (default 15 s).
   */
  eventStreamHeartbeatMs?: number;
  /** Failed sign-ins allowed per account and per client address (default: 10 and 50 per 15 minutes). */
  loginThrottle?: LoginThrottleLimit;
  /** Whether hosts may register loopback addresses for their host API (one-machine installs, tests). */
  hostAddressPolicy?: HostAddressPolicy;
  /** Serve the API over HTTPS (TLS 1.3) with this certificate and key. */
  tls?: { certPem: string; keyPem: string };
  /**
   * Passkeys' relying party (docs/adr/0013-passkeys.md): RP ID and allowed origins; default the console's
   * host and origin as each request names them (`localhost` in development).
   */
  passkeys?: PasskeyConfig;
  /** Audit log entries older than this are pruned (the chain stays verifiable); default 90 days. */
  auditRetentionDays?: number;
  /** Where the key-encryption keys live (default: the key file `<dataDir>/keys/kek.json`). */
  keyStore?: KeyStoreConfig;
  /** Lifetime of host certificates (default 24 h); agents renew at two thirds of it. */
  hostCertificateValidityMs?: number;
  /**
   * Backup repositories per region (restic: a path or URL, and a file holding its password). A region
   * without one backs up only simulated hosts (the sim model); a real host there fails its backups with
   * `backup_repository_missing`.
   */
  backupRepositories?: Record<string, { url: string; passwordFile: string }>;
  /** How often the backup worker runs (default 10 s). */
  backupLoopIntervalMs?: number;
  /** Serve GraphiQL at /graphiql (default: unless NODE_ENV=production). */
  graphiql?: boolean;
  /** Webhooks may reach http:// and private/loopback addresses (`serve --webhook-allow-private`). */
  webhookAllowPrivate?: boolean;
  /** The delivery worker's tuning (tests and benchmarks: a fast retry schedule, a short lease). */
  webhooks?: Partial<
    Pick<
      WebhookWorkerOptions,
      'retryScheduleMs' | 'leaseMs' | 'batchSize' | 'parallelBatches' | 'pollIntervalMs' | 'disableAfterMs'
    >
  >;
  /** Public address plan per region (floating/primary IPv4 pool, IPv6 /48); default: documentation ranges. */
  addressPlans?: Record<string, RegionAddressPlan>;
  /** How often the custom-image worker looks for work it was not told about (default 10 s; it is kicked after each create and delete). */
  customImageLoopIntervalMs?: number;
  /** PostgreSQL: how long the replica running the simulated hosts' agents holds its lease (default 5 s). */
  simFleetLeaseTtlMs?: number;
  /** How often the traffic worker runs: sim collector, rollups, month close, retention (default 60 s). */
  trafficLoopIntervalMs?: number;
  /** Seed of the sim fleet's traffic model (default `vmcloud`). */
  trafficSeed?: string;
  /** Where DDoS mitigation rules go (default: recorded only — the sim fleet). */
  ddosMitigator?: Mitigator;
  /** How often the billing loop (last month's invoices, budget alerts) runs (default 10 min). */
  billingLoopIntervalMs?: number;
  /** Addresses, traffic, DDoS tier, announced maintenance: null ports until those domains are wired. */
  billingPorts?: Partial<BillingPorts>;
  /** How often the status page's probe loop runs (default 60 s). */
  statusProbeIntervalMs?: number;
  /** The status page's tuning: hysteresis passes, canary interval and timeout, thresholds (docs/status-page.md). */
  status?: Partial<StatusOptions> & { canaryTimeoutMs?: number };
  /** The built web console served at `/` (default: web/dist of this checkout). */
  consoleDir?: string;
  /** Agent telemetry: peers per agent, probe and report intervals, retention (docs/observability.md). */
  telemetry?: Partial<TelemetryOptions>;
  /** scrypt cost of password hashes (default N = 2^17, r = 8, p = 1: docs/adr/0010-console-auth.md; tests lower it). */
  passwordHashCost?: { ln: number; r: number; p: number };
}

export interface BootstrapSecrets {
  operatorToken: string;
  projectId: string;
  projectToken: string;
  /** The first owner's one-time sign-in link (a path: /reset#token=…) and its owner's email. */
  ownerSignIn: { email: string; path: string; expiresAt: string };
}

export async function createControlPlane(config: ControlPlaneConfig) {
  const clock = config.clock ?? systemClock;
  const log = createLogger({ level: config.logLevel });
  // The data dir holds the database, keys and certificates: this user's only.
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  chmodSync(config.dataDir, 0o700);
  const handle: DatabaseHandle = await openDatabase({ url: config.databaseUrl, pgSchema: config.pgSchema });
  await migrateToLatest(handle);
  const { db, dialect } = handle;
  // ---- Metrics (`GET /metrics`, docs/observability.md): read at scrape time from the services below ----
  const metrics = createControlPlaneMetrics({
    log,
    sources: {
      families: [() => compute.metricFamilies(), () => inventory.metricFamilies(), () => telemetry.metricFamilies()],
      capacity: () => scheduler.capacity(),
      consumerLag: () => eventConsumerLag(db, clock.nowMs()),
      runningActions: () => compute.runningActions(),
      webhookDeliveries: () => deliveryCounts(db),
      backups: async () => {
        const stats = await backups.stats({ kind: 'operator', tokenId: 'metrics', userId: null });
        const worst = new Map<string, number>();
        for (const server of stats.servers)
          if (server.rpo_now_s !== null)
            worst.set(server.region, Math.max(worst.get(server.region) ?? 0, server.rpo_now_s));
        return {
          targetRpoSeconds: stats.promise.rpo_s,
          regions: stats.regions.map((r) => ({
            region: r.region,
            servers: r.servers,
            withoutBackup: r.servers_without_backup,
            maxRpoSeconds: worst.get(r.region) ?? null,
          })),
        };
      },
      pool: () => handle.poolStats?.() ?? null,
    },
  });
  observeTransactions(db, metrics.observeTransaction);
  /** This replica among those sharing the database: names its leases and its change notices. */
  const replicaId = `cp-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const leases = createLeases({ db, dialect, holder: replicaId });
  // Change notices to the other replicas (PostgreSQL); one process on SQLite has nobody to tell.
  const notifier =
    dialect === 'postgres'
      ? createPgNotifier({ db, url: config.databaseUrl, pgSchema: config.pgSchema, origin: replicaId, log })
      : createLocalNotifier(replicaId);

  const bus: EventBus = createEventBus();
  bus.subscribe(metrics.observeEvent);
  // Every recorded event fans out, in its transaction, to the delivery rows of matching webhooks.
  const events = createEventRecorder({ bus, clock, fanOut: createWebhookFanOut({ clock }) });
  const scheduler = createScheduler({
    db,
    dialect,
    log,
    clock,
    onDecision: (o) =>
      metrics.observePlacement({ region: o.region, ok: o.ok, reason: o.reason, durationSeconds: o.durationUs / 1e6 }),
  });
  const catalog = createCatalogService({ db, clock, events, notifier });
  const identity = createIdentityService({ db, dialect, clock, events, notifier });
  const audit = createAuditLog({ db, dialect, clock });
  const auditSealer = createAuditSealer({
    audit,
    log,
    gate: async () => (await leases.acquire('audit-sealer', 5000)) !== null,
  });
  const consoleTickets = createConsoleTickets({ db, clock });
  const sharedRateCounter = dialect === 'postgres' ? createSharedRateCounter({ db }) : undefined;
  const failedAuth = createFailedAuthRecorder({ audit, clock });
  const idempotency = createIdempotencyService({ db, clock });
  // ---- Host trust: the key store, the hosts' CA, this replica's certificate (mutual TLS with hosts) ----
  const kekProvider = await openConfiguredKekProvider(
    config.keyStore ?? { kind: 'file', directory: join(config.dataDir, 'keys') },
    clock,
  );
  const keyStore = createKeyStore({ db, provider: kekProvider, clock });
  // Every server disk's LUKS key, sealed by the key store; unwrapped only into real hosts' desired state.
  const diskKeys = createDiskKeyVault(keyStore);
  // People: users with passwords and TOTP, console sessions (docs/adr/0010-console-auth.md).
  const people = createPeopleService({
    db,
    clock,
    events,
    keyStore,
    hasher: createPasswordHasher({ cost: config.passwordHashCost }),
    throttle: config.loginThrottle,
    memberTokens: identity,
    mailer: {
      // No mail server here: a link is logged for the operator to pass on (mail delivery plugs in here).
      send: async (message) => {
        log.info({ to: message.to, purpose: message.purpose, path: message.path }, 'one-time sign-in link issued');
      },
    },
  });
  const passkeys = createPasskeyService({ db, clock, events, people, config: config.passkeys });
  const cookieNames = sessionCookieNames(config.tls !== undefined);
  const hostSync = createHostSync({
    db,
    clock,
    log,
    events,
    scheduler,
    catalog,
    identity,
    diskKeys,
    // Read when a host has servers with SR-IOV VFs (`inventory` is made below; called only later).
    hostTopology: (hostId) => inventory.topologyOf(hostId),
  });
  // Certificates are checked by TLS against the wall clock, so they are issued against it.
  const hostTrust = await createHostTrust({
    db,
    clock: systemClock,
    log,
    keyStore,
    hostCertificateValidityMs: config.hostCertificateValidityMs,
  });
  // ---- end of host trust ----

  let simFleet: ReturnType<typeof createSimFleet> | null = null;
  const inventory = createInventoryService({
    db,
    clock,
    log,
    events,
    regionOf: async (code) => {
      const region = await catalog.getRegionRecord(code).catch(() => null);
      return region ? { code: region.code, ipv4Pool: region.ipv4Pool } : null;
    },
    bindHostToken: identity.bindHostToken,
    revokeHostCredentials: async (tx, hooks, hostId) => {
      await identity.revokeHostTokens(tx, hooks, hostId);
      await hostTrust.certificates.revokeHost(hostId, { q: tx });
    },
    usageOf: scheduler.usageByHost,
    addressPolicy: config.hostAddressPolicy,
    onHostChanged: (hostId) => {
      notifier.publish(hostsChannel, hostId);
      scheduler
        .refreshHost(hostId)
        .catch((error: unknown) => log.error({ err: error, host_id: hostId }, 'could not reread a host'));
    },
  });
  const compute = createComputeService({
    db,
    dialect,
    clock,
    log,
    events,
    catalog,
    scheduler,
    identity,
    onDesiredStateChanged: (hostId) => {
      // The simulated host's agent may run in another replica (the sim-fleet lease): tell it there.
      if (simFleet?.has(hostId)) simFleet.poke(hostId);
      else notifier.publish(desiredChannel, hostId);
    },
    diskKeys,
    hostDriverOf: async (hostId) => (await inventory.hostSummary(hostId)).driver,
    resolveCustomImage: (projectId, ref) => customImages.resolve(projectId, ref),
    resolveSshKeys: (projectId, refs) => sshKeys.publicKeysByRef(projectId, refs),
    serverExtras: {
      resolve: async (projectId, refs, region) => ({
        networkIds: await networks.networksForNewServer(projectId, refs.networks, region),
        firewallIds: await firewalls.firewallsForNewServer(projectId, refs.firewalls),
      }),
      attach: async (tx, hooks, projectId, serverId, ids) => {
        await firewalls.applyToNewServer(tx, hooks, projectId, serverId, ids.firewallIds);
        await networks.attachNewServer(tx, hooks, projectId, serverId, ids.networkIds);
      },
    },
  });
  // ---- SSH keys: a project's saved public keys, taken by id or name when a server is created ----
  const sshKeys = createSshKeyService({ db, dialect, clock, events });
  const resourceActions = createResourceActions({ db, dialect, clock, events });
  // ---- Custom images: made from stopped servers by a singleton worker, booted by the project's servers ----
  const customImages = createCustomImageService({
    db,
    dialect,
    clock,
    events,
    catalog,
    identity,
    actions: resourceActions,
    servers: { findServer: compute.findServer, liveServersWithImage: compute.liveServersWithImage },
    onWork: () => kickCustomImageWorker(),
  });
  const volumeServers = {
    findServer: compute.findServer,
    serverRefs: compute.serverRefs,
    serverIdsOnHost: compute.serverIdsOnHost,
  };
  const volumes = createVolumeService({
    db,
    dialect,
    clock,
    events,
    catalog,
    scheduler,
    identity,
    actions: resourceActions,
    servers: volumeServers,
    volumeKeys: diskKeys,
    findHost: async (region, ref) => {
      const host = (await inventory.listHosts({ region })).find((h) => h.id === ref || h.name === ref);
      return host ? { id: host.id, name: host.name } : null;
    },
    onDesiredStateChanged: (hostId) => simFleet?.poke(hostId),
    findBackup: (projectId, backupId) => backups.backupForVolume(projectId, backupId),
    hostsInRegion: async (region) =>
      (await inventory.listHosts({ region }))
        .filter((h) => h.health === 'up' && h.state === 'active')
        .map((h) => ({ id: h.id, name: h.name, freeDiskGiB: h.capacity.disk_gib - h.usage.disk_gib })),
    snapshotsOf: async (hostId, serverId) => {
      if ((await inventory.hostSummary(hostId)).driver === 'sim') return null;
      const listed = await (await hostClientFor(hostId)).listSnapshots(serverId).catch((error: unknown) => {
        // A host whose driver has no snapshots answers `unsupported`.
        if (error instanceof VmcError && error.reason === 'unsupported') return null;
        throw error;
      });
      return listed === null ? null : listed.map((s) => s.name);
    },
  });
  const hostRecovery = createHostRecovery({
    db,
    clock,
    events,
    scheduler,
    catalog,
    identity,
    inventory,
    compute,
    diskKeys,
  });
  const volumeSync = createVolumeSync({
    db,
    clock,
    events,
    scheduler,
    identity,
    actions: resourceActions,
    servers: volumeServers,
    volumeKeys: diskKeys,
    repositoryAccess: (region) => repositoryAccess(region),
  });
  const networks = createNetworkService({
    db,
    dialect,
    clock,
    events,
    catalog,
    actions: resourceActions,
    servers: volumeServers,
    onDesiredStateChanged: (hostId) => simFleet?.poke(hostId),
  });
  const networkSync = createNetworkSync({ db, clock, events, actions: resourceActions, servers: volumeServers });
  const addresses = createAddressService({
    db,
    dialect,
    clock,
    events,
    catalog,
    actions: resourceActions,
    servers: volumeServers,
    addressPlans: config.addressPlans,
    onDesiredStateChanged: (hostId) => simFleet?.poke(hostId),
  });
  const addressSync = createAddressSync({ db, clock, actions: resourceActions, servers: volumeServers });
  const firewallServers = { findServer: compute.findServer, labeledServers: compute.labeledServers };
  const firewalls = createFirewallService({
    db,
    dialect,
    clock,
    events,
    servers: firewallServers,
    onDesiredStateChanged: (hostId) => simFleet?.poke(hostId),
  });
  const firewallSync = createFirewallSync({ db, dialect, clock, servers: firewallServers });
  const hostNetworkSync = createHostNetworkSync({
    db,
    clock,
    networkSync,
    publicRoutes: addressSync,
    firewalls: firewallSync,
    placeOf: async (hostId) => {
      const host = await inventory.hostSummary(hostId).catch(() => null);
      if (!host) return null;
      const apis = await inventory.hostApisInRegion(host.region);
      return { region: host.region, vteps: new Map(apis.map((api) => [api.hostId, vtepOfAddress(api.address)])) };
    },
  });

  // ---- Agent telemetry: intra-region peer probes, servers' CPU and disk from real hosts ----
  /**
   * The fleet as telemetry sees it: every host grouped by region (each list sorted by id, the order every
   * replica samples peers from), read at most every 10 s and shared by every caller meanwhile. 20,000
   * agents ask for their peers every minute; a read per report (every host with its topology) ran the
   * control plane out of memory, and a filter of the fleet per report saturated it.
   */
  let telemetryFleet: { readAtMs: number; fleet: Promise<TelemetryFleet> } | null = null;
  type TelemetryHostView = { hostId: string; region: string; simulated: boolean; up: boolean; apiUrl: string | null };
  type TelemetryFleet = { byRegion: Map<string, TelemetryHostView[]>; byId: Map<string, TelemetryHostView> };
  const fleetForTelemetry = (): Promise<TelemetryFleet> => {
    const nowMs = Date.now();
    if (telemetryFleet && nowMs - telemetryFleet.readAtMs < 10_000) return telemetryFleet.fleet;
    const fleet = (async () => {
      const all = await inventory.hostSummaries();
      const regions = [...new Set(all.filter((h) => h.driver !== 'sim').map((h) => h.region))];
      const apis = (await Promise.all(regions.map((r) => inventory.hostApisInRegion(r)))).flat();
      const urls = new Map(apis.map((a) => [a.hostId, a.address]));
      const byRegion = new Map<string, TelemetryHostView[]>();
      const byId = new Map<string, TelemetryHostView>();
      for (const h of [...all].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
        const view = {
          hostId: h.id,
          region: h.region,
          simulated: h.driver === 'sim',
          up: h.health === 'up' && h.state !== 'maintenance',
          apiUrl: urls.get(h.id) ?? null,
        };
        byId.set(h.id, view);
        if (!byRegion.has(h.region)) byRegion.set(h.region, []);
        byRegion.get(h.region)!.push(view);
      }
      return { byRegion, byId };
    })();
    fleet.catch(() => {
      telemetryFleet = null;
    });
    telemetryFleet = { readAtMs: nowMs, fleet };
    return fleet;
  };
  /** A host as telemetry sees it: from the shared fleet read, or read now when it is newer than that. */
  const telemetryHostOf = async (hostId: string) => {
    const known = (await fleetForTelemetry()).byId.get(hostId);
    if (known) return known;
    const host = await inventory.getHost(hostId).catch(() => null);
    if (!host) return null;
    const apis = host.driver === 'sim' ? [] : await inventory.hostApisInRegion(host.region);
    return {
      hostId: host.id,
      region: host.region,
      simulated: host.driver === 'sim',
      up: host.health === 'up',
      apiUrl: apis.find((a) => a.hostId === host.id)?.address ?? null,
    };
  };
  const telemetry = createTelemetryService({
    db,
    clock,
    log,
    host: telemetryHostOf,
    hostsByRegion: async () => (await fleetForTelemetry()).byRegion,
    serverIdsOnHost: (hostId) => compute.serverIdsOnHost(db, hostId),
    options: config.telemetry,
  });

  // ---- Host trust (continued): the agent listener, agents' mutual-TLS endpoint ----
  let resolveHostTraffic!: (receiver: HostTrafficReceiver) => void;
  const hostTrafficReady = new Promise<HostTrafficReceiver>((resolve) => (resolveHostTraffic = resolve));
  const agentListener = createAgentListener({
    clock,
    log,
    enrollment: createHostEnrollment({ trust: hostTrust, inventory, identity, audit, db }),
    inventory,
    hostSync,
    volumeSync,
    networkSync: hostNetworkSync,
    telemetry,
    // Qemu hosts' traffic reports (the traffic domain is made further down; a report before then waits).
    hostTraffic: { receive: async (hostId, body) => (await hostTrafficReady).receive(hostId, body) },
    tls: hostTrust.controlPlaneTls,
    onCertificateRenewed: (listener) => hostTrust.controlPlane.onRenewed(listener),
    failedAuth,
    failedJoinsPerMinute: config.failedAuthPerMinute,
  });
  // ---- end of host trust ----

  const link = countedLink(
    createInProcessLink({
      hostSync,
      inventory,
      volumeSync,
      networkSync: hostNetworkSync,
      diskKeys: false,
      telemetry,
    }),
    (op) => metrics.observeSimAgentCall(op),
  );
  simFleet = createSimFleet({
    listHostIds: inventory.simulatedHostIds,
    log,
    link,
    stateDir: join(config.dataDir, 'sim-hosts'),
    delays: config.simDelays,
  });

  // Changes made by the other replicas: hosts to reread, simulated agents to wake.
  notifier.subscribe(hostsChannel, (hostId) => {
    scheduler
      .refreshHost(hostId)
      .catch((error: unknown) => log.error({ err: error, host_id: hostId }, 'could not reread a host'));
  });
  notifier.subscribe(desiredChannel, (hostId) => simFleet?.poke(hostId));
  notifier.onResync(() => {
    scheduler.reload().catch((error: unknown) => log.error({ err: error }, 'could not reread the fleet'));
  });
  await notifier.start();

  const { app: api, route } = await createApi({
    clock,
    log,
    identity,
    audit,
    failedAuth,
    idempotency,
    rateLimitPerMinute: config.rateLimitPerMinute,
    sharedRateCounter,
    failedAuthPerMinute: config.failedAuthPerMinute,
    version: vmcloudVersion,
    https: config.tls,
    sessions: {
      cookieName: cookieNames.session,
      operatorCookieName: cookieNames.operatorSession,
      authenticate: people.authenticateSession,
      csrfMatches: people.csrfMatches,
    },
    checkHealth: async () => {
      await catalog.listRegions();
    },
    onResponse: metrics.observeRequest,
  });
  registerCatalogRoutes(route, { catalog, listImages: customImages.listImages });
  registerServerRoutes(route, { compute });
  registerVolumeRoutes(route, { volumes });
  registerCustomImageRoutes(route, { customImages });
  registerNetworkRoutes(route, { networks, addresses });
  registerFirewallRoutes(route, { firewalls });
  registerSshKeyRoutes(route, { sshKeys });
  registerIdentityRoutes(route, { identity, audit, sealAuditLog: auditSealer.sealNow });
  registerAuthRoutes(route, {
    people,
    identity,
    passkeys,
    cookieNames,
    secureCookies: config.tls !== undefined,
  });
  registerConsole(api, { directory: config.consoleDir ?? join(import.meta.dirname, '..', 'web', 'dist') });
  registerHostRoutes(route, {
    inventory,
    identity,
    hostRecovery,
    drain: async (hostId) => {
      const source = await inventory.getHost(hostId);
      const report = await scheduler.drainHost(hostId, (tx, hooks, move) =>
        compute.recordMove(tx, hooks, { ...move, fromHostDriver: source.driver, fromHostName: source.name }),
      );
      return wireDrainReport(report);
    },
    hostNetwork: (hostId) => hostNetworkSync.view(hostId),
    hostTrust: {
      caFingerprintSha256: hostTrust.caFingerprintSha256,
      revokeHostCertificates: async (tx, hostId) => {
        await hostTrust.certificates.revokeHost(hostId, { q: tx as typeof db });
      },
    },
  });
  registerAdminRoutes(route, { rotateKeyStore: () => keyStore.rotate() });
  registerCapacityRoutes(route, { scheduler, catalog });

  /** The host API of a host (console, logs, snapshots, export, images), at the address its agent registered. */
  const hostClientFor = async (hostId: string) => {
    const endpoint = await inventory.hostApiOf(hostId);
    if (!endpoint?.address) {
      throw new VmcError(
        'unavailable',
        `host ${endpoint?.name ?? hostId} has no host API: simulated hosts have no console, snapshots or export`,
        { reason: 'host_has_no_api' },
      );
    }
    if (endpoint.health !== 'up')
      throw new VmcError('unavailable', `host ${endpoint.name} is down; try again when its agent is back`, {
        reason: 'host_down',
      });
    return createHostClient({ baseUrl: endpoint.address, hostId, tls: hostTrust.controlPlaneTls() });
  };
  registerServerHostRoutes(api, route, {
    clock,
    hostClientFor,
    requireServer: compute.requireServer,
    recheckToken: (id) => (id.startsWith('ses_') ? people.recheckSession(id) : identity.recheckToken(id)),
    consoleTickets,
  });
  registerImageUploadRoutes(api, route, {
    regionExists: async (code) => (await catalog.getRegionRecord(code).catch(() => null)) !== null,
    recordImage: catalog.recordUploadedImage,
    hostHasImage: inventory.addHostImage,
    hostClientsInRegion: async (region) =>
      (await inventory.hostApisInRegion(region)).map((h) => ({
        hostId: h.hostId,
        client: createHostClient({ baseUrl: h.address, hostId: h.hostId, tls: hostTrust.controlPlaneTls() }),
      })),
  });
  const customImageWorker = createCustomImageWorker({
    service: customImages,
    clock,
    log,
    server: async (serverId) => (await compute.serverRefs(db, [serverId])).get(serverId) ?? null,
    hostDriverOf: async (hostId) => {
      const host = await inventory.getHost(hostId).catch(() => null);
      return host ? (host.driver === 'sim' ? 'sim' : 'qemu') : null;
    },
    hostClientFor,
    hostsInRegion: async (region) => ({
      qemu: (await inventory.hostApisInRegion(region)).map((h) => h.hostId),
      sim: (await inventory.listHosts({ region, driver: 'sim' })).map((h) => h.id),
    }),
    hostHasImage: inventory.addHostImage,
    hostLostImage: inventory.removeHostImage,
  });
  /** One pass of the custom-image worker under the fenced lease `custom-image-worker` (one replica at a time). */
  async function customImageWorkerOnce() {
    const ttlMs = (config.customImageLoopIntervalMs ?? 10_000) * 3;
    if (!(await leases.acquire('custom-image-worker', ttlMs))) return null;
    // A pass copies disks for minutes: the lease is renewed while it runs rather than sized for it.
    return whileRenewing(leases, 'custom-image-worker', ttlMs, () =>
      withTransactionParticipants([leases.fence('custom-image-worker')], () => customImageWorker.runOnce()),
    );
  }
  /** Runs a pass now (after a create or a delete), or once more after the pass under way. */
  const kickCustomImageWorker = () => customImageLoop.kick();
  const eventTail = createEventTail({ db, dialect, bus });
  /** Aborted when the control plane closes: live streams (SSE, GraphQL subscriptions) end so that close() can. */
  const shutdown = new AbortController();
  const follow: typeof eventTail.follow = (filter) =>
    eventTail.follow({ ...filter, signal: AbortSignal.any([filter.signal, shutdown.signal]) });
  registerEventRoutes(route, {
    events: { list: (filter) => listEvents(db, filter), follow },
    heartbeatMs: config.eventStreamHeartbeatMs,
  });
  registerMetricsRoutes(route, {
    sources: [compute.metricFamilies, inventory.metricFamilies],
    render: metrics.render,
    serverMetrics: createServerMetricsService<Principal>({
      nowMs: () => clock.nowMs(),
      server: async (principal, serverId) => {
        const hosted = await compute.requireServer(principal, serverId, 'viewer');
        const { server } = await compute.getServer(principal, hosted.id);
        const product = await catalog.productSpec(server.product).catch(() => null);
        const host = hosted.hostId ? await inventory.getHost(hosted.hostId).catch(() => null) : null;
        return {
          id: hosted.id,
          vcpus: product?.vcpus ?? 1,
          createdAtMs: Date.parse(server.created_at),
          simulated: host?.driver === 'sim',
        };
      },
      usage: (serverId, fromMs, toMs) => telemetry.serverUsage(serverId, fromMs, toMs),
      traffic: async (principal, serverId, fromMs, toMs) => {
        const spanMs = toMs - fromMs;
        const step = spanMs <= 2016 * 300_000 ? '5m' : spanMs <= 2016 * 3_600_000 ? '1h' : '1d';
        const seconds = step === '5m' ? 300 : step === '1h' ? 3600 : 86_400;
        const answer = await traffic.serverTraffic(principal, serverId, {
          from: new Date(fromMs).toISOString(),
          to: new Date(toMs).toISOString(),
          step,
        });
        return answer.points.map((p) => ({
          startMs: Date.parse(p.at),
          seconds,
          rxBytes: p.rx_bytes,
          txBytes: p.tx_bytes,
          rxPackets: p.rx_packets,
          txPackets: p.tx_packets,
        }));
      },
    }),
  });

  // ---- Backups: the schedule follows servers (an event consumer), a singleton worker runs it ----
  const simBackups = createSimBackupModel();
  const repositoryAccess = async (region: string): Promise<RepositoryAccess | null> => {
    const configured = config.backupRepositories?.[region];
    if (!configured) return null;
    return { region, url: configured.url, password: (await readFile(configured.passwordFile, 'utf8')).trim() };
  };
  const backups = createBackupService({
    db,
    dialect,
    clock,
    log,
    events,
    regionExists: async (code) => (await catalog.getRegionRecord(code).catch(() => null)) !== null,
    servers: {
      current: async (serverId) => {
        const server = await compute.serverForBackup(serverId);
        if (!server) return null;
        const product = await catalog.getProduct(server.product).catch(() => null);
        return { ...server, diskBytes: (product?.disk_gib ?? 0) * 1024 ** 3 };
      },
      create: async (principal, input) => {
        const { server } = await compute.createServer(principal, input);
        return { serverId: server.id };
      },
      remove: async (principal, serverId) => {
        await compute.delete(principal, serverId);
      },
    },
    executor: createRoutedExecutor({
      nowMs: () => clock.nowMs(),
      hostDriverOf: async (hostId) => ((await inventory.hostSummary(hostId)).driver === 'sim' ? 'sim' : 'qemu'),
      // The host API's backup jobs (POST, then polled: src/agent/host-api/backup-routes.ts).
      hostClientFor,
      repositoryAccess,
      repositoryOps: (access) => {
        const restic = createRestic(access);
        return {
          forget: (snapshots) => restic.forget(snapshots),
          verify: (snapshot) => restic.verifySnapshot(snapshot),
          prune: () => restic.prune(),
        };
      },
      sim: simBackups,
    }),
    volumeFillingFrom: (tx, backupId) => volumes.volumeFillingFrom(tx, backupId),
    volumes: {
      attachedTo: (serverId) => volumes.attachedTo(serverId),
      namesTaken: (projectId, names) => volumes.namesTaken(projectId, names),
      restoreFor: (tx, hooks, input) => volumes.restoreFor(tx, hooks, input),
    },
  });
  registerBackupRoutes(route, { backups });

  // ---- Webhooks: endpoints, and a delivery worker in every replica (deliveries leased row by row) ----
  const plainWebhookSender = createWebhookSender({ allowPrivate: config.webhookAllowPrivate ?? false });
  const webhookSender: typeof plainWebhookSender = {
    ...plainWebhookSender,
    send: async (url, headers, body) => {
      const result = await plainWebhookSender.send(url, headers, body);
      metrics.observeWebhookAttempt(result);
      return result;
    },
  };
  const webhookWorker = createWebhookWorker({
    db,
    dialect,
    clock,
    log: log.child({ component: 'webhooks' }),
    bus,
    events,
    keyStore,
    sender: webhookSender,
    ...config.webhooks,
  });
  const webhooks = createWebhookService({
    db,
    clock,
    events,
    keyStore,
    allowPrivate: config.webhookAllowPrivate ?? false,
    eventsPage: async (filter) => {
      const page = await readEvents(db as never, dialect, {
        after: filter.after === null ? streamStart : parseStreamCursor(filter.after),
        limit: filter.limit,
        projectId: filter.projectId,
        sinceAt: filter.sinceAt,
        untilAt: filter.untilAt,
      });
      return { events: page.events, last: encodeStreamCursor(page.last) };
    },
    onQueued: () => webhookWorker.wake(),
  });
  registerWebhookRoutes(route, { webhooks });

  // ---- GraphQL: the same services, the same tokens ----

  // ---- Traffic: accounting, flow logs, DDoS; the sim fleet's collector and the traffic worker ----
  const traffic = createTrafficService({
    db,
    clock,
    log,
    events,
    includedTiBOf: async (product) => (await catalog.productSpec(product)).traffic_tib,
    requireServer: (principal, serverId) => compute.requireServer(principal, serverId, 'viewer'),
  });
  const flowLogs = createFlowLogService({
    db,
    dialect,
    clock,
    log,
    events,
    resolveServer: async (principal, ref) => {
      if (principal.kind !== 'project') throw notFound('server', ref);
      const live = await compute.findServer(db, principal.projectId, ref);
      if (live) return live.id;
      const known = await traffic.knownServer(ref);
      if (known && known.projectId === principal.projectId) return known.serverId;
      throw notFound('server', ref);
    },
    serversOfProject: (projectId) => traffic.serverIdsOfProject(projectId, clock.nowMs() - 31 * 86_400_000),
  });
  const ddos = createDdosService({
    db,
    clock,
    log,
    events,
    mitigator:
      config.ddosMitigator ??
      createDesiredStateMitigator({
        // Real hosts get the mitigation as desired state in their traffic reports' answers.
        simulated: async (address) => {
          const server = await traffic.serverByAddress(address);
          return !server?.hostId || (await inventory.simulatedHostIds()).includes(server.hostId);
        },
      }),
    upstream: createLoggingScrubbing(log),
  });
  registerTrafficRoutes(route, { traffic, flowLogs, ddos });
  let unmeteredCache: { atMs: number; prefixes: { v4: string[]; v6: string[] } } | null = null;
  resolveHostTraffic(
    createHostTrafficReceiver({
      clock,
      log,
      traffic,
      serversOf: async (hostId) => {
        const out = [];
        const desiredOnHost = (await hostSync.desiredFor(hostId)).filter((d) => d.desired !== 'deleted');
        const routed = await addresses.publicAddressesOfServers(desiredOnHost.map((d) => d.spec.serverId));
        for (const desired of desiredOnHost) {
          if (desired.desired === 'deleted') continue;
          const server = await compute.serverForBackup(desired.spec.serverId);
          if (!server) continue;
          out.push({
            serverId: server.id,
            projectId: server.projectId,
            name: server.name,
            region: server.region,
            product: server.product,
            ipv4: desired.spec.ipv4?.split('/')[0] ?? null,
            addresses: routed.get(server.id) ?? [],
          });
        }
        return out;
      },
      unmetered: async () => {
        if (unmeteredCache && clock.nowMs() - unmeteredCache.atMs < 60_000) return unmeteredCache.prefixes;
        const regions = await catalog.listRegions();
        const plans = config.addressPlans ?? defaultAddressPlans;
        const v4 = new Set<string>();
        const v6 = new Set<string>();
        for (const region of regions) {
          v4.add((await catalog.getRegionRecord(region.code)).ipv4Pool);
          const plan = plans[region.code];
          if (plan) {
            v4.add(plan.ipv4);
            v6.add(plan.ipv6);
          }
        }
        unmeteredCache = { atMs: clock.nowMs(), prefixes: { v4: [...v4], v6: [...v6] } };
        return unmeteredCache.prefixes;
      },
      flowLogs: { enabled: flowLogs.enabled, ingest: flowLogs.ingest },
      ddos,
      targetOf: targetTextOrNull,
    }),
  );
  let sitePeers: Map<string, string> | null = null;
  const trafficCollector = createSimTrafficCollector({
    seed: config.trafficSeed ?? 'vmcloud',
    clock,
    log,
    traffic,
    servers: async () => {
      const out = [];
      for (const hostId of await inventory.simulatedHostIds()) {
        for (const desired of await hostSync.desiredFor(hostId)) {
          if (desired.desired !== 'running') continue;
          const server = await compute.serverForBackup(desired.spec.serverId);
          if (!server) continue;
          out.push({
            serverId: server.id,
            projectId: server.projectId,
            name: server.name,
            region: server.region,
            product: server.product,
            ipv4: desired.spec.ipv4?.split('/')[0] ?? null,
            hostId,
            gpu: desired.spec.gpus.length > 0,
          });
        }
      }
      if (!sitePeers) {
        sitePeers = new Map();
        const regions = await catalog.listRegions();
        for (const [i, region] of regions.entries()) {
          // A peer at the next region's site: its pool's address .9 (unmetered traffic goes there).
          const other = regions[(i + 1) % regions.length];
          const pool = (await catalog.getRegionRecord(other.code)).ipv4Pool.split('/')[0].split('.');
          sitePeers.set(region.code, `${pool[0]}.${pool[1]}.${pool[2]}.9`);
        }
      }
      return out;
    },
    flowLogsEnabled: flowLogs.enabled,
    ingestFlows: flowLogs.ingest,
    observe: ddos.observe,
    sitePeer: (region) => sitePeers?.get(region) ?? '10.0.0.9',
  });
  /** One pass of the traffic worker under the fenced lease `traffic-worker` (one replica at a time). */
  async function trafficWorkerOnce() {
    const intervalMs = config.trafficLoopIntervalMs ?? 60_000;
    if (!(await leases.acquire('traffic-worker', intervalMs * 3))) return null;
    return withTransactionParticipants([leases.fence('traffic-worker')], async () => ({
      collected: await trafficCollector.collectOnce(),
      rollups: await traffic.rollupOnce(),
      flowLogs: await flowLogs.purge(),
    }));
  }

  // ---- Billing: metering follows the event stream; a singleton loop invoices each finished month ----
  const maintenanceNoticeDays = 7;
  const billing = createBillingService({
    db,
    dialect,
    clock,
    log,
    events,
    products: () => catalog.listProducts(),
    ports: {
      // Both traffic figures: the bytes beyond the included volume (the `volume` plan) and the month's
      // 95th percentile (the `percentile95` plan); the account's plan picks one. The DDoS tier as kept there.
      traffic: {
        monthlyTrafficUsage: async (projectId, month) => {
          const usage = (await traffic.monthlyTrafficUsage(projectId, month)).project;
          return { egressBytes: usage.billableBytes, p95Mbps: toMbps(usage.p95Bps) };
        },
      },
      ddos: { ddosTierOf: (projectId) => ddos.ddosTierOf(projectId) },
      // Maintenance announced on the status page at least 7 days ahead is not SLA downtime (docs/billing.md).
      maintenance: {
        announcedWindows: ({ region, fromMs, toMs }) =>
          status.announcedWindows({ region, fromMs, toMs, noticeMs: maintenanceNoticeDays * 86_400_000 }),
      },
      ...config.billingPorts,
    },
  });
  registerBillingRoutes(route, { billing });
  await registerGraphql(api, {
    identity,
    credentialCheckMs: config.eventStreamHeartbeatMs,
    graphiql: config.graphiql ?? process.env.NODE_ENV !== 'production',
    services: {
      catalog,
      compute,
      identity,
      volumes,
      backups,
      webhooks,
      networks,
      addresses,
      billing,
      firewalls,
      sshKeys,
      scheduler,
      events: { list: (filter) => listEvents(db, filter), follow },
    },
  });
  const metering = createEventConsumer({
    db,
    dialect,
    name: 'metering',
    handle: async (batch, tx) => {
      await billing.onEvents(batch, tx);
    },
    batchSize: 500,
    bus,
    log,
    clock,
    holder: leases.holder,
    leases,
  });
  /** One pass of the billing loop under the fenced lease `billing-invoicer` (one replica at a time). */
  async function billingLoopOnce() {
    const ttlMs = (config.billingLoopIntervalMs ?? 600_000) * 3;
    if (!(await leases.acquire('billing-invoicer', ttlMs))) return null;
    // A month's invoicing may outlast a short interval: the lease is renewed while the pass runs.
    return whileRenewing(leases, 'billing-invoicer', ttlMs, () =>
      withTransactionParticipants([leases.fence('billing-invoicer')], () => billing.loopOnce()),
    );
  }
  const backupSchedule = createEventConsumer({
    db,
    dialect,
    name: 'backup-schedule',
    handle: (batch, tx) => backups.onEvents(batch, tx),
    bus,
    log,
    clock,
    holder: leases.holder,
    leases,
  });
  /** Servers' lifecycle → their addresses: an IPv6 /64 for a new server; attachments and addresses of a deleted one. */
  const serverAddresses = createEventConsumer({
    db,
    dialect,
    name: 'server-addresses',
    handle: async (batch, tx) => {
      // Events recorded here reach the in-process bus on the next read of the stream, not at once.
      const hooks = { afterCommit: () => {}, afterRollback: () => {} };
      for (const event of batch) {
        if (event.type === 'server.created')
          await addresses.onServerCreated(tx, hooks, {
            id: event.resource.id,
            projectId: event.project_id ?? '',
            name: event.data.name,
            region: event.data.region,
          });
        else if (event.type === 'server.deleted') {
          await networkSync.onServersDeleted(tx, hooks, [event.resource.id]);
          await addresses.onServersDeleted(tx, hooks, [event.resource.id]);
        }
      }
    },
    bus,
    log,
    clock,
    holder: leases.holder,
    leases,
  });
  // ---- Status page: probes in a singleton loop, components, incidents, maintenances, promises ----
  const statusOperator = { kind: 'operator', tokenId: 'status-page', userId: null } as const;
  const status = createStatusService({
    db,
    clock,
    log: log.child({ component: 'status' }),
    events,
    regions: async () => (await catalog.listRegions()).map((r) => ({ code: r.code, name: r.name, status: r.status })),
    options: config.status,
    probes: createStatusProbes({
      nowMs: () => clock.nowMs(),
      apiUrl: () => {
        const bound = api.server.address();
        if (!bound || typeof bound !== 'object') return null;
        const host =
          bound.address === '0.0.0.0'
            ? '127.0.0.1'
            : bound.address === '::'
              ? '[::1]'
              : bound.family === 'IPv6'
                ? `[${bound.address}]`
                : bound.address;
        return `${config.tls ? 'https' : 'http'}://${host}:${bound.port}`;
      },
      // Over TLS the probe trusts the control plane's own certificate (the name is not checked: it is loopback).
      tlsCaPem: config.tls?.certPem ?? null,
      apiTimeoutMs: 5000,
      billingRead: () => billing.listPrices(statusOperator, 'server'),
      hosts: async () =>
        (await inventory.listHosts()).map((h) => ({
          region: h.region,
          state: h.state,
          health: h.health,
          heartbeatAgeMs: h.last_heartbeat_at ? clock.nowMs() - Date.parse(h.last_heartbeat_at) : null,
        })),
      canary: {
        projectId: () =>
          status.canaryProject(async () => {
            const project = await identity.createProject({
              name: 'status-canary',
              ownerEmail: 'status-canary@vmcloud.local',
            });
            return project.project_id;
          }),
        smallestProduct: async (region) => {
          const products = (await catalog.listProducts({ region })).filter((p) => p.family === 'vps');
          const smallest = products.sort((a, b) => a.vcpus - b.vcpus || a.memory_mib - b.memory_mib)[0];
          const images = (await catalog.listImages()).filter((i) => i.category === 'os' && !i.requires_gpu);
          const image = images.find((i) => i.slug === 'debian-12') ?? images[0];
          return smallest && image ? { product: smallest.code, image: image.slug } : null;
        },
        createServer: (principal, body) => compute.createServer(principal, body),
        getServer: (principal, serverId) => compute.getServer(principal, serverId),
        deleteServer: (principal, serverId) => compute.delete(principal, serverId),
        timeoutMs: config.status?.canaryTimeoutMs ?? 10 * 60_000,
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      },
    }),
    promiseSources: {
      slaOverview: () => billing.slaOverview(statusOperator),
      backupStats: () => backups.stats(statusOperator),
      placementViolations: async () => (await scheduler.auditPlacement()).violations.length,
      simulatedFleet: async () => (await inventory.listHosts()).some((h) => h.driver === 'sim'),
      intraDc: async () => ({ windowHours: 24, regions: await telemetry.regionProbes(24 * 3_600_000) }),
      interRegion: async () => ({ windowHours: 24, pairs: await telemetry.regionPairProbes(24 * 3_600_000) }),
      cpuSteal: async () => ({ windowHours: 24, hosts: await telemetry.hostSteal(24 * 3_600_000) }),
    },
  });
  registerStatusRoutes(api, route, { status, nowIso: () => clock.nowIso() });
  /** One pass of the status probes under the fenced lease `status-probes` (one replica at a time). */
  async function statusProbesOnce() {
    const ttlMs = (config.statusProbeIntervalMs ?? 60_000) * 3;
    if (!(await leases.acquire('status-probes', ttlMs))) return null;
    // A canary server may take minutes to answer: the lease is renewed while the pass waits for it, so a
    // crashed holder's probes move to another replica within ttlMs.
    return whileRenewing(leases, 'status-probes', ttlMs, () =>
      withTransactionParticipants([leases.fence('status-probes')], () => status.probePass()),
    );
  }

  /** One pass of the backup worker under the fenced lease `backup-worker` (one replica at a time). */
  async function backupWorkerOnce() {
    const intervalMs = config.backupLoopIntervalMs ?? 10_000;
    if (!(await leases.acquire('backup-worker', intervalMs * 3))) return null;
    return withTransactionParticipants([leases.fence('backup-worker')], () => backups.runOnce());
  }
  /**
   * The simulated hosts' agents run in one replica at a time (they hold the simulated instances' state):
   * the holder of the `sim-fleet` lease. On SQLite there is one process: no lease (a restart after a crash
   * need not wait for the dead process's lease to expire).
   */
  const simFleetRole =
    dialect === 'postgres'
      ? createSingleton({
          leases,
          name: 'sim-fleet',
          ttlMs: config.simFleetLeaseTtlMs ?? 5000,
          renewEveryMs: Math.max(200, Math.floor((config.simFleetLeaseTtlMs ?? 5000) / 5)),
          log,
          onAcquired: async () => {
            await simFleet!.sync();
          },
          onLost: () => simFleet!.stop(),
        })
      : null;

  /**
   * Singleton housekeeping: one replica at a time, under a fenced lease — every transaction of a pass
   * commits only while this replica still holds the lease it acquired (src/db/lease.ts).
   */
  let housekeepingPass: Promise<void> = Promise.resolve();
  /** One pass at a time in this process: a call while a pass runs waits for it, then runs its own. */
  function housekeeping(): Promise<void> {
    const next = housekeepingPass.then(housekeepingOnce, housekeepingOnce);
    housekeepingPass = next.catch(() => undefined);
    return next;
  }

  async function housekeepingOnce() {
    const intervalMs = config.loopIntervalMs ?? 5000;
    if (!(await leases.acquire('housekeeping', intervalMs * 3))) return;
    await withTransactionParticipants([leases.fence('housekeeping')], async () => {
      for (const hostId of await inventory.markStaleHostsDown(config.hostDownAfterMs ?? 30_000)) {
        const count = await hostSync.markHostServersUnknown(hostId);
        log.warn({ host_id: hostId, servers: count }, 'host stopped heartbeating: marked down, its servers unknown');
      }
      await hostSync.expireStaleActions(config.actionTimeoutMs ?? 15 * 60_000);
    });
    await idempotency.purgeExpired();
    await audit.prune({ olderThanDays: config.auditRetentionDays ?? defaultAuditRetentionDays });
    await hostTrust.certificates.deleteExpired(new Date(systemClock.nowMs() - 7 * 86_400_000).toISOString());
    await failedAuth.flush();
    await consoleTickets.purgeExpired();
    await people.purgeExpired();
    await sharedRateCounter?.purgeBefore(clock.nowMs() - 120_000);
    await telemetry.prune();
  }

  /** The background loops `startBackground` starts and `close` stops (each: no overlap, errors logged). */
  const loop = (name: string, intervalMs: number, pass: () => Promise<unknown>) =>
    periodicLoop({
      name,
      intervalMs,
      pass,
      time: (loopName, run) => metrics.timeLoop(loopName, run),
      onError: (loopName, error) => log.error({ err: error, loop: loopName }, `${loopName} pass failed`),
    });
  const housekeepingLoop = loop('housekeeping', config.loopIntervalMs ?? 5000, housekeeping);
  const backupLoop = loop('backup-worker', config.backupLoopIntervalMs ?? 10_000, backupWorkerOnce);
  const trafficLoop = loop('traffic-worker', config.trafficLoopIntervalMs ?? 60_000, trafficWorkerOnce);
  const billingLoop = loop('billing-invoicer', config.billingLoopIntervalMs ?? 600_000, billingLoopOnce);
  const statusLoop = loop('status-probes', config.statusProbeIntervalMs ?? 60_000, statusProbesOnce);
  const customImageLoop = loop(
    'custom-image-worker',
    config.customImageLoopIntervalMs ?? 10_000,
    customImageWorkerOnce,
  );

  return {
    db,
    dialect,
    handle,
    clock,
    log,
    bus,
    api,
    services: {
      catalog,
      inventory,
      identity,
      people,
      audit,
      auditSealer,
      compute,
      hostSync,
      scheduler,
      idempotency,
      volumes,
      volumeSync,
      customImages,
      backups,
      webhooks,
      webhookWorker,
      /** The event recorder (benchmarks record synthetic events through it, with their webhook fan-out). */
      events,
      networks,
      networkSync,
      addresses,
      hostNetworkSync,
      firewalls,
      firewallSync,
      sshKeys,
      traffic,
      flowLogs,
      ddos,
      trafficCollector,
      billing,
      status,
    },
    simFleet,
    /** The agent protocol over mutual TLS (`serve --agent-listen`), the hosts' CA and the key store. */
    agentListener,
    hostTrust,
    keyStore,

    /**
     * First start: catalog defaults, the simulated fleet, an operator and a first project with an owner
     * token. Returns the secrets when it made them (null when the control plane was already set up).
     */
    async bootstrap(): Promise<BootstrapSecrets | null> {
      await catalog.loadDefaults();
      await catalog.warm();
      await billing.ensureDefaultPrices();
      if (config.fleet === 'vmcloud') await inventory.seedFleet(defaultFleet, { scale: config.fleetScale });
      await inventory.quarantineInvalidHosts();
      await scheduler.reload();
      if ((await identity.countOperators()) > 0) return null;
      const operator = await identity.createOperator({ email: 'operator@vmcloud.local', name: 'Operator' });
      const project = await identity.createProject({ name: 'default', ownerEmail: 'owner@vmcloud.local' });
      const { link } = await people.issueResetLink(null, 'owner@vmcloud.local');
      return {
        operatorToken: operator.secret,
        projectId: project.project_id,
        projectToken: project.secret,
        ownerSignIn: { email: 'owner@vmcloud.local', path: link.path, expiresAt: link.expires_at },
      };
    },

    /** This replica's Prometheus registry (`GET /metrics`, `serve --metrics-listen`). */
    metrics,

    /** This replica's id (its leases' holder). */
    replicaId,
    leases,
    notifier,

    /** Starts the agents of the simulated hosts (in the sim-fleet lease holder) and the housekeeping loop. */
    async startBackground() {
      if (simFleetRole) await simFleetRole.start();
      else await simFleet!.sync();
      auditSealer.start();
      hostTrust.start();
      housekeepingLoop.start();
      backupSchedule.start();
      serverAddresses.start();
      backupLoop.start();
      customImageLoop.start();
      webhookWorker.start();
      trafficLoop.start();
      metering.start();
      billingLoop.start();
      statusLoop.start();
    },

    housekeeping,
    /** The backup worker: one pass (tests), and the schedule consumer. */
    backupWorkerOnce,
    backupSchedule,
    serverAddresses,
    /** The custom-image worker: one pass (tests). */
    customImageWorkerOnce,
    /** The traffic worker: one pass (tests). */
    trafficWorkerOnce,
    /** Billing: the metering consumer and one pass of the monthly loop (tests). */
    metering,
    billingLoopOnce,
    /** The status page: one probe pass (tests). */
    statusProbesOnce,

    async close() {
      shutdown.abort();
      await customImageLoop.stop();
      await Promise.all([backupLoop.stop(), trafficLoop.stop()]);
      await backupSchedule.stop();
      await Promise.all([billingLoop.stop(), statusLoop.stop()]);
      await metering.stop();
      await serverAddresses.stop();
      await backups.drain();
      await webhookWorker.stop();
      webhookSender.close();
      await housekeepingLoop.stop();
      await auditSealer.stop();
      hostTrust.stop();
      await agentListener.close();
      await api.close();
      if (simFleetRole) await simFleetRole.stop();
      await simFleet!.stop();
      await leases.release('housekeeping').catch(() => undefined);
      await leases.release('custom-image-worker').catch(() => undefined);
      await leases.release('audit-sealer').catch(() => undefined);
      await notifier.close();
      await handle.close();
      await kekProvider.close();
    },
  };
}

export type ControlPlane = Awaited<ReturnType<typeof createControlPlane>>;
