import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocateAddress, gatewayCidr, ipToNumber, numberToIp, parseCidr } from './ipv4-pool.ts';
import { renderIsolationRuleset } from './isolation-rules.ts';
import { macAddress, tapName } from './names.ts';

test('tapName and macAddress are stable, short and distinct', () => {
  const a = tapName('srv_01jx0000000000000000000000');
  assert.match(a, /^vmc[0-9a-f]{12}$/);
  assert.ok(a.length <= 15);
  assert.equal(a, tapName('srv_01jx0000000000000000000000'));
  assert.notEqual(a, tapName('srv_01jx0000000000000000000001'));
  assert.match(macAddress('srv_a'), /^52:54:00(:[0-9a-f]{2}){3}$/);
});

test('parseCidr, allocateAddress, gatewayCidr', () => {
  assert.equal(numberToIp(ipToNumber('10.20.3.4') ?? 0), '10.20.3.4');
  const table: [string, Ipv4Network | null][] = [
    ['10.20.0.0/24', { network: ipToNumber('10.20.0.0')!, prefix: 24 }],
    ['10.20.0.77/24', { network: ipToNumber('10.20.0.0')!, prefix: 24 }],
    ['10.20.0.0/31', null],
    ['300.1.1.1/24', null],
    ['nonsense', null],
  ];
  for (const [cidr, expected] of table) assert.deepEqual(parseCidr(cidr), expected, cidr);
  const pool = parseCidr('10.20.0.0/29')!;
  assert.equal(gatewayCidr(pool), '10.20.0.1/29');
  const allocations: [string[], string | null][] = [
    [[], '10.20.0.2/29'],
    [['10.20.0.2/29'], '10.20.0.3/29'],
    [['10.20.0.2/29', '10.20.0.4/29'], '10.20.0.3/29'],
    [['10.20.0.2', '10.20.0.3', '10.20.0.4', '10.20.0.5', '10.20.0.6'], null],
  ];
  for (const [taken, expected] of allocations) assert.equal(allocateAddress(pool, taken), expected, taken.join(','));
});

type Ipv4Network = NonNullable<ReturnType<typeof parseCidr>>;

test('renderIsolationRuleset: golden', () => {
  const ruleset = renderIsolationRuleset('vmcbr0', [
    { ifname: 'vmcbbb', tenant: 'prj_b', mac: '52:54:00:00:00:0b', ipv4: '10.20.0.3/24' },
    {
      ifname: 'vmcaaa',
      tenant: 'prj_a',
      mac: '52:54:00:00:00:0a',
      ipv4: '10.20.0.2/24',
      routedIpv4: ['198.18.16.5', '198.18.16.9'],
      ipv6Prefixes: ['2001:db8:2:7::/64'],
    },
    { ifname: 'vmcccc', tenant: 'prj_a' },
  ]);
  assert.equal(
    ruleset,
    `table bridge vmcloud_vmcbr0
delete table bridge vmcloud_vmcbr0
table bridge vmcloud_vmcbr0 {
  set guest_ports { type ifname; elements = { "vmcaaa", "vmcbbb", "vmcccc" }; }
  set guest_ips { type ipv4_addr; elements = { 10.20.0.2, 10.20.0.3, 198.18.16.5, 198.18.16.9 }; }
  set guest_nets6 { type ipv6_addr; flags interval; elements = { 2001:db8:2:7::/64 }; }
  # tenant prj_a
  set tenant_0 { type ifname; elements = { "vmcaaa", "vmcccc" }; }
  set tenant_0_ips { type ipv4_addr; elements = { 10.20.0.2, 198.18.16.5, 198.18.16.9 }; }
  set tenant_0_nets6 { type ipv6_addr; flags interval; elements = { 2001:db8:2:7::/64 }; }
  chain from_tenant_0 {
    oifname @guest_ports oifname != @tenant_0 counter drop
  }
  chain to_tenant_0 {
    ip saddr @guest_ips ip saddr != @tenant_0_ips counter drop
    ip6 saddr @guest_nets6 ip6 saddr != @tenant_0_nets6 counter drop
  }
  # tenant prj_b
  set tenant_1 { type ifname; elements = { "vmcbbb" }; }
  set tenant_1_ips { type ipv4_addr; elements = { 10.20.0.3 }; }
  set tenant_1_nets6 { type ipv6_addr; flags interval; }
  chain from_tenant_1 {
    oifname @guest_ports oifname != @tenant_1 counter drop
  }
  chain to_tenant_1 {
    ip saddr @guest_ips ip saddr != @tenant_1_ips counter drop
    ip6 saddr @guest_nets6 ip6 saddr != @tenant_1_nets6 counter drop
  }
  chain prerouting {
    type filter hook prerouting priority 0; policy accept;
    iifname "vmcaaa" ether saddr != 52:54:00:00:00:0a counter drop
    iifname "vmcaaa" ip saddr != { 10.20.0.2, 198.18.16.5, 198.18.16.9 } counter drop
    iifname "vmcaaa" arp saddr ip != { 10.20.0.2, 198.18.16.5, 198.18.16.9 } counter drop
    iifname "vmcaaa" ip6 saddr != { ::, fe80::/10, 2001:db8:2:7::/64 } counter drop
    iifname "vmcbbb" ether saddr != 52:54:00:00:00:0b counter drop
    iifname "vmcbbb" ip saddr != 10.20.0.3 counter drop
    iifname "vmcbbb" arp saddr ip != 10.20.0.3 counter drop
    iifname "vmcbbb" ip6 saddr != { ::, fe80::/10 } counter drop
  }
  chain forward {
    type filter hook forward priority 0; policy accept;
    iifname vmap { "vmcaaa" : jump from_tenant_0, "vmcbbb" : jump from_tenant_1, "vmcccc" : jump from_tenant_0 }
  }
  chain output {
    type filter hook output priority 0; policy accept;
    oifname vmap { "vmcaaa" : jump to_tenant_0, "vmcbbb" : jump to_tenant_1, "vmcccc" : jump to_tenant_0 }
  }
}
`,
  );
});

test('renderIsolationRuleset with no ports is an empty, valid table', () => {
  const ruleset = renderIsolationRuleset('vmcbr0', []);
  assert.match(ruleset, /set guest_ports \{ type ifname; \}/);
  assert.doesNotMatch(ruleset, /vmap/);
});

test('renderIsolationRuleset refuses malformed routed sources instead of rendering them', () => {
  const ruleset = renderIsolationRuleset('vmcbr0', [
    {
      ifname: 'vmcaaa',
      tenant: 'prj_a',
      ipv4: '10.20.0.2/24',
      routedIpv4: ['198.18.16.5; drop', '300.1.1.1'],
      ipv6Prefixes: ['2001:db8::/64 }', 'fe80'],
    },
  ]);
  assert.match(ruleset, /ip saddr != 10\.20\.0\.2 counter drop/);
  assert.match(ruleset, /ip6 saddr != \{ ::, fe80::\/10 \} counter drop/);
  assert.doesNotMatch(ruleset, /198\.18|300\.1|2001:db8::\/64 \}/);
});
