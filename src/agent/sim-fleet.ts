import { join } from 'node:path';
import type { Db } from '../db/index.ts';
import type { Logger } from '../core/index.ts';
import { createSimDriver, type HostSync, type SimDelays } from '../compute/index.ts';
import type { InventoryService } from '../inventory/index.ts';
import { createAgent, type Agent } from './agent.ts';
import type { ControlPlaneLink } from './link.ts';

/** The link of an agent that runs inside the control plane process: direct calls, no HTTP. */
export function createInProcessLink(deps: { hostSync: HostSync; inventory: InventoryService }): ControlPlaneLink {
  return {
    desired: (hostId) => deps.hostSync.desiredFor(hostId),
    report: (hostId, observed, options) => deps.hostSync.applyReport(hostId, observed, options),
    heartbeat: (hostId) => deps.inventory.heartbeat(hostId),
  };
}

export interface SimFleetOptions {
  db: Db;
  log: Logger;
  link: ControlPlaneLink;
  /** Sim instances persist here (one file per host) so they outlive a control-plane restart. */
  stateDir: string | null;
  delays?: Partial<SimDelays>;
  resyncIntervalMs?: number;
  heartbeatIntervalMs?: number;
}

/** Runs the agent loop of every simulated host (driver `sim`) in this process. */
export function createSimFleet(options: SimFleetOptions) {
  const agents = new Map<string, Agent>();
  const drivers: Array<{ close(): Promise<void> }> = [];

  async function startHost(hostId: string) {
    if (agents.has(hostId)) return;
    const driver = createSimDriver({ delays: options.delays, stateFile: options.stateDir ? join(options.stateDir, `${hostId}.json`) : undefined });
    const agent = createAgent({
      hostId,
      link: options.link,
      driver,
      log: options.log,
      resyncIntervalMs: options.resyncIntervalMs ?? 15_000,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 10_000,
      gracefulStopTimeoutMs: 30_000,
    });
    agents.set(hostId, agent);
    drivers.push(driver);
    agent.start();
  }

  return {
    /** Starts an agent for every sim host in the database that has none yet. */
    async sync(): Promise<number> {
      const hosts = await options.db.selectFrom('hosts').select('id').where('driver', '=', 'sim').execute();
      for (const host of hosts) await startHost(host.id);
      return agents.size;
    },
    poke(hostId: string) {
      agents.get(hostId)?.poke();
    },
    has(hostId: string) {
      return agents.has(hostId);
    },
    async idle() {
      await Promise.all([...agents.values()].map((a) => a.idle()));
    },
    async stop() {
      await Promise.all([...agents.values()].map((a) => a.stop()));
      await Promise.all(drivers.map((d) => d.close()));
      agents.clear();
      drivers.length = 0;
    },
  };
}

export type SimFleet = ReturnType<typeof createSimFleet>;
