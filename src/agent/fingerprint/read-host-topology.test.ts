import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readHostFingerprint } from './read-host-topology.ts';

/**
 * A fake sysfs of a small 2-socket host: 2 NUMA nodes, 2 cores × 2 threads per socket (Linux numbering:
 * threads 0-3 first siblings, 4-7 second siblings), one T4 GPU on node 1, one SR-IOV NIC with 2 VFs on
 * node 0, plus a non-SR-IOV NIC and a storage controller that must be ignored.
 */
async function fakeSysfs(root: string) {
  const file = async (path: string, content: string) => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  };
  const link = async (path: string, target: string) => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await symlink(target, join(root, path));
  };
  await file('devices/system/cpu/online', '0-7\n');
  for (let thread = 0; thread < 8; thread++) {
    const socket = Math.floor((thread % 4) / 2);
    const core = thread % 2;
    await file(`devices/system/cpu/cpu${thread}/topology/physical_package_id`, `${socket}\n`);
    await file(`devices/system/cpu/cpu${thread}/topology/core_id`, `${core}\n`);
  }
  await file('devices/system/node/online', '0-1\n');
  await file('devices/system/node/node0/cpulist', '0-1,4-5\n');
  await file('devices/system/node/node1/cpulist', '2-3,6-7\n');
  await file('devices/system/node/node0/meminfo', 'Node 0 MemTotal:       16777216 kB\n');
  await file('devices/system/node/node1/meminfo', 'Node 1 MemTotal:       16777216 kB\n');
  const pci = 'bus/pci/devices';
  await file(`${pci}/0000:41:00.0/class`, '0x030200\n');
  await file(`${pci}/0000:41:00.0/vendor`, '0x10de\n');
  await file(`${pci}/0000:41:00.0/device`, '0x1eb8\n');
  await file(`${pci}/0000:41:00.0/numa_node`, '1\n');
  await link(`${pci}/0000:41:00.0/iommu_group`, '../../../../kernel/iommu_groups/33');
  await file(`${pci}/0000:81:00.0/class`, '0x020000\n');
  await file(`${pci}/0000:81:00.0/numa_node`, '0\n');
  await file(`${pci}/0000:81:00.0/sriov_totalvfs`, '64\n');
  await file(`${pci}/0000:81:00.0/net/ens1f0/speed`, '25000\n');
  await link(`${pci}/0000:81:00.0/virtfn1`, '../0000:81:00.2');
  await link(`${pci}/0000:81:00.0/virtfn0`, '../0000:81:00.1');
  await file(`${pci}/0000:00:03.0/class`, '0x020000\n');
  await file(`${pci}/0000:00:03.0/numa_node`, '-1\n');
  await file(`${pci}/0000:00:04.0/class`, '0x010802\n');
}

test('reads a 2-socket NUMA host with a GPU and an SR-IOV NIC from a fake sysfs', async () => {
  const root = await mkdtemp(join(tmpdir(), 'vmc-sysfs-'));
  try {
    await fakeSysfs(join(root, 'sys'));
    await mkdir(join(root, 'proc'));
    await writeFile(join(root, 'proc/cpuinfo'), 'processor\t: 0\nmodel name\t: AMD EPYC 7443 24-Core Processor\n');
    const { topology, cpuModel } = await readHostFingerprint({
      sysRoot: join(root, 'sys'),
      procRoot: join(root, 'proc'),
      reservedCoresPerNode: 1,
      reservedMemoryMiBPerNode: 2048,
      diskGiB: 100,
    });
    assert.equal(cpuModel, 'AMD EPYC 7443 24-Core Processor');
    assert.deepEqual(topology, {
      sockets: 2,
      numaNodes: [
        {
          id: 0,
          memoryMiB: 16384,
          cores: [
            { id: 0, threads: [0, 4] },
            { id: 1, threads: [1, 5] },
          ],
        },
        {
          id: 1,
          memoryMiB: 16384,
          cores: [
            { id: 2, threads: [2, 6] },
            { id: 3, threads: [3, 7] },
          ],
        },
      ],
      reservedThreads: [0, 2, 4, 6],
      reservedMemoryMiBPerNode: 2048,
      diskGiB: 100,
      gpus: [{ pciAddress: '0000:41:00.0', model: 'nvidia-t4', numaNode: 1, iommuGroup: 33 }],
      nics: [
        {
          name: 'ens1f0',
          pciAddress: '0000:81:00.0',
          numaNode: 0,
          speedGbps: 25,
          vfs: [
            { index: 0, pciAddress: '0000:81:00.1' },
            { index: 1, pciAddress: '0000:81:00.2' },
          ],
        },
      ],
    });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a machine without NUMA in sysfs is one node holding every CPU', async () => {
  const root = await mkdtemp(join(tmpdir(), 'vmc-sysfs-'));
  try {
    await mkdir(join(root, 'sys/devices/system/cpu'), { recursive: true });
    await writeFile(join(root, 'sys/devices/system/cpu/online'), '0-1\n');
    await mkdir(join(root, 'proc'));
    await writeFile(join(root, 'proc/meminfo'), 'MemTotal:        2097152 kB\n');
    const { topology } = await readHostFingerprint({
      sysRoot: join(root, 'sys'),
      procRoot: join(root, 'proc'),
      reservedCoresPerNode: 0,
    });
    assert.deepEqual(topology.numaNodes, [
      {
        id: 0,
        memoryMiB: 2048,
        cores: [
          { id: 0, threads: [0] },
          { id: 1, threads: [1] },
        ],
      },
    ]);
    assert.equal(topology.sockets, 1);
    assert.deepEqual(topology.reservedThreads, []);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test(
  'reads this machine',
  { skip: existsSync('/sys/devices/system/cpu/online') ? false : 'no /sys here' },
  async () => {
    const { topology } = await readHostFingerprint();
    const threads = topology.numaNodes.flatMap((node) => node.cores.flatMap((core) => core.threads));
    assert.ok(threads.length >= 1);
    assert.ok(topology.numaNodes.every((node) => node.memoryMiB > 0));
  },
);
