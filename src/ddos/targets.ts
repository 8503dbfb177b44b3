/**
 * What DDoS protection watches and protects, pure: an IPv4 address, or the /64 of an IPv6 address (a
 * server's IPv6 is a whole /64, and an attacker spraying the /64's 2^64 addresses must meet one meter, one
 * baseline and one mitigation table, not a fresh one per address). Every piece that names a target — the
 * meter counters, the detector's state, the mitigation table, the incident, the upstream announcement —
 * goes through `protectedTarget`, so an address and its /64 always resolve to the same one.
 */
import { parseAddress } from '../traffic/index.ts';
import type { Observation } from './detection.ts';

export interface ProtectedTarget {
  family: 4 | 6;
  /** The canonical text: `10.12.0.5` or `2001:db8:0:5::/64` (what incidents and thresholds name). */
  text: string;
  /** The prefix announced upstream: `10.12.0.5/32` or `2001:db8:0:5::/64`. */
  prefix: string;
  /** The nft match of traffic towards it: `ip daddr 10.12.0.5` or `ip6 daddr 2001:db8:0:5::/64`. */
  daddr: string;
  /** Hex used in nft names: 8 digits (IPv4) or 16 (the /64's network bits). */
  hex: string;
}

const v6Mask64 = ((1n << 64n) - 1n) << 64n;

/** `2001:db8:0:5::/64` of a /64's network value (the four high groups, zero-suppressed). */
function text64(network: bigint): string {
  const groups = [3, 2, 1, 0].map((i) => ((network >> BigInt(64 + 16 * i)) & 0xffffn).toString(16));
  return `${groups.join(':')}::/64`;
}

/**
 * The target of an address or prefix: an IPv4 address is itself; an IPv6 address, or an IPv6 prefix of
 * 64 bits or longer, is its /64. Anything else (IPv4 prefixes, IPv6 prefixes shorter than /64, text that
 * is not an address) is a RangeError — it would name more than one server.
 */
export function protectedTarget(input: string): ProtectedTarget {
  const [addressText, bitsText, extra] = input.split('/');
  const parsed = parseAddress(addressText ?? '');
  if (!parsed || extra !== undefined) throw new RangeError(`not an address: ${input}`);
  if (parsed.family === 4) {
    if (bitsText !== undefined && bitsText !== '32') throw new RangeError(`not a single IPv4 address: ${input}`);
    const text = [24, 16, 8, 0].map((s) => Number((parsed.value >> BigInt(s)) & 255n)).join('.');
    return {
      family: 4,
      text,
      prefix: `${text}/32`,
      daddr: `ip daddr ${text}`,
      hex: parsed.value.toString(16).padStart(8, '0'),
    };
  }
  if (bitsText !== undefined && !(/^\d+$/.test(bitsText) && Number(bitsText) >= 64 && Number(bitsText) <= 128))
    throw new RangeError(`an IPv6 target is a /64 (or an address in it): ${input}`);
  const network = parsed.value & v6Mask64;
  const text = text64(network);
  return {
    family: 6,
    text,
    prefix: text,
    daddr: `ip6 daddr ${text}`,
    hex: (network >> 64n).toString(16).padStart(16, '0'),
  };
}

/** The target's canonical text, or null when the input is not one (for validation messages). */
export function targetTextOrNull(input: string): string | null {
  try {
    return protectedTarget(input).text;
  } catch {
    return null;
  }
}

/**
 * Observations of addresses → one observation per target: the rates of addresses sharing a /64 add up
 * (a flood sprayed over a /64 is one flood); IPv4 addresses stay apart. The instant of a target's
 * observation is the latest of its parts.
 */
export function observationsByTarget(
  observations: ReadonlyArray<{ address: string; observation: Observation }>,
): Map<string, Observation> {
  const out = new Map<string, Observation>();
  const add = (a: number | undefined, b: number | undefined) =>
    a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0);
  for (const { address, observation: o } of observations) {
    const key = protectedTarget(address).text;
    const seen = out.get(key);
    out.set(
      key,
      seen
        ? {
            atMs: Math.max(seen.atMs, o.atMs),
            pps: seen.pps + o.pps,
            bps: seen.bps + o.bps,
            synPps: add(seen.synPps, o.synPps),
            udpPps: add(seen.udpPps, o.udpPps),
            icmpPps: add(seen.icmpPps, o.icmpPps),
            reflectorPps: add(seen.reflectorPps, o.reflectorPps),
          }
        : { ...o },
    );
  }
  return out;
}
