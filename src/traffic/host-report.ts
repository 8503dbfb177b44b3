/**
 * The control plane's side of a qemu host's traffic report (`POST /v1/agent/hosts/:id/traffic`): samples go
 * into the same accounting the sim fleet's model feeds (`recordServers` + `ingestSamples`, the slot being the
 * idempotency key), flow records into the flow logs of projects that log them, DDoS meter observations into
 * detection (`detectedBy: fast_path`), and drops into their incidents. A host speaks only for its own
 * servers: a sample, flow or observation naming a server or address that is not on the reporting host is
 * refused (counted, never stored). The answer is the mitigation the host should have now.
 */
import type { HostDdosObservation, HostFlowRecord, HostTrafficAnswer, HostTrafficBody } from '../contract/index.ts';
import type { Clock, Logger } from '../core/index.ts';
import type { TrafficService } from './service.ts';

export interface HostServer {
  serverId: string;
  projectId: string;
  name: string;
  region: string;
  product: string;
  ipv4: string | null;
  /** Other addresses of the server (IPv6: any of its /64) that detection may watch. */
  addresses?: string[];
}

export interface HostTrafficDeps {
  clock: Clock;
  log: Logger;
  traffic: Pick<TrafficService, 'recordServers' | 'ingestSamples'>;
  /** The servers placed on the host now (not deleted). */
  serversOf: (hostId: string) => Promise<HostServer[]>;
  flowLogs: {
    enabled: () => Promise<Map<string, Set<string> | 'all'>>;
    ingest: (flows: Array<HostFlowRecord & { projectId: string }>) => Promise<void>;
  };
  ddos: {
    observe: (input: {
      address: string;
      projectId: string;
      serverId: string | null;
      detectedBy: 'fast_path';
      observation: HostDdosObservation;
    }) => Promise<unknown>;
    mitigationsFor: (addresses: readonly string[]) => Promise<HostTrafficAnswer['mitigations']>;
    addDropped: (attackId: string, address: string, packets: number) => Promise<boolean>;
  };
  /** The provider's own prefixes (every region's pools): traffic to and from them is unmetered. */
  unmetered: () => Promise<{ v4: string[]; v6: string[] }>;
  /** The canonical target of an address (an IPv4, an IPv6 /64), or null. */
  targetOf: (address: string) => string | null;
}

export function createHostTrafficReceiver(deps: HostTrafficDeps) {
  return {
    async receive(hostId: string, body: HostTrafficBody): Promise<HostTrafficAnswer> {
      const servers = await deps.serversOf(hostId);
      const byId = new Map(servers.map((s) => [s.serverId, s]));
      const byTarget = new Map<string, HostServer>();
      for (const s of servers)
        for (const a of [s.ipv4, ...(s.addresses ?? [])]) {
          const target = a ? deps.targetOf(a.split('/')[0]) : null;
          if (target) byTarget.set(target, s);
        }
      let refused = 0;

      const samples = (body.samples ?? []).flatMap((sample) => {
        const server = byId.get(sample.serverId);
        if (!server) {
          refused++;
          return [];
        }
        return [{ ...sample, projectId: server.projectId }];
      });
      if (samples.length > 0) {
        const seen = [...new Set(samples.map((s) => s.serverId))].map((id) => byId.get(id)!);
        await deps.traffic.recordServers(
          seen.map((s) => ({
            serverId: s.serverId,
            projectId: s.projectId,
            name: s.name,
            region: s.region,
            product: s.product,
            ipv4: s.ipv4?.split('/')[0] ?? null,
            hostId,
          })),
          Math.min(deps.clock.nowMs(), Math.min(...samples.map((s) => (s.slot + 1) * 300_000))),
        );
        await deps.traffic.ingestSamples(samples);
      }

      if (body.flows?.length) {
        const enabled = await deps.flowLogs.enabled();
        const flows = body.flows.flatMap((f) => {
          const server = byId.get(f.serverId);
          if (!server) {
            refused++;
            return [];
          }
          const scope = enabled.get(server.projectId);
          // A project that does not log flows (or not this server's): the record is not kept.
          if (!scope || (scope !== 'all' && !scope.has(server.serverId))) return [];
          return [{ ...f, projectId: server.projectId }];
        });
        if (flows.length > 0) await deps.flowLogs.ingest(flows);
      }

      for (const o of body.observations ?? []) {
        const target = deps.targetOf(o.address);
        const server = target ? byTarget.get(target) : undefined;
        if (!target || !server) {
          refused++;
          continue;
        }
        await deps.ddos.observe({
          address: target,
          projectId: server.projectId,
          serverId: server.serverId,
          detectedBy: 'fast_path',
          observation: o,
        });
      }

      const answer = await deps.ddos.mitigationsFor([...byTarget.keys()]);
      const attackOf = new Map(answer.map((m) => [m.address, m.attackId]));
      for (const d of body.dropped ?? []) {
        const target = deps.targetOf(d.address);
        if (!target || !byTarget.has(target)) {
          refused++;
          continue;
        }
        const attackId = d.attackId ?? attackOf.get(target);
        if (attackId) await deps.ddos.addDropped(attackId, target, d.packets);
      }
      if (refused > 0) deps.log.warn({ host_id: hostId, refused }, 'traffic report: records of other hosts refused');
      return {
        mitigations: answer,
        refused,
        watch: servers.map((s) => ({
          serverId: s.serverId,
          addresses: [...new Set([s.ipv4, ...(s.addresses ?? [])].filter((a): a is string => !!a))],
        })),
        unmetered: await deps.unmetered(),
      };
    },
  };
}
export type HostTrafficReceiver = ReturnType<typeof createHostTrafficReceiver>;
