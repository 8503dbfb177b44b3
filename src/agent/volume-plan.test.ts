import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DesiredVolume, ObservedInstance } from '../contract/index.ts';
import { planVolumeOperations, volumeOperationKeys } from './volume-plan.ts';

const want = (volumeId: string, serverId: string | null, sizeGiB = 10, desired: 'present' | 'deleted' = 'present') =>
  ({ volumeId, sizeGiB, serverId, desired }) satisfies DesiredVolume;
const have = (volumeId: string, serverId: string | null, sizeGiB = 10) => ({ volumeId, sizeGiB, serverId });
const instance = (serverId: string, power: ObservedInstance['power']): ObservedInstance => ({
  serverId,
  power,
  rebootGeneration: 0,
});

const cases: [string, DesiredVolume[], ReturnType<typeof have>[], ObservedInstance[], unknown[]][] = [
  ['a missing volume is created', [want('vol_a', null)], [], [], [{ kind: 'create', volumeId: 'vol_a', sizeGiB: 10 }]],
  [
    'a missing volume with a source is created from it',
    [{ ...want('vol_a', null), source: { kind: 'snapshot', serverId: 'srv_1', snapshot: 'snap-1' } }],
    [],
    [],
    [
      {
        kind: 'create',
        volumeId: 'vol_a',
        sizeGiB: 10,
        source: { kind: 'snapshot', serverId: 'srv_1', snapshot: 'snap-1' },
      },
    ],
  ],
  [
    'a made volume with a source is not made again',
    [{ ...want('vol_a', null), source: { kind: 'backup', backupId: 'bkp_1', snapshot: 'abc' } }],
    [have('vol_a', null)],
    [],
    [],
  ],
  ['a settled volume needs nothing', [want('vol_a', null)], [have('vol_a', null)], [], []],
  [
    'attach to a running instance',
    [want('vol_a', 'srv_1')],
    [have('vol_a', null)],
    [instance('srv_1', 'running')],
    [{ kind: 'attach', volumeId: 'vol_a', serverId: 'srv_1' }],
  ],
  [
    'attach to a stopped instance (for its next start)',
    [want('vol_a', 'srv_1')],
    [have('vol_a', null)],
    [instance('srv_1', 'stopped')],
    [{ kind: 'attach', volumeId: 'vol_a', serverId: 'srv_1' }],
  ],
  [
    'attach waits for a booting instance',
    [want('vol_a', 'srv_1')],
    [have('vol_a', null)],
    [instance('srv_1', 'starting')],
    [],
  ],
  ['attach waits for a missing instance', [want('vol_a', 'srv_1')], [have('vol_a', null)], [], []],
  [
    'a volume is created before it is attached',
    [want('vol_a', 'srv_1')],
    [],
    [instance('srv_1', 'running')],
    [{ kind: 'create', volumeId: 'vol_a', sizeGiB: 10 }],
  ],
  [
    'detach when wanted detached',
    [want('vol_a', null)],
    [have('vol_a', 'srv_1')],
    [instance('srv_1', 'running')],
    [{ kind: 'detach', volumeId: 'vol_a', serverId: 'srv_1' }],
  ],
  [
    'detach from an instance that is gone',
    [want('vol_a', null)],
    [have('vol_a', 'srv_gone')],
    [],
    [{ kind: 'detach', volumeId: 'vol_a', serverId: 'srv_gone' }],
  ],
  [
    'grow online while attached',
    [want('vol_a', 'srv_1', 20)],
    [have('vol_a', 'srv_1', 10)],
    [instance('srv_1', 'running')],
    [{ kind: 'resize', volumeId: 'vol_a', sizeGiB: 20 }],
  ],
  ['never shrink', [want('vol_a', null, 5)], [have('vol_a', null, 10)], [], []],
  [
    'delete: detach first, then delete',
    [want('vol_a', null, 10, 'deleted'), want('vol_b', null, 10, 'deleted')],
    [have('vol_a', 'srv_1'), have('vol_b', null)],
    [instance('srv_1', 'running')],
    [
      { kind: 'detach', volumeId: 'vol_a', serverId: 'srv_1' },
      { kind: 'delete', volumeId: 'vol_b' },
    ],
  ],
  ['a deleted volume that is gone needs nothing', [want('vol_a', null, 10, 'deleted')], [], [], []],
  ['an orphan volume is left alone (customer data)', [], [have('vol_x', null)], [], []],
];

for (const [name, desired, observed, instances, expected] of cases)
  test(`planVolumeOperations: ${name}`, () =>
    assert.deepEqual(planVolumeOperations(desired, observed, instances), expected));

test('attach and detach keep their instance busy; the others only their volume', () => {
  assert.deepEqual(volumeOperationKeys({ kind: 'attach', volumeId: 'vol_a', serverId: 'srv_1' }), ['vol_a', 'srv_1']);
  assert.deepEqual(volumeOperationKeys({ kind: 'resize', volumeId: 'vol_a', sizeGiB: 2 }), ['vol_a']);
});
