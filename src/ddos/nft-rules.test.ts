import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { compileMitigation, customRuleProblem, mitigationTable } from './nft-rules.ts';

const input = {
  address: '10.12.0.5',
  customRules: [
    { action: 'allow' as const, source: '198.51.100.0/24' },
    { action: 'deny' as const, protocol: 'udp' as const, port: 27015, lengthMin: 1000 },
    { action: 'deny' as const, protocol: 'icmp' as const },
  ],
  perSourcePps: 2000,
  synPps: 5000,
};

test('compiled mitigation: one table per address, custom rules first, every drop counted', () => {
  const text = compileMitigation(input);
  assert.equal(mitigationTable('10.12.0.5'), 'vmcloud_ddos_0a0c0005');
  const lines = text.split('\n').map((l) => l.trim());
  const at = (needle: string) => lines.findIndex((l) => l.includes(needle));
  assert.ok(at('ip saddr 198.51.100.0/24 accept') > 0);
  assert.ok(at('udp dport 27015 ip length 1000-65535 counter name dropped_custom drop') > 0);
  assert.ok(at('ip protocol icmp counter name dropped_custom drop') > 0);
  assert.ok(at('accept') < at('dropped_reflection drop'), 'custom allow before the automatic rules');
  assert.ok(at('udp sport { 19, 53, 123, 161, 389, 1900, 11211 } counter name dropped_reflection drop') > 0);
  assert.ok(at('limit rate over 5000/second burst 5000 packets counter name dropped_syn drop') > 0);
  assert.ok(at('update @flood_sources { ip saddr limit rate over 2000/second') > 0);
  // Every rule names the attacked address: no other address is touched.
  for (const line of lines.filter((l) => / (drop|accept)$/.test(l))) assert.match(line, /^ip daddr 10\.12\.0\.5 /);
});

test('refusals: bad addresses, ports without a protocol, inverted lengths, injection', async (t) => {
  const cases: Array<[string, object]> = [
    ['port without protocol', { action: 'deny', port: 80 }],
    ['icmp port', { action: 'deny', protocol: 'icmp', port: 80 }],
    ['port 0', { action: 'deny', protocol: 'tcp', port: 0 }],
    ['source not a prefix', { action: 'allow', source: '10.0.0.0/8; flush ruleset' }],
    ['lengths inverted', { action: 'deny', lengthMin: 900, lengthMax: 100 }],
  ];
  for (const [name, rule] of cases)
    await t.test(name, () => {
      assert.notEqual(customRuleProblem(rule as never), null);
      assert.throws(() => compileMitigation({ ...input, customRules: [rule as never] }), RangeError);
    });
  assert.throws(() => compileMitigation({ ...input, address: '10.0.0.1 drop' }), RangeError);
  assert.throws(() => compileMitigation({ ...input, perSourcePps: 0 }), RangeError);
});

test('nft accepts the compiled table (nft -c)', (t) => {
  if (process.getuid?.() !== 0) return t.skip('nft -c needs root');
  execFileSync('nft', ['-c', '-f', '-'], { input: compileMitigation(input) });
});

const input6 = {
  address: '2001:db8:0:5::1',
  customRules: [
    { action: 'allow' as const, source: '2001:db8:77::/48' },
    { action: 'allow' as const, source: '198.51.100.0/24' }, // IPv4: not in an IPv6 table
    { action: 'deny' as const, protocol: 'udp' as const, port: 27015, lengthMin: 1000 },
    { action: 'deny' as const, protocol: 'icmp' as const },
    { action: 'deny' as const, protocol: 'tcp' as const },
  ],
  perSourcePps: 2000,
  synPps: 5000,
};

test('IPv6: one table per /64, every rule names the /64, sources limited per /64, lengths as payload', () => {
  const text = compileMitigation(input6);
  assert.equal(mitigationTable('2001:db8:0:5::1'), 'vmcloud_ddos6_20010db800000005');
  assert.equal(mitigationTable('2001:db8:0:5:ffff::9'), mitigationTable('2001:db8:0:5::/64'), 'same /64, same table');
  assert.notEqual(mitigationTable('2001:db8:0:6::1'), mitigationTable('2001:db8:0:5::1'));
  const lines = text.split('\n').map((l) => l.trim());
  const at = (needle: string) => lines.findIndex((l) => l.includes(needle));
  assert.ok(lines.includes('table inet vmcloud_ddos6_20010db800000005 {'));
  assert.ok(at('set flood_sources { type ipv6_addr;') > 0);
  assert.ok(at('ip6 saddr 2001:db8:77::/48 accept') > 0);
  assert.equal(at('198.51.100.0/24'), -1, 'an IPv4 source is left out of an IPv6 table');
  // 1 000-byte packets = 960 bytes of IPv6 payload.
  assert.ok(at('udp dport 27015 ip6 length 960-65495 counter name dropped_custom drop') > 0);
  assert.ok(at('meta l4proto ipv6-icmp counter name dropped_custom drop') > 0);
  assert.ok(at('meta l4proto tcp counter name dropped_custom drop') > 0);
  assert.ok(at('udp sport { 19, 53, 123, 161, 389, 1900, 11211 } counter name dropped_reflection drop') > 0);
  assert.ok(at('update @flood_sources { ip6 saddr & ffff:ffff:ffff:ffff:: limit rate over 2000/second') > 0);
  for (const line of lines.filter((l) => / (drop|accept)$/.test(l)))
    assert.match(line, /^ip6 daddr 2001:db8:0:5::\/64 /);
  assert.equal(lines.filter((l) => l.startsWith('ip daddr')).length, 0);
  // And the IPv4 table leaves the IPv6 source out.
  const v4 = compileMitigation({ ...input6, address: '10.12.0.5' });
  assert.equal(v4.includes('2001:db8:77::/48'), false);
  assert.ok(v4.includes('ip daddr 10.12.0.5 ip saddr 198.51.100.0/24 accept'));
});

test('IPv6 refusals: prefixes wider than /64, bad sources', () => {
  assert.throws(() => compileMitigation({ ...input6, address: '2001:db8::/48' }), RangeError);
  assert.throws(() => compileMitigation({ ...input6, address: '2001:db8::g' }), RangeError);
  assert.notEqual(customRuleProblem({ action: 'deny', source: '2001:db8::1/129' }), null);
  assert.notEqual(customRuleProblem({ action: 'deny', source: '2001:db8::1/64' }), null, 'host bits set');
  assert.equal(customRuleProblem({ action: 'deny', source: '2001:db8::/32' }), null);
});

test('nft accepts the compiled IPv6 table (nft -c)', (t) => {
  if (process.getuid?.() !== 0) return t.skip('nft -c needs root');
  execFileSync('nft', ['-c', '-f', '-'], { input: compileMitigation(input6) });
});
