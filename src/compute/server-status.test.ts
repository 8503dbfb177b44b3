import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveServerStatus, judgeAction, type StatusInputs } from './server-status.ts';
import type { ObservedInstance } from './drivers/driver.ts';

const seen = (power: ObservedInstance['power'], rebootGeneration = 0): ObservedInstance => ({ serverId: 's', power, rebootGeneration });

test('deriveServerStatus', () => {
  const base: StatusInputs = { desired: 'running', observed: null, rebootGeneration: 0, hostUp: true, previous: 'starting' };
  const table: Array<[Partial<StatusInputs>, string]> = [
    [{ observed: null, previous: 'pending' }, 'pending'],
    [{ observed: null }, 'starting'],
    [{ observed: seen('starting') }, 'starting'],
    [{ observed: seen('running') }, 'running'],
    [{ observed: seen('running', 0), rebootGeneration: 1 }, 'rebooting'],
    [{ observed: seen('running', 1), rebootGeneration: 1 }, 'running'],
    [{ observed: seen('stopped') }, 'starting'],
    [{ observed: seen('crashed') }, 'error'],
    [{ desired: 'stopped', observed: seen('running') }, 'stopping'],
    [{ desired: 'stopped', observed: seen('stopping') }, 'stopping'],
    [{ desired: 'stopped', observed: seen('stopped') }, 'stopped'],
    [{ desired: 'stopped', observed: null }, 'stopped'],
    [{ desired: 'deleted', observed: seen('running') }, 'deleting'],
    [{ desired: 'deleted', observed: null }, 'deleted'],
    [{ hostUp: false, observed: seen('running') }, 'unknown'],
    [{ hostUp: false, desired: 'deleted', observed: null }, 'deleted'],
  ];
  for (const [change, expected] of table) {
    assert.equal(deriveServerStatus({ ...base, ...change }), expected, JSON.stringify(change));
  }
});

test('judgeAction', () => {
  assert.deepEqual(judgeAction({ status: 'running' }, 'running', 0, null), { done: true, ok: true });
  assert.deepEqual(judgeAction({ status: 'running' }, 'starting', 0, null), { done: false, progress: 50 });
  assert.deepEqual(judgeAction({ status: 'running', rebootGeneration: 2 }, 'running', 1, null), { done: false, progress: 25 });
  assert.deepEqual(judgeAction({ status: 'running', rebootGeneration: 2 }, 'running', 2, null), { done: true, ok: true });
  assert.deepEqual(judgeAction({ status: 'stopped' }, 'stopped', 0, null), { done: true, ok: true });
  assert.deepEqual(judgeAction({ status: 'running' }, 'error', 0, 'qemu exited'), { done: true, ok: false, code: 'server_error', message: 'qemu exited' });
  assert.deepEqual(judgeAction({ status: 'deleted' }, 'error', 0, null), { done: false, progress: 25 });
  assert.deepEqual(judgeAction({ status: 'running' }, 'deleted', 0, null), { done: true, ok: false, code: 'server_deleted', message: 'the server was deleted before the action finished' });
});
