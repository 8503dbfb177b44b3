import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrefixSet, parseAddress, parsePrefix } from './prefixes.ts';

test('prefixes: parse, contain, refuse', async (t) => {
  const set = createPrefixSet(['10.11.0.0/16', '10.12.0.0/16', '2001:db8:11::/48']);
  const cases: Array<[string, boolean]> = [
    ['10.11.3.4', true],
    ['10.12.255.255', true],
    ['10.13.0.1', false],
    ['8.8.8.8', false],
    ['2001:db8:11::1', true],
    ['2001:db8:12::1', false],
    ['::1', false],
    ['not-an-address', false],
    ['10.11.0.256', false],
  ];
  for (const [address, inside] of cases) await t.test(address, () => assert.equal(set.contains(address), inside));
  assert.deepEqual(set.elements(4), ['10.11.0.0/16', '10.12.0.0/16']);
  assert.deepEqual(set.elements(6), ['2001:db8:11::/48']);
  assert.throws(() => parsePrefix('10.11.0.1/16'), /host bits/);
  assert.throws(() => parsePrefix('10.11.0.0/33'), RangeError);
  assert.throws(() => parsePrefix('1:2:3:4:5:6:7:8:9/64'), RangeError);
  assert.equal(parseAddress('2001:db8::')?.value, 0x20010db8n << 96n);
  assert.equal(parsePrefix('0.0.0.0/0').bits, 0);
});
