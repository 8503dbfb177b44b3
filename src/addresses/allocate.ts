/**
 * Hands out a public address of a region: the lowest free IPv4 address of its pool, or the lowest free
 * /64 of its /48 (from `…:1::/64`). The claim goes through IPAM (networks), so no address is ever held by
 * two floating or primary IPs.
 */
import type { Tx } from '../db/index.ts';
import { conflict } from '../core/index.ts';
import type { IpType } from '../contract/index.ts';
import {
  firstFree,
  nthPrefix64,
  parsePrefix48,
  parseRange,
  publicPool,
  type Ipam,
  type Range,
} from '../networks/index.ts';
import type { RegionAddressPlan } from './plan.ts';

export async function allocatePublicAddress(
  tx: Tx,
  ipam: Ipam,
  input: { region: string; type: IpType; plan: RegionAddressPlan | undefined; ownerId: string; nowIso: string },
): Promise<string> {
  const { plan, region, type } = input;
  if (!plan) throw conflict(`region ${region.toUpperCase()} has no public address pool`, { reason: 'no_public_pool' });
  const pool = publicPool(type, region);
  const taken = await ipam.taken(tx, pool);
  let address: string | null = null;
  if (type === 'ipv4') {
    address = firstFree(parseRange(plan.ipv4) as Range, taken);
  } else {
    const region48 = parsePrefix48(plan.ipv6);
    if (!region48) throw new Error(`address plan of ${region}: ${plan.ipv6} is not an IPv6 /48`);
    for (let n = 1; n <= 0xffff && address === null; n++) {
      const candidate = nthPrefix64(region48, n);
      if (!taken.has(candidate)) address = candidate;
    }
  }
  if (address === null)
    throw conflict(`the ${type} pool of ${region.toUpperCase()} is exhausted`, { reason: 'pool_exhausted' });
  await ipam.claim(tx, pool, address, input.ownerId, input.nowIso);
  return address;
}
