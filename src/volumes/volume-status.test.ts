import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveVolumeStatus, judgeVolumeAction, type VolumeStatusInputs } from './volume-status.ts';

const base: VolumeStatusInputs = { desired: 'present', sizeGiB: 10, serverId: null, placed: true, observed: null };
const seen = (sizeGiB: number, serverId: string | null, failed = false) => ({
  volumeId: 'vol_1',
  sizeGiB,
  serverId,
  ...(failed ? { state: 'failed' as const, detail: 'qemu-img failed' } : {}),
});

const statusCases: [string, Partial<VolumeStatusInputs>, string][] = [
  ['not placed: available, nothing to wait for', { placed: false }, 'available'],
  ['placed, not on the host yet: creating', {}, 'creating'],
  ['on the host, detached: available', { observed: seen(10, null) }, 'available'],
  ['wanted on a server, not plugged yet: attaching', { serverId: 'srv_a', observed: seen(10, null) }, 'attaching'],
  ['plugged into the wanted server: attached', { serverId: 'srv_a', observed: seen(10, 'srv_a') }, 'attached'],
  ['still plugged, wanted detached: detaching', { observed: seen(10, 'srv_a') }, 'detaching'],
  ['plugged into another server: detaching first', { serverId: 'srv_b', observed: seen(10, 'srv_a') }, 'detaching'],
  ['smaller than wanted: resizing', { sizeGiB: 20, serverId: 'srv_a', observed: seen(10, 'srv_a') }, 'resizing'],
  ['larger than asked (grown elsewhere): settled', { observed: seen(12, null) }, 'available'],
  ['the agent gave up: error', { observed: seen(10, null, true) }, 'error'],
  ['deleted and gone: deleted', { desired: 'deleted' }, 'deleted'],
  ['deleted, still on the host: deleting', { desired: 'deleted', observed: seen(10, null) }, 'deleting'],
  ['deleted and never placed: deleted', { desired: 'deleted', placed: false }, 'deleted'],
];

for (const [name, change, expected] of statusCases)
  test(`deriveVolumeStatus: ${name}`, () => assert.equal(deriveVolumeStatus({ ...base, ...change }), expected));

test('judgeVolumeAction: the target status ends it; a resize also needs the size', () => {
  assert.deepEqual(judgeVolumeAction({ status: 'attached' }, 'attached', 10, null), { done: true, ok: true });
  assert.deepEqual(judgeVolumeAction({ status: 'attached', sizeGiB: 20 }, 'attached', 10, null), {
    done: false,
    progress: 25,
  });
  assert.deepEqual(judgeVolumeAction({ status: 'attached', sizeGiB: 20 }, 'attached', 20, null), {
    done: true,
    ok: true,
  });
  assert.deepEqual(judgeVolumeAction({ status: 'available' }, 'detaching', 10, null), { done: false, progress: 50 });
});

test('judgeVolumeAction: error and deletion fail it with a stable code', () => {
  assert.deepEqual(judgeVolumeAction({ status: 'attached' }, 'error', 10, 'device_add failed'), {
    done: true,
    ok: false,
    code: 'volume_error',
    message: 'device_add failed',
  });
  const gone = judgeVolumeAction({ status: 'attached' }, 'deleted', 0, null);
  assert.equal(gone.done && !gone.ok && gone.code, 'volume_deleted');
  assert.deepEqual(judgeVolumeAction({ status: 'deleted' }, 'deleted', 0, null), { done: true, ok: true });
});
