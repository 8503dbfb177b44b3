import { invalid } from '../core/index.ts';
import { numberToIp, parseCidr, type Ipv4Network } from '../network/index.ts';

/** A region's address pool as the control plane hands it out: slots after the gateway, before broadcast. */
export interface Ipv4Pool extends Ipv4Network {
  /** Usable server addresses: all but the network, the gateway (.1) and the broadcast address. */
  size: number;
}

export function parsePool(cidr: string): Ipv4Pool {
  const network = parseCidr(cidr);
  if (!network) throw invalid(`pool ${cidr} must be an IPv4 CIDR from /8 to /30`);
  return { ...network, size: 2 ** (32 - network.prefix) - 3 };
}

/** The address of usable slot `index` (0-based): network + 2 + index, after the gateway. */
export function addressAt(pool: Ipv4Pool, index: number): string {
  if (index < 0 || index >= pool.size) throw invalid(`slot ${index} is outside the pool`);
  return numberToIp(pool.network + 2 + index);
}
