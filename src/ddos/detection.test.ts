import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  detect,
  emptyBaseline,
  thresholdsOf,
  trackAttack,
  vectorOf,
  type AddressState,
  type Observation,
  type Thresholds,
} from './detection.ts';
import { tierPolicies } from './tiers.ts';

const standard: Thresholds & { quietMs: number } = { ...tierPolicies.standard, quietMs: 10 * 60_000 };

/** A recorded series: packets/s per 5-minute observation (bits/s = pps × 8 × 700 bytes). */
function series(pps: number[], stepMs = 300_000): Observation[] {
  return pps.map((p, i) => ({ atMs: i * stepMs, pps: p, bps: p * 8 * 700 }));
}

/** Runs a series through the tracker: which observations were attacks, and the transitions. */
function replay(observations: Observation[], t = standard) {
  let state: AddressState = { baseline: emptyBaseline, attack: null };
  const attacks: number[] = [];
  const transitions: string[] = [];
  observations.forEach((o, i) => {
    const step = trackAttack(state, o, t);
    state = step.state;
    if (step.verdict.attack) attacks.push(i);
    if (step.transition.kind === 'started' || step.transition.kind === 'ended')
      transitions.push(`${step.transition.kind}@${i}`);
  });
  return { attacks, transitions, state };
}

// A day of a busy web server, recorded every 5 minutes: 30 000–90 000 pps along the diurnal curve (above the
// 20 000 pps floor all day), and the same day with a flood of 900 000 pps for 3 observations at 20:00.
const busyDay = Array.from({ length: 288 }, (_, i) => Math.round(60_000 + 30_000 * Math.sin((i / 288) * 2 * Math.PI)));
const busyDayFlood = busyDay.map((p, i) => (i >= 240 && i < 243 ? 900_000 : p));
// A quiet server (200 pps) hit by 50 000 pps, then calm again.
const quiet = [
  ...Array.from({ length: 30 }, () => 200),
  50_000,
  52_000,
  48_000,
  ...Array.from({ length: 10 }, () => 210),
];

test('detection table: recorded series → which observations are attacks and when incidents start and end', async (t) => {
  const cases: Array<{ name: string; pps: number[]; attacks: number[]; transitions: string[] }> = [
    {
      name: 'busy all day: above the floor but along its baseline, never flagged',
      pps: busyDay,
      attacks: [],
      transitions: [],
    },
    {
      name: 'busy day with a 900k pps flood at 20:00',
      pps: busyDayFlood,
      attacks: [240, 241, 242],
      // The flood stops after 242; 10 quiet minutes (2 observations) later, at 244, the incident ends.
      transitions: ['started@240', 'ended@244'],
    },
    {
      name: 'quiet server flooded with 50k pps for 15 minutes',
      pps: quiet,
      attacks: [30, 31, 32],
      transitions: ['started@30', 'ended@34'],
    },
    {
      name: 'a quiet server doubling its traffic stays below the floor',
      pps: [...Array.from({ length: 20 }, () => 500), ...Array.from({ length: 20 }, () => 1_000)],
      attacks: [],
      transitions: [],
    },
    {
      name: 'an attack that pauses shorter than the quiet time is one incident',
      pps: [...Array.from({ length: 20 }, () => 300), 40_000, 300, 40_000, 300, 300, 300],
      attacks: [20, 22],
      transitions: ['started@20', 'ended@24'],
    },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const result = replay(series(c.pps));
      assert.deepEqual(result.attacks, c.attacks);
      assert.deepEqual(result.transitions, c.transitions);
    });
  }
});

test('the baseline learns only from calm observations', () => {
  const { state } = replay(series(busyDayFlood));
  assert.ok(state.baseline.ppsMean < 120_000, `mean ${state.baseline.ppsMean} after a 900k flood`);
  const calm = replay(series(busyDay)).state.baseline;
  assert.equal(calm.samples, 288);
  const after = replay(series(busyDayFlood)).state.baseline;
  assert.equal(after.samples, 285, 'the 3 flood observations were not learned');
});

test('the peak and the vector of an incident', () => {
  const observations = series(quiet).map((o) => (o.pps > 10_000 ? { ...o, udpPps: o.pps * 0.95 } : o));
  let state: AddressState = { baseline: emptyBaseline, attack: null };
  let ended = null;
  for (const o of observations) {
    const step = trackAttack(state, o, standard);
    state = step.state;
    if (step.transition.kind === 'ended') ended = step.transition;
  }
  assert.ok(ended);
  assert.equal(ended.attack.peakPps, 52_000);
  assert.equal(ended.attack.vector, 'udp_flood');
  assert.equal(ended.attack.startedAtMs, 30 * 300_000);
});

test('vectors: FastNetMon shares', async (t) => {
  const base = { atMs: 0, pps: 100_000, bps: 1e9 };
  const cases: Array<[string, Partial<Observation>, string]> = [
    ['SYN 95 %', { synPps: 95_000 }, 'syn_flood'],
    ['UDP 95 %', { udpPps: 95_000 }, 'udp_flood'],
    ['reflectors 20 % (and UDP 95 %)', { udpPps: 95_000, reflectorPps: 20_000 }, 'udp_amplification'],
    ['ICMP 91 %', { icmpPps: 91_000 }, 'icmp_flood'],
    ['a mix', { udpPps: 50_000, synPps: 40_000 }, 'volumetric'],
  ];
  for (const [name, extra, vector] of cases)
    await t.test(name, () => assert.equal(vectorOf({ ...base, ...extra }), vector));
});

test('thresholds: raised floors while a new address warms up, then the larger of k deviations and a multiple of the mean', () => {
  assert.deepEqual(thresholdsOf(emptyBaseline, standard), { pps: 80_000, bps: 4_000_000_000 });
  const warm = { ppsMean: 100, ppsDev: 10, bpsMean: 1e5, bpsDev: 1e4, samples: 12 };
  assert.deepEqual(thresholdsOf(warm, standard), { pps: 20_000, bps: 1_000_000_000 });
  const learned = { ppsMean: 100_000, ppsDev: 5_000, bpsMean: 5e8, bpsDev: 1e8, samples: 100 };
  const limits = thresholdsOf(learned, standard);
  assert.equal(limits.pps, 400_000, '4 × mean beats mean + 6 × dev');
  assert.equal(limits.bps, 2e9, '4 × mean = 2e9 beats mean + 6 × dev = 1.1e9');
  const v = detect(learned, { atMs: 0, pps: 100_000, bps: 3e9 }, standard);
  assert.deepEqual(v.crossed, ['bps']);
});
