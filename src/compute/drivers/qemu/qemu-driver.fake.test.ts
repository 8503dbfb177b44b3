/**
 * What is particular to the QEMU driver, against a fake QEMU (testdata/fake-qemu.ts: real process, real QMP
 * and console sockets, no guest): vCPU pinning, the console log and sessions, a reset sent once per reboot
 * generation. The lifecycle every driver shares (start, stop graceful and forced, reboot generations,
 * re-attach, crash) is the conformance suite's: qemu-driver.conformance.fake.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isVmcError } from '../../../core/errors.ts';
import { guestMarkers } from '../../../images/index.ts';
import { parse as parseYaml } from 'yaml';
import { testSpec, waitFor } from './real-qemu-support.ts';
import { privateNicIds } from './private-nics.ts';
import { fakeQemuHost, fakeQemuSkipReason, waitForConsole } from './testdata/conformance-hooks.ts';

const skip = fakeQemuSkipReason();

test('fake QEMU: pinning, console log and sessions, one reset per reboot generation', { skip }, async () => {
  const host = await fakeQemuHost();
  const stateDir = await mkdtemp(join(tmpdir(), 'vmc-fq-'));
  const driver = host.makeDriver(stateDir);
  const spec = testSpec('srv_fake1', { threads: [1] });
  try {
    await driver.start(spec, 3);
    const pinning = await driver.pinning(spec.serverId);
    assert.deepEqual(
      pinning?.vcpus.map((pin) => [pin.hostThread, pin.pinned, pin.allowedThreads]),
      [[1, true, [1]]],
      'vCPU 0 pinned to host thread 1, read back from /proc',
    );
    await waitForConsole(driver, spec.serverId, guestMarkers.ready, 10_000);

    const session = await driver.attachConsole(spec.serverId);
    let output = '';
    session.on('data', (chunk: Buffer) => (output += chunk.toString()));
    session.write('hello');
    await waitFor('the guest to echo the keystrokes', () => output.includes('echo:hello'), 10_000);
    assert.match(
      output,
      new RegExp(`^[^]*${guestMarkers.userspace}[^]*echo:hello`),
      'scrollback first, then live output',
    );
    session.destroy();

    await driver.reboot(spec.serverId, 3);
    await driver.reboot(spec.serverId, 4);
    await driver.reboot(spec.serverId, 4);
    await waitFor(
      'the reset to show on the console',
      async () => (await driver.consoleLog(spec.serverId)).split(guestMarkers.userspace).length === 3,
      10_000,
    );
    assert.equal(
      (await driver.consoleLog(spec.serverId)).split(guestMarkers.userspace).length - 1,
      2,
      'one boot and exactly one reset: generation 3 was the boot, 4 was carried out once',
    );

    await driver.stop(spec.serverId, { gracefulTimeoutMs: 10_000 });
    await assert.rejects(
      driver.attachConsole(spec.serverId),
      (error: unknown) => isVmcError(error) && error.reason === 'not_running',
    );
    assert.equal(await driver.pinning(spec.serverId), null, 'no pinning without a QEMU');
  } finally {
    await driver.destroy(spec.serverId).catch(() => {});
    await driver.close();
    await rm(stateDir, { recursive: true, force: true, maxRetries: 5 });
    await host.dispose();
  }
});

test('fake QEMU: an attached ISO boots as a cdrom before the disk; changing it restarts cold', { skip }, async () => {
  const host = await fakeQemuHost();
  const stateDir = await mkdtemp(join(tmpdir(), 'vmc-fq-'));
  const driver = host.makeDriver(stateDir);
  const spec = testSpec('srv_fake_iso', { threads: [1] });
  const isoDir = await mkdtemp(join(tmpdir(), 'vmc-iso-'));
  try {
    await writeFile(join(isoDir, 'README'), 'rescue\n');
    const isoPath = join(tmpdir(), `vmc-rescue-${process.pid}.iso`);
    execFileSync('genisoimage', ['-quiet', '-o', isoPath, '-V', 'RESCUE', isoDir]);
    const iso = await host.store.importFile('rescue-iso', isoPath);
    await rm(isoPath, { force: true });
    const cmdline = async () => {
      const pid = await driver.processId(spec.serverId);
      assert.ok(pid, 'QEMU runs');
      return { pid, argv: (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0') };
    };

    await driver.start(spec, 0);
    const plain = await cmdline();
    assert.ok(!plain.argv.some((arg) => arg.includes('ide-cd')), 'no cdrom without an ISO');

    await driver.reboot(spec.serverId, 1, { ...spec, iso: 'rescue-iso' });
    const rescue = await cmdline();
    assert.notEqual(rescue.pid, plain.pid, 'a cold restart: another QEMU process');
    assert.ok(rescue.argv.includes('ide-cd,drive=cd0,id=cd0,bootindex=0'), 'the ISO boots first');
    assert.ok(rescue.argv.some((arg) => arg.includes(iso.diskPath)));
    assert.ok(rescue.argv.some((arg) => arg.includes('bootindex=1') && arg.includes('drive=disk0')));
    assert.equal((await driver.list()).find((i) => i.serverId === spec.serverId)?.rebootGeneration, 1);

    await driver.reboot(spec.serverId, 2, { ...spec, iso: null });
    const back = await cmdline();
    assert.notEqual(back.pid, rescue.pid);
    assert.ok(!back.argv.some((arg) => arg.includes('ide-cd')), 'detached: the disk boots again');
  } finally {
    await driver.destroy(spec.serverId).catch(() => {});
    await driver.close();
    await rm(stateDir, { recursive: true, force: true });
    await rm(isoDir, { recursive: true, force: true });
    await host.dispose();
  }
});

test('fake QEMU: private NICs known before the start are plugged at boot and in the seed', { skip }, async () => {
  const host = await fakeQemuHost();
  const stateDir = await mkdtemp(join(tmpdir(), 'vmc-fq-'));
  const driver = host.makeDriver(stateDir);
  const spec = testSpec('srv_fake_nics', { threads: [1], ipv4: '10.12.0.7/16' });
  const nic = {
    networkId: 'net_fake1',
    tap: 'vmp0123456789ab',
    mac: '02:11:22:33:44:55',
    address: '10.20.0.2/24',
    mtu: 1450,
    routes: [{ destination: '10.100.0.0/16', gateway: '10.20.0.254' }],
  };
  try {
    // The network pass runs before the driver's operations: the server is not created yet.
    await driver.syncPrivateNics!(spec.serverId, [nic]);
    await driver.start(spec, 0);
    const pid = await driver.processId(spec.serverId);
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    const ids = privateNicIds(nic.networkId);
    assert.ok(argv.includes(`tap,id=${ids.netdev},ifname=${nic.tap},script=no,downscript=no`), 'the tap at boot');
    assert.ok(argv.includes(`virtio-net-pci,netdev=${ids.netdev},mac=${nic.mac},id=${ids.device}`));
    const seed = join(stateDir, 'instances', spec.serverId, 'seed.iso');
    const config = execFileSync('isoinfo', ['-R', '-i', seed, '-x', '/network-config'], { encoding: 'utf8' });
    assert.deepEqual(parseYaml(config), {
      version: 2,
      ethernets: {
        eth0: { addresses: ['10.12.0.7/16'], routes: [{ to: '0.0.0.0/0', via: '10.12.0.1' }] },
        eth1: {
          match: { macaddress: nic.mac },
          'set-name': 'eth1',
          mtu: 1450,
          addresses: ['10.20.0.2/24'],
          routes: [{ to: '10.100.0.0/16', via: '10.20.0.254' }],
        },
      },
    });
    // The sync takes the boot NIC as plugged: no QMP plug (the fake QEMU knows no netdev_add).
    await driver.syncPrivateNics!(spec.serverId, [nic]);
  } finally {
    await driver.destroy(spec.serverId).catch(() => {});
    await driver.close();
    await rm(stateDir, { recursive: true, force: true });
    await host.dispose();
  }
});

test(
  'fake QEMU: SR-IOV VFs are set up before QEMU starts and passed as vfio-pci; a failed setup starts nothing',
  { skip },
  async () => {
    const host = await fakeQemuHost();
    const stateDir = await mkdtemp(join(tmpdir(), 'vmc-fq-'));
    const prepared: Array<{ serverId: string; running: boolean }> = [];
    let failWith: Error | null = null;
    const driver = host.makeDriver(stateDir, {
      vfs: {
        async prepare(spec) {
          prepared.push({ serverId: spec.serverId, running: (await driver.processId(spec.serverId)) !== null });
          if (failWith) throw failWith;
        },
      },
    });
    const vfDevices = [{ pciAddress: '0000:21:00.5', pf: 'enp33s0f0', vfIndex: 3 }];
    const spec = testSpec('srv_fake_vf', { threads: [1], vfs: ['0000:21:00.5'], vfDevices });
    const broken = testSpec('srv_fake_vf2', {
      threads: [1],
      vfs: ['0000:21:00.6'],
      vfDevices: [{ ...vfDevices[0], pciAddress: '0000:21:00.6', vfIndex: 4 }],
    });
    const plain = testSpec('srv_fake_novf', { threads: [1] });
    try {
      await driver.start(spec, 0);
      assert.deepEqual(prepared, [{ serverId: spec.serverId, running: false }], 'prepared once, before QEMU ran');
      const pid = await driver.processId(spec.serverId);
      const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
      assert.ok(argv.includes('vfio-pci,host=0000:21:00.5,id=vf0'), 'the VF passed through');

      await driver.start(plain, 0);
      assert.equal(prepared.length, 1, 'a server without VFs prepares nothing');

      failWith = new Error('ip link set enp33s0f0 vf 4 … failed: RTNETLINK answers: Operation not supported');
      await assert.rejects(driver.start(broken, 0), /RTNETLINK/);
      assert.equal(await driver.processId(broken.serverId), null, 'no QEMU without its VF');
    } finally {
      for (const id of [spec.serverId, plain.serverId, broken.serverId]) await driver.destroy(id).catch(() => {});
      await driver.close();
      await rm(stateDir, { recursive: true, force: true });
      await host.dispose();
    }
  },
);
