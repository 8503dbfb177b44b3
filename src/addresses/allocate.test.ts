import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Tx } from '../db/index.ts';
import type { Ipam } from '../networks/index.ts';
import { AddressRace } from '../networks/index.ts';
import { createPublicAddressAllocator, ipv4Candidates, ipv6Candidates } from './allocate.ts';

const plan = { ipv4: '198.51.100.0/29', ipv6: '2001:db8:7::/48' };
const tx = {} as Tx;

/** IPAM over a set: what the database's primary key does, without one. */
function memoryIpam() {
  const held = new Set<string>();
  const key = (pool: string, address: string) => `${pool} ${address}`;
  const ipam = {
    taken: async (_q: unknown, pool: string) =>
      new Set([...held].filter((k) => k.startsWith(`${pool} `)).map((k) => k.slice(pool.length + 1))),
    takenAmong: async (_q: unknown, pool: string, addresses: string[]) =>
      new Set(addresses.filter((address) => held.has(key(pool, address)))),
    async claim(_tx: unknown, pool: string, address: string) {
      if (held.has(key(pool, address))) throw new AddressRace();
      held.add(key(pool, address));
    },
    release: async (_tx: unknown, pool: string, address: string) => void held.delete(key(pool, address)),
  };
  return { ipam: ipam as unknown as Ipam, held, key };
}

const v4 = (allocator: ReturnType<typeof createPublicAddressAllocator>) =>
  allocator.allocate(tx, { region: 'fra1', type: 'ipv4', plan, ownerId: 'x', nowIso: '' });

test('pool candidates: IPv4 skips network, gateway and broadcast; IPv6 /64s from :1', () => {
  const range = { start: 0xc6336400, prefix: 29, size: 8 };
  const c4 = ipv4Candidates(range);
  assert.equal(c4.count, 5);
  assert.deepEqual([c4.at(0), c4.at(4)], ['198.51.100.2', '198.51.100.6']);
  assert.equal(c4.indexOf('198.51.100.4'), 2);
  assert.equal(c4.indexOf('198.51.100.1'), null);
  assert.equal(c4.indexOf('198.51.100.7'), null);
  const c6 = ipv6Candidates([0x2001, 0xdb8, 7]);
  assert.equal(c6.at(0), '2001:db8:7:1::/64');
  assert.equal(c6.indexOf('2001:db8:7:ff::/64'), 0xfe);
  assert.equal(c6.indexOf('2001:db8:7::/64'), null);
});

test('the allocator hands out the lowest free address, again after a release, and says when the pool is full', async () => {
  const { ipam } = memoryIpam();
  const allocator = createPublicAddressAllocator(ipam);
  const got = [];
  for (let i = 0; i < 5; i++) got.push(await v4(allocator));
  assert.deepEqual(got, ['198.51.100.2', '198.51.100.3', '198.51.100.4', '198.51.100.5', '198.51.100.6']);
  await assert.rejects(v4(allocator), { reason: 'pool_exhausted' });
  await ipam.release(tx, 'public4:fra1', '198.51.100.3');
  allocator.released('ipv4', 'fra1', plan, '198.51.100.3');
  assert.equal(await v4(allocator), '198.51.100.3');
});

test('an address freed by another replica is found by the pass from the start before the pool is called full', async () => {
  const { ipam, held, key } = memoryIpam();
  const mine = createPublicAddressAllocator(ipam);
  for (let i = 0; i < 5; i++) await v4(mine);
  held.delete(key('public4:fra1', '198.51.100.2')); // released elsewhere: this process's hint never heard of it
  assert.equal(await v4(mine), '198.51.100.2');
});

test('an address another replica took since the last look is skipped, never handed out twice', async () => {
  const { ipam, held, key } = memoryIpam();
  const mine = createPublicAddressAllocator(ipam);
  assert.equal(await v4(mine), '198.51.100.2');
  held.add(key('public4:fra1', '198.51.100.3'));
  held.add(key('public4:fra1', '198.51.100.4'));
  assert.equal(await v4(mine), '198.51.100.5');
  const v6 = await mine.allocate(tx, { region: 'fra1', type: 'ipv6', plan, ownerId: 'y', nowIso: '' });
  assert.equal(v6, '2001:db8:7:1::/64');
});
