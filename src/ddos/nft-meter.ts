/**
 * The fast path's eyes: a meter table (`inet vmcloud_ddos_meter`) counting, per protected address, inbound
 * packets, bytes, SYNs, UDP and UDP from reflector ports — at priority -300 in prerouting, before any
 * mitigation drops, so an attack stays visible while it is mitigated. Read every second; the difference of
 * two readings is the per-second observation the detector takes.
 */
import { reflectorPorts, type Observation } from './detection.ts';

export const meterTable = 'vmcloud_ddos_meter';

const key = (address: string) => address.replace(/\./g, '_');

/** The meter table for a set of addresses (replaced whole with `nft -f -`). */
export function meterRuleset(addresses: readonly string[]): string {
  for (const a of addresses) if (!/^(\d{1,3}\.){3}\d{1,3}$/.test(a)) throw new RangeError(`not an IPv4 address: ${a}`);
  const lines = [`table inet ${meterTable} {}`, `flush table inet ${meterTable}`, `table inet ${meterTable} {`];
  for (const a of addresses)
    for (const kind of ['all', 'syn', 'udp', 'refl']) lines.push(`  counter m_${key(a)}_${kind} {}`);
  lines.push('  chain observe {', '    type filter hook prerouting priority -300; policy accept;');
  for (const a of addresses) {
    const k = key(a);
    lines.push(
      `    ip daddr ${a} counter name m_${k}_all`,
      `    ip daddr ${a} tcp flags & (syn | ack) == syn counter name m_${k}_syn`,
      `    ip daddr ${a} meta l4proto udp counter name m_${k}_udp`,
      `    ip daddr ${a} udp sport { ${reflectorPorts.join(', ')} } counter name m_${k}_refl`,
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

/** The observation of one address between two readings (rates per second). */
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
    reflectorPps: delta('refl', 'packets') / seconds,
  };
}
