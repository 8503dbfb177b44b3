import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  containsAddress,
  firstFree,
  gatewayOf,
  isAssignable,
  isPrivateRange,
  overlaps,
  parseRange,
  type Range,
} from './cidr.ts';
import {
  addressIn64,
  firstAddressOf64,
  formatIpv6,
  ipv6Groups,
  nthPrefix64,
  parsePrefix48,
  prefix64Index,
} from './ipv6.ts';

const range = (cidr: string) => parseRange(cidr) as Range;

test('parseRange: malformed, unaligned, prefix bounds', () => {
  const bounds = { minPrefix: 8, maxPrefix: 28 };
  const table: [string, string | number][] = [
    ['10.0.0.0/8', 8],
    ['10.20.0.0/16', 16],
    ['10.20.0.16/28', 28],
    ['10.20.0.0/29', 'prefix'],
    ['10.0.0.0/7', 'prefix'],
    ['10.20.0.1/24', 'not_aligned'],
    ['10.20.0.0', 'malformed'],
    ['10.20.0.300/24', 'malformed'],
    ['10.20.0.0/33', 'malformed'],
  ];
  for (const [cidr, expected] of table) {
    const parsed = parseRange(cidr, bounds);
    assert.equal(typeof parsed === 'string' ? parsed : parsed.prefix, expected, cidr);
  }
});

test('RFC 1918, overlap, containment', () => {
  assert.equal(isPrivateRange(range('10.1.0.0/16')), true);
  assert.equal(isPrivateRange(range('172.31.0.0/16')), true);
  assert.equal(isPrivateRange(range('172.32.0.0/16')), false);
  assert.equal(isPrivateRange(range('192.168.10.0/24')), true);
  assert.equal(isPrivateRange(range('8.0.0.0/8')), false);
  assert.equal(isPrivateRange(range('10.0.0.0/7')), false);
  assert.equal(overlaps(range('10.0.0.0/16'), range('10.0.255.0/24')), true);
  assert.equal(overlaps(range('10.0.0.0/16'), range('10.1.0.0/24')), false);
  assert.equal(overlaps(range('10.1.0.0/24'), range('10.0.0.0/8')), true);
  assert.equal(containsAddress(range('10.1.0.0/24'), '10.1.0.255'), true);
  assert.equal(containsAddress(range('10.1.0.0/24'), '10.1.1.0'), false);
});

test('gateway, assignable addresses, first free', () => {
  const subnet = range('10.1.0.0/29');
  assert.equal(gatewayOf(subnet), '10.1.0.1');
  assert.deepEqual(
    ['10.1.0.0', '10.1.0.1', '10.1.0.2', '10.1.0.6', '10.1.0.7', '10.1.0.8'].map((ip) => isAssignable(subnet, ip)),
    [false, false, true, true, false, false],
  );
  assert.equal(firstFree(subnet, new Set()), '10.1.0.2');
  assert.equal(firstFree(subnet, new Set(['10.1.0.2', '10.1.0.4'])), '10.1.0.3');
  assert.equal(firstFree(subnet, new Set(['10.1.0.2', '10.1.0.3', '10.1.0.4', '10.1.0.5', '10.1.0.6'])), null);
});

test('IPv6: parse, format, /64 of a /48, membership', () => {
  assert.deepEqual(ipv6Groups('2001:db8::1'), [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
  assert.equal(ipv6Groups('10.0.0.1'), null);
  assert.equal(formatIpv6([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1]), '2001:db8::1:0:0:1');
  assert.equal(formatIpv6([0x2001, 0xdb8, 1, 2, 3, 4, 5, 6]), '2001:db8:1:2:3:4:5:6');
  const region = parsePrefix48('2001:db8:7::/48')!;
  assert.deepEqual(region, [0x2001, 0xdb8, 7]);
  assert.equal(parsePrefix48('2001:db8:7::/56'), null);
  assert.equal(parsePrefix48('2001:db8:7:1::/48'), null);
  assert.equal(nthPrefix64(region, 5), '2001:db8:7:5::/64');
  assert.equal(nthPrefix64(region, 0xffff), '2001:db8:7:ffff::/64');
  assert.equal(prefix64Index('2001:db8:7:ff::/64'), 0xff);
  assert.equal(addressIn64('2001:db8:7:5::/64', '2001:DB8:7:5:0::abc'), '2001:db8:7:5::abc');
  assert.equal(addressIn64('2001:db8:7:5::/64', '2001:db8:7:6::1'), null);
  assert.equal(firstAddressOf64('2001:db8:7:5::/64'), '2001:db8:7:5::1');
});
