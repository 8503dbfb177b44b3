import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InstanceSpec } from '../driver.ts';
import { fitSpecToHost } from './host-fit.ts';

const spec = { serverId: 'srv_a', numaNodes: [1] } as InstanceSpec;

test('fitSpecToHost', async (t) => {
  const table: [string, number[], number[], number[], string[]][] = [
    ['node exists', [1], [0, 1], [1], []],
    [
      'node missing on a 1-node host',
      [1],
      [0],
      [],
      ['claimed NUMA node(s) 1 do not exist on this host (online: 0); memory left unbound'],
    ],
    [
      'one of two missing',
      [0, 3],
      [0, 1],
      [0],
      ['claimed NUMA node(s) 3 do not exist on this host (online: 0,1); memory bound to 0 only'],
    ],
    ['no claim', [], [0], [], []],
  ];
  for (const [name, claimed, online, expectedNodes, expectedWarnings] of table) {
    await t.test(name, () => {
      const result = fitSpecToHost({ ...spec, numaNodes: claimed }, { threads: [0, 1], numaNodes: online });
      assert.deepEqual(result.spec.numaNodes, expectedNodes);
      assert.deepEqual(result.warnings, expectedWarnings);
    });
  }
});
