import { test } from 'node:test';
import assert from 'node:assert/strict';
import { customerCapacity } from './capacity-view.ts';
import type { RegionCapacity } from '../scheduler/index.ts';

const util = { used: 0, total: 0, pct: 0 };
const region = (code: string, servers: number): RegionCapacity => ({
  region: code,
  hosts: 1,
  activeHosts: 1,
  compute: { ...util, usedVcpus: 0, sellableVcpus: 0 },
  memoryMiB: util,
  diskGiB: util,
  gpus: util,
  products: [
    {
      product: 'vps-nano',
      servers,
      serversWhenEmpty: 100,
      availability: servers === 0 ? 'none' : servers < 10 ? 'scarce' : 'available',
    },
  ],
});

test('customers see availability only, and none where the region is not orderable', () => {
  const statuses = new Map([
    ['fra1', 'operational'],
    ['lon1', 'maintenance'],
  ]);
  assert.deepEqual(customerCapacity([region('fra1', 5), region('lon1', 50)], statuses), [
    { region: 'fra1', orderable: true, products: [{ product: 'vps-nano', availability: 'scarce' }] },
    { region: 'lon1', orderable: false, products: [{ product: 'vps-nano', availability: 'none' }] },
  ]);
});
