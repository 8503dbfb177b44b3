import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../core/index.ts';
import type { DesiredHostNetwork, ObservedHostNetwork } from '../contract/index.ts';
import type { PrivateNicSpec } from '../compute/index.ts';
import { privateTapName } from '../network/index.ts';
import type { ControlPlaneLink } from './link.ts';
import { createNetworkPass, createSimDataPlane } from './network-pass.ts';

test('network pass: converge, report when changed, and give running instances exactly their NICs', async () => {
  let desired: DesiredHostNetwork = {
    vtep: null,
    segments: [
      {
        networkId: 'net_a',
        projectId: 'prj_a',
        vni: 100,
        mtu: 1450,
        ipRange: '10.0.0.0/24',
        ports: [
          { serverId: 'srv_1', mac: '02:00:00:00:00:01', ip: '10.0.0.2' },
          { serverId: 'srv_3', mac: '02:00:00:00:00:03', ip: '10.0.0.3' },
        ],
        remotes: [],
        routes: [{ destination: '10.100.0.0/16', gateway: '10.0.0.254' }],
      },
    ],
    publicRoutes: [{ address: '198.18.16.5', type: 'ipv4', kind: 'floating', serverId: 'srv_2' }],
  };
  const reports: ObservedHostNetwork[] = [];
  const link = {
    desiredNetwork: async () => desired,
    reportNetwork: async (_hostId: string, observed: ObservedHostNetwork) => {
      reports.push(observed);
    },
  } as unknown as ControlPlaneLink;
  const nics = new Map<string, PrivateNicSpec[]>();
  const driver = {
    list: async () => [
      { serverId: 'srv_1', power: 'running' as const, rebootGeneration: 0 },
      { serverId: 'srv_2', power: 'running' as const, rebootGeneration: 0 },
    ],
    syncPrivateNics: async (serverId: string, wanted: PrivateNicSpec[]) => {
      nics.set(serverId, wanted);
    },
  };
  const pass = createNetworkPass({
    hostId: 'host_1',
    link,
    dataPlane: createSimDataPlane(),
    driver,
    log: silentLogger,
  });

  await pass(false);
  assert.deepEqual(reports, [
    {
      ports: [
        { networkId: 'net_a', serverId: 'srv_1' },
        { networkId: 'net_a', serverId: 'srv_3' },
      ],
      publicRoutes: [{ address: '198.18.16.5', serverId: 'srv_2' }],
    },
  ]);
  const routes = [{ destination: '10.100.0.0/16', gateway: '10.0.0.254' }];
  assert.deepEqual(nics.get('srv_1'), [
    {
      networkId: 'net_a',
      tap: privateTapName('srv_1', 'net_a'),
      mac: '02:00:00:00:00:01',
      address: '10.0.0.2/24',
      mtu: 1450,
      routes,
    },
  ]);
  assert.deepEqual(
    nics.get('srv_3')?.map((nic) => nic.address),
    ['10.0.0.3/24'],
    'a server not created here yet learns its NICs for its first boot',
  );
  assert.deepEqual(nics.get('srv_2'), [], 'a server on no network has no private NIC');

  await pass(false);
  assert.equal(reports.length, 1, 'nothing changed: no report');
  await pass(true);
  assert.equal(reports.length, 2, 'a forced pass reports');

  desired = { ...desired, segments: [] };
  await pass(false);
  assert.deepEqual(reports[2].ports, []);
  assert.deepEqual(nics.get('srv_1'), [], 'detached: the NIC goes');
  assert.deepEqual(nics.get('srv_3'), [], 'and from a server known only by its port, too');
});
