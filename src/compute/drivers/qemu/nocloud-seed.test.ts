import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { isVmcError } from '../../../core/errors.ts';
import type { InstanceSpec } from '../driver.ts';
import { gatewayOf, isSafeSshKey, renderSeed, unsafeSeedCharacter, type SeedOptions } from './nocloud-seed.ts';
import { testSpec } from './real-qemu-support.ts';

const spec: InstanceSpec = testSpec('srv_a', { hostname: 'web-1', sshKeys: [] });
/** A public key line whose blob decodes to its type (the key material itself is random). */
function key(type: string, comment = '', size = 32): string {
  const name = Buffer.from(type, 'latin1');
  const blob = Buffer.concat([Buffer.alloc(4), name, Buffer.alloc(4), Buffer.alloc(size, 7)]);
  blob.writeUInt32BE(name.length, 0);
  blob.writeUInt32BE(size, 4 + name.length);
  return `${type} ${blob.toString('base64')}${comment ? ` ${comment}` : ''}`;
}
const alice = key('ssh-ed25519', 'alice@laptop');
const bob = key('ssh-rsa', 'bob', 270);

test('renderSeed', async (t) => {
  const table: [string, Partial<InstanceSpec>, SeedOptions, ReturnType<typeof renderSeed>][] = [
    [
      'hostname only, empty cloud-config',
      {},
      {},
      { 'meta-data': 'instance-id: "srv_a"\nlocal-hostname: "web-1"\n', 'user-data': '#cloud-config\n{}\n' },
    ],
    [
      'ssh keys (trimmed) and a user-data script',
      { sshKeys: [alice, ` ${bob} \n`], userData: '#!/bin/sh\necho hi\n' },
      {},
      {
        'meta-data': `instance-id: "srv_a"\nlocal-hostname: "web-1"\npublic-keys:\n  - "${alice}"\n  - "${bob}"\n`,
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
          'version: 2\nethernets:\n  eth0:\n    match:\n      macaddress: "52:54:00:00:00:01"\n    set-name: "eth0"\n    addresses:\n      - "10.20.0.5/24"\n    gateway4: "10.20.0.1"\n    mtu: 1450\n',
      },
    ],
    [
      'public NIC and two private NICs: static addresses by MAC, the networks’ MTU and routes',
      { ipv4: '10.20.0.5/24' },
      {
        mac: '52:54:00:00:00:01',
        privateNics: [
          {
            mac: '02:11:22:33:44:55',
            address: '10.50.0.2/24',
            mtu: 1450,
            routes: [{ destination: '10.100.0.0/16', gateway: '10.50.0.254' }],
          },
          { mac: '02:11:22:33:44:66', address: '172.16.4.9/22', mtu: 1450, routes: [] },
        ],
      },
      {
        'meta-data': 'instance-id: "srv_a"\nlocal-hostname: "web-1"\n',
        'user-data': '#cloud-config\n{}\n',
        'network-config': `version: 2
ethernets:
  eth0:
    match:
      macaddress: "52:54:00:00:00:01"
    set-name: "eth0"
    addresses:
      - "10.20.0.5/24"
    routes:
      - to: "0.0.0.0/0"
        via: "10.20.0.1"
  eth1:
    match:
      macaddress: "02:11:22:33:44:55"
    set-name: "eth1"
    mtu: 1450
    addresses:
      - "10.50.0.2/24"
    routes:
      - to: "10.100.0.0/16"
        via: "10.50.0.254"
  eth2:
    match:
      macaddress: "02:11:22:33:44:66"
    set-name: "eth2"
    mtu: 1450
    addresses:
      - "172.16.4.9/22"
`,
      },
    ],
    [
      'a private NIC on a server without a public address',
      {},
      { privateNics: [{ mac: '02:11:22:33:44:55', address: '10.50.0.2/24', mtu: 1450, routes: [] }] },
      {
        'meta-data': 'instance-id: "srv_a"\nlocal-hostname: "web-1"\n',
        'user-data': '#cloud-config\n{}\n',
        'network-config':
          'version: 2\nethernets:\n  eth1:\n    match:\n      macaddress: "02:11:22:33:44:55"\n    set-name: "eth1"\n    mtu: 1450\n    addresses:\n      - "10.50.0.2/24"\n',
      },
    ],
    [
      'a hostname YAML would read as something else stays a string',
      { hostname: 'no' },
      {},
      { 'meta-data': 'instance-id: "srv_a"\nlocal-hostname: "no"\n', 'user-data': '#cloud-config\n{}\n' },
    ],
  ];
  for (const [name, override, options, expected] of table)
    await t.test(name, () => assert.deepEqual(renderSeed({ ...spec, ...override }, options), expected));
});

test('renderSeed: meta-data parses back to exactly the spec', async (t) => {
  const table: [string, Partial<InstanceSpec>][] = [
    ['plain', { sshKeys: [alice] }],
    ['YAML-looking comment', { sshKeys: [`${alice} #not: a comment`, `${bob} "quoted" 'x' - [y] {z}`] }],
    ['long key', { sshKeys: [key('ssh-rsa', 'long', 520)] }],
    ['unicode comment', { sshKeys: [`${alice} élodie@café 🙂`] }],
  ];
  for (const [name, override] of table) {
    await t.test(name, () => {
      const input = { ...spec, ...override };
      const metaData = renderSeed(input)['meta-data'];
      // The YAML 1.1 reading (PyYAML's, cloud-init's) and the YAML 1.2 one agree.
      for (const version of ['1.1', '1.2'] as const)
        assert.deepEqual(parseYaml(metaData, { version }), {
          'instance-id': 'srv_a',
          'local-hostname': 'web-1',
          'public-keys': input.sshKeys,
        });
      assert.equal(metaData.split('\n').length, 5 + input.sshKeys.length - 1, 'one line per key');
    });
  }
});

/** The lines of a YAML text as PyYAML (YAML 1.1) breaks them: \n, \r, U+0085, U+2028 and U+2029. */
const pyYamlLines = (text: string) => text.split(/\r\n|[\n\r\u0085\u2028\u2029]/);

test('renderSeed refuses an SSH key whose comment injects a second key with U+2028', () => {
  const injection = `${alice}\u2028  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAttacker mallory@evil`;
  let rendered: string | null = null;
  try {
    rendered = renderSeed({ ...spec, sshKeys: [injection] })['meta-data'];
  } catch (error) {
    assert.ok(isVmcError(error), String(error));
    assert.equal(error.code, 'invalid');
    assert.equal(error.reason, 'unsafe_seed_text');
    assert.match(error.message, /sshKeys\[0\].*U\+2028/);
  }
  // What the hand-built YAML produced: PyYAML saw two keys, one of them the attacker's.
  const keysSeenByCloudInit = rendered === null ? [] : pyYamlLines(rendered).filter((line) => /^\s+- /.test(line));
  assert.deepEqual(keysSeenByCloudInit, [], 'no key may reach a seed with a line separator in it');
  assert.equal(rendered, null);
});

test('renderSeed refuses unsafe input', async (t) => {
  const nic = { mac: '02:11:22:33:44:55', address: '10.50.0.2/24', mtu: 1450, routes: [] };
  const table: [string, Partial<InstanceSpec>, SeedOptions, RegExp][] = [
    ['newline in a key', { sshKeys: [`${alice}\nssh-rsa AAAA evil`] }, {}, /sshKeys\[0\].*U\+000A/],
    ['U+2029 in a key', { sshKeys: [`${alice}\u2029x`] }, {}, /U\+2029/],
    ['NEL in a key', { sshKeys: [`${alice}\u0085x`] }, {}, /U\+0085/],
    ['NUL in a key', { sshKeys: [`${alice}\0`] }, {}, /U\+0000/],
    ['second key is not a key', { sshKeys: [alice, 'hello world'] }, {}, /sshKeys\[1\].*not one OpenSSH/],
    ['newline in the hostname', { hostname: 'web-1\ninjected: yes' }, {}, /hostname.*U\+000A/],
    ['U+2028 in the hostname', { hostname: 'web\u2028x' }, {}, /hostname.*U\+2028/],
    ['empty hostname', { hostname: '' }, {}, /hostname/],
    ['NUL in user-data', { userData: '#!/bin/sh\n\0' }, {}, /userData/],
    ['address that is not one', { ipv4: '10.20.0.5/24\n  - 1.2.3.4/8' }, {}, /ipv4/],
    ['MAC that is not one', { ipv4: '10.20.0.5/24' }, { mac: '52:54:00:00:00:01"\nx' }, /mac/],
    ['private NIC MAC that is not one', {}, { privateNics: [{ ...nic, mac: '02:11"\nx' }] }, /privateNics\[0\]\.mac/],
    ['private NIC address with a newline', {}, { privateNics: [{ ...nic, address: '10.50.0.2/24\n- x' }] }, /address/],
    ['private NIC MTU out of range', {}, { privateNics: [{ ...nic, mtu: 70000 }] }, /privateNics\[0\]\.mtu/],
    [
      'private NIC route that is not one',
      {},
      { privateNics: [{ ...nic, routes: [{ destination: '0.0.0.0/0', gateway: 'evil' }] }] },
      /routes\[0\]/,
    ],
  ];
  for (const [name, override, options, message] of table) {
    await t.test(name, () =>
      assert.throws(
        () => renderSeed({ ...spec, ...override }, options),
        (error: unknown) => isVmcError(error) && error.reason === 'unsafe_seed_text' && message.test(error.message),
      ),
    );
  }
});

test('unsafeSeedCharacter', async (t) => {
  const table: [string, string, string | null][] = [
    ['plain ASCII', 'ssh-ed25519 AAAA me@host', null],
    ['accents and emoji', 'élodie 🙂', null],
    ['tab', 'a\tb', 'U+0009 at 1'],
    ['DEL', 'a\u007f', 'U+007F at 1'],
    ['C1 control', '\u009b', 'U+009B at 0'],
    ['line separator', 'ab\u2028', 'U+2028 at 2'],
    ['paragraph separator', '\u2029', 'U+2029 at 0'],
    ['byte order mark', '\ufeffx', 'U+FEFF at 0'],
    ['lone surrogate', 'a\ud800', 'a lone surrogate'],
  ];
  for (const [name, text, expected] of table)
    await t.test(name, () => assert.equal(unsafeSeedCharacter(text), expected));
});

test('isSafeSshKey', async (t) => {
  const table: [string, string, boolean][] = [
    ['ed25519 with comment', alice, true],
    ['rsa without comment', key('ssh-rsa'), true],
    ['ecdsa', key('ecdsa-sha2-nistp256', 'me'), true],
    ['a blob of another type', key('ssh-rsa').replace('ssh-rsa', 'ssh-ed25519'), false],
    ['security key', key('sk-ssh-ed25519@openssh.com', 'me'), true],
    ['surrounding whitespace', `  ${alice}  `, true],
    ['unknown type', 'ssh-foo AAAA me', false],
    ['no blob', 'ssh-ed25519', false],
    ['blob not base64', 'ssh-ed25519 AA!A me', false],
    ['U+2028 in the comment', `${alice}\u2028x`, false],
    ['trailing newline of a pasted key (trimmed)', `${alice}\n`, true],
    ['newline inside', `${alice}\nssh-rsa AAAA`, false],
    ['too long', `ssh-rsa ${'A'.repeat(16_400)}`, false],
  ];
  for (const [name, key, expected] of table) await t.test(name, () => assert.equal(isSafeSshKey(key), expected));
});

test('gatewayOf', async (t) => {
  const table: [string, string | null][] = [
    ['10.20.0.5/24', '10.20.0.1'],
    ['10.20.7.200/16', '10.20.0.1'],
    ['192.168.1.130/25', '192.168.1.129'],
    ['nonsense', null],
  ];
  for (const [cidr, expected] of table) await t.test(cidr, () => assert.equal(gatewayOf(cidr), expected));
});
