import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pickLowest, threadsForVcpus } from './pinning.ts';

test('pickLowest takes the lowest free ids', () => {
  assert.deepEqual(pickLowest([3, 5, 9, 12], 2), [3, 5]);
  assert.deepEqual(pickLowest([3], 1), [3]);
});

test('vCPU i runs on sibling threads of whole cores', async (t) => {
  const cases: Array<[number[][], number, number[]]> = [
    [[[2, 66]], 1, [2]],
    [[[2, 66]], 2, [2, 66]],
    [
      [
        [2, 66],
        [3, 67],
      ],
      3,
      [2, 66, 3],
    ],
    [[[4], [5], [6]], 3, [4, 5, 6]],
  ];
  for (const [cores, vcpus, threads] of cases)
    await t.test(`${vcpus} vCPUs on cores ${JSON.stringify(cores)}`, () =>
      assert.deepEqual(threadsForVcpus(cores, vcpus), threads),
    );
});
