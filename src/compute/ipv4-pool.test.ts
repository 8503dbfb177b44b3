import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePool, addressAt } from './ipv4-pool.ts';
import { VmcError } from '../core/index.ts';

test('ipv4 pools: slots after the gateway, before the broadcast address', () => {
  const pool = parsePool('10.12.0.0/16');
  assert.equal(pool.size, 65533);
  assert.equal(addressAt(pool, 0), '10.12.0.2');
  assert.equal(addressAt(pool, 254), '10.12.1.0');
  assert.equal(addressAt(pool, pool.size - 1), '10.12.255.254');
  assert.throws(() => addressAt(pool, pool.size), VmcError);
  assert.equal(addressAt(parsePool('192.168.7.77/24'), 0), '192.168.7.2');
  for (const bad of ['10.0.0.0/7', '10.0.0.0/31', '10.0.0/16', '10.0.0.256/16', 'x/16'])
    assert.throws(() => parsePool(bad), VmcError, bad);
});
