import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DesiredHostNetwork } from '../contract/index.ts';
import { linkLocalOf, planHostNetwork, type DataPlaneLayout } from './segment-plan.ts';
import { parseFdb, parseLinks, parseNeigh, parseRoutes, type HostDataPlaneState } from './segment-state.ts';
import { macAddress } from './names.ts';
import { privateTapName } from './vxlan-names.ts';

const layout: DataPlaneLayout = { publicBridge: 'vmcbr0', uplink: 'eth0', vxlanPort: 4789 };
const empty = (): HostDataPlaneState => ({ links: new Map(), fdb: new Map(), neigh: new Map(), routes: [] });
const render = (commands: { tool: string; args: string[] }[]) => commands.map((c) => `${c.tool} ${c.args.join(' ')}`);

const desired: DesiredHostNetwork = {
  vtep: '192.0.2.1',
  segments: [
    {
      networkId: 'net_a',
      projectId: 'prj_a',
      vni: 100,
      mtu: 1450,
      ipRange: '10.0.0.0/24',
      ports: [{ serverId: 'srv_1', mac: '02:00:00:00:00:01', ip: '10.0.0.2' }],
      remotes: [{ mac: '02:00:00:00:00:02', ip: '10.0.0.3', vtep: '192.0.2.2' }],
      routes: [],
    },
  ],
  publicRoutes: [
    { address: '198.18.16.5', type: 'ipv4', kind: 'floating', serverId: 'srv_1' },
    { address: '2001:db8:2:1::/64', type: 'ipv6', kind: 'primary', serverId: 'srv_1' },
  ],
};

test('linkLocalOf: EUI-64 of the MAC', () => {
  assert.equal(linkLocalOf('52:54:00:12:34:56'), 'fe80::5054:ff:fe12:3456');
  assert.equal(linkLocalOf('02:00:00:00:00:01'), 'fe80::ff:fe00:1');
  assert.equal(linkLocalOf('02:00:00:00:00:00'), 'fe80::ff:fe00:0');
});

test('planHostNetwork from nothing: golden commands', () => {
  const tap = privateTapName('srv_1', 'net_a');
  const mac = macAddress('srv_1');
  const plan = planHostNetwork(desired, empty(), layout);
  assert.deepEqual(render(plan.commands), [
    'ip link add vmn100 type bridge',
    'ip link set dev vmn100 mtu 1450 up',
    'ip link add vmx100 type vxlan id 100 local 192.0.2.1 dstport 4789 nolearning proxy df set',
    'ip link set dev vmx100 mtu 1450 master vmn100 up',
    'bridge fdb replace 02:00:00:00:00:02 dev vmx100 dst 192.0.2.2 self permanent',
    'ip neigh replace 10.0.0.3 lladdr 02:00:00:00:00:02 dev vmx100 nud permanent',
    `ip tuntap add dev ${tap} mode tap vnet_hdr`,
    `ip link set dev ${tap} mtu 1450 master vmn100 up`,
    `ip neigh replace 198.18.16.5 lladdr ${mac} dev vmcbr0 nud permanent`,
    'ip route replace 198.18.16.5/32 dev vmcbr0 proto 177',
    `ip -6 neigh replace ${linkLocalOf(mac)} lladdr ${mac} dev vmcbr0 nud permanent`,
    `ip -6 route replace 2001:db8:2:1::/64 via ${linkLocalOf(mac)} dev vmcbr0 proto 177`,
  ]);
  assert.deepEqual(plan.announce, ['198.18.16.5']);
});

test('planHostNetwork when converged: nothing; strays and wrong entries are removed', () => {
  const tap = privateTapName('srv_1', 'net_a');
  const mac = macAddress('srv_1');
  const link = (name: string, extra: Record<string, unknown>) => ({
    ifname: name,
    flags: ['UP'],
    mtu: 1450,
    address: '02:aa:aa:aa:aa:aa',
    ...extra,
  });
  const state: HostDataPlaneState = {
    links: parseLinks(
      JSON.stringify([
        link('vmn100', { linkinfo: { info_kind: 'bridge' } }),
        link('vmx100', {
          master: 'vmn100',
          linkinfo: {
            info_kind: 'vxlan',
            info_data: { id: 100, local: '192.0.2.1', port: 4789, learning: false, proxy: true },
          },
        }),
        link(tap, { master: 'vmn100', linkinfo: { info_kind: 'tun' } }),
        link('eth0', { mtu: 1500 }),
      ]),
    ),
    fdb: new Map([
      [
        'vmx100',
        parseFdb(
          JSON.stringify([
            { mac: '02:aa:aa:aa:aa:aa', master: 'vmn100', state: 'permanent' },
            { mac: '02:00:00:00:00:02', dst: '192.0.2.2', flags: ['self'], state: 'permanent' },
          ]),
        ),
      ],
    ]),
    neigh: new Map([
      ['vmx100', parseNeigh(JSON.stringify([{ dst: '10.0.0.3', lladdr: '02:00:00:00:00:02', state: ['PERMANENT'] }]))],
      [
        'vmcbr0',
        parseNeigh(
          JSON.stringify([
            { dst: '198.18.16.5', lladdr: mac, state: ['PERMANENT'] },
            { dst: linkLocalOf(mac), lladdr: mac, state: ['PERMANENT'] },
          ]),
        ),
      ],
    ]),
    routes: parseRoutes(
      JSON.stringify([
        { dst: '198.18.16.5', dev: 'vmcbr0' },
        { dst: '2001:db8:2:1::/64', gateway: linkLocalOf(mac), dev: 'vmcbr0' },
      ]),
    ),
  };
  assert.deepEqual(planHostNetwork(desired, state, layout), { commands: [], announce: [] });

  // Another host's port moved, a stray tap of ours, an old route: removed; the right ones added.
  state.links.set('vmp000000000000', {
    name: 'vmp000000000000',
    kind: 'tun',
    master: null,
    mtu: 1500,
    up: false,
    mac: null,
  });
  state.routes.push({ dst: '198.18.16.9', dev: 'vmcbr0', gateway: null });
  const moved: DesiredHostNetwork = {
    ...desired,
    segments: [{ ...desired.segments[0], remotes: [{ mac: '02:00:00:00:00:02', ip: '10.0.0.3', vtep: '192.0.2.3' }] }],
  };
  assert.deepEqual(render(planHostNetwork(moved, state, layout).commands), [
    'ip link del dev vmp000000000000',
    'bridge fdb del 02:00:00:00:00:02 dev vmx100 dst 192.0.2.2 self',
    'ip route del 198.18.16.9 dev vmcbr0 proto 177',
    'ip neigh del 198.18.16.9 dev vmcbr0',
    'bridge fdb replace 02:00:00:00:00:02 dev vmx100 dst 192.0.2.3 self permanent',
  ]);

  // A VXLAN device with learning on (made by hand) is replaced, and its entries written again.
  state.links.get('vmx100')!.vxlan!.learning = true;
  const redo = render(planHostNetwork(desired, state, layout).commands);
  assert.ok(redo.includes('ip link del dev vmx100'));
  assert.ok(redo.includes('bridge fdb replace 02:00:00:00:00:02 dev vmx100 dst 192.0.2.2 self permanent'));
});
