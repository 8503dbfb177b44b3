/**
 * Address prefixes and the billable/unmetered split: traffic to and from the provider's own sites (every
 * region's prefixes, docs/traffic.md) is unmetered; everything else is billable. IPv4 and IPv6, pure.
 */

export interface Prefix {
  family: 4 | 6;
  network: bigint;
  bits: number;
  text: string;
}

function parseIpv4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null;
    value = (value << 8n) | BigInt(Number(part));
  }
  return value;
}

function parseIpv6(text: string): bigint | null {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.split('::').length > 2) return null;
  const [head, tail] = text.includes('::') ? text.split('::') : [text, null];
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const left = groups(head);
  const right = tail === null ? [] : groups(tail);
  const missing = 8 - left.length - right.length;
  if ((tail === null && missing !== 0) || (tail !== null && missing < 1)) return null;
  let value = 0n;
  for (const group of [...left, ...Array.from({ length: tail === null ? 0 : missing }, () => '0'), ...right]) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return null;
    value = (value << 16n) | BigInt(parseInt(group, 16));
  }
  return value;
}

/** An address as (family, value), or null when it is not an IPv4 or IPv6 address. */
export function parseAddress(text: string): { family: 4 | 6; value: bigint } | null {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { family: 4, value: v4 };
  const v6 = parseIpv6(text);
  return v6 === null ? null : { family: 6, value: v6 };
}

/** `10.11.0.0/16` or `2001:db8::/48` → a prefix (host bits must be zero); throws RangeError otherwise. */
export function parsePrefix(text: string): Prefix {
  const [address, bitsText, extra] = text.split('/');
  const parsed = parseAddress(address ?? '');
  const width = parsed?.family === 4 ? 32 : 128;
  const bits = bitsText === undefined ? width : Number(bitsText);
  if (!parsed || extra !== undefined || !Number.isInteger(bits) || bits < 0 || bits > width)
    throw new RangeError(`not a prefix: ${text}`);
  const hostMask = (1n << BigInt(width - bits)) - 1n;
  if ((parsed.value & hostMask) !== 0n) throw new RangeError(`${text} has host bits set`);
  return { family: parsed.family, network: parsed.value, bits, text };
}

export function prefixContains(prefix: Prefix, address: { family: 4 | 6; value: bigint }): boolean {
  if (prefix.family !== address.family) return false;
  const width = prefix.family === 4 ? 32 : 128;
  const shift = BigInt(width - prefix.bits);
  return address.value >> shift === prefix.network >> shift;
}

/** A set of prefixes answering "is this address ours?" (the unmetered set). */
export function createPrefixSet(prefixes: readonly string[]) {
  const parsed = prefixes.map(parsePrefix);
  return {
    prefixes: parsed,
    contains(address: string): boolean {
      const a = parseAddress(address);
      return a !== null && parsed.some((p) => prefixContains(p, a));
    },
    /** The prefixes of one family as nft set elements (`10.11.0.0/16, …`). */
    elements(family: 4 | 6): string[] {
      return parsed.filter((p) => p.family === family).map((p) => p.text);
    },
  };
}
export type PrefixSet = ReturnType<typeof createPrefixSet>;
