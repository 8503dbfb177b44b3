/**
 * IPv4 address pools of a region (e.g. 10.20.0.0/24 per host bridge): the gateway is the first host
 * address (the bridge), servers get the next free ones. Pure functions on numbers.
 */
export interface Ipv4Network {
  /** Network address as a 32-bit unsigned number. */
  network: number;
  prefix: number;
}

export function ipToNumber(ip: string): number | null {
  const parts = ip.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null;
    value = value * 256 + Number(part);
  }
  return value;
}

export function numberToIp(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** `10.20.0.7/24` → { network: 10.20.0.0, prefix: 24 } (host bits cleared). */
export function parseCidr(cidr: string): Ipv4Network | null {
  const [ip, prefixText] = cidr.split('/');
  const address = ipToNumber(ip ?? '');
  const prefix = Number(prefixText);
  if (address === null || !Number.isInteger(prefix) || prefix < 8 || prefix > 30) return null;
  const size = 2 ** (32 - prefix);
  return { network: Math.floor(address / size) * size, prefix };
}

export function gatewayCidr(pool: Ipv4Network): string {
  return `${numberToIp(pool.network + 1)}/${pool.prefix}`;
}

/** The first free host address of `pool` (after the gateway), as `a.b.c.d/prefix`, or null when full. */
export function allocateAddress(pool: Ipv4Network, taken: string[]): string | null {
  const used = new Set(taken.map((cidr) => ipToNumber(cidr.split('/')[0])));
  const size = 2 ** (32 - pool.prefix);
  for (let offset = 2; offset < size - 1; offset++) {
    const candidate = pool.network + offset;
    if (!used.has(candidate)) return `${numberToIp(candidate)}/${pool.prefix}`;
  }
  return null;
}
