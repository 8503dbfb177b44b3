import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  backoffDelayMs,
  defaultRetryPolicy,
  gateOperations,
  operationKey,
  planOperations,
  recordFailure,
  reportedInstances,
  retryDelayMs,
  type DesiredInstance,
  type DriverOperation,
  type RetryPolicy,
  type RetryState,
} from './plan.ts';
import type { ObservedInstance } from '../compute/index.ts';

const spec = (serverId: string) => ({
  serverId,
  hostname: serverId,
  vcpus: 1,
  memoryMiB: 1024,
  diskGiB: 10,
  image: 'debian-12',
  threads: [4],
  numaNodes: [0],
  gpus: [],
  vfs: [],
  sshKeys: [],
  userData: null,
  ipv4: null,
});
const want = (
  serverId: string,
  desired: DesiredInstance['desired'],
  rebootGeneration = 0,
  forceStop = false,
): DesiredInstance => ({ spec: spec(serverId), desired, rebootGeneration, forceStop });
const have = (serverId: string, power: ObservedInstance['power'], rebootGeneration = 0): ObservedInstance => ({
  serverId,
  power,
  rebootGeneration,
});
const describeOp = (op: DriverOperation) =>
  `${op.kind} ${op.serverId}${op.kind === 'stop' && op.force ? ' force' : ''}`;

test('planOperations', async (t) => {
  const table: Array<[string, DesiredInstance[], ObservedInstance[], string[]]> = [
    ['new server boots', [want('a', 'running')], [], ['start a']],
    ['running stays', [want('a', 'running')], [have('a', 'running')], []],
    ['a half-done boot is resumed', [want('a', 'running')], [have('a', 'starting')], ['start a']],
    ['stopped server starts', [want('a', 'running')], [have('a', 'stopped')], ['start a']],
    ['crashed server restarts', [want('a', 'running')], [have('a', 'crashed')], ['start a']],
    ['failed server is started again', [want('a', 'running')], [have('a', 'failed')], ['start a']],
    ['reboot pending', [want('a', 'running', 2)], [have('a', 'running', 1)], ['reboot a']],
    ['reboot done', [want('a', 'running', 2)], [have('a', 'running', 2)], []],
    ['stop', [want('a', 'stopped')], [have('a', 'running')], ['stop a']],
    ['forced stop', [want('a', 'stopped', 0, true)], [have('a', 'starting')], ['stop a force']],
    ['stopping is left alone', [want('a', 'stopped')], [have('a', 'stopping')], []],
    ['stopped stays', [want('a', 'stopped')], [have('a', 'stopped')], []],
    ['delete', [want('a', 'deleted')], [have('a', 'running')], ['destroy a']],
    ['deleted and gone', [want('a', 'deleted')], [], []],
    ['orphan destroyed', [], [have('x', 'running')], ['destroy x']],
  ];
  for (const [name, desired, observed, expected] of table)
    await t.test(name, () => assert.deepEqual(planOperations(desired, observed).map(describeOp), expected));
});

const policy: RetryPolicy = { baseDelayMs: 1000, maxDelayMs: 60_000, jitterRatio: 0.5, maxAttempts: 4 };

test('backoffDelayMs', async (t) => {
  const table: [string, number, RetryPolicy, number, number][] = [
    ['first failure, no jitter drawn', 1, policy, 0, 1000],
    ['doubles', 2, policy, 0, 2000],
    ['doubles again', 4, policy, 0, 8000],
    ['capped', 7, policy, 0, 60_000],
    ['stays capped after many failures', 500, policy, 0, 60_000],
    ['jitter takes up to half off', 2, policy, 0.999, 1001],
    ['half jitter', 3, policy, 0.5, 3000],
    ['capped, with jitter', 9, policy, 0.5, 45_000],
    ['no jitter configured', 3, { ...policy, jitterRatio: 0 }, 0.9, 4000],
    ['zeroth failure behaves as the first', 0, policy, 0, 1000],
  ];
  for (const [name, failures, retryPolicy, random, expected] of table)
    await t.test(name, () => assert.equal(backoffDelayMs(failures, retryPolicy, random), expected));
});

test('retryDelayMs', async (t) => {
  const table: [string, number, number, number][] = [
    ['below maxAttempts: the backoff', 2, 0, 2000],
    ['last before giving up', 3, 0, 4000],
    ['given up: the cap', 4, 0, 60_000],
    ['given up: the cap, with jitter', 9, 0.5, 45_000],
  ];
  for (const [name, failures, random, expected] of table)
    await t.test(name, () => assert.equal(retryDelayMs(failures, policy, random), expected));
});

test('the default policy: 5 attempts over ≈15 s, then one every 2.5–5 min', () => {
  const delays = [1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(n, defaultRetryPolicy, 0));
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 300_000, 300_000]);
  assert.equal(retryDelayMs(5, defaultRetryPolicy, 0.999), 150_150);
});

test('operationKey', async (t) => {
  const table: [string, DriverOperation, string][] = [
    ['start', { kind: 'start', serverId: 'a', spec: spec('a'), rebootGeneration: 3 }, 'start'],
    ['graceful stop', { kind: 'stop', serverId: 'a', force: false }, 'stop'],
    ['forced stop', { kind: 'stop', serverId: 'a', force: true }, 'stop:force'],
    ['reboot', { kind: 'reboot', serverId: 'a', rebootGeneration: 7, spec: spec('a') }, 'reboot:7'],
    ['destroy', { kind: 'destroy', serverId: 'a' }, 'destroy'],
  ];
  for (const [name, op, expected] of table) await t.test(name, () => assert.equal(operationKey(op), expected));
});

const startA: DriverOperation = { kind: 'start', serverId: 'a', spec: spec('a'), rebootGeneration: 0 };
const stopA: DriverOperation = { kind: 'stop', serverId: 'a', force: false };
const failing = (failures: number, nextAttemptAtMs: number, operation = 'start'): RetryState => ({
  operation,
  kind: operation === 'start' ? 'start' : 'stop',
  failures,
  lastError: 'image debian-12 has no file on this host',
  nextAttemptAtMs,
});

test('recordFailure', async (t) => {
  const table: [string, RetryState | undefined, DriverOperation, RetryState][] = [
    [
      'first failure',
      undefined,
      startA,
      { operation: 'start', kind: 'start', failures: 1, lastError: 'boom', nextAttemptAtMs: 10_000 + 1000 },
    ],
    [
      'same operation again',
      failing(2, 0),
      startA,
      { operation: 'start', kind: 'start', failures: 3, lastError: 'boom', nextAttemptAtMs: 10_000 + 4000 },
    ],
    [
      'another operation starts afresh',
      failing(3, 0),
      stopA,
      { operation: 'stop', kind: 'stop', failures: 1, lastError: 'boom', nextAttemptAtMs: 10_000 + 1000 },
    ],
  ];
  for (const [name, previous, op, expected] of table)
    await t.test(name, () => assert.deepEqual(recordFailure(previous, op, 'boom', 10_000, policy, 0), expected));
});

test('gateOperations', async (t) => {
  const startB: DriverOperation = { kind: 'start', serverId: 'b', spec: spec('b'), rebootGeneration: 0 };
  const table: [string, DriverOperation[], [string, RetryState][], string[], string[], string[]][] = [
    ['nothing failing', [startA, startB], [], ['start a', 'start b'], [], []],
    ['backoff not over: a waits, b runs', [startA, startB], [['a', failing(1, 5000)]], ['start b'], ['start a'], []],
    ['backoff over: a runs again', [startA], [['a', failing(1, 999)]], ['start a'], [], []],
    ['desired changed: the old failure no longer applies', [stopA], [['a', failing(3, 5000)]], ['stop a'], [], ['a']],
    ['converged or gone: nothing planned', [], [['a', failing(5, 5000)]], [], [], ['a']],
  ];
  for (const [name, ops, retries, ready, waiting, settled] of table) {
    await t.test(name, () => {
      const gated = gateOperations(ops, new Map(retries), 1000);
      assert.deepEqual(gated.ready.map(describeOp), ready);
      assert.deepEqual(gated.waiting.map(describeOp), waiting);
      assert.deepEqual(gated.settled, settled);
    });
  }
});

test('reportedInstances', async (t) => {
  const table: [string, ObservedInstance[], [string, RetryState][], ObservedInstance[]][] = [
    ['no failures: the driver speaks', [have('a', 'running')], [], [have('a', 'running')]],
    [
      'failing, not given up yet: the driver speaks',
      [have('a', 'stopped')],
      [['a', failing(3, 0)]],
      [have('a', 'stopped')],
    ],
    [
      'given up, no instance: listed failed',
      [have('b', 'running')],
      [['a', failing(4, 0)]],
      [
        have('b', 'running'),
        {
          serverId: 'a',
          power: 'failed',
          rebootGeneration: 0,
          detail: 'start failed 4 times: image debian-12 has no file on this host',
        },
      ],
    ],
    [
      'given up with an instance: failed replaces it, generation kept',
      [have('a', 'running', 2)],
      [['a', failing(6, 0, 'stop')]],
      [
        {
          serverId: 'a',
          power: 'failed',
          rebootGeneration: 2,
          detail: 'stop failed 6 times: image debian-12 has no file on this host',
        },
      ],
    ],
  ];
  for (const [name, observed, retries, expected] of table)
    await t.test(name, () => assert.deepEqual(reportedInstances(observed, new Map(retries), policy), expected));
});

test('reportedInstances cuts a huge driver message', () => {
  const [reported] = reportedInstances([], new Map([['a', { ...failing(4, 0), lastError: 'x'.repeat(5000) }]]), policy);
  assert.ok((reported.detail ?? '').length < 1600);
  assert.match(reported.detail ?? '', /^start failed 4 times: x+…$/);
});
