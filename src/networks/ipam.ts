/**
 * IPAM: addresses handed out from pools, each recorded in `address_allocations` whose primary key
 * (pool, address) makes a second hand-out of one address impossible. A chooser picks the lowest free
 * address it knows of; two transactions that pick the same one collide on the key, and the loser is run
 * again (`retryOnAddressRace`), seeing the winner's row.
 */
import { isUniqueViolation, type Db, type Tx } from '../db/index.ts';
import { createNetworkStore } from './store.ts';
import { dialectOfDb } from '../db/index.ts';

export const privatePool = (networkId: string) => `net:${networkId}`;
export const publicPool = (type: 'ipv4' | 'ipv6', region: string) => `public${type === 'ipv4' ? 4 : 6}:${region}`;

/** A collision of two hand-outs of one address (the loser retries, or reports `ip_taken` for an asked address). */
export class AddressRace extends Error {
  constructor() {
    super('address race');
  }
}

export function createIpam(db: Db) {
  const store = createNetworkStore(db, dialectOfDb(db));
  return {
    taken: async (q: Tx | Db, pool: string) => new Set(await store.taken(q, pool)),
    takenAmong: async (q: Tx | Db, pool: string, addresses: string[]) =>
      new Set(await store.takenAmong(q, pool, addresses)),
    /** Records the address; a collision throws AddressRace (the transaction must be run again). */
    async claim(tx: Tx, pool: string, address: string, ownerId: string, nowIso: string): Promise<void> {
      try {
        await store.allocate(tx, pool, address, ownerId, nowIso);
      } catch (error) {
        if (isUniqueViolation(error)) throw new AddressRace();
        throw error;
      }
    },
    release: (tx: Tx, pool: string, address: string) => store.release(tx, pool, address),
  };
}

export type Ipam = ReturnType<typeof createIpam>;

/** Runs `work` (a whole transaction) again while it loses address races, up to `attempts` times. */
export async function retryOnAddressRace<T>(
  work: () => Promise<T>,
  onExhausted: () => Error,
  attempts = 20,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof AddressRace)) throw error;
      if (attempt >= attempts) throw onExhausted();
    }
  }
}
