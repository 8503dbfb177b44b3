import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  deriveServerStatus,
  judgeAction,
  type ActionTarget,
  type ActionVerdict,
  type StatusInputs,
} from './server-status.ts';
import type { ObservedInstance } from './drivers/driver.ts';

const seen = (power: ObservedInstance['power'], rebootGeneration = 0): ObservedInstance => ({
  serverId: 's',
  power,
  rebootGeneration,
});

test('deriveServerStatus', async (t) => {
  const base: StatusInputs = {
    desired: 'running',
    observed: null,
    rebootGeneration: 0,
    hostUp: true,
    previous: 'starting',
  };
  const table: Array<[string, Partial<StatusInputs>, string]> = [
    ['not yet on its host', { observed: null, previous: 'pending' }, 'pending'],
    ['host acted, nothing observed yet', { observed: null }, 'starting'],
    ['booting', { observed: seen('starting') }, 'starting'],
    ['running', { observed: seen('running') }, 'running'],
    ['reboot pending', { observed: seen('running', 0), rebootGeneration: 1 }, 'rebooting'],
    ['reboot done', { observed: seen('running', 1), rebootGeneration: 1 }, 'running'],
    ['stopped, wanted running', { observed: seen('stopped') }, 'starting'],
    ['crashed', { observed: seen('crashed') }, 'error'],
    ['start failed on the host', { observed: seen('failed') }, 'error'],
    ['stop', { desired: 'stopped', observed: seen('running') }, 'stopping'],
    ['stopping', { desired: 'stopped', observed: seen('stopping') }, 'stopping'],
    ['stopped', { desired: 'stopped', observed: seen('stopped') }, 'stopped'],
    ['stopped, no instance', { desired: 'stopped', observed: null }, 'stopped'],
    ['stop failed on the host', { desired: 'stopped', observed: seen('failed') }, 'error'],
    ['deleting', { desired: 'deleted', observed: seen('running') }, 'deleting'],
    ['deleted', { desired: 'deleted', observed: null }, 'deleted'],
    ['delete failed on the host', { desired: 'deleted', observed: seen('failed') }, 'error'],
    ['host down', { hostUp: false, observed: seen('running') }, 'unknown'],
    ['host down, failed before', { hostUp: false, observed: seen('failed') }, 'unknown'],
    ['host down, deleted', { hostUp: false, desired: 'deleted', observed: null }, 'deleted'],
  ];
  for (const [name, change, expected] of table)
    await t.test(name, () => assert.equal(deriveServerStatus({ ...base, ...change }), expected));
});

test('judgeAction', async (t) => {
  const table: Array<
    [string, ActionTarget, Parameters<typeof judgeAction>[1], number, string | null, boolean, ActionVerdict]
  > = [
    ['target reached', { status: 'running' }, 'running', 0, null, false, { done: true, ok: true }],
    ['on its way', { status: 'running' }, 'starting', 0, null, false, { done: false, progress: 50 }],
    [
      'reboot not yet observed',
      { status: 'running', rebootGeneration: 2 },
      'running',
      1,
      null,
      false,
      { done: false, progress: 25 },
    ],
    [
      'reboot observed',
      { status: 'running', rebootGeneration: 2 },
      'running',
      2,
      null,
      false,
      { done: true, ok: true },
    ],
    ['stopped', { status: 'stopped' }, 'stopped', 0, null, false, { done: true, ok: true }],
    [
      'crashed while starting',
      { status: 'running' },
      'error',
      0,
      'qemu exited',
      false,
      { done: true, ok: false, code: 'server_error', message: 'qemu exited' },
    ],
    ['crashed while deleting: goes on', { status: 'deleted' }, 'error', 0, null, false, { done: false, progress: 25 }],
    ['crashed while stopping: goes on', { status: 'stopped' }, 'error', 0, null, false, { done: false, progress: 25 }],
    [
      'start failed on the host',
      { status: 'running' },
      'error',
      0,
      'start failed 5 times: image debian-12 has no file on this host',
      true,
      {
        done: true,
        ok: false,
        code: 'operation_failed',
        message: 'start failed 5 times: image debian-12 has no file on this host',
      },
    ],
    [
      'delete failed on the host',
      { status: 'deleted' },
      'error',
      0,
      'destroy failed 5 times: EACCES',
      true,
      { done: true, ok: false, code: 'operation_failed', message: 'destroy failed 5 times: EACCES' },
    ],
    [
      'stop failed on the host',
      { status: 'stopped' },
      'error',
      0,
      null,
      true,
      { done: true, ok: false, code: 'operation_failed', message: 'the host could not carry out the operation' },
    ],
    [
      'deleted under a start',
      { status: 'running' },
      'deleted',
      0,
      null,
      false,
      {
        done: true,
        ok: false,
        code: 'server_deleted',
        message: 'the server was deleted before the action finished',
      },
    ],
  ];
  for (const [name, target, status, generation, detail, failed, expected] of table)
    await t.test(name, () => assert.deepEqual(judgeAction(target, status, generation, detail, failed), expected));
});
