/**
 * The collector of the simulated fleet: for each complete 5-minute slot, every running server of a sim host
 * gets its counters from the traffic model (samples), its flow records when its project logs flows, and
 * one observation per public address for the 5-minute DDoS detection. On qemu hosts the agent reads the
 * same numbers from tap and nft counters (tap-counters.ts, nft-accounting.ts).
 */
import type { Clock, Logger } from '../core/index.ts';
import type { Observation } from '../ddos/index.ts';
import { slotCounters, profileOf } from './model.ts';
import { modelFlows, type ModelFlow } from './model-flows.ts';
import { slotSeconds } from './percentile.ts';
import type { TrafficService } from './service.ts';

export interface SimServer {
  serverId: string;
  projectId: string;
  name: string;
  region: string;
  product: string;
  ipv4: string | null;
  hostId: string;
  gpu: boolean;
}

export interface SimCollectorDeps {
  seed: string;
  clock: Clock;
  log: Logger;
  traffic: TrafficService;
  /** Running servers of the simulated hosts now. */
  servers: () => Promise<SimServer[]>;
  /** Projects (and their servers, or 'all') that log flows. */
  flowLogsEnabled: () => Promise<Map<string, Set<string> | 'all'>>;
  ingestFlows: (flows: ModelFlow[]) => Promise<void>;
  observe: (input: {
    address: string;
    projectId: string;
    serverId: string;
    detectedBy: 'counters';
    observation: Observation;
  }) => Promise<unknown>;
  /** An address at another of the provider's sites (unmetered peers in flow records). */
  sitePeer: (region: string) => string;
  /** Flow records per server per slot (default 6). */
  flowsPerSlot?: number;
}

const slotMs = slotSeconds * 1000;

export function createSimTrafficCollector(deps: SimCollectorDeps) {
  let lastSlot: number | null = null;

  async function collectSlot(slot: number, servers: SimServer[]) {
    const atMs = (slot + 1) * slotMs;
    await deps.traffic.recordServers(
      servers.map(({ serverId, projectId, name, region, product, ipv4, hostId }) => ({
        serverId,
        projectId,
        name,
        region,
        product,
        ipv4,
        hostId,
      })),
      atMs,
    );
    const samples = servers.map((s) => ({
      serverId: s.serverId,
      projectId: s.projectId,
      slot,
      ...slotCounters(deps.seed, s.serverId, slot, profileOf(deps.seed, s.serverId, { gpu: s.gpu })),
    }));
    await deps.traffic.ingestSamples(samples);
    const enabled = await deps.flowLogsEnabled();
    const flows: ModelFlow[] = [];
    for (const [i, s] of servers.entries()) {
      const scope = enabled.get(s.projectId);
      if (!scope || !s.ipv4 || (scope !== 'all' && !scope.has(s.serverId))) continue;
      flows.push(
        ...modelFlows({
          seed: deps.seed,
          serverId: s.serverId,
          projectId: s.projectId,
          address: s.ipv4,
          slot,
          count: deps.flowsPerSlot ?? 6,
          bytes: samples[i].rxBytes + samples[i].txBytes,
          sitePeer: deps.sitePeer(s.region),
        }),
      );
    }
    await deps.ingestFlows(flows);
    for (const [i, s] of servers.entries()) {
      if (!s.ipv4) continue;
      const c = samples[i];
      await deps.observe({
        address: s.ipv4,
        projectId: s.projectId,
        serverId: s.serverId,
        detectedBy: 'counters',
        observation: { atMs, pps: c.rxPackets / slotSeconds, bps: (c.rxBytes * 8) / slotSeconds },
      });
    }
    return { servers: servers.length, flows: flows.length };
  }

  return {
    /** Collects every complete slot since the last pass (at most `maxSlots`; the first pass takes one). */
    async collectOnce(nowMs = deps.clock.nowMs(), maxSlots = 12) {
      const last = Math.floor(nowMs / slotMs) - 1;
      const from = lastSlot === null ? last : Math.max(lastSlot + 1, last - maxSlots + 1);
      if (from > last) return { slots: 0 };
      const servers = await deps.servers();
      for (let slot = from; slot <= last; slot++) await collectSlot(slot, servers);
      lastSlot = last;
      await deps.traffic.markGone(Math.floor(nowMs / slotMs) * slotMs - 2 * slotMs);
      return { slots: last - from + 1 };
    },

    /** Fills [fromMs, toMs) with the model's slots for the servers running now (demos, tests). */
    async backfill(fromMs: number, toMs: number) {
      const servers = await deps.servers();
      for (let slot = Math.floor(fromMs / slotMs); slot < Math.floor(toMs / slotMs); slot++) {
        const samples = servers.map((s) => ({
          serverId: s.serverId,
          projectId: s.projectId,
          slot,
          ...slotCounters(deps.seed, s.serverId, slot, profileOf(deps.seed, s.serverId, { gpu: s.gpu })),
        }));
        await deps.traffic.recordServers(
          servers.map(({ serverId, projectId, name, region, product, ipv4, hostId }) => ({
            serverId,
            projectId,
            name,
            region,
            product,
            ipv4,
            hostId,
          })),
          Math.min(fromMs, (slot + 1) * slotMs),
        );
        await deps.traffic.ingestSamples(samples);
      }
      await deps.traffic.rollupRange(fromMs, toMs);
    },

    collectSlot,
  };
}
export type SimTrafficCollector = ReturnType<typeof createSimTrafficCollector>;
