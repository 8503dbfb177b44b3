/**
 * IPv4 ranges of private networks, pure: parse (network address required), RFC 1918 membership,
 * overlap and containment, the gateway of a subnet, and the first free address of a subnet.
 */
import { ipToNumber, numberToIp } from '../network/index.ts';

export interface Range {
  /** First address as an unsigned 32-bit number. */
  start: number;
  prefix: number;
  /** Number of addresses. */
  size: number;
}

export type RangeProblem = 'malformed' | 'not_aligned' | 'prefix';

/** `10.0.0.0/16` → the range; host bits must be zero. Prefix bounds are the caller's (`minPrefix`–`maxPrefix`). */
export function parseRange(
  cidr: string,
  bounds: { minPrefix: number; maxPrefix: number } = { minPrefix: 0, maxPrefix: 32 },
): Range | RangeProblem {
  const match = /^([0-9.]+)\/([0-9]{1,2})$/.exec(cidr);
  if (!match) return 'malformed';
  const start = ipToNumber(match[1]);
  const prefix = Number(match[2]);
  if (start === null || prefix > 32) return 'malformed';
  if (prefix < bounds.minPrefix || prefix > bounds.maxPrefix) return 'prefix';
  const size = 2 ** (32 - prefix);
  if (start % size !== 0) return 'not_aligned';
  return { start, prefix, size };
}

export const rangeText = (range: Range) => `${numberToIp(range.start)}/${range.prefix}`;

export const overlaps = (a: Range, b: Range) => a.start < b.start + b.size && b.start < a.start + a.size;

export const containsRange = (outer: Range, inner: Range) =>
  inner.start >= outer.start && inner.start + inner.size <= outer.start + outer.size;

export function containsAddress(range: Range, ip: string): boolean {
  const value = ipToNumber(ip);
  return value !== null && value >= range.start && value < range.start + range.size;
}

const rfc1918 = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'].map((cidr) => parseRange(cidr) as Range);

export const isPrivateRange = (range: Range) => rfc1918.some((block) => containsRange(block, range));

/** The subnet's gateway: its first host address (the network address + 1). */
export const gatewayOf = (range: Range) => numberToIp(range.start + 1);

/**
 * The usable host addresses of a subnet for servers: not the network address, not the gateway, not the
 * broadcast address.
 */
export function isAssignable(range: Range, ip: string): boolean {
  const value = ipToNumber(ip);
  if (value === null || !containsAddress(range, ip)) return false;
  return value !== range.start && value !== range.start + 1 && value !== range.start + range.size - 1;
}

/** The lowest assignable address of `range` not in `taken`, or null when the subnet is full. */
export function firstFree(range: Range, taken: ReadonlySet<string>): string | null {
  for (let value = range.start + 2; value < range.start + range.size - 1; value++) {
    const ip = numberToIp(value);
    if (!taken.has(ip)) return ip;
  }
  return null;
}
