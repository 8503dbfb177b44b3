/**
 * The one place that wires stores → services → edges. `createControlPlane` builds a control plane from a
 * config; `serve` (bin) and the tests use it alike.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openDatabase, migrateToLatest, tryAcquireLease, type DatabaseHandle } from './db/index.ts';
import { createEventBus, createLogger, systemClock, type Clock, type EventBus, type Logger, type LogLevel } from './core/index.ts';
import { createEventRecorder } from './events/index.ts';
import { createCatalogService, defaultFleet } from './catalog/index.ts';
import { createInventoryService } from './inventory/index.ts';
import { createIdentityService, createAuditLog } from './identity/index.ts';
import { createComputeService, createHostSync, type SimDelays } from './compute/index.ts';
import { createScheduler } from './scheduler/index.ts';
import { createSimFleet, createInProcessLink } from './agent/index.ts';
import { createApi, type Api } from './api/rest/server.ts';
import { registerCatalogRoutes } from './api/rest/routes/catalog.ts';
import { registerServerRoutes } from './api/rest/routes/servers.ts';
import { registerIdentityRoutes } from './api/rest/routes/identity.ts';
import { registerHostRoutes } from './api/rest/routes/hosts.ts';
import { registerAgentRoutes } from './api/rest/routes/agent.ts';
import { registerEventRoutes } from './api/rest/routes/events.ts';
import { registerCapacityRoutes } from './api/rest/routes/capacity.ts';
import { createIdempotencyStore } from './api/rest/idempotency.ts';
import { registerServerHostRoutes } from './api/rest/routes/server-host.ts';
import { registerImageUploadRoutes } from './api/rest/routes/images-upload.ts';
import { createHostClient } from './agent/host-client/index.ts';
import { VmcError } from './core/index.ts';

export const vmcloudVersion = '0.1.0';

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
  logLevel: LogLevel;
  clock?: Clock;
  /** A host with no heartbeat for this long is down. */
  hostDownAfterMs?: number;
  /** Actions that have not converged after this long fail with `timeout`. */
  actionTimeoutMs?: number;
  loopIntervalMs?: number;
}

export interface BootstrapSecrets {
  operatorToken: string;
  projectId: string;
  projectToken: string;
}

export async function createControlPlane(config: ControlPlaneConfig) {
  const clock = config.clock ?? systemClock;
  const log: Logger = createLogger({ level: config.logLevel });
  mkdirSync(config.dataDir, { recursive: true });
  const handle: DatabaseHandle = await openDatabase({ url: config.databaseUrl, pgSchema: config.pgSchema });
  await migrateToLatest(handle);
  const { db, dialect } = handle;

  const bus: EventBus = createEventBus();
  const events = createEventRecorder({ bus, clock });
  const scheduler = createScheduler({ db, dialect, log, clock });
  const catalog = createCatalogService({ db, clock, events });
  const identity = createIdentityService({ db, clock, events });
  const audit = createAuditLog({ db, clock });
  const hostSync = createHostSync({ db, clock, log, events, scheduler });
  let simFleet: ReturnType<typeof createSimFleet> | null = null;
  const inventory = createInventoryService({
    db,
    clock,
    log,
    events,
    onHostChanged: (hostId) => {
      void scheduler.refreshHost(hostId);
    },
  });
  const compute = createComputeService({ db, dialect, clock, log, events, catalog, scheduler, onDesiredStateChanged: (hostId) => simFleet?.poke(hostId) });
  const link = createInProcessLink({ hostSync, inventory });
  simFleet = createSimFleet({ db, log, link, stateDir: join(config.dataDir, 'sim-hosts'), delays: config.simDelays });
  const idempotency = createIdempotencyStore({ db, clock });

  const api: Api = await createApi({ db, clock, identity, audit, rateLimitPerMinute: config.rateLimitPerMinute, logLevel: config.logLevel, version: vmcloudVersion });
  registerCatalogRoutes(api, { catalog });
  registerServerRoutes(api, { compute });
  registerIdentityRoutes(api, { identity, audit, compute });
  registerHostRoutes(api, {
    inventory,
    onStateChanged: async (hostId, state) => (state === 'draining' ? scheduler.drainHost(hostId, compute.recordMove) : undefined),
  });
  registerCapacityRoutes(api, { scheduler, catalog });

  /** The host API of a host (console, logs, snapshots, export, images), at the address its agent registered. */
  const hostClientFor = async (hostId: string) => {
    const host = await db.selectFrom('hosts').select(['name', 'address', 'agent_key', 'health']).where('id', '=', hostId).executeTakeFirst();
    if (!host?.address || !host.agent_key) {
      throw new VmcError('unavailable', `host ${host?.name ?? hostId} has no host API: simulated hosts have no console, snapshots or export`, { reason: 'host_has_no_api' });
    }
    if (host.health !== 'up') throw new VmcError('unavailable', `host ${host.name} is down; try again when its agent is back`, { reason: 'host_down' });
    return createHostClient({ baseUrl: host.address, agentKey: host.agent_key });
  };
  registerServerHostRoutes(api, { db, clock, hostClientFor, requireServer: compute.requireServer });
  registerImageUploadRoutes(api, {
    db,
    clock,
    onImagesChanged: () => catalog.invalidate(),
    hostClientsInRegion: async (region) => {
      const hosts = await db
        .selectFrom('hosts')
        .select(['id', 'address', 'agent_key'])
        .where('region', '=', region)
        .where('health', '=', 'up')
        .where('driver', '=', 'qemu')
        .where('address', 'is not', null)
        .orderBy('name')
        .execute();
      return hosts.filter((h) => h.address && h.agent_key).map((h) => ({ hostId: h.id, client: createHostClient({ baseUrl: h.address!, agentKey: h.agent_key! }) }));
    },
  });
  registerAgentRoutes(api, { inventory, hostSync, identity });
  registerEventRoutes(api, { db });

  const holder = `cp-${randomBytes(6).toString('hex')}`;
  let loopTimer: NodeJS.Timeout | null = null;
  let loopRunning: Promise<void> | null = null;

  /** Singleton housekeeping: one replica at a time (a lease on PostgreSQL). */
  async function housekeeping() {
    const intervalMs = config.loopIntervalMs ?? 5000;
    if (!(await tryAcquireLease(db, { name: 'housekeeping', holder, nowMs: clock.nowMs(), ttlMs: intervalMs * 3 }))) return;
    for (const hostId of await inventory.markStaleHostsDown(config.hostDownAfterMs ?? 30_000)) {
      const count = await hostSync.markHostServersUnknown(hostId);
      log.warn({ host_id: hostId, servers: count }, 'host stopped heartbeating: marked down, its servers unknown');
    }
    await hostSync.expireStaleActions(config.actionTimeoutMs ?? 15 * 60_000);
    await idempotency.purgeExpired();
  }

  return {
    db,
    dialect,
    handle,
    clock,
    log,
    bus,
    api,
    services: { catalog, inventory, identity, audit, compute, hostSync, scheduler },
    simFleet,

    /**
     * First start: catalog defaults, the simulated fleet, an operator and a first project with an owner
     * token. Returns the secrets when it made them (null when the control plane was already set up).
     */
    async bootstrap(): Promise<BootstrapSecrets | null> {
      await catalog.loadDefaults();
      if (config.fleet === 'vmcloud') await inventory.seedFleet(defaultFleet, { scale: config.fleetScale });
      await scheduler.reload();
      if ((await identity.countOperators()) > 0) return null;
      const operator = await identity.createOperator({ email: 'operator@vmcloud.local', name: 'Operator' });
      const project = await identity.createProject({ name: 'default', ownerEmail: 'owner@vmcloud.local' });
      return { operatorToken: operator.secret, projectId: project.projectId, projectToken: project.secret };
    },

    /** Starts the agents of the simulated hosts and the housekeeping loop. */
    async startBackground() {
      await simFleet!.sync();
      const intervalMs = config.loopIntervalMs ?? 5000;
      loopTimer = setInterval(() => {
        if (loopRunning) return;
        loopRunning = housekeeping()
          .catch((error) => log.error({ err: String(error) }, 'housekeeping failed'))
          .finally(() => {
            loopRunning = null;
          });
      }, intervalMs);
      loopTimer.unref();
    },

    housekeeping,

    async close() {
      if (loopTimer) clearInterval(loopTimer);
      await loopRunning;
      await api.close();
      await simFleet!.stop();
      await handle.close();
    },
  };
}

export type ControlPlane = Awaited<ReturnType<typeof createControlPlane>>;
