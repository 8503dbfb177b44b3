import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyBaseline, trackAttack, type AddressState, type Observation } from './detection.ts';
import { execFileSync } from 'node:child_process';
import { meterRuleset, observationOf } from './nft-meter.ts';
import { observationsByTarget, protectedTarget, targetTextOrNull } from './targets.ts';
import { tierPolicies } from './tiers.ts';

test('targets: an IPv4 address is itself; any IPv6 address or longer prefix is its /64', async (t) => {
  const cases: Array<[string, string | null, string?]> = [
    ['10.12.0.5', '10.12.0.5', 'ip daddr 10.12.0.5'],
    ['10.12.0.5/32', '10.12.0.5'],
    ['2001:db8:0:5::1', '2001:db8:0:5::/64', 'ip6 daddr 2001:db8:0:5::/64'],
    ['2001:DB8:0:5:ffff:ffff:ffff:ffff', '2001:db8:0:5::/64'],
    ['2001:db8:0:5:1::/80', '2001:db8:0:5::/64'],
    ['2001:0db8:0000:0005::/64', '2001:db8:0:5::/64'],
    ['::1', '0:0:0:0::/64'],
    ['2001:db8::/48', null], // a /48 is many servers
    ['10.12.0.0/24', null],
    ['10.12.0.256', null],
    ['2001:db8::1; flush ruleset', null],
    ['2001:db8:0:5::1/64/1', null],
    ['', null],
  ];
  for (const [input, text, daddr] of cases)
    await t.test(input || '(empty)', () => {
      assert.equal(targetTextOrNull(input), text);
      if (daddr) assert.equal(protectedTarget(input).daddr, daddr);
    });
  assert.equal(protectedTarget('2001:db8:0:5::9').hex, '20010db800000005');
  assert.equal(protectedTarget('2001:db8:0:5::9').prefix, '2001:db8:0:5::/64');
  assert.equal(protectedTarget('10.12.0.5').prefix, '10.12.0.5/32');
  assert.equal(protectedTarget('10.12.0.5').hex, '0a0c0005');
});

const standard = { ...tierPolicies.standard, quietMs: 10_000 };

/** Per-second observations of many addresses → per-target tracking; which targets saw which transitions. */
function replayTargets(seconds: Array<Array<{ address: string; pps: number; udp?: boolean }>>) {
  const states = new Map<string, AddressState>();
  const transitions: string[] = [];
  seconds.forEach((second, i) => {
    const byTarget = observationsByTarget(
      second.map((s) => ({
        address: s.address,
        observation: {
          atMs: i * 1000,
          pps: s.pps,
          bps: s.pps * 8 * 500,
          udpPps: s.udp ? s.pps : 0,
        } satisfies Observation,
      })),
    );
    for (const [target, o] of byTarget) {
      const step = trackAttack(states.get(target) ?? { baseline: emptyBaseline, attack: null }, o, standard);
      states.set(target, step.state);
      if (step.transition.kind === 'started')
        transitions.push(`${target} started@${i} ${step.transition.attack.vector} ${Math.round(o.pps)}pps`);
      if (step.transition.kind === 'ended') transitions.push(`${target} ended@${i}`);
    }
  });
  return transitions;
}

test('detection table, IPv6: a flood sprayed over a /64 is one attack on the /64; a neighbour /64 stays calm', async (t) => {
  const calm = (i: number) => [
    { address: `2001:db8:0:5::${(i % 7) + 1}`, pps: 300 },
    { address: '2001:db8:0:6::1', pps: 400 },
    { address: '10.12.0.5', pps: 200 },
  ];
  // 100 addresses of 2001:db8:0:5::/64 at 2 000 pps each: every one far below the 20 000 pps floor alone,
  // 200 000 pps towards the /64.
  const spray = Array.from({ length: 100 }, (_, k) => ({
    address: `2001:db8:0:5:${((k * 7919) & 0xffff).toString(16)}::${k + 1}`,
    pps: 2_000,
    udp: true,
  }));
  const cases: Array<{ name: string; seconds: ReturnType<typeof calm>[]; transitions: string[] }> = [
    {
      name: 'spray across the /64 for 5 s after 20 calm seconds, then 15 quiet seconds',
      seconds: [
        ...Array.from({ length: 20 }, (_, i) => calm(i)),
        ...Array.from({ length: 5 }, (_, i) => [...calm(20 + i), ...spray]),
        ...Array.from({ length: 15 }, (_, i) => calm(25 + i)),
      ],
      transitions: ['2001:db8:0:5::/64 started@20 udp_flood 200300pps', '2001:db8:0:5::/64 ended@34'],
    },
    {
      name: 'the same rates spread over 100 different /64s: nobody is attacked',
      seconds: [
        ...Array.from({ length: 20 }, (_, i) => calm(i)),
        ...Array.from({ length: 5 }, (_, i) => [
          ...calm(20 + i),
          ...spray.map((s, k) => ({ ...s, address: `2001:db8:1:${(k + 1).toString(16)}::1` })),
        ]),
      ],
      transitions: [],
    },
    {
      name: 'IPv4 addresses stay apart: 10.12.0.5 flooded, 10.12.0.6 calm',
      seconds: [
        ...Array.from({ length: 20 }, (_, i) => [...calm(i), { address: '10.12.0.6', pps: 100 }]),
        ...Array.from({ length: 3 }, (_, i) => [
          ...calm(20 + i).filter((c) => c.address !== '10.12.0.5'),
          { address: '10.12.0.5', pps: 90_000, udp: true },
          { address: '10.12.0.6', pps: 100 },
        ]),
      ],
      transitions: ['10.12.0.5 started@20 udp_flood 90000pps'],
    },
  ];
  for (const c of cases) await t.test(c.name, () => assert.deepEqual(replayTargets(c.seconds), c.transitions));
});

test('meter ruleset: IPv4 addresses and IPv6 /64s, one set of counters per target; nft accepts it', () => {
  const text = meterRuleset(['10.12.0.5', '2001:db8:0:5::1', '2001:db8:0:5::2']);
  const lines = text.split('\n').map((l) => l.trim());
  assert.equal(lines.filter((l) => l.startsWith('counter m_6_20010db800000005_')).length, 5, 'the /64 counted once');
  assert.ok(lines.includes('ip6 daddr 2001:db8:0:5::/64 counter name m_6_20010db800000005_all'));
  assert.ok(
    lines.includes('ip6 daddr 2001:db8:0:5::/64 meta l4proto ipv6-icmp counter name m_6_20010db800000005_icmp'),
  );
  assert.ok(lines.includes('ip daddr 10.12.0.5 counter name m_10_12_0_5_all'));
  assert.throws(() => meterRuleset(['2001:db8::/48']), RangeError);
  if (process.getuid?.() === 0) execFileSync('nft', ['-c', '-f', '-'], { input: text });
  const reading = (atMs: number, n: number) => ({
    atMs,
    counters: new Map([
      ['m_6_20010db800000005_all', { packets: 100 * n, bytes: 100_000 * n }],
      ['m_6_20010db800000005_udp', { packets: 90 * n, bytes: 0 }],
      ['m_6_20010db800000005_icmp', { packets: 10 * n, bytes: 0 }],
    ]),
  });
  const o = observationOf('2001:db8:0:5::77', reading(0, 0), reading(2000, 1));
  assert.deepEqual(o, { atMs: 2000, pps: 50, bps: 400_000, synPps: 0, udpPps: 45, icmpPps: 5, reflectorPps: 0 });
});
