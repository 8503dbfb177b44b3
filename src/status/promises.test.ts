/** Intra-DC latency and packet loss promises from the agents' probes, per region (pure). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPromises, cpuStealRow, interRegionRow, type PromiseInputs } from './promises.ts';

const base: PromiseInputs = {
  sla: null,
  backups: null,
  placementViolations: 0,
  majorIncidents: { count: 0, minutes: 0 },
  uptime90dPercent: null,
  apiLatencyP50Ms: null,
  apiLatencyP99Ms: null,
  simulatedFleet: false,
};
const rows = (input: Partial<PromiseInputs>) => new Map(buildPromises({ ...base, ...input }).map((p) => [p.id, p]));

test('intra-DC promises: the worst region counts, per-region figures beside it, simulated said', () => {
  const byId = rows({
    intraDc: {
      windowHours: 24,
      regions: [
        { region: 'fra1', sent: 100_000, p50Ms: 0.31, lossRatio: 0.00002, simulated: false },
        { region: 'par1', sent: 50_000, p50Ms: 0.92, lossRatio: 0.0005, simulated: true },
        { region: 'ams1', sent: 0, p50Ms: null, lossRatio: null, simulated: false },
      ],
    },
  });
  const latency = byId.get('latency.intra_dc_p50')!;
  assert.deepEqual(
    [latency.measured, latency.holds, latency.simulated, latency.window],
    [0.92, false, true, 'last 24 hours'],
  );
  assert.deepEqual(
    latency.regions!.map((r) => [r.region, r.measured, r.holds, r.simulated, r.samples]),
    [
      ['fra1', 0.31, true, false, 100_000],
      ['par1', 0.92, false, true, 50_000],
    ],
    'a region without probes is left out',
  );
  const loss = byId.get('packet_loss')!;
  assert.equal(loss.unit, 'percent');
  assert.deepEqual([loss.measured, loss.holds], [0.05, false]);
  assert.deepEqual(
    loss.regions!.map((r) => [r.region, r.measured, r.holds]),
    [
      ['fra1', 0.002, true],
      ['par1', 0.05, false],
    ],
  );
});

test('intra-DC promises without figures: null with the reason, never a number', () => {
  const cases: Array<[PromiseInputs['intraDc'], RegExp]> = [
    [undefined, /not wired/],
    [null, /could not be read/],
    [{ windowHours: 24, regions: [] }, /no probe yet/],
  ];
  for (const [intraDc, reason] of cases) {
    const byId = rows({ intraDc });
    for (const id of ['latency.intra_dc_p50', 'packet_loss']) {
      const row = byId.get(id)!;
      assert.equal(row.measured, null);
      assert.equal(row.holds, null);
      assert.match(row.reason!, reason);
    }
  }
  assert.match(rows({}).get('latency.intra_eu')!.reason!, /not wired/);
  assert.match(rows({}).get('no_throttling')!.reason!, /not wired/);
});

test('intra-EU latency: the worst pair’s P99 against 30 ms, pairs beside it, reasons without figures', () => {
  const pair = (a: string, b: string, sent: number, p50Ms: number | null, p99Ms: number | null, simulated = false) => ({
    regions: [a, b] as [string, string],
    sent,
    p50Ms,
    p99Ms,
    simulated,
  });
  const cases: Array<{
    input: PromiseInputs['interRegion'];
    measured: number | null;
    holds: boolean | null;
    simulated: boolean;
    pairs: Array<[string, number | null, boolean | null]>;
    reason: RegExp | null;
  }> = [
    {
      input: { windowHours: 24, pairs: [pair('fra1', 'par1', 1000, 11, 14), pair('ams1', 'fra1', 500, 9, 12)] },
      measured: 14,
      holds: true,
      simulated: false,
      pairs: [
        ['fra1 <-> par1', 14, true],
        ['ams1 <-> fra1', 12, true],
      ],
      reason: null,
    },
    {
      input: { windowHours: 24, pairs: [pair('fra1', 'par1', 10, 20, 30, true), pair('fra1', 'mad1', 0, null, null)] },
      measured: 30,
      holds: false,
      simulated: true,
      pairs: [['fra1 <-> par1', 30, false]],
      reason: null,
    },
    {
      input: { windowHours: 24, pairs: [] },
      measured: null,
      holds: null,
      simulated: false,
      pairs: [],
      reason: /no probe between regions/,
    },
    { input: null, measured: null, holds: null, simulated: false, pairs: [], reason: /could not be read/ },
    { input: undefined, measured: null, holds: null, simulated: false, pairs: [], reason: /not wired/ },
  ];
  for (const c of cases) {
    const r = interRegionRow(c.input);
    assert.deepEqual([r.measured, r.holds, r.simulated], [c.measured, c.holds, c.simulated]);
    assert.deepEqual(
      r.regions!.map((x) => [x.region, x.measured, x.holds]),
      c.pairs,
    );
    if (c.reason) assert.match(r.reason!, c.reason);
    else assert.equal(r.reason, null);
  }
  const worst = interRegionRow(cases[0].input);
  assert.match(worst.method, /fra1 <-> par1, P50 11 ms/);
  assert.deepEqual(worst.regions![0].pair, ['fra1', 'par1']);
  assert.equal(rows({ interRegion: cases[0].input }).get('latency.intra_eu')!.measured, 14, 'wired into buildPromises');
});

test('no throttling: the worst host’s CPU steal against 1 %, the worst host per region beside it', () => {
  const host = (
    hostId: string,
    region: string,
    stealPercent: number | null,
    periodSeconds: number,
    simulated = false,
  ) => ({
    hostId,
    region,
    stealPercent,
    periodSeconds,
    simulated,
  });
  const cases: Array<{
    input: PromiseInputs['cpuSteal'];
    measured: number | null;
    holds: boolean | null;
    simulated: boolean;
    regions: Array<[string, number | null, boolean | null, number]>;
    reason: RegExp | null;
  }> = [
    {
      input: {
        windowHours: 24,
        hosts: [
          host('host_a', 'fra1', 0.2, 3600),
          host('host_b', 'fra1', 1.5, 7200),
          host('host_c', 'par1', 0, 60, true),
          host('host_d', 'par1', null, 0),
        ],
      },
      measured: 1.5,
      holds: false,
      simulated: true,
      regions: [
        ['fra1', 1.5, false, 10_800],
        ['par1', 0, true, 60],
      ],
      reason: null,
    },
    {
      input: { windowHours: 24, hosts: [host('host_a', 'fra1', 0.99, 60)] },
      measured: 0.99,
      holds: true,
      simulated: false,
      regions: [['fra1', 0.99, true, 60]],
      reason: null,
    },
    {
      input: { windowHours: 24, hosts: [host('host_d', 'par1', null, 0)] },
      measured: null,
      holds: null,
      simulated: false,
      regions: [],
      reason: /no CPU steal report/,
    },
    { input: null, measured: null, holds: null, simulated: false, regions: [], reason: /could not be read/ },
  ];
  for (const c of cases) {
    const r = cpuStealRow(c.input);
    assert.deepEqual([r.measured, r.holds, r.simulated], [c.measured, c.holds, c.simulated]);
    assert.deepEqual(
      r.regions!.map((x) => [x.region, x.measured, x.holds, x.samples]),
      c.regions,
    );
    if (c.reason) assert.match(r.reason!, c.reason);
    else assert.equal(r.reason, null);
  }
  assert.match(cpuStealRow(cases[0].input).method, /\(host_b\)/);
  assert.equal(rows({ cpuSteal: cases[1].input }).get('no_throttling')!.holds, true, 'wired into buildPromises');
});
