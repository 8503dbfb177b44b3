import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InstanceSpec } from '../driver.ts';
import { gatewayOf, renderSeed } from './nocloud-seed.ts';
import { testSpec } from './real-qemu-support.ts';

const spec: InstanceSpec = testSpec('srv_a', { hostname: 'web-1', sshKeys: [] });

test('renderSeed', () => {
  const table: [string, Partial<InstanceSpec>, { mac?: string; mtu?: number }, ReturnType<typeof renderSeed>][] = [
    [
      'hostname only, empty cloud-config',
      {},
      {},
      { 'meta-data': 'instance-id: "srv_a"\nlocal-hostname: "web-1"\n', 'user-data': '#cloud-config\n{}\n' },
    ],
    [
      'ssh keys and a user-data script',
      { sshKeys: ['ssh-ed25519 AAAAC3 alice@laptop', ' ssh-rsa AAAAB3 bob \n'], userData: '#!/bin/sh\necho hi\n' },
      {},
      {
        'meta-data': 'instance-id: "srv_a"\nlocal-hostname: "web-1"\npublic-keys:\n  - ssh-ed25519 AAAAC3 alice@laptop\n  - ssh-rsa AAAAB3 bob\n',
        'user-data': '#!/bin/sh\necho hi\n',
      },
    ],
    [
      'address, mac and mtu',
      { ipv4: '10.20.0.5/24' },
      { mac: '52:54:00:00:00:01', mtu: 1450 },
      {
        'meta-data': 'instance-id: "srv_a"\nlocal-hostname: "web-1"\n',
        'user-data': '#cloud-config\n{}\n',
        'network-config':
          'version: 2\nethernets:\n  eth0:\n    match:\n      macaddress: "52:54:00:00:00:01"\n    set-name: eth0\n    addresses:\n      - 10.20.0.5/24\n    gateway4: 10.20.0.1\n    mtu: 1450\n',
      },
    ],
    [
      'hostile hostname stays one YAML scalar',
      { hostname: 'a"\ninjected: yes' },
      {},
      { 'meta-data': 'instance-id: "srv_a"\nlocal-hostname: "a\\"\\ninjected: yes"\n', 'user-data': '#cloud-config\n{}\n' },
    ],
  ];
  for (const [name, override, options, expected] of table) assert.deepEqual(renderSeed({ ...spec, ...override }, options), expected, name);
});

test('gatewayOf', () => {
  const table: [string, string | null][] = [
    ['10.20.0.5/24', '10.20.0.1'],
    ['10.20.7.200/16', '10.20.0.1'],
    ['192.168.1.130/25', '192.168.1.129'],
    ['nonsense', null],
  ];
  for (const [cidr, expected] of table) assert.equal(gatewayOf(cidr), expected, cidr);
});
