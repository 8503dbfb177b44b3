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
