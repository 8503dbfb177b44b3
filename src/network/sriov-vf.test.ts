import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isVmcError } from '../core/errors.ts';
import type { CommandRunner } from './host-network.ts';
import { macAddress } from './names.ts';
import { createVfPreparer, renderVfSetup, vfMac, vfStepsText, type VfSetup } from './sriov-vf.ts';

const vf: VfSetup = {
  pf: 'enp33s0f0',
  vfIndex: 3,
  pciAddress: '0000:21:00.5',
  mac: '02:aa:bb:cc:dd:ee',
  vlan: 0,
};

test('VF setup renders as host commands (golden text)', () => {
  const cases: Array<{ name: string; vf: VfSetup; boundDriver: string | null; text: string }> = [
    {
      name: 'held by the host VF driver: MAC and VLAN, unbind, vfio-pci',
      vf,
      boundDriver: 'iavf',
      text: [
        'ip link set enp33s0f0 vf 3 mac 02:aa:bb:cc:dd:ee vlan 0 spoofchk on trust off',
        'echo 0000:21:00.5 > /sys/bus/pci/devices/0000:21:00.5/driver/unbind',
        'echo vfio-pci > /sys/bus/pci/devices/0000:21:00.5/driver_override',
        'echo 0000:21:00.5 > /sys/bus/pci/drivers_probe',
      ].join('\n'),
    },
    {
      name: 'no driver: nothing to unbind',
      vf: { ...vf, vfIndex: 0, pciAddress: '0000:a1:00.2', pf: 'enp161s0f1' },
      boundDriver: null,
      text: [
        'ip link set enp161s0f1 vf 0 mac 02:aa:bb:cc:dd:ee vlan 0 spoofchk on trust off',
        'echo vfio-pci > /sys/bus/pci/devices/0000:a1:00.2/driver_override',
        'echo 0000:a1:00.2 > /sys/bus/pci/drivers_probe',
      ].join('\n'),
    },
    {
      name: 'already on vfio-pci (a restart): MAC and VLAN only',
      vf,
      boundDriver: 'vfio-pci',
      text: 'ip link set enp33s0f0 vf 3 mac 02:aa:bb:cc:dd:ee vlan 0 spoofchk on trust off',
    },
    {
      name: 'a VLAN from the host configuration',
      vf: { ...vf, vlan: 120 },
      boundDriver: 'vfio-pci',
      text: 'ip link set enp33s0f0 vf 3 mac 02:aa:bb:cc:dd:ee vlan 120 spoofchk on trust off',
    },
  ];
  for (const c of cases) assert.equal(vfStepsText(renderVfSetup(c.vf, { boundDriver: c.boundDriver })), c.text, c.name);
});

test('what must never reach a command line or a sysfs path is refused', () => {
  const bad: Array<[string, Partial<VfSetup>]> = [
    ['a PCI address that climbs out of sysfs', { pciAddress: '../../../etc/x' }],
    ['an upper-case PCI address sysfs does not have', { pciAddress: '0000:A1:00.2' }],
    ['a PF name with a space', { pf: 'eth0 vf 1' }],
    ['a PF name longer than IFNAMSIZ', { pf: 'a'.repeat(16) }],
    ['a negative VF number', { vfIndex: -1 }],
    ['a VLAN beyond 4094', { vlan: 4095 }],
    ['a MAC that is not one', { mac: '02:aa:bb:cc:dd' }],
  ];
  for (const [name, change] of bad)
    assert.throws(
      () => renderVfSetup({ ...vf, ...change }, { boundDriver: null }),
      (error: unknown) => isVmcError(error) && error.code === 'invalid',
      name,
    );
});

test('a VF MAC is derived from the server id: stable, locally administered unicast, unlike the tap MAC', () => {
  const mac = vfMac('srv_01jx0000000000000000000000', 0);
  assert.equal(mac, vfMac('srv_01jx0000000000000000000000', 0), 'stable');
  assert.match(mac, /^02(:[0-9a-f]{2}){5}$/);
  assert.notEqual(mac, vfMac('srv_01jx0000000000000000000000', 1), 'one per VF of the server');
  assert.notEqual(mac, vfMac('srv_01jx0000000000000000000001', 0), 'one per server');
  assert.notEqual(mac, macAddress('srv_01jx0000000000000000000000'));
});

test('the preparer reads the bound driver from sysfs, runs ip and writes sysfs in order', async () => {
  const root = await mkdtemp(join(tmpdir(), 'vmc-sriov-'));
  try {
    const devices = join(root, 'sys/bus/pci/devices');
    await mkdir(join(root, 'sys/bus/pci/drivers/iavf'), { recursive: true });
    for (const address of ['0000:21:00.5', '0000:21:00.6']) {
      await mkdir(join(devices, address, 'driver'), { recursive: true });
      await writeFile(join(devices, address, 'driver_override'), '(null)\n');
    }
    // 0000:21:00.5 is held by iavf (its `driver` is a symlink, as in sysfs); 0000:21:00.6 has no driver.
    await rm(join(devices, '0000:21:00.5', 'driver'), { recursive: true });
    await symlink('../../drivers/iavf', join(devices, '0000:21:00.5', 'driver'));
    await rm(join(devices, '0000:21:00.6', 'driver'), { recursive: true });

    const commands: string[] = [];
    const run: CommandRunner = async (command, args) => {
      commands.push(`${command} ${args.join(' ')}`);
      return { code: 0, stdout: '', stderr: '' };
    };
    const preparer = createVfPreparer({ root, run, vlan: 7 });
    const serverId = 'srv_01jx0000000000000000000000';
    await preparer.prepare({
      serverId,
      vfDevices: [
        { pciAddress: '0000:21:00.5', pf: 'enp33s0f0', vfIndex: 3 },
        { pciAddress: '0000:21:00.6', pf: 'enp33s0f0', vfIndex: 4 },
      ],
    });
    assert.deepEqual(commands, [
      `ip link set enp33s0f0 vf 3 mac ${vfMac(serverId, 0)} vlan 7 spoofchk on trust off`,
      `ip link set enp33s0f0 vf 4 mac ${vfMac(serverId, 1)} vlan 7 spoofchk on trust off`,
    ]);
    // The unbind went through the symlink to the driver's directory (as the kernel's file would).
    assert.equal(await readFile(join(root, 'sys/bus/pci/drivers/iavf/unbind'), 'utf8'), '0000:21:00.5');
    for (const address of ['0000:21:00.5', '0000:21:00.6'])
      assert.equal(await readFile(join(devices, address, 'driver_override'), 'utf8'), 'vfio-pci');
    assert.equal(await readFile(join(root, 'sys/bus/pci/drivers_probe'), 'utf8'), '0000:21:00.6', 'the last probe');

    // A failing command stops the preparation: QEMU would not be started.
    const failing = createVfPreparer({ root, run: async () => ({ code: 2, stdout: '', stderr: 'RTNETLINK answers' }) });
    await assert.rejects(
      failing.prepare({ serverId, vfDevices: [{ pciAddress: '0000:21:00.6', pf: 'enp33s0f0', vfIndex: 4 }] }),
      /RTNETLINK answers/,
    );
    // A server without VFs: nothing at all.
    commands.length = 0;
    await preparer.prepare({ serverId });
    assert.deepEqual(commands, []);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
