import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DesiredFirewallRule } from '../contract/index.ts';
import {
  chainRules,
  dropSetBody,
  dropSetRules,
  firewallFingerprint,
  parseFirewallCounters,
  parseFirewallDrops,
  portCounters,
  renderFirewallRuleset,
  renderFirewallUpdate,
  renderStateTable,
  ruleMatches,
  type FirewallPort,
} from './firewall-rules.ts';

const rule = (r: Partial<DesiredFirewallRule>): DesiredFirewallRule => ({
  direction: 'in',
  protocol: 'tcp',
  ports: null,
  ips: ['0.0.0.0/0'],
  ...r,
});

test('one rule → its matches, one per address family', () => {
  const cases: Array<[string, DesiredFirewallRule, string[]]> = [
    [
      'tcp/22 from one v4 CIDR',
      rule({ ports: [22, 22], ips: ['10.0.0.0/8'] }),
      ['ip saddr { 10.0.0.0/8 } tcp dport 22'],
    ],
    [
      'udp range from v4 and v6',
      rule({ protocol: 'udp', ports: [8000, 8100], ips: ['192.0.2.0/24', '2001:db8::/32'] }),
      ['ip saddr { 192.0.2.0/24 } udp dport 8000-8100', 'ip6 saddr { 2001:db8::/32 } udp dport 8000-8100'],
    ],
    ['tcp without port', rule({ ips: ['::/0'] }), ['ip6 saddr { ::/0 } meta l4proto tcp']],
    [
      'icmp is v4 only',
      rule({ protocol: 'icmp', ips: ['0.0.0.0/0', '::/0'] }),
      ['ip saddr { 0.0.0.0/0 } meta l4proto icmp'],
    ],
    [
      'icmpv6 is v6 only',
      rule({ protocol: 'icmpv6', ips: ['0.0.0.0/0', '::/0'] }),
      ['ip6 saddr { ::/0 } meta l4proto ipv6-icmp'],
    ],
    ['esp', rule({ protocol: 'esp', ips: ['198.51.100.7/32'] }), ['ip saddr { 198.51.100.7/32 } meta l4proto esp']],
    [
      'gre outbound matches destinations',
      rule({ direction: 'out', protocol: 'gre', ips: ['203.0.113.0/24'] }),
      ['ip daddr { 203.0.113.0/24 } meta l4proto gre'],
    ],
    [
      'out tcp/443 to any',
      rule({ direction: 'out', ports: [443, 443], ips: ['0.0.0.0/0', '::/0'] }),
      ['ip daddr { 0.0.0.0/0 } tcp dport 443', 'ip6 daddr { ::/0 } tcp dport 443'],
    ],
  ];
  for (const [what, input, expected] of cases) assert.deepEqual(ruleMatches(input), expected, what);
});

const web: FirewallPort = {
  ifname: 'vmcaaaaaaaaaaaa',
  firewalls: [
    {
      id: 'fw_web',
      version: 2,
      rules: [rule({ ports: [22, 22], ips: ['10.0.0.0/8'] }), rule({ ports: [443, 443], ips: ['0.0.0.0/0', '::/0'] })],
    },
  ],
};
const egress: FirewallPort = {
  ifname: 'vmcbbbbbbbbbbbb',
  firewalls: [
    { id: 'fw_a', version: 1, rules: [] },
    {
      id: 'fw_b',
      version: 1,
      rules: [rule({ direction: 'out', protocol: 'udp', ports: [53, 53], ips: ['9.9.9.9/32'] })],
    },
  ],
};

test('a chain: replies, ARP and neighbour discovery accepted, each rule counted by name, then a counted drop', () => {
  assert.deepEqual(chainRules(web, 'in', 'ct'), [
    'ct state established,related accept',
    'ether type arp accept',
    'icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert, nd-redirect } accept',
    'ip saddr { 10.0.0.0/8 } tcp dport 22 counter name vmcaaaaaaaaaaaa_fw_web_v2_0 accept',
    'ip saddr { 0.0.0.0/0 } tcp dport 443 counter name vmcaaaaaaaaaaaa_fw_web_v2_1 accept',
    'ip6 saddr { ::/0 } tcp dport 443 counter name vmcaaaaaaaaaaaa_fw_web_v2_1 accept',
    'meta l4proto { tcp, udp, sctp, dccp, udplite } add @drops4_in_vmcaaaaaaaaaaaa { ip saddr . ip daddr . meta l4proto . th dport }',
    'meta l4proto != { tcp, udp, sctp, dccp, udplite } add @drops4_in_vmcaaaaaaaaaaaa { ip saddr . ip daddr . meta l4proto . 0 }',
    'meta l4proto { tcp, udp, sctp, dccp, udplite } add @drops6_in_vmcaaaaaaaaaaaa { ip6 saddr . ip6 daddr . meta l4proto . th dport }',
    'meta l4proto != { tcp, udp, sctp, dccp, udplite } add @drops6_in_vmcaaaaaaaaaaaa { ip6 saddr . ip6 daddr . meta l4proto . 0 }',
    'counter name vmcaaaaaaaaaaaa_drop_in drop',
  ]);
  assert.equal(chainRules(web, 'in', 'mark')[0], 'meta mark & 0x10000000 == 0x10000000 accept');
  // A firewall with no rules still denies inbound: only the defaults and the drop.
  assert.deepEqual(chainRules({ ifname: 'vmcc', firewalls: [{ id: 'fw_e', version: 1, rules: [] }] }, 'in', 'ct'), [
    'ct state established,related accept',
    'ether type arp accept',
    'icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert, nd-redirect } accept',
    ...dropSetRules('vmcc', 'in'),
    'counter name vmcc_drop_in drop',
  ]);
  // The drop sets come just before the drop, each rule on its own (a full set fails its rule, not the drop).
  const out = chainRules(egress, 'out', 'ct');
  assert.deepEqual(out.slice(-5, -1), dropSetRules('vmcbbbbbbbbbbbb', 'out'));
  assert.ok(out.slice(-5, -1).every((line) => line.includes('@drops') && !/accept|drop$/.test(line)));
  assert.deepEqual(portCounters(egress), [
    'vmcbbbbbbbbbbbb_drop_in',
    'vmcbbbbbbbbbbbb_drop_out',
    'vmcbbbbbbbbbbbb_fw_b_v1_0',
  ]);
});

test('the whole table: counters, maps (an out chain only where out rules exist), hooks; the table replaced', () => {
  const text = renderFirewallRuleset([web, egress], 'ct');
  const lines = text.split('\n');
  assert.deepEqual(lines.slice(0, 3), [
    'table bridge vmcloud_fw',
    'delete table bridge vmcloud_fw',
    'table bridge vmcloud_fw {',
  ]);
  assert.ok(lines.includes('  counter vmcaaaaaaaaaaaa_fw_web_v2_1 {}'));
  assert.ok(
    lines.includes(
      '  map in_ports { type ifname : verdict; elements = { "vmcaaaaaaaaaaaa" : jump in_vmcaaaaaaaaaaaa, "vmcbbbbbbbbbbbb" : jump in_vmcbbbbbbbbbbbb }; }',
    ),
  );
  assert.ok(
    lines.includes(
      '  map out_ports { type ifname : verdict; elements = { "vmcbbbbbbbbbbbb" : jump out_vmcbbbbbbbbbbbb }; }',
    ),
  );
  assert.ok(!text.includes('chain out_vmcaaaaaaaaaaaa'), 'no out rules: outbound is not filtered');
  assert.ok(text.includes('    ip daddr { 9.9.9.9/32 } udp dport 53 counter name vmcbbbbbbbbbbbb_fw_b_v1_0 accept'));
  for (const hook of ['forward', 'output', 'input']) assert.ok(text.includes(`type filter hook ${hook} priority 0;`));
  assert.ok(text.includes('    oifname vmap @in_ports\n    iifname vmap @out_ports'));
  // Ports without firewalls are left out; an empty host has empty maps.
  const empty = renderFirewallRuleset([{ ifname: 'vmcd', firewalls: [] }], 'ct');
  assert.ok(empty.includes('  map in_ports { type ifname : verdict; }'));
  assert.ok(!empty.includes('vmcd'));
});

test('updates touch only the ports that changed and keep the counters of unchanged firewall versions', () => {
  assert.equal(renderFirewallUpdate([web, egress], [egress, web], 'ct'), '', 'same ports: nothing to do');

  const web3: FirewallPort = {
    ...web,
    firewalls: [{ ...web.firewalls[0], version: 3, rules: [rule({ ports: [22, 22], ips: ['10.1.0.0/16'] })] }],
  };
  const update = renderFirewallUpdate([web, egress], [web3, egress], 'ct').split('\n').filter(Boolean);
  assert.deepEqual(update, [
    'add counter bridge vmcloud_fw vmcaaaaaaaaaaaa_fw_web_v3_0',
    'add set bridge vmcloud_fw drops4_in_vmcaaaaaaaaaaaa { type ipv4_addr . ipv4_addr . inet_proto . inet_service; size 1024; flags dynamic,timeout; timeout 60s; counter; }',
    'add set bridge vmcloud_fw drops6_in_vmcaaaaaaaaaaaa { type ipv6_addr . ipv6_addr . inet_proto . inet_service; size 1024; flags dynamic,timeout; timeout 60s; counter; }',
    'add chain bridge vmcloud_fw in_vmcaaaaaaaaaaaa',
    'flush chain bridge vmcloud_fw in_vmcaaaaaaaaaaaa',
    'add rule bridge vmcloud_fw in_vmcaaaaaaaaaaaa ct state established,related accept',
    'add rule bridge vmcloud_fw in_vmcaaaaaaaaaaaa ether type arp accept',
    'add rule bridge vmcloud_fw in_vmcaaaaaaaaaaaa icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert, nd-redirect } accept',
    'add rule bridge vmcloud_fw in_vmcaaaaaaaaaaaa ip saddr { 10.1.0.0/16 } tcp dport 22 counter name vmcaaaaaaaaaaaa_fw_web_v3_0 accept',
    ...dropSetRules('vmcaaaaaaaaaaaa', 'in').map((r) => `add rule bridge vmcloud_fw in_vmcaaaaaaaaaaaa ${r}`),
    'add rule bridge vmcloud_fw in_vmcaaaaaaaaaaaa counter name vmcaaaaaaaaaaaa_drop_in drop',
    'delete counter bridge vmcloud_fw vmcaaaaaaaaaaaa_fw_web_v2_0',
    'delete counter bridge vmcloud_fw vmcaaaaaaaaaaaa_fw_web_v2_1',
  ]);
  assert.ok(!update.some((line) => line.includes('vmcbbbbbbbbbbbb')), 'the other port is left alone');

  // A second firewall added to a port: the first one's counter is not recreated (its value survives).
  const both: FirewallPort = { ...web, firewalls: [...web.firewalls, { id: 'fw_x', version: 1, rules: [rule({})] }] };
  const added = renderFirewallUpdate([web], [both], 'ct');
  assert.match(added, /add counter bridge vmcloud_fw vmcaaaaaaaaaaaa_fw_x_v1_0/);
  assert.doesNotMatch(added, /(add|delete) counter bridge vmcloud_fw vmcaaaaaaaaaaaa_fw_web_v2_/);

  // A port whose last firewall went: its element, chains and counters go.
  const removed = renderFirewallUpdate([web, egress], [web], 'ct').split('\n').filter(Boolean);
  assert.deepEqual(removed, [
    'delete element bridge vmcloud_fw in_ports { "vmcbbbbbbbbbbbb" }',
    'flush chain bridge vmcloud_fw in_vmcbbbbbbbbbbbb',
    'delete chain bridge vmcloud_fw in_vmcbbbbbbbbbbbb',
    'delete set bridge vmcloud_fw drops4_in_vmcbbbbbbbbbbbb',
    'delete set bridge vmcloud_fw drops6_in_vmcbbbbbbbbbbbb',
    'delete element bridge vmcloud_fw out_ports { "vmcbbbbbbbbbbbb" }',
    'flush chain bridge vmcloud_fw out_vmcbbbbbbbbbbbb',
    'delete chain bridge vmcloud_fw out_vmcbbbbbbbbbbbb',
    'delete set bridge vmcloud_fw drops4_out_vmcbbbbbbbbbbbb',
    'delete set bridge vmcloud_fw drops6_out_vmcbbbbbbbbbbbb',
    'delete counter bridge vmcloud_fw vmcbbbbbbbbbbbb_drop_in',
    'delete counter bridge vmcloud_fw vmcbbbbbbbbbbbb_drop_out',
    'delete counter bridge vmcloud_fw vmcbbbbbbbbbbbb_fw_b_v1_0',
  ]);

  // A new port with out rules: its chains made before the map elements that jump to them.
  const fresh = renderFirewallUpdate([web], [web, egress], 'mark').split('\n').filter(Boolean);
  assert.ok(
    fresh.indexOf('add chain bridge vmcloud_fw out_vmcbbbbbbbbbbbb') <
      fresh.indexOf('add element bridge vmcloud_fw out_ports { "vmcbbbbbbbbbbbb" : jump out_vmcbbbbbbbbbbbb }'),
  );
  assert.ok(
    fresh.includes('add rule bridge vmcloud_fw out_vmcbbbbbbbbbbbb meta mark & 0x10000000 == 0x10000000 accept'),
  );
  // Its drop sets exist before the first rule that adds to them.
  assert.ok(
    fresh.indexOf(`add set bridge vmcloud_fw drops4_out_vmcbbbbbbbbbbbb ${dropSetBody(4)}`) <
      fresh.findIndex((line) => line.includes('add @drops4_out_vmcbbbbbbbbbbbb')),
  );
});

test('drop sets: one per chain and family, bounded, their timeout and size configurable', () => {
  assert.equal(
    dropSetBody(6, { size: 16, timeoutSeconds: 5 }),
    '{ type ipv6_addr . ipv6_addr . inet_proto . inet_service; size 16; flags dynamic,timeout; timeout 5s; counter; }',
  );
  const text = renderFirewallRuleset([web, egress], 'ct', { size: 100, timeoutSeconds: 30 });
  const sets = text.split('\n').filter((line) => line.startsWith('  set '));
  assert.deepEqual(
    sets.map((line) => line.split(' ')[3]),
    [
      'drops4_in_vmcaaaaaaaaaaaa',
      'drops6_in_vmcaaaaaaaaaaaa',
      'drops4_in_vmcbbbbbbbbbbbb',
      'drops6_in_vmcbbbbbbbbbbbb',
      'drops4_out_vmcbbbbbbbbbbbb',
      'drops6_out_vmcbbbbbbbbbbbb',
    ],
  );
  assert.ok(sets.every((line) => line.includes('size 100;') && line.includes('timeout 30s;')));
  // Sets come before the chains that use them.
  assert.ok(text.indexOf('set drops4_in_vmcaaaaaaaaaaaa') < text.indexOf('chain in_vmcaaaaaaaaaaaa'));
  for (const bad of [
    { size: 0, timeoutSeconds: 60 },
    { size: 10, timeoutSeconds: 0 },
    { size: 1.5, timeoutSeconds: 60 },
  ]) {
    assert.throws(() => renderFirewallRuleset([web], 'ct', bad), RangeError);
    assert.throws(() => renderFirewallUpdate([], [web], 'ct', bad), RangeError);
  }
});

test('bad input never reaches nft text', () => {
  const bad: Array<[string, FirewallPort]> = [
    ['interface', { ifname: 'vmc"; flush ruleset', firewalls: [{ id: 'fw_a', version: 1, rules: [] }] }],
    ['firewall id', { ifname: 'vmca', firewalls: [{ id: 'fw a', version: 1, rules: [] }] }],
    [
      'CIDR',
      { ifname: 'vmca', firewalls: [{ id: 'fw_a', version: 1, rules: [rule({ ips: ['10.0.0.0/8 } accept'] })] }] },
    ],
    ['port', { ifname: 'vmca', firewalls: [{ id: 'fw_a', version: 1, rules: [rule({ ports: [0, 22] })] }] }],
    [
      'port on icmp',
      { ifname: 'vmca', firewalls: [{ id: 'fw_a', version: 1, rules: [rule({ protocol: 'icmp', ports: [1, 1] })] }] },
    ],
    ['protocol', { ifname: 'vmca', firewalls: [{ id: 'fw_a', version: 1, rules: [rule({ protocol: 'sctp' })] }] }],
  ];
  for (const [what, port] of bad) {
    assert.throws(() => renderFirewallRuleset([port], 'ct'), RangeError, what);
    assert.throws(() => renderFirewallUpdate([], [port], 'ct'), RangeError, what);
  }
});

test('the mark table: clear the bit, set it on established/related, in prerouting and output', () => {
  const text = renderStateTable();
  assert.match(text, /delete table inet vmcloud_fw_state/);
  assert.equal(text.match(/meta mark set meta mark & 0xefffffff/g)?.length, 2);
  assert.equal(text.match(/ct state established,related meta mark set meta mark \| 0x10000000/g)?.length, 2);
});

test('counters and the fingerprint from nft -j', () => {
  const listed = (packets: number) =>
    JSON.stringify({
      nftables: [
        { metainfo: { version: '1.0.6' } },
        { table: { family: 'bridge', name: 'vmcloud_fw', handle: 2 } },
        {
          counter: {
            family: 'bridge',
            name: 'vmca_fw_a_v1_0',
            table: 'vmcloud_fw',
            handle: 3,
            packets,
            bytes: packets * 60,
          },
        },
        { rule: { chain: 'in_vmca', expr: [{ counter: { packets, bytes: 1 } }, { accept: null }] } },
      ],
    });
  assert.deepEqual([...parseFirewallCounters(listed(4))], [['vmca_fw_a_v1_0', { packets: 4, bytes: 240 }]]);
  assert.equal(firewallFingerprint(listed(4)), firewallFingerprint(listed(9)), 'counting traffic is no drift');
  const drifted = JSON.parse(listed(4)) as { nftables: unknown[] };
  drifted.nftables.pop();
  assert.notEqual(firewallFingerprint(JSON.stringify(drifted)), firewallFingerprint(listed(4)), 'a rule gone is drift');
});

test('drop-set elements from nft -j; they are no drift', () => {
  // As `nft -j list table bridge vmcloud_fw` prints them (nftables 1.0.6, recorded in a namespace).
  const listed = (elements: unknown[]) =>
    JSON.stringify({
      nftables: [
        { metainfo: { version: '1.0.6' } },
        { table: { family: 'bridge', name: 'vmcloud_fw', handle: 2 } },
        {
          set: {
            family: 'bridge',
            name: 'drops4_in_vmca',
            table: 'vmcloud_fw',
            type: ['ipv4_addr', 'ipv4_addr', 'inet_proto', 'inet_service'],
            handle: 3,
            size: 4096,
            flags: ['timeout'],
            timeout: 60,
            stmt: [{ counter: null }],
            ...(elements.length > 0 && { elem: elements }),
          },
        },
        { set: { family: 'bridge', name: 'other', table: 'vmcloud_fw', elem: ['10.0.0.1'] } },
        { rule: { chain: 'in_vmca', expr: [{ counter: { packets: 1, bytes: 1 } }, { drop: null }] } },
      ],
    });
  const elements = [
    {
      elem: {
        val: { concat: ['10.77.0.20', '10.77.0.10', 'icmp', 0] },
        expires: 25,
        counter: { packets: 2, bytes: 168 },
      },
    },
    {
      elem: {
        val: { concat: ['10.77.0.20', '10.77.0.10', 'tcp', 5432] },
        expires: 57,
        counter: { packets: 3, bytes: 180 },
      },
    },
    { elem: { val: { concat: ['10.77.0.21', '10.77.0.10', 132, 9] }, counter: { packets: 1, bytes: 60 } } },
    { elem: { val: { concat: ['10.77.0.22', '10.77.0.10', 'no-such-protocol', 0] } } },
  ];
  assert.deepEqual(parseFirewallDrops(listed(elements)), [
    {
      ifname: 'vmca',
      direction: 'in',
      src: '10.77.0.20',
      dst: '10.77.0.10',
      protocol: 1,
      dstPort: 0,
      packets: 2,
      bytes: 168,
      expiresSeconds: 25,
      timeoutSeconds: 60,
    },
    {
      ifname: 'vmca',
      direction: 'in',
      src: '10.77.0.20',
      dst: '10.77.0.10',
      protocol: 6,
      dstPort: 5432,
      packets: 3,
      bytes: 180,
      expiresSeconds: 57,
      timeoutSeconds: 60,
    },
    {
      ifname: 'vmca',
      direction: 'in',
      src: '10.77.0.21',
      dst: '10.77.0.10',
      protocol: 132,
      dstPort: 9,
      packets: 1,
      bytes: 60,
      expiresSeconds: null,
      timeoutSeconds: 60,
    },
  ]);
  assert.deepEqual(parseFirewallDrops(listed([])), []);
  assert.equal(firewallFingerprint(listed(elements)), firewallFingerprint(listed([])), 'dropped packets are no drift');
});
