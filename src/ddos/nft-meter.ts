/**
 * The fast path's eyes: a meter table (`inet vmcloud_ddos_meter`) counting, per protected target (an IPv4
 * address, or the /64 of an IPv6 address: targets.ts), inbound packets, bytes, SYNs, UDP, ICMP and UDP from
 * reflector ports — at priority -300 in prerouting, before any
 * mitigation drops, so an attack stays visible while it is mitigated. Read every second; the difference of
 * two readings is the per-second observation the detector takes.
 */
import { reflectorPorts, type Observation } from './detection.ts';
import { protectedTarget } from './targets.ts';

export const meterTable = 'vmcloud_ddos_meter';

/** The counters' infix of a target: `10_12_0_5` (IPv4, as before), `6_20010db800000005` (a /64). */
const key = (address: string) => {
  const target = protectedTarget(address);
  return target.family === 4 ? target.text.replace(/\./g, '_') : `6_${target.hex}`;
};

const kinds = ['all', 'syn', 'udp', 'icmp', 'refl'] as const;

/** The meter table for a set of targets (replaced whole with `nft -f -`); addresses of one /64 count once. */
export function meterRuleset(addresses: readonly string[]): string {
  const targets = [...new Map(addresses.map((a) => [protectedTarget(a).text, protectedTarget(a)])).values()];
  const lines = [`table inet ${meterTable} {}`, `flush table inet ${meterTable}`, `table inet ${meterTable} {`];
  for (const t of targets) for (const kind of kinds) lines.push(`  counter m_${key(t.text)}_${kind} {}`);
  lines.push('  chain observe {', '    type filter hook prerouting priority -300; policy accept;');
  for (const t of targets) {
    const k = key(t.text);
    lines.push(
      `    ${t.daddr} counter name m_${k}_all`,
      `    ${t.daddr} tcp flags & (syn | ack) == syn counter name m_${k}_syn`,
      `    ${t.daddr} meta l4proto udp counter name m_${k}_udp`,
      `    ${t.daddr} meta l4proto ${t.family === 4 ? 'icmp' : 'ipv6-icmp'} counter name m_${k}_icmp`,
      `    ${t.daddr} udp sport { ${reflectorPorts.join(', ')} } counter name m_${k}_refl`,
    );
  }
  lines.push('  }', '}');
  return `${lines.join('\n')}\n`;
}

/** `nft -j list counters …` → name → { packets, bytes }. */
export function parseNftCountersJson(json: string): Map<string, { packets: number; bytes: number }> {
  const out = new Map<string, { packets: number; bytes: number }>();
  const doc = JSON.parse(json) as {
    nftables?: Array<{ counter?: { name?: string; packets?: number; bytes?: number } }>;
  };
  for (const item of doc.nftables ?? [])
    if (item.counter?.name)
      out.set(item.counter.name, {
        packets: Number(item.counter.packets ?? 0),
        bytes: Number(item.counter.bytes ?? 0),
      });
  return out;
}

export interface MeterReading {
  atMs: number;
  counters: Map<string, { packets: number; bytes: number }>;
}

/** The observation of one target (an IPv4 address, an IPv6 address's /64) between two readings (rates per second). */
export function observationOf(address: string, before: MeterReading, after: MeterReading): Observation {
  const seconds = Math.max(0.001, (after.atMs - before.atMs) / 1000);
  const k = key(address);
  const delta = (kind: string, field: 'packets' | 'bytes') =>
    Math.max(
      0,
      (after.counters.get(`m_${k}_${kind}`)?.[field] ?? 0) - (before.counters.get(`m_${k}_${kind}`)?.[field] ?? 0),
    );
  return {
    atMs: after.atMs,
    pps: delta('all', 'packets') / seconds,
    bps: (delta('all', 'bytes') * 8) / seconds,
    synPps: delta('syn', 'packets') / seconds,
    udpPps: delta('udp', 'packets') / seconds,
    icmpPps: delta('icmp', 'packets') / seconds,
    reflectorPps: delta('refl', 'packets') / seconds,
  };
}
