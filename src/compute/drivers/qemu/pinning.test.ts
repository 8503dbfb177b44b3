import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCpuList, parseCpusAllowedList, planPinning, type PinPlanEntry } from './pinning.ts';

test('parseCpuList', async (t) => {
  const table: [string, number[]][] = [
    ['0', [0]],
    ['0-1\n', [0, 1]],
    ['0-3,8,10-11', [0, 1, 2, 3, 8, 10, 11]],
    ['', []],
  ];
  for (const [text, expected] of table)
    await t.test(JSON.stringify(text), () => assert.deepEqual(parseCpuList(text), expected));
});

test('parseCpusAllowedList reads the status line', () => {
  const status = 'Name:\tCPU 0/TCG\nCpus_allowed:\t2\nCpus_allowed_list:\t1\nMems_allowed_list:\t0\n';
  assert.deepEqual(parseCpusAllowedList(status), [1]);
  assert.deepEqual(parseCpusAllowedList('Name:\tx\n'), []);
});

test('planPinning', async (t) => {
  const vcpus = [
    { cpuIndex: 1, threadId: 502 },
    { cpuIndex: 0, threadId: 501 },
  ];
  const table: [string, number[], number[], PinPlanEntry[]][] = [
    [
      'every claimed thread exists',
      [1, 0],
      [0, 1],
      [
        { vcpu: 0, threadId: 501, hostThread: 1, action: 'pin' },
        { vcpu: 1, threadId: 502, hostThread: 0, action: 'pin' },
      ],
    ],
    [
      'a claimed thread of a bigger host is skipped with a warning',
      [1, 65],
      [0, 1],
      [
        { vcpu: 0, threadId: 501, hostThread: 1, action: 'pin' },
        {
          vcpu: 1,
          threadId: 502,
          hostThread: 65,
          action: 'skip',
          warning: 'claimed host thread 65 does not exist on this host (online: 0,1); vCPU 1 left unpinned',
        },
      ],
    ],
    [
      'fewer claimed threads than vCPUs',
      [0],
      [0, 1],
      [
        { vcpu: 0, threadId: 501, hostThread: 0, action: 'pin' },
        { vcpu: 1, threadId: 502, hostThread: null, action: 'skip', warning: 'no claimed host thread for vCPU 1' },
      ],
    ],
  ];
  for (const [name, claimed, online, expected] of table)
    await t.test(name, () => assert.deepEqual(planPinning(vcpus, claimed, new Set(online)), expected));
});
