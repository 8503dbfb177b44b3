import { join } from 'node:path';
import type { Logger } from '../core/index.ts';
import { createSimDriver, type HostSync, type SimDelays } from '../compute/index.ts';
import type { InventoryService } from '../inventory/index.ts';
import type { VolumeSync } from '../volumes/index.ts';
import type {
  DesiredHostNetwork,
  ObservedHostNetwork,
  ObservedVolume,
  TelemetryAnswer,
  TelemetryBody,
} from '../contract/index.ts';
import { createSimDataPlane } from './network-pass.ts';
import { createAgent, type Agent } from './agent.ts';
import { createModelProber } from './probes.ts';
import { createModelSteal } from './telemetry.ts';
import type { ControlPlaneLink } from './link.ts';

/** The link of an agent that runs inside the control plane process: direct calls, no HTTP. */
/**
 * The agent link within the control plane's process. `diskKeys: false` (the simulated fleet) leaves disk
 * keys out of the desired state: simulated hosts have no disks to encrypt.
 */
export function createInProcessLink(deps: {
  hostSync: HostSync;
  inventory: InventoryService;
  volumeSync?: Pick<VolumeSync, 'desiredFor' | 'applyReport'>;
  diskKeys?: boolean;
  networkSync?: {
    desiredFor(hostId: string): Promise<DesiredHostNetwork>;
    applyReport(hostId: string, observed: ObservedHostNetwork): Promise<void>;
  };
  telemetry?: { receive(hostId: string, body: TelemetryBody): Promise<TelemetryAnswer> };
}): ControlPlaneLink {
  const { volumeSync, networkSync, telemetry } = deps;
  return {
    desired: (hostId) => deps.hostSync.desiredFor(hostId, { diskKeys: deps.diskKeys !== false }),
    report: (hostId, observed, options) => deps.hostSync.applyReport(hostId, observed, options),
    heartbeat: (hostId, report) => deps.inventory.heartbeat(hostId, report),
    ...(volumeSync && {
      desiredVolumes: (hostId: string) => volumeSync.desiredFor(hostId, { keys: deps.diskKeys !== false }),
      reportVolumes: (hostId: string, volumes: ObservedVolume[]) => volumeSync.applyReport(hostId, volumes),
    }),
    ...(networkSync && {
      desiredNetwork: (hostId: string) => networkSync.desiredFor(hostId),
      reportNetwork: (hostId: string, observed: ObservedHostNetwork) => networkSync.applyReport(hostId, observed),
    }),
    ...(telemetry && {
      telemetry: (hostId: string, body: TelemetryBody) => telemetry.receive(hostId, body),
    }),
  };
}

/** The same link, calling `onCall(operation)` before each call (the simulated agents' metric). */
export function countedLink(link: ControlPlaneLink, onCall: (op: keyof ControlPlaneLink) => void): ControlPlaneLink {
  const counted: Partial<Record<keyof ControlPlaneLink, unknown>> = {};
  for (const op of Object.keys(link) as Array<keyof ControlPlaneLink>) {
    const call = link[op] as ((...args: unknown[]) => Promise<unknown>) | undefined;
    if (typeof call !== 'function') continue;
    counted[op] = (...args: unknown[]) => {
      onCall(op);
      return call(...args);
    };
  }
  return counted as ControlPlaneLink;
}

export interface SimFleetOptions {
  /** The simulated hosts that should have an agent here (the inventory's). */
  listHostIds: () => Promise<string[]>;
  log: Logger;
  link: ControlPlaneLink;
  /** Sim instances persist here (one file per host) so they outlive a control-plane restart. */
  stateDir: string | null;
  delays?: Partial<SimDelays>;
  resyncIntervalMs?: number;
  heartbeatIntervalMs?: number;
  /** How often each simulated agent sends its (modelled) peer probes, until the control plane says (default 60 s). */
  telemetryIntervalMs?: number;
}

/** Runs the agent loop of every simulated host (driver `sim`) in this process. */
export function createSimFleet(options: SimFleetOptions) {
  const agents = new Map<string, Agent>();
  const drivers: Array<{ close(): Promise<void> }> = [];

  async function startHost(hostId: string) {
    if (agents.has(hostId)) return;
    const driver = createSimDriver({
      delays: options.delays,
      stateFile: options.stateDir ? join(options.stateDir, `${hostId}.json`) : undefined,
    });
    const agent = createAgent({
      hostId,
      link: options.link,
      driver,
      log: options.log,
      resyncIntervalMs: options.resyncIntervalMs ?? 15_000,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 10_000,
      gracefulStopTimeoutMs: 30_000,
      dataPlane: createSimDataPlane(),
      // Peer probes from the model (no sockets); CPU and disk come from the model on the control plane.
      telemetry: {
        prober: createModelProber({ hostId }),
        cpuSteal: createModelSteal(),
        reportUsage: false,
        intervalMs: options.telemetryIntervalMs,
      },
    });
    agents.set(hostId, agent);
    drivers.push(driver);
    agent.start();
  }

  return {
    /** Starts an agent for every sim host in the database that has none yet. */
    async sync(): Promise<number> {
      for (const hostId of await options.listHostIds()) await startHost(hostId);
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
