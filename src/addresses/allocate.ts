/**
 * Hands out a public address of a region: the lowest free IPv4 address of its pool, or the lowest free
 * /64 of its /48 (from `…:1::/64`). The claim goes through IPAM (networks), so no address is ever held by
 * two floating or primary IPs.
 *
 * A pool is an ordered list of candidates. The allocator keeps, per pool and per process, the index below
 * which every candidate is known to be taken (the hint), and checks candidates from there in batches of
 * one indexed query: a create costs a query or two whatever the pool's fill, instead of reading every taken
 * address. The hint is only a starting point — the primary key of `address_allocations` decides — so what
 * it misses costs at most one pass from the start: a release in this process lowers it; an address freed by
 * another replica, or left free by a rolled-back transaction, is found when the pass from the hint reaches
 * the end of the pool and the allocator looks again from the start before saying the pool is exhausted.
 */
import type { Tx } from '../db/index.ts';
import { conflict } from '../core/index.ts';
import type { IpType } from '../contract/index.ts';
import { ipToNumber, numberToIp } from '../network/index.ts';
import {
  nthPrefix64,
  parsePrefix48,
  parseRange,
  prefix64Index,
  publicPool,
  type Ipam,
  type Range,
} from '../networks/index.ts';
import type { RegionAddressPlan } from './plan.ts';

/** The ordered candidates of a pool: `count` of them, the i-th by `at(i)`, and back from an address. */
export interface PoolCandidates {
  count: number;
  at(index: number): string;
  indexOf(address: string): number | null;
}

/** IPv4: the range's addresses but the network address, the gateway (`.1`) and the broadcast address. */
export function ipv4Candidates(range: Range): PoolCandidates {
  const first = range.start + 2;
  const count = Math.max(0, range.size - 3);
  return {
    count,
    at: (index) => numberToIp(first + index),
    indexOf(address) {
      const value = ipToNumber(address);
      const index = value === null ? -1 : value - first;
      return index >= 0 && index < count ? index : null;
    },
  };
}

/** IPv6: the /64s of a /48 from `…:1::/64` to `…:ffff::/64`. */
export function ipv6Candidates(region48: number[]): PoolCandidates {
  return {
    count: 0xffff,
    at: (index) => nthPrefix64(region48, index + 1),
    indexOf(address) {
      const n = prefix64Index(address);
      return n === null || n < 1 ? null : n - 1;
    },
  };
}

const batchSize = 64;

export function createPublicAddressAllocator(ipam: Ipam) {
  /** Per pool: every candidate below this index was taken when last looked at. */
  const hints = new Map<string, number>();

  function candidatesOf(type: IpType, region: string, plan: RegionAddressPlan): PoolCandidates {
    if (type === 'ipv4') return ipv4Candidates(parseRange(plan.ipv4) as Range);
    const region48 = parsePrefix48(plan.ipv6);
    if (!region48) throw new Error(`address plan of ${region}: ${plan.ipv6} is not an IPv6 /48`);
    return ipv6Candidates(region48);
  }

  /** The first free candidate from `from` to the end, checked `batchSize` at a time; -1 when none is. */
  async function firstFreeFrom(tx: Tx, pool: string, candidates: PoolCandidates, from: number): Promise<number> {
    for (let start = from; start < candidates.count; start += batchSize) {
      const batch: string[] = [];
      for (let i = start; i < Math.min(start + batchSize, candidates.count); i++) batch.push(candidates.at(i));
      const taken = await ipam.takenAmong(tx, pool, batch);
      const free = batch.findIndex((address) => !taken.has(address));
      if (free >= 0) return start + free;
    }
    return -1;
  }

  return {
    async allocate(
      tx: Tx,
      input: { region: string; type: IpType; plan: RegionAddressPlan | undefined; ownerId: string; nowIso: string },
    ): Promise<string> {
      const { plan, region, type } = input;
      if (!plan)
        throw conflict(`region ${region.toUpperCase()} has no public address pool`, { reason: 'no_public_pool' });
      const pool = publicPool(type, region);
      const candidates = candidatesOf(type, region, plan);
      const hint = Math.min(hints.get(pool) ?? 0, candidates.count);
      let index = await firstFreeFrom(tx, pool, candidates, hint);
      if (index < 0 && hint > 0) index = await firstFreeFrom(tx, pool, candidates, 0);
      if (index < 0)
        throw conflict(`the ${type} pool of ${region.toUpperCase()} is exhausted`, { reason: 'pool_exhausted' });
      // Moved past at once: if this transaction loses the address to another, the next try starts after it.
      hints.set(pool, index + 1);
      const address = candidates.at(index);
      await ipam.claim(tx, pool, address, input.ownerId, input.nowIso);
      return address;
    },

    /** An address of this region's pool was released: the next allocation may take it again. */
    released(type: IpType, region: string, plan: RegionAddressPlan | undefined, address: string): void {
      if (!plan) return;
      const pool = publicPool(type, region);
      const index = candidatesOf(type, region, plan).indexOf(address);
      if (index !== null && index < (hints.get(pool) ?? 0)) hints.set(pool, index);
    },
  };
}

export type PublicAddressAllocator = ReturnType<typeof createPublicAddressAllocator>;
