import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitOnHost, splitMemoryMiB, type HostFree } from './numa-fit.ts';
import type { Demand } from './demand.ts';

const GiB = 1024;
const free = (cores: number[], memoryGiB: number[], extra: Partial<HostFree> = {}): HostFree => ({
  threadsPerCore: 2,
  freeCores: cores,
  freeMemoryMiB: memoryGiB.map((g) => g * GiB),
  freeGpus: cores.map(() => 0),
  freeVfs: cores.map(() => 8),
  freeDiskGiB: 1000,
  ...extra,
});
const demand = (vcpus: number, memoryGiB: number, extra: Partial<Demand> = {}): Demand => ({
  vcpus,
  memoryMiB: memoryGiB * GiB,
  diskGiB: 10,
  gpuModel: null,
  gpuCount: 0,
  vfs: 0,
  ...extra,
});

test('splitMemoryMiB follows the cores on each node, remainder on the first', async (t) => {
  const cases: Array<[number, number[], number[]]> = [
    [1000, [1], [1000]],
    [1000, [2, 2], [500, 500]],
    [1000, [1, 2], [334, 666]],
    [7, [1, 1, 1], [3, 2, 2]],
  ];
  for (const [memory, cores, expected] of cases)
    await t.test(`${memory} MiB over cores [${cores}]`, () =>
      assert.deepEqual(splitMemoryMiB(memory, cores), expected),
    );
});

test('fitOnHost picks one node by best fit, else the fewest nodes', async (t) => {
  const cases: Array<{ name: string; free: HostFree; demand: Demand; nodes: number[] | null; cores?: number[] }> = [
    {
      name: 'best fit: the fuller node that still fits',
      free: free([10, 4], [64, 64]),
      demand: demand(8, 8),
      nodes: [1],
      cores: [4],
    },
    { name: 'odd vCPUs take whole cores', free: free([3, 10], [64, 64]), demand: demand(5, 8), nodes: [0], cores: [3] },
    { name: 'memory decides the node', free: free([4, 10], [4, 64]), demand: demand(8, 8), nodes: [1], cores: [4] },
    {
      name: 'spans two nodes when no node fits',
      free: free([3, 3], [64, 64]),
      demand: demand(12, 8),
      nodes: [0, 1],
      cores: [3, 3],
    },
    {
      name: 'fewest nodes over three',
      free: free([2, 5, 5], [64, 64, 64]),
      demand: demand(16, 8),
      nodes: [1, 2],
      cores: [5, 3],
    },
    { name: 'no room at all', free: free([2, 2], [64, 64]), demand: demand(16, 8), nodes: null },
    { name: 'disk is per host', free: free([8, 8], [64, 64], { freeDiskGiB: 5 }), demand: demand(2, 1), nodes: null },
    {
      name: 'a GPU pulls the cores to its node',
      free: free([10, 4], [64, 64], { freeGpus: [0, 1] }),
      demand: demand(8, 8, { gpuModel: 't4', gpuCount: 1 }),
      nodes: [1],
      cores: [4],
    },
    {
      name: 'a GPU on a full node makes the server span to reach it',
      free: free([10, 1], [64, 64], { freeGpus: [0, 1] }),
      demand: demand(8, 8, { gpuModel: 't4', gpuCount: 1 }),
      nodes: [0, 1],
      cores: [3, 1],
    },
    {
      name: 'VFs on the node',
      free: free([4, 4], [64, 64], { freeVfs: [0, 2] }),
      demand: demand(2, 1, { vfs: 2 }),
      nodes: [1],
      cores: [1],
    },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const choice = fitOnHost(c.free, c.demand);
      assert.deepEqual(choice?.nodes ?? null, c.nodes);
      if (c.cores) assert.deepEqual(choice?.cores, c.cores);
    });
  }
});
