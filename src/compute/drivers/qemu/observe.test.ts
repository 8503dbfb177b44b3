import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialState, type InstanceStateFile } from './instance-files.ts';
import { observePower, type Observation } from './observe.ts';

const running: InstanceStateFile = { ...initialState, intent: 'running' };
const at = '2026-01-01T00:00:00.000Z';

test('observePower', async (t) => {
  const table: [string, Partial<Observation>, ReturnType<typeof observePower>][] = [
    ['operation in flight wins', { transition: 'stopping', qmpStatus: 'running' }, { power: 'stopping' }],
    ['running guest', { qmpStatus: 'running' }, { power: 'running' }],
    ['paused before pinning (agent died mid-boot)', { qmpStatus: 'prelaunch' }, { power: 'starting' }],
    [
      'kernel panic',
      { qmpStatus: 'guest-panicked' },
      { power: 'crashed', detail: 'the guest kernel panicked (pvpanic); QEMU is paused' },
    ],
    [
      'QEMU internal error',
      { qmpStatus: 'internal-error' },
      { power: 'crashed', detail: 'QEMU reports status internal-error' },
    ],
    ['stopped on purpose', { state: { ...initialState, intent: 'stopped' } }, { power: 'stopped' }],
    [
      'guest powered off while watched',
      { state: { ...running, lastShutdown: { guest: true, reason: 'guest-shutdown', atIso: at } } },
      { power: 'stopped', detail: 'the guest powered itself off' },
    ],
    [
      'guest powered off while unwatched',
      { consoleTail: '[   42.1] reboot: Power down\n' },
      { power: 'stopped', detail: 'the guest powered itself off' },
    ],
    [
      'QEMU killed',
      { state: { ...running, lastExit: { code: null, signal: 'SIGKILL', atIso: at } } },
      { power: 'crashed', detail: 'QEMU exited unexpectedly (signal SIGKILL)' },
    ],
    [
      'QEMU exited with an error',
      { state: { ...running, lastExit: { code: 1, signal: null, atIso: at } } },
      { power: 'crashed', detail: 'QEMU exited unexpectedly (exit code 1)' },
    ],
    ['process gone, nothing known', {}, { power: 'crashed', detail: 'the QEMU process is gone' }],
  ];
  for (const [name, partial, expected] of table) {
    const observation: Observation = { transition: null, qmpStatus: null, state: running, consoleTail: '', ...partial };
    await t.test(name, () => assert.deepEqual(observePower(observation), expected));
  }
});
