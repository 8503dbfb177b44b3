/**
 * The traffic model of the simulated fleet: what each server sends and receives in each 5-minute slot, so
 * that the numbers of a sim region look like a real one — a diurnal curve (quiet at 04:00 UTC, busiest
 * around 20:00), bursts, a few heavy users, a share of traffic to the provider's own sites (unmetered),
 * and now and then a flood towards one server. Deterministic: the same seed, server and slot give the
 * same numbers on every replica and in every test. Pure.
 */
import { slotSeconds } from './percentile.ts';

/** One server's counters for one 5-minute slot, from the server's point of view (rx: received). */
export interface SlotCounters {
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
  /** The part of rx/tx bytes exchanged with the provider's own sites (unmetered). */
  rxUnmeteredBytes: number;
  txUnmeteredBytes: number;
}

export interface ServerProfile {
  /** Mean outbound rate at the daily peak, bit/s. */
  peakOutBps: number;
  /** Inbound as a share of outbound (web servers send more than they receive). */
  inRatio: number;
  /** Share of the traffic exchanged with the provider's sites. */
  unmeteredShare: number;
  /** Chance that a slot is a burst (×3–×10). */
  burstChance: number;
  heavy: boolean;
}

/** A 32-bit hash of strings and numbers (FNV-1a then a murmur finaliser): the model's only randomness. */
export function hash32(...parts: Array<string | number>): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    const text = `${part}\u0000`;
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform number in [0, 1) from the parts. */
export const uniform = (...parts: Array<string | number>) => hash32(...parts) / 2 ** 32;

/**
 * The profile of a server: 3 % are heavy users (×40), the others' peak rate spread log-uniformly between
 * 0.5 and 40 Mbit/s; GPU products move more data.
 */
export function profileOf(seed: string, serverId: string, options: { gpu?: boolean } = {}): ServerProfile {
  const heavy = uniform(seed, serverId, 'heavy') < 0.03;
  const base = 0.5e6 * Math.pow(80, uniform(seed, serverId, 'rate'));
  return {
    peakOutBps: base * (heavy ? 40 : 1) * (options.gpu ? 4 : 1),
    inRatio: 0.1 + 0.5 * uniform(seed, serverId, 'in'),
    unmeteredShare: 0.05 + 0.3 * uniform(seed, serverId, 'unmetered'),
    burstChance: 0.002 + 0.01 * uniform(seed, serverId, 'burst'),
    heavy,
  };
}

/** The diurnal factor at a time: 0.15 at 04:00 UTC rising to 1 at 20:00 (a smooth cosine). */
export function diurnalFactor(epochMs: number): number {
  const hours = (epochMs / 3_600_000) % 24;
  const phase = ((hours - 20) / 24) * 2 * Math.PI;
  return 0.575 + 0.425 * Math.cos(phase);
}

export interface Flood {
  /** Inbound packets per second of the flood. */
  pps: number;
  bytesPerPacket: number;
  /** The vector the model plays (a UDP reflection from NTP's port, as common as any). */
  vector: 'udp_amplification';
  sourcePort: number;
}

/**
 * Whether a server is flooded in a slot: on about one server-day in 400, a flood of 15–45 minutes starting
 * at a random slot of that day, between 50 000 and 500 000 packets/s.
 */
export function floodAt(seed: string, serverId: string, slot: number): Flood | null {
  const slotsPerDay = 86_400 / slotSeconds;
  const day = Math.floor(slot / slotsPerDay);
  if (uniform(seed, serverId, day, 'flood') >= 1 / 400) return null;
  const start = day * slotsPerDay + Math.floor(uniform(seed, serverId, day, 'flood-start') * (slotsPerDay - 9));
  const length = 3 + Math.floor(uniform(seed, serverId, day, 'flood-length') * 7);
  if (slot < start || slot >= start + length) return null;
  return {
    pps: Math.round(50_000 + 450_000 * uniform(seed, serverId, day, 'flood-pps')),
    bytesPerPacket: 468,
    vector: 'udp_amplification',
    sourcePort: 123,
  };
}

/** The counters of one server in one slot (`slot` = epoch seconds / 300). */
export function slotCounters(seed: string, serverId: string, slot: number, profile?: ServerProfile): SlotCounters {
  const p = profile ?? profileOf(seed, serverId);
  const noise = 0.7 + 0.6 * uniform(seed, serverId, slot, 'noise');
  const burst = uniform(seed, serverId, slot, 'burst') < p.burstChance ? 3 + 7 * uniform(seed, serverId, slot, 'x') : 1;
  const outBps = p.peakOutBps * diurnalFactor(slot * slotSeconds * 1000) * noise * burst;
  const txBytes = Math.round((outBps * slotSeconds) / 8);
  let rxBytes = Math.round(txBytes * p.inRatio);
  let rxPackets = Math.round(rxBytes / 700);
  const flood = floodAt(seed, serverId, slot);
  if (flood) {
    rxPackets += flood.pps * slotSeconds;
    rxBytes += flood.pps * slotSeconds * flood.bytesPerPacket;
  }
  return {
    rxBytes,
    txBytes,
    rxPackets,
    txPackets: Math.round(txBytes / 1200),
    rxUnmeteredBytes: Math.round(rxBytes * (flood ? 0 : p.unmeteredShare)),
    txUnmeteredBytes: Math.round(txBytes * p.unmeteredShare),
  };
}
