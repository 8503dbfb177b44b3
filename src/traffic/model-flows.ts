/**
 * Flow records of the simulated fleet, consistent with the traffic model: each slot of a server splits
 * into a handful of flows (HTTPS and HTTP visitors, SSH, DNS, a backup to another site), with peers from
 * documentation ranges (198.51.100.0/24, 203.0.113.0/24 — never a real address) or the provider's own
 * prefixes; a few inbound probes are dropped by the firewall. Deterministic, pure.
 */
import { uniform } from './model.ts';
import { slotSeconds } from './percentile.ts';

export interface ModelFlow {
  serverId: string;
  projectId: string;
  direction: 'in' | 'out';
  srcAddr: string;
  dstAddr: string;
  srcPort: number;
  dstPort: number;
  protocol: number;
  packets: number;
  bytes: number;
  startMs: number;
  endMs: number;
  action: 'accept' | 'drop';
  rule: string | null;
}

const services = [
  { port: 443, protocol: 6, weight: 0.55 },
  { port: 80, protocol: 6, weight: 0.15 },
  { port: 22, protocol: 6, weight: 0.05 },
  { port: 53, protocol: 17, weight: 0.1 },
  { port: 3306, protocol: 6, weight: 0.05 },
  { port: 51820, protocol: 17, weight: 0.1 },
];

function pick(u: number) {
  let acc = 0;
  for (const s of services) {
    acc += s.weight;
    if (u < acc) return s;
  }
  return services[0];
}

/**
 * `count` flows of one server in one slot. `sitePeer` is an address at another of the provider's sites
 * (unmetered traffic goes there).
 */
export function modelFlows(input: {
  seed: string;
  serverId: string;
  projectId: string;
  address: string;
  slot: number;
  count: number;
  bytes: number;
  sitePeer: string;
}): ModelFlow[] {
  const { seed, serverId, slot } = input;
  const slotStartMs = slot * slotSeconds * 1000;
  const out: ModelFlow[] = [];
  for (let i = 0; i < input.count; i++) {
    const u = (tag: string) => uniform(seed, serverId, slot, i, tag);
    const service = pick(u('service'));
    const toSite = u('site') < 0.1;
    const peer = toSite
      ? input.sitePeer
      : `${u('range') < 0.5 ? '198.51.100' : '203.0.113'}.${1 + Math.floor(u('host') * 254)}`;
    const inbound = u('dir') < 0.7;
    const probe = inbound && u('probe') < 0.03;
    const bytes = probe ? 60 : Math.max(64, Math.round((input.bytes / input.count) * (0.2 + 1.6 * u('share'))));
    const startMs = slotStartMs + Math.floor(u('start') * slotSeconds * 900);
    const ephemeral = 32768 + Math.floor(u('eph') * 28000);
    out.push({
      serverId,
      projectId: input.projectId,
      direction: inbound ? 'in' : 'out',
      srcAddr: inbound ? peer : input.address,
      dstAddr: inbound ? input.address : peer,
      srcPort: inbound ? ephemeral : service.port === 443 ? ephemeral : 40000 + i,
      dstPort: probe ? 23 : inbound ? service.port : service.port,
      protocol: probe ? 6 : service.protocol,
      packets: probe ? 1 : Math.max(1, Math.round(bytes / 900)),
      bytes,
      startMs,
      endMs: startMs + (probe ? 0 : Math.floor(u('dur') * 60_000)),
      action: probe ? 'drop' : 'accept',
      rule: probe ? 'firewall:default-deny' : null,
    });
  }
  return out;
}
