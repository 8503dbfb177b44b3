import { test } from 'node:test';
import assert from 'node:assert/strict';
import { vfDevicesOf } from './vf-devices.ts';

const topology = {
  nics: [
    {
      name: 'enp33s0f0',
      pciAddress: '0000:21:00.0',
      numaNode: 0,
      speedGbps: 25,
      vfs: [
        { index: 0, pciAddress: '0000:21:00.2' },
        { index: 1, pciAddress: '0000:21:00.3' },
      ],
    },
    {
      name: 'enp161s0f1',
      pciAddress: '0000:a1:00.1',
      numaNode: 1,
      speedGbps: 25,
      vfs: [{ index: 7, pciAddress: '0000:a1:01.1' }],
    },
  ],
};

test('claimed VFs are named by their physical function and number, in claim order', () => {
  const cases: Array<[string, string[], typeof topology | null, unknown]> = [
    ['no VF', [], topology, []],
    [
      'one VF of the first NIC',
      ['0000:21:00.3'],
      topology,
      [{ pciAddress: '0000:21:00.3', pf: 'enp33s0f0', vfIndex: 1 }],
    ],
    [
      'two VFs, claim order kept',
      ['0000:a1:01.1', '0000:21:00.2'],
      topology,
      [
        { pciAddress: '0000:a1:01.1', pf: 'enp161s0f1', vfIndex: 7 },
        { pciAddress: '0000:21:00.2', pf: 'enp33s0f0', vfIndex: 0 },
      ],
    ],
    ['an address the topology no longer has is left out', ['0000:21:00.9'], topology, []],
    ['no topology (unknown host)', ['0000:21:00.2'], null, []],
  ];
  for (const [name, claimed, topo, expected] of cases) assert.deepEqual(vfDevicesOf(claimed, topo), expected, name);
});
