/**
 * Golden tests of the QEMU command line: each case's argv is compared with `testdata/argv-<case>.txt`
 * (one argument per line). Regenerate after an intended change with `UPDATE_GOLDEN=1 node --test …`
 * and review the diff. Key properties are also asserted directly, so a golden can't silently bless a bug.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import type { InstanceSpec } from '../driver.ts';
import { escapeOptionValue, qemuArgv, splitEvenly, type QemuArgvOptions } from './qemu-argv.ts';
import { instancePaths } from './instance-paths.ts';
import { privateNicIds } from './private-nics.ts';

const baseSpec: InstanceSpec = {
  serverId: 'srv_01jx0000000000000000000000',
  hostname: 'web-1',
  vcpus: 2,
  memoryMiB: 2048,
  diskGiB: 20,
  image: 'debian-12',
  threads: [4, 68],
  numaNodes: [1],
  gpus: [],
  vfs: [],
  sshKeys: [],
  userData: null,
  ipv4: null,
};

const baseOptions: QemuArgvOptions = {
  accel: 'tcg',
  paths: instancePaths('/var/lib/vmcloud', baseSpec.serverId),
  kernelBoot: null,
  cdrom: null,
  seed: true,
  nic: null,
};

interface Case {
  name: string;
  spec?: Partial<InstanceSpec>;
  options?: Partial<QemuArgvOptions>;
  /** Consecutive arguments that must appear in the argv. */
  contains: string[][];
  /** Arguments that must not appear. */
  excludes?: string[];
}

const cases: Case[] = [
  {
    name: 'vps-tcg-one-numa-node',
    contains: [
      ['-name', 'guest=srv_01jx0000000000000000000000,debug-threads=on'],
      ['-machine', 'pc,memory-backend=mem0'],
      ['-accel', 'tcg,tb-size=32'],
      ['-smp', '2,sockets=1,cores=2,threads=1'],
      [
        '-m',
        '2048M',
        '-object',
        '{"qom-type":"memory-backend-ram","id":"mem0","size":2147483648,"host-nodes":[1],"policy":"bind"}',
      ],
      [
        '-chardev',
        'socket,id=qmp,path=/var/lib/vmcloud/instances/srv_01jx0000000000000000000000/qmp.sock,server=on,wait=off',
      ],
      ['-serial', 'chardev:console0'],
      ['-S'],
      ['-device', 'virtio-blk-pci,drive=disk0,id=vd0,serial=root,bootindex=0'],
      ['-device', 'virtio-blk-pci,drive=seed0,id=vd1,serial=cidata'],
    ],
    excludes: ['-kernel', 'vfio-pci', '-numa', '-netdev'],
  },
  {
    name: 'kvm-two-numa-nodes',
    spec: { vcpus: 5, memoryMiB: 3073, numaNodes: [0, 1], threads: [0, 1, 2, 64, 65] },
    options: { accel: 'kvm' },
    contains: [
      ['-machine', 'pc'],
      ['-accel', 'kvm', '-cpu', 'host'],
      ['-object', '{"qom-type":"memory-backend-ram","id":"mem0","size":1611661312,"host-nodes":[0],"policy":"bind"}'],
      ['-numa', 'node,nodeid=0,cpus=0-2,memdev=mem0'],
      ['-object', '{"qom-type":"memory-backend-ram","id":"mem1","size":1610612736,"host-nodes":[1],"policy":"bind"}'],
      ['-numa', 'node,nodeid=1,cpus=3-4,memdev=mem1'],
    ],
    excludes: ['pc,memory-backend=mem0'],
  },
  {
    name: 'gpu-and-vfs-passthrough',
    spec: {
      vcpus: 8,
      gpus: ['0000:41:00.0'],
      vfs: ['0000:81:00.1', '0000:81:00.2'],
      threads: [0, 1, 2, 3, 64, 65, 66, 67],
    },
    contains: [
      ['-device', 'vfio-pci,host=0000:41:00.0,id=gpu0'],
      ['-device', 'vfio-pci,host=0000:81:00.1,id=vf0'],
      ['-device', 'vfio-pci,host=0000:81:00.2,id=vf1'],
    ],
  },
  {
    name: 'kernel-boot-with-tap',
    options: {
      kernelBoot: {
        kernel: '/img/vmcloud-test/kernel',
        initrd: '/img/vmcloud-test/initrd',
        append: 'console=ttyS0 quiet',
      },
      nic: { tapName: 'vmc1a2b3c4d5e6f', mac: '52:54:00:12:34:56' },
    },
    contains: [
      ['-device', 'virtio-blk-pci,drive=disk0,id=vd0,serial=root'],
      ['-kernel', '/img/vmcloud-test/kernel', '-initrd', '/img/vmcloud-test/initrd', '-append', 'console=ttyS0 quiet'],
      [
        '-netdev',
        'tap,id=net0,ifname=vmc1a2b3c4d5e6f,script=no,downscript=no',
        '-device',
        'virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56,id=nic0',
      ],
    ],
  },
  {
    // Private-network NICs plugged at boot, with the ids a later hot-unplug looks for.
    name: 'public-and-private-nics',
    options: {
      nic: { tapName: 'vmc1a2b3c4d5e6f', mac: '52:54:00:12:34:56' },
      privateNics: [
        { networkId: 'net_01', tap: 'vmp0123456789ab', mac: '02:11:22:33:44:55' },
        { networkId: 'net_02', tap: 'vmpba9876543210', mac: '02:11:22:33:44:66' },
      ],
    },
    contains: [
      ['-netdev', 'tap,id=net0,ifname=vmc1a2b3c4d5e6f,script=no,downscript=no'],
      [
        '-netdev',
        `tap,id=${privateNicIds('net_01').netdev},ifname=vmp0123456789ab,script=no,downscript=no`,
        '-device',
        `virtio-net-pci,netdev=${privateNicIds('net_01').netdev},mac=02:11:22:33:44:55,id=${privateNicIds('net_01').device}`,
      ],
      [
        '-netdev',
        `tap,id=${privateNicIds('net_02').netdev},ifname=vmpba9876543210,script=no,downscript=no`,
        '-device',
        `virtio-net-pci,netdev=${privateNicIds('net_02').netdev},mac=02:11:22:33:44:66,id=${privateNicIds('net_02').device}`,
      ],
    ],
  },
  {
    // A server of an SR-IOV product (VPS-ENTERPRISE+): its tap NIC, and one VF of the host NIC on its NUMA
    // node passed through whole (MAC and VLAN were set by the host beforehand, src/network/sriov-vf.ts).
    name: 'sriov-vf-with-tap',
    spec: {
      vcpus: 4,
      memoryMiB: 8192,
      threads: [34, 98, 35, 99],
      numaNodes: [1],
      vfs: ['0000:a1:00.2'],
      vfDevices: [{ pciAddress: '0000:a1:00.2', pf: 'enp161s0f1', vfIndex: 0 }],
    },
    options: { accel: 'kvm', nic: { tapName: 'vmc1a2b3c4d5e6f', mac: '52:54:00:12:34:56' } },
    contains: [
      [
        '-device',
        'virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56,id=nic0',
        '-device',
        'vfio-pci,host=0000:a1:00.2,id=vf0',
      ],
    ],
    excludes: ['enp161s0f1', 'gpu0', 'vf1'],
  },
  {
    name: 'iso-install-without-numa',
    spec: { numaNodes: [], userData: null },
    options: { cdrom: '/img/custom-iso/disk.iso', seed: false },
    contains: [
      ['-object', '{"qom-type":"memory-backend-ram","id":"mem0","size":2147483648}'],
      ['-device', 'virtio-blk-pci,drive=disk0,id=vd0,serial=root,bootindex=1'],
      ['-blockdev', '{"driver":"file","node-name":"cd0-file","filename":"/img/custom-iso/disk.iso","read-only":true}'],
      ['-device', 'ide-cd,drive=cd0,id=cd0,bootindex=0'],
    ],
    excludes: ['seed0', 'host-nodes'],
  },
  {
    // An encrypted disk: the secret object names the key's file (never the key), the disk node uses it.
    name: 'encrypted-disk',
    spec: { diskKey: 'c2VjcmV0LWtleS1uZXZlci1pbi1hcmd2LXh4eHh4eHh4eHg=' },
    options: { diskKeyFile: '/dev/shm/vmcloud-secrets-0/0a1b2c.key' },
    contains: [
      ['-object', 'secret,id=vmc-disk-key,file=/dev/shm/vmcloud-secrets-0/0a1b2c.key'],
      [
        '-blockdev',
        '{"driver":"qcow2","node-name":"disk0","file":"disk0-file","discard":"unmap","encrypt":{"format":"luks","key-secret":"vmc-disk-key"}}',
      ],
    ],
    excludes: ['c2VjcmV0LWtleS1uZXZlci1pbi1hcmd2LXh4eHh4eHh4eHg='],
  },
  {
    name: 'paths-with-commas',
    options: { paths: instancePaths('/srv/a,b', baseSpec.serverId) },
    contains: [
      ['-chardev', 'socket,id=qmp,path=/srv/a,,b/instances/srv_01jx0000000000000000000000/qmp.sock,server=on,wait=off'],
    ],
  },
];

function containsSequence(haystack: string[], needle: string[]): boolean {
  for (let i = 0; i + needle.length <= haystack.length; i++) {
    if (needle.every((value, j) => haystack[i + j] === value)) return true;
  }
  return false;
}

for (const testCase of cases) {
  test(`qemuArgv: ${testCase.name}`, () => {
    const argv = qemuArgv({ ...baseSpec, ...testCase.spec }, { ...baseOptions, ...testCase.options });
    for (const sequence of testCase.contains) {
      assert.ok(containsSequence(argv, sequence), `argv lacks ${JSON.stringify(sequence)}`);
    }
    for (const excluded of testCase.excludes ?? []) {
      assert.ok(!argv.some((arg) => arg.includes(excluded)), `argv should not contain ${excluded}`);
    }
    const goldenUrl = new URL(`./testdata/argv-${testCase.name}.txt`, import.meta.url);
    const actual = argv.join('\n') + '\n';
    if (process.env.UPDATE_GOLDEN) writeFileSync(goldenUrl, actual);
    assert.equal(actual, readFileSync(goldenUrl, 'utf8'));
  });
}

test('splitEvenly', async (t) => {
  const table: [number, number, number[]][] = [
    [8, 2, [4, 4]],
    [5, 2, [3, 2]],
    [3073, 2, [1537, 1536]],
    [1, 2, [1, 0]],
  ];
  for (const [total, parts, expected] of table)
    await t.test(`${total} in ${parts}`, () => assert.deepEqual(splitEvenly(total, parts), expected));
});

test('escapeOptionValue doubles commas', () => {
  assert.equal(escapeOptionValue('a,b,,c'), 'a,,b,,,,c');
  assert.equal(escapeOptionValue('plain'), 'plain');
});
