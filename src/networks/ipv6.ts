/**
 * IPv6 prefixes of servers, pure: a region's /48 gives one /64 per server (`…:n::/64`, n from 1); an
 * address belongs to a /64 when its first 64 bits match. Addresses are compared in canonical form.
 */
import { isIPv6 } from 'node:net';

/** The 8 groups of an IPv6 address as numbers, or null when it is not one. */
export function ipv6Groups(ip: string): number[] | null {
  if (!isIPv6(ip) || ip.includes('.')) return null;
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, null];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const left = parse(head);
  const right = tail === null ? [] : parse(tail);
  const zeros = tail === null ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<number>(zeros).fill(0), ...right];
}

/** Canonical text (RFC 5952: lowercase, the longest run of zero groups compressed). */
export function formatIpv6(groups: number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** `2001:db8:1::/48` → its first three groups, or null unless it is an IPv6 /48 with zero host bits. */
export function parsePrefix48(cidr: string): number[] | null {
  const [ip, prefix] = cidr.split('/');
  const groups = ipv6Groups(ip ?? '');
  if (!groups || prefix !== '48' || groups.slice(3).some((group) => group !== 0)) return null;
  return groups.slice(0, 3);
}

/** The n-th /64 of a /48 (n from 0 to 65535) as `2001:db8:1:n::/64`. */
export function nthPrefix64(region48: number[], n: number): string {
  return `${formatIpv6([...region48, n, 0, 0, 0, 0])}/64`;
}

/** The index of a /64 inside its /48, as `nthPrefix64` made it. */
export function prefix64Index(prefix: string): number | null {
  const groups = ipv6Groups(prefix.split('/')[0] ?? '');
  return groups ? groups[3] : null;
}

/** Whether `ip` lies in the /64 `prefix` (`2001:db8:1:5::/64`); its canonical form when it does. */
export function addressIn64(prefix: string, ip: string): string | null {
  const net = ipv6Groups(prefix.split('/')[0] ?? '');
  const address = ipv6Groups(ip);
  if (!net || !address) return null;
  for (let i = 0; i < 4; i++) if (net[i] !== address[i]) return null;
  return formatIpv6(address);
}

/** The address the guest uses as its own in a /64: `<prefix>::1`. */
export function firstAddressOf64(prefix: string): string {
  const net = ipv6Groups(prefix.split('/')[0] ?? '')!;
  return formatIpv6([...net.slice(0, 4), 0, 0, 0, 1]);
}
