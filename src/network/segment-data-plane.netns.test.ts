/**
 * The private-network and floating-IP data plane for real, in network namespaces this test creates and
 * deletes: two "hosts" (hA, hB) joined by a veth underlay (192.0.2.1/24, 192.0.2.2/24), each converged by
 * its own data plane from a desired state shaped as the control plane sends it; "servers" are namespaces
 * plugged into the hosts through veth pairs whose host ends carry the taps' names. For floating IPs, a
 * provider LAN namespace (a bridge) joins the hosts' uplinks and a client. No packet leaves these
 * namespaces. Needs root, ip, bridge and busybox (ping, arping).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { DesiredHostNetwork, DesiredSegment } from '../contract/index.ts';
import { runCommand } from './host-network.ts';
import { macAddress, tapName } from './names.ts';
import { privateMac, privateTapName, segmentBridgeName, vxlanDeviceName } from './vxlan-names.ts';
import { createSegmentDataPlane } from './segment-data-plane.ts';

async function skipReason(): Promise<string | false> {
  if (process.getuid?.() !== 0) return 'not root: network namespace tests skipped';
  for (const [command, args] of [
    ['ip', ['netns', 'list']],
    ['bridge', ['-V']],
    ['busybox', ['true']],
  ] as const) {
    const result = await runCommand(command, [...args]).catch(() => null);
    if (!result || result.code !== 0) return `${command} is not usable here: network namespace tests skipped`;
  }
  return false;
}
const skip = await skipReason();

async function sh(command: string, args: string[]) {
  const result = await runCommand(command, args);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}
const inNs = (ns: string, ...args: string[]) => sh('ip', ['netns', 'exec', ns, ...args]);
const ping = async (ns: string, address: string, size?: number) =>
  (
    await runCommand('ip', [
      'netns',
      'exec',
      ns,
      'busybox',
      'ping',
      '-c',
      '1',
      '-W',
      '1',
      ...(size ? ['-s', String(size)] : []),
      address,
    ])
  ).code === 0;

/** A "server": a namespace with `eth` plugged into `hostNs` through a veth whose host end is `hostEnd`. */
async function plugServer(ns: string, hostNs: string, hostEnd: string, mac: string, cidr: string, mtu: number) {
  await sh('ip', ['netns', 'add', ns]);
  await sh('ip', ['link', 'add', hostEnd, 'netns', hostNs, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  await sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'address', mac, 'mtu', String(mtu), 'up']);
  await sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  await sh('ip', ['-n', ns, 'addr', 'add', cidr, 'dev', 'eth0']);
}

test(
  'VXLAN segments across two hosts: reachability, isolation, MTU, reconcile, detach',
  { skip, timeout: 120_000 },
  async () => {
    const tag = randomBytes(3).toString('hex');
    const ns = (name: string) => `vmct-${tag}-${name}`;
    const [hA, hB] = [ns('hA'), ns('hB')];
    const vtepA = '192.0.2.1';
    const vtepB = '192.0.2.2';
    const net1 = `net_${tag}one`;
    const net2 = `net_${tag}two`;
    // Servers: s1 (net1 on hA), s2 (net1 on hB), s3 (net2 — another project — on hB, in the same range).
    const s1 = { id: `srv_${tag}1`, ns: ns('s1'), ip: '10.50.0.2', network: net1 };
    const s2 = { id: `srv_${tag}2`, ns: ns('s2'), ip: '10.50.0.3', network: net1 };
    const s3 = { id: `srv_${tag}3`, ns: ns('s3'), ip: '10.50.0.4', network: net2 };
    const namespaces = [hA, hB, s1.ns, s2.ns, s3.ns];
    try {
      for (const name of [hA, hB]) await sh('ip', ['netns', 'add', name]);
      await sh('ip', ['link', 'add', 'under0', 'netns', hA, 'type', 'veth', 'peer', 'name', 'under0', 'netns', hB]);
      await sh('ip', ['-n', hA, 'addr', 'add', `${vtepA}/24`, 'dev', 'under0']);
      await sh('ip', ['-n', hB, 'addr', 'add', `${vtepB}/24`, 'dev', 'under0']);
      for (const h of [hA, hB]) await sh('ip', ['-n', h, 'link', 'set', 'under0', 'mtu', '1500', 'up']);
      const hostOf = (s: typeof s1) => (s === s1 ? hA : hB);
      for (const s of [s1, s2, s3])
        await plugServer(
          s.ns,
          hostOf(s),
          privateTapName(s.id, s.network),
          privateMac(s.id, s.network),
          `${s.ip}/24`,
          1450,
        );

      const port = (s: typeof s1) => ({ serverId: s.id, mac: privateMac(s.id, s.network), ip: s.ip });
      const remote = (s: typeof s1) => ({
        mac: privateMac(s.id, s.network),
        ip: s.ip,
        vtep: hostOf(s) === hA ? vtepA : vtepB,
      });
      const segment = (
        network: string,
        vni: number,
        project: string,
        ports: (typeof s1)[],
        remotes: (typeof s1)[],
      ): DesiredSegment => ({
        networkId: network,
        projectId: project,
        vni,
        mtu: 1450,
        ipRange: '10.50.0.0/24',
        ports: ports.map(port),
        remotes: remotes.map(remote),
        routes: [],
      });
      const desiredA = (withS2: boolean): DesiredHostNetwork => ({
        vtep: vtepA,
        segments: [segment(net1, 100, 'prj_a', [s1], withS2 ? [s2] : [])],
        publicRoutes: [],
      });
      const desiredB = (withS2: boolean): DesiredHostNetwork => ({
        vtep: vtepB,
        segments: [...(withS2 ? [segment(net1, 100, 'prj_a', [s2], [s1])] : []), segment(net2, 101, 'prj_b', [s3], [])],
        publicRoutes: [],
      });
      const planeA = createSegmentDataPlane({ netns: hA });
      const planeB = createSegmentDataPlane({ netns: hB });

      assert.equal(await ping(s1.ns, s2.ip), false, 'nothing before the data plane');
      const observedA = await planeA.converge(desiredA(true));
      const observedB = await planeB.converge(desiredB(true));
      assert.deepEqual(observedA.ports, [{ networkId: net1, serverId: s1.id }]);
      assert.deepEqual(observedB.ports, [
        { networkId: net1, serverId: s2.id },
        { networkId: net2, serverId: s3.id },
      ]);
      // Converging again changes nothing (no command to run).
      const again = await planeA.readState();
      assert.ok(again.links.has(vxlanDeviceName(100)));

      assert.equal(await ping(s1.ns, s2.ip), true, 'same network, across hosts');
      assert.equal(await ping(s2.ns, s1.ip), true, 'and back');
      assert.equal(await ping(s1.ns, s3.ip), false, 'another network (another project) in the same range: unreachable');
      assert.equal(await ping(s3.ns, s1.ip), false, 'and not the other way either');
      // Even with the peer's MAC known (no ARP needed), nothing crosses: no forwarding entry, no flooding.
      await inNs(
        s3.ns,
        'ip',
        'neigh',
        'replace',
        s2.ip,
        'lladdr',
        privateMac(s2.id, net1),
        'dev',
        'eth0',
        'nud',
        'permanent',
      );
      assert.equal(await ping(s3.ns, s2.ip), false, 'a server of net2 cannot reach net1 on its own host');

      // MTU: 1450 everywhere on the segment; a 1450-byte packet crosses an underlay of 1500 (VXLAN: 50 bytes),
      // with DF set on the outer packet (df set): no fragmentation hides a wrong overhead.
      const links = (await planeA.readState()).links;
      for (const name of [segmentBridgeName(100), vxlanDeviceName(100), privateTapName(s1.id, net1)])
        assert.equal(links.get(name)?.mtu, 1450, name);
      assert.equal(await ping(s1.ns, s2.ip, 1422), true, '1422 bytes of ICMP payload = a 1450-byte packet');
      await sh('ip', ['-n', s1.ns, 'link', 'set', 'eth0', 'mtu', '1500']);
      assert.equal(await ping(s1.ns, s2.ip, 1430), false, 'a guest that ignores the MTU loses its large packets');
      await sh('ip', ['-n', s1.ns, 'link', 'set', 'eth0', 'mtu', '1450']);
      assert.equal(await ping(s1.ns, s2.ip, 1430), true, 'fragmented by a guest that knows the MTU');

      // Reconcile: what was deleted under the agent comes back; what should not exist goes.
      await sh('bridge', [
        '-n',
        hA,
        'fdb',
        'del',
        privateMac(s2.id, net1),
        'dev',
        vxlanDeviceName(100),
        'dst',
        vtepB,
        'self',
      ]);
      await sh('ip', ['-n', hB, 'link', 'del', vxlanDeviceName(100)]);
      await sh('ip', ['-n', hA, 'link', 'add', 'vmn999', 'type', 'bridge']);
      await sh('bridge', [
        '-n',
        hA,
        'fdb',
        'append',
        '02:de:ad:be:ef:00',
        'dev',
        vxlanDeviceName(100),
        'dst',
        '192.0.2.99',
        'self',
        'permanent',
      ]);
      assert.equal(await ping(s1.ns, s2.ip), false, 'broken under the agent');
      await planeA.converge(desiredA(true));
      await planeB.converge(desiredB(true));
      assert.equal(await ping(s1.ns, s2.ip), true, 'repaired by the next pass');
      const repaired = await planeA.readState();
      assert.equal(repaired.links.has('vmn999'), false, 'a stray bridge of ours is removed');
      assert.deepEqual(repaired.fdb.get(vxlanDeviceName(100)), [{ mac: privateMac(s2.id, net1), dst: vtepB }]);

      // Detach s2: its host drops the port, s1's host drops the entries: no traffic any more.
      const afterA = await planeA.converge(desiredA(false));
      const afterB = await planeB.converge(desiredB(false));
      assert.deepEqual(afterB.ports, [{ networkId: net2, serverId: s3.id }]);
      assert.deepEqual(afterA.ports, [{ networkId: net1, serverId: s1.id }]);
      const stateB = await planeB.readState();
      assert.equal(stateB.links.has(privateTapName(s2.id, net1)), false, 'the port is gone');
      assert.equal(stateB.links.has(segmentBridgeName(100)), false, 'and the segment, with no port left on hB');
      assert.equal(await ping(s1.ns, s2.ip), false, 'a removed attachment stops traffic');
    } finally {
      for (const name of namespaces) await runCommand('ip', ['netns', 'del', name]);
    }
  },
);

test(
  'floating IP: routed to the server’s host, moved to another host, announced by gratuitous ARP',
  { skip, timeout: 120_000 },
  async () => {
    const tag = randomBytes(3).toString('hex');
    const ns = (name: string) => `vmct-${tag}-${name}`;
    const [hA, hB, lan, client] = [ns('hA'), ns('hB'), ns('lan'), ns('cl')];
    const p1 = { id: `srv_${tag}p1`, ns: ns('p1'), host: hA, ip: '10.77.1.2', gw: '10.77.1.1' };
    const p2 = { id: `srv_${tag}p2`, ns: ns('p2'), host: hB, ip: '10.77.2.2', gw: '10.77.2.1' };
    const fip = '198.18.16.5';
    const namespaces = [hA, hB, lan, client, p1.ns, p2.ns];
    try {
      for (const name of [hA, hB, lan, client]) await sh('ip', ['netns', 'add', name]);
      // The provider LAN: a bridge joining both hosts' uplinks and the client.
      await sh('ip', ['-n', lan, 'link', 'add', 'lan0', 'type', 'bridge']);
      await sh('ip', ['-n', lan, 'link', 'set', 'lan0', 'up']);
      const uplinks = [
        [hA, '203.0.113.1/24', 'upa'],
        [hB, '203.0.113.2/24', 'upb'],
        [client, '203.0.113.100/24', 'upc'],
      ] as const;
      for (const [host, cidr, lanEnd] of uplinks) {
        await sh('ip', ['link', 'add', 'uplink0', 'netns', host, 'type', 'veth', 'peer', 'name', lanEnd, 'netns', lan]);
        await sh('ip', ['-n', lan, 'link', 'set', lanEnd, 'master', 'lan0', 'up']);
        await sh('ip', ['-n', host, 'addr', 'add', cidr, 'dev', 'uplink0']);
        await sh('ip', ['-n', host, 'link', 'set', 'uplink0', 'up']);
      }
      // The client reaches the public range on-link (it ARPs for the floating IP itself).
      await sh('ip', ['-n', client, 'route', 'add', '198.18.16.0/20', 'dev', 'uplink0']);
      // Each host's public bridge with its pool's gateway; a server on each.
      for (const p of [p1, p2]) {
        await sh('ip', ['-n', p.host, 'link', 'add', 'vmcbr0', 'type', 'bridge']);
        await sh('ip', ['-n', p.host, 'addr', 'add', `${p.gw}/24`, 'dev', 'vmcbr0']);
        await sh('ip', ['-n', p.host, 'link', 'set', 'vmcbr0', 'up']);
        await plugServer(p.ns, p.host, tapName(p.id), macAddress(p.id), `${p.ip}/24`, 1500);
        await sh('ip', ['-n', p.host, 'link', 'set', tapName(p.id), 'master', 'vmcbr0', 'up']);
        await sh('ip', ['-n', p.ns, 'route', 'add', 'default', 'via', p.gw]);
      }
      const planeA = createSegmentDataPlane({ netns: hA, publicBridge: 'vmcbr0', uplink: 'uplink0' });
      const planeB = createSegmentDataPlane({ netns: hB, publicBridge: 'vmcbr0', uplink: 'uplink0' });
      // p1 also has its IPv6 /64 (a primary IP) routed via its link-local address.
      const p1v6 = { address: '2001:db8:2:7::/64', type: 'ipv6', kind: 'primary', serverId: p1.id } as const;
      const desired = (server: typeof p1 | null, host: string): DesiredHostNetwork => ({
        vtep: null,
        segments: [],
        publicRoutes: [
          ...(host === hA ? [p1v6] : []),
          ...(server && server.host === host
            ? [{ address: fip, type: 'ipv4' as const, kind: 'floating' as const, serverId: server.id }]
            : []),
        ],
      });
      const clientSees = async () => {
        const text = await sh('ip', ['-n', client, '-j', 'neigh', 'show', fip]);
        return (JSON.parse(text || '[]') as Array<{ lladdr?: string }>)[0]?.lladdr ?? null;
      };
      const uplinkMac = async (host: string) =>
        (JSON.parse(await sh('ip', ['-n', host, '-j', 'link', 'show', 'uplink0'])) as Array<{ address: string }>)[0]
          .address;

      // Assigned to p1: the guest configures the address itself (as on Hetzner); hA routes it to p1.
      await sh('ip', ['-n', p1.ns, 'addr', 'add', `${fip}/32`, 'dev', 'eth0']);
      const a1 = await planeA.converge(desired(p1, hA));
      await planeB.converge(desired(p1, hB));
      assert.deepEqual(a1.publicRoutes, [
        { address: p1v6.address, serverId: p1.id },
        { address: fip, serverId: p1.id },
      ]);
      assert.equal((await planeA.converge(desired(p1, hA))).publicRoutes.length, 2, 'converged: stable');
      assert.equal(await ping(client, fip), true, 'the floating IP answers on p1');
      assert.equal(await clientSees(), await uplinkMac(hA), 'the client reaches it through hA');

      // Reassigned to p2 on hB: p2 takes the address, p1 drops it; the new host routes and announces it.
      await sh('ip', ['-n', p1.ns, 'addr', 'del', `${fip}/32`, 'dev', 'eth0']);
      await sh('ip', ['-n', p2.ns, 'addr', 'add', `${fip}/32`, 'dev', 'eth0']);
      const b2 = await planeB.converge(desired(p2, hB));
      assert.deepEqual(b2.publicRoutes, [{ address: fip, serverId: p2.id }]);
      assert.equal(
        await clientSees(),
        await uplinkMac(hB),
        'the gratuitous ARP moved the client’s entry to hB at once',
      );
      const a2 = await planeA.converge(desired(p2, hA));
      assert.deepEqual(a2.publicRoutes, [{ address: p1v6.address, serverId: p1.id }]);
      assert.deepEqual(
        (await planeA.readState()).routes.map((r) => r.dst),
        [p1v6.address],
        'the old host dropped the floating IP’s route',
      );
      assert.equal(await ping(client, fip), true, 'the floating IP answers on p2 now');
      // p1 still holds 10.77.1.2 but not the floating IP: the answer can only have come from p2.
      assert.equal(await ping(p1.ns, fip), false, 'p1 no longer has it (and hA no longer routes it)');
    } finally {
      for (const name of namespaces) await runCommand('ip', ['netns', 'del', name]);
    }
  },
);
