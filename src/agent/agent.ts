import type { Driver, ObservedInstance } from '../compute/index.ts';
import type { Logger } from '../core/index.ts';
import type { ControlPlaneLink } from './link.ts';
import { planOperations, type DriverOperation } from './plan.ts';

export interface AgentOptions {
  hostId: string;
  link: ControlPlaneLink;
  driver: Driver;
  log: Logger;
  /** A full pass (desired, observed, full report) at least this often, even with no poke. */
  resyncIntervalMs: number;
  heartbeatIntervalMs: number;
  gracefulStopTimeoutMs: number;
}

export interface Agent {
  start(): void;
  /** Something changed for this host: run a pass soon. */
  poke(): void;
  /** Resolves once a pass has run with no operation left in flight (tests, shutdown). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The host agent loop, the same for simulated and real hosts: read desired state, converge through the
 * driver, report what is. Level-triggered: a pass may run at any time and repeats nothing that is done.
 */
export function createAgent(options: AgentOptions): Agent {
  const { hostId, link, driver, log } = options;
  const inFlight = new Map<string, Promise<void>>();
  let running = false;
  let passQueued = false;
  let passPromise: Promise<void> | null = null;
  let resyncTimer: NodeJS.Timeout | null = null;
  let heartbeatTimer: NodeJS.Timeout | null = null;
  /** What the control plane was last told of each instance, by partial or full reports. */
  const reported = new Map<string, string>();
  let forceFullReport = true;

  async function execute(op: DriverOperation): Promise<void> {
    switch (op.kind) {
      case 'start':
        return driver.start(op.spec, op.rebootGeneration);
      case 'stop':
        return driver.stop(op.serverId, { gracefulTimeoutMs: op.force ? 0 : options.gracefulStopTimeoutMs });
      case 'reboot':
        return driver.reboot(op.serverId, op.rebootGeneration);
      case 'destroy':
        return driver.destroy(op.serverId);
    }
  }

  async function reportPartial(observed: ObservedInstance[]): Promise<void> {
    if (observed.length === 0) return;
    await link.report(hostId, observed, { full: false });
    for (const o of observed) reported.set(o.serverId, JSON.stringify(o));
  }

  async function reportOne(serverId: string): Promise<void> {
    const observed: ObservedInstance[] = (await driver.list()).filter((o) => o.serverId === serverId);
    // Gone: only a full report can say so.
    if (observed.length === 0) await reportFull(true);
    else await reportPartial(observed);
  }

  /** A full report when something changed that no report has said yet (or when forced: resync). */
  async function reportFull(force: boolean): Promise<void> {
    const observed = await driver.list();
    const news = observed.some((o) => reported.get(o.serverId) !== JSON.stringify(o)) || reported.size !== observed.length;
    if (!force && !news) return;
    await link.report(hostId, observed, { full: true });
    reported.clear();
    for (const o of observed) reported.set(o.serverId, JSON.stringify(o));
  }

  function launch(op: DriverOperation) {
    const work = (async () => {
      try {
        const reporting = execute(op);
        // Tell the control plane about the transition (starting, stopping) while it happens.
        await reportPartial((await driver.list()).filter((o) => o.serverId === op.serverId)).catch(() => undefined);
        await reporting;
      } catch (error) {
        log.warn({ host_id: hostId, server_id: op.serverId, op: op.kind, err: String(error) }, 'driver operation failed');
      } finally {
        inFlight.delete(op.serverId);
      }
      try {
        await reportOne(op.serverId);
      } catch (error) {
        log.warn({ host_id: hostId, server_id: op.serverId, err: String(error) }, 'report failed');
      }
      requestPass();
    })();
    inFlight.set(op.serverId, work);
  }

  async function pass(): Promise<void> {
    const [desired, observed] = await Promise.all([link.desired(hostId), driver.list()]);
    for (const op of planOperations(desired, observed)) {
      if (!inFlight.has(op.serverId)) launch(op);
    }
    const force = forceFullReport;
    forceFullReport = false;
    await reportFull(force);
  }

  function requestPass() {
    if (!running) return;
    if (passPromise) {
      passQueued = true;
      return;
    }
    passPromise = pass()
      .catch((error) => log.warn({ host_id: hostId, err: String(error) }, 'reconcile pass failed'))
      .finally(() => {
        passPromise = null;
        if (passQueued) {
          passQueued = false;
          requestPass();
        }
      });
  }

  return {
    start() {
      if (running) return;
      running = true;
      requestPass();
      const jitter = Math.floor(Math.random() * options.resyncIntervalMs * 0.2);
      resyncTimer = setInterval(() => {
        forceFullReport = true;
        requestPass();
      }, options.resyncIntervalMs + jitter);
      heartbeatTimer = setInterval(() => {
        link.heartbeat(hostId).catch((error) => log.warn({ host_id: hostId, err: String(error) }, 'heartbeat failed'));
      }, options.heartbeatIntervalMs);
      resyncTimer.unref();
      heartbeatTimer.unref();
      link.heartbeat(hostId).catch((error) => log.warn({ host_id: hostId, err: String(error) }, 'heartbeat failed'));
    },
    poke() {
      requestPass();
    },
    async idle() {
      while (passPromise || inFlight.size > 0 || passQueued) {
        await Promise.all([passPromise, ...inFlight.values()]);
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
    async stop() {
      running = false;
      if (resyncTimer) clearInterval(resyncTimer);
      if (heartbeatTimer) clearInterval(heartbeatTimer);
      await passPromise;
      await Promise.allSettled(inFlight.values());
    },
  };
}
