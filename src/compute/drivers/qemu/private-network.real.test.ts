/**
 * Real guests on a private network across two hosts: two "host" network namespaces joined by a veth
 * underlay, each with its QEMU driver (QEMU runs inside the namespace) and its network data plane (a VXLAN
 * segment with static entries). One guest boots on each host; the agent's steps follow: the data plane
 * converges, the driver hot-plugs each guest's private NIC (QMP netdev_add + device_add). Through the
 * consoles, each guest configures its address (found by MAC) with the network's MTU, and one pings the
 * other by private address. Then the port of one is removed: the ping fails. Needs root, QEMU and the test
 * image's ingredients; skips with a message otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { guestMarkers } from '../../../images/index.ts';
import { createSegmentDataPlane, privateMac, privateTapName, runCommand } from '../../../network/index.ts';
import type { DesiredHostNetwork } from '../../../contract/index.ts';
import { createQemuDriver, type QemuDriver } from './qemu-driver.ts';
import { realQemuSkipReason, testImageStore, testSpec, waitFor } from './real-qemu-support.ts';

async function skipReason(): Promise<string | false> {
  if (process.getuid?.() !== 0) return 'not root: QEMU private network tests skipped';
  const ipNetns = await runCommand('ip', ['netns', 'list']).catch(() => null);
  if (!ipNetns || ipNetns.code !== 0) return 'ip netns is not usable: QEMU private network tests skipped';
  return realQemuSkipReason();
}

const skip = await skipReason();

/** Runs a shell command in the guest and resolves with its exit status, printed after a unique marker. */
function guestRun(terminal: Duplex, command: string, timeoutMs = 30_000): Promise<number> {
  const marker = `RC-${randomBytes(3).toString('hex')}`;
  return new Promise((resolve, reject) => {
    let seen = '';
    const pattern = new RegExp(`${marker}=(\\d+)`);
    const timer = setTimeout(() => reject(new Error(`no answer to ${command}: ${seen}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      const match = pattern.exec(seen);
      if (!match) return;
      clearTimeout(timer);
      terminal.off('data', onData);
      resolve(Number(match[1]));
    };
    terminal.on('data', onData);
    terminal.write(`${command}; echo "${marker.slice(0, 3)}""${marker.slice(3)}=$?"\n`);
  });
}

test(
  'two real guests on one private network across two hosts ping each other by private address',
  { skip, timeout: 180_000 },
  async () => {
    const tag = randomBytes(3).toString('hex');
    const hosts = [
      { ns: `vmct-${tag}-qa`, vtep: '192.0.2.1' },
      { ns: `vmct-${tag}-qb`, vtep: '192.0.2.2' },
    ];
    const networkId = `net_${tag}`;
    const guests = [
      { spec: testSpec(`srv_pn_${tag}_a`, { hostname: 'pn-a' }), ip: '10.60.0.2' },
      { spec: testSpec(`srv_pn_${tag}_b`, { hostname: 'pn-b', threads: [0] }), ip: '10.60.0.3' },
    ];
    const { store, dir: imageDir } = await testImageStore();
    const stateDirs = [await mkdtemp(join(tmpdir(), 'vmc-pn-a-')), await mkdtemp(join(tmpdir(), 'vmc-pn-b-'))];
    const drivers: QemuDriver[] = [];
    const sh = async (args: string[]) => {
      const result = await runCommand('ip', args);
      assert.equal(result.code, 0, `ip ${args.join(' ')}: ${result.stderr}`);
    };
    try {
      for (const host of hosts) await sh(['netns', 'add', host.ns]);
      await sh([
        'link',
        'add',
        'under0',
        'netns',
        hosts[0].ns,
        'type',
        'veth',
        'peer',
        'name',
        'under0',
        'netns',
        hosts[1].ns,
      ]);
      for (const host of hosts) {
        await sh(['-n', host.ns, 'addr', 'add', `${host.vtep}/24`, 'dev', 'under0']);
        await sh(['-n', host.ns, 'link', 'set', 'under0', 'up']);
      }
      const port = (i: number) => ({
        serverId: guests[i].spec.serverId,
        mac: privateMac(guests[i].spec.serverId, networkId),
        ip: guests[i].ip,
      });
      const desired = (i: number, withPeer: boolean): DesiredHostNetwork => ({
        vtep: hosts[i].vtep,
        segments: [
          {
            networkId,
            projectId: 'prj_a',
            vni: 4242,
            mtu: 1450,
            ipRange: '10.60.0.0/24',
            ports: [port(i)],
            remotes: withPeer ? [{ mac: port(1 - i).mac, ip: port(1 - i).ip, vtep: hosts[1 - i].vtep }] : [],
            routes: [],
          },
        ],
        publicRoutes: [],
      });
      const planes = hosts.map((host) => createSegmentDataPlane({ netns: host.ns }));
      for (const [i, host] of hosts.entries())
        drivers.push(createQemuDriver({ stateDir: stateDirs[i], imageStore: store, accel: 'tcg', netns: host.ns }));

      // The agent's steps on each host: boot, converge the data plane, plug the private NIC.
      await Promise.all(guests.map((guest, i) => drivers[i].start(guest.spec, 0)));
      for (const [i, guest] of guests.entries())
        await waitFor(
          `${guest.spec.serverId} ready`,
          async () => (await drivers[i].consoleLog(guest.spec.serverId)).includes(guestMarkers.ready),
          90_000,
        );
      for (const [i, guest] of guests.entries()) {
        const observed = await planes[i].converge(desired(i, true));
        assert.deepEqual(observed.ports, [{ networkId, serverId: guest.spec.serverId }]);
        await drivers[i].syncPrivateNics!(guest.spec.serverId, [
          { networkId, tap: privateTapName(guest.spec.serverId, networkId), mac: port(i).mac },
        ]);
      }

      const terminals = await Promise.all(
        guests.map((guest, i) => drivers[i].attachConsole(guest.spec.serverId, { replay: false })),
      );
      try {
        for (const [i, guest] of guests.entries()) {
          // The hot-plugged NIC, found by its MAC, configured as network-config would: address and MTU.
          const configure =
            `n=''; for t in 1 2 3 4 5 6 7 8 9 10; do for d in /sys/class/net/*; do ` +
            `[ "$(cat $d/address)" = "${port(i).mac}" ] && n=\${d##*/}; done; [ -n "$n" ] && break; sleep 1; done; ` +
            `[ -n "$n" ] && ip link set "$n" mtu 1450 up && ip addr add ${guest.ip}/24 dev "$n"`;
          assert.equal(await guestRun(terminals[i], configure, 40_000), 0, `guest ${i} has its private NIC`);
        }
        assert.equal(
          await guestRun(terminals[0], `ping -c 3 -W 3 ${guests[1].ip} >/dev/null`, 40_000),
          0,
          'guest A reaches guest B by private address across hosts',
        );
        assert.equal(await guestRun(terminals[1], `ping -c 1 -W 3 ${guests[0].ip} >/dev/null`, 40_000), 0, 'and back');
        assert.equal(
          await guestRun(terminals[0], `ping -c 1 -W 3 -s 1422 ${guests[1].ip} >/dev/null`, 40_000),
          0,
          'a 1450-byte packet crosses (MTU 1450 over a 1500 underlay)',
        );
        // B detached: its host drops the port, A's host the entries.
        await drivers[1].syncPrivateNics!(guests[1].spec.serverId, []);
        await planes[1].converge({ vtep: hosts[1].vtep, segments: [], publicRoutes: [] });
        await planes[0].converge(desired(0, false));
        assert.notEqual(
          await guestRun(terminals[0], `ping -c 1 -W 2 ${guests[1].ip} >/dev/null`, 40_000),
          0,
          'a removed attachment stops traffic',
        );
      } finally {
        for (const terminal of terminals) terminal.destroy();
      }
    } finally {
      for (const [i, driver] of drivers.entries()) {
        await driver.destroy(guests[i].spec.serverId).catch(() => {});
        await driver.close();
      }
      for (const host of hosts) await runCommand('ip', ['netns', 'del', host.ns]);
      for (const dir of stateDirs) await rm(dir, { recursive: true, force: true, maxRetries: 5 });
      await rm(imageDir, { recursive: true, force: true });
    }
  },
);
