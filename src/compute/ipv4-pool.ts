import { invalid } from '../core/index.ts';

/** IPv4 address arithmetic for a region's pool. Pure. */
export interface Ipv4Pool {
  networkInt: number;
  prefixLength: number;
  /** Usable host addresses: all but the network, the gateway (.1) and the broadcast address. */
  size: number;
}

export function ipv4ToInt(address: string): number {
  const parts = address.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw invalid(`not an IPv4 address: ${address}`);
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function intToIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

export function parsePool(cidr: string): Ipv4Pool {
  const [address, prefixText] = cidr.split('/');
  const prefixLength = Number(prefixText);
  if (!Number.isInteger(prefixLength) || prefixLength < 8 || prefixLength > 29) throw invalid(`pool ${cidr} must be a CIDR from /8 to /29`);
  const mask = prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
  const networkInt = (ipv4ToInt(address) & mask) >>> 0;
  return { networkInt, prefixLength, size: 2 ** (32 - prefixLength) - 3 };
}

/** The address of usable slot `index` (0-based): network + 2 + index, after the gateway. */
export function addressAt(pool: Ipv4Pool, index: number): string {
  if (index < 0 || index >= pool.size) throw invalid(`slot ${index} is outside the pool`);
  return intToIpv4(pool.networkInt + 2 + index);
}

export function gatewayOf(pool: Ipv4Pool): string {
  return intToIpv4(pool.networkInt + 1);
}
