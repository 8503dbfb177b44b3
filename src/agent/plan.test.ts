import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planOperations, type DesiredInstance } from './plan.ts';
import type { ObservedInstance } from '../compute/index.ts';

const spec = (serverId: string) => ({ serverId, hostname: serverId, vcpus: 1, memoryMiB: 1024, diskGiB: 10, image: 'debian-12', threads: [4], numaNodes: [0], gpus: [], vfs: [], sshKeys: [], userData: null, ipv4: null });
const want = (serverId: string, desired: DesiredInstance['desired'], rebootGeneration = 0, forceStop = false): DesiredInstance => ({ spec: spec(serverId), desired, rebootGeneration, forceStop });
const have = (serverId: string, power: ObservedInstance['power'], rebootGeneration = 0): ObservedInstance => ({ serverId, power, rebootGeneration });

test('planOperations', () => {
  const table: Array<[string, DesiredInstance[], ObservedInstance[], string[]]> = [
    ['new server boots', [want('a', 'running')], [], ['start a']],
    ['running stays', [want('a', 'running')], [have('a', 'running')], []],
    ['a half-done boot is resumed', [want('a', 'running')], [have('a', 'starting')], ['start a']],
    ['stopped server starts', [want('a', 'running')], [have('a', 'stopped')], ['start a']],
    ['crashed server restarts', [want('a', 'running')], [have('a', 'crashed')], ['start a']],
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
  for (const [name, desired, observed, expected] of table) {
    const got = planOperations(desired, observed).map((op) => `${op.kind} ${op.serverId}${op.kind === 'stop' && op.force ? ' force' : ''}`);
    assert.deepEqual(got, expected, name);
  }
});
