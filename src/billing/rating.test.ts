import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rateMonth, productPriceVersion, type RatingInput, type UsageInterval } from './rating.ts';
import { monthRange } from './months.ts';
import type { PriceVersion } from './prices.ts';
import { centsOfMicros } from './money.ts';
import { trafficOfPlan } from './loader.ts';

const march = monthRange('2026-03'); // 31 days = 744 h
const at = (day: number, hour = 0) => Date.UTC(2026, 2, day, hour);
const old = Date.UTC(2025, 0, 1);

const prices: PriceVersion[] = [
  productPriceVersion('vps-starter', 2, 999, old),
  productPriceVersion('gpu-a100', 229, 149900, old),
  { item: 'volume_gib', region: '*', currency: 'EUR', unitMicros: 60, monthlyCapMicros: 44_000, validFromMs: old },
  {
    item: 'traffic_overage_tib',
    region: '*',
    currency: 'EUR',
    unitMicros: 1_000_000,
    monthlyCapMicros: null,
    validFromMs: old,
  },
  {
    item: 'traffic_p95_mbps',
    region: '*',
    currency: 'EUR',
    unitMicros: 500_000,
    monthlyCapMicros: null,
    validFromMs: old,
  },
  {
    item: 'ddos:business',
    region: '*',
    currency: 'EUR',
    unitMicros: 50_000_000,
    monthlyCapMicros: null,
    validFromMs: old,
  },
];
const products = new Map([
  ['vps-starter', { trafficTiB: 2, gpuCount: 0, name: 'VPS-STARTER' }],
  ['gpu-a100', { trafficTiB: 20, gpuCount: 1, name: 'GPU-A100' }],
]);
const server = (id: string, product: string, startMs: number, endMs: number | null): UsageInterval => ({
  kind: 'server',
  resourceId: id,
  item: `product:${product}`,
  region: 'par1',
  quantityMilli: 1000,
  startMs,
  endMs,
});
const rate = (intervals: UsageInterval[], extra: Partial<RatingInput> = {}) =>
  rateMonth({
    range: march,
    untilMs: march.endMs,
    intervals,
    prices,
    products,
    traffic: null,
    ddosTier: null,
    slaTier: 'standard',
    ...extra,
  });

const table: Array<[string, UsageInterval[], number[], number[]]> = [
  // name, intervals, expected hours per line, expected cents per line
  ['10 days of a VPS-STARTER: 240 h × 2 c', [server('srv_a', 'vps-starter', at(1), at(11))], [240], [480]],
  ['a second past the hour starts another hour', [server('srv_a', 'vps-starter', at(1), at(1, 1) + 1000)], [2], [4]],
  ['one second is one started hour', [server('srv_a', 'vps-starter', at(1), at(1) + 1000)], [1], [2]],
  ['all month (stopped or not): capped at 9.99 €', [server('srv_a', 'vps-starter', at(1), null)], [744], [999]],
  [
    'created before the month: clipped to it',
    [server('srv_a', 'vps-starter', Date.UTC(2026, 1, 10), at(2))],
    [24],
    [48],
  ],
  [
    'deleted before the month: nothing',
    [server('srv_a', 'vps-starter', Date.UTC(2026, 1, 10), Date.UTC(2026, 1, 12))],
    [],
    [],
  ],
  ['GPU-A100 for 3 h', [server('srv_g', 'gpu-a100', at(5), at(5, 3))], [3], [687]],
  ['GPU-A100 all month: capped at 1499 €', [server('srv_g', 'gpu-a100', at(1), null)], [744], [149900]],
  [
    'two servers, two lines',
    [server('srv_a', 'vps-starter', at(1), at(2)), server('srv_b', 'vps-starter', at(3), at(3, 5))],
    [24, 5],
    [48, 10],
  ],
  [
    '100 GiB volume for the month: 100 × 0.044 €',
    [
      {
        kind: 'volume',
        resourceId: 'vol_a',
        item: 'volume_gib',
        region: 'par1',
        quantityMilli: 100_000,
        startMs: at(1),
        endMs: null,
      },
    ],
    [744],
    [440],
  ],
  [
    '10 GiB volume for 10 h: 10 × 10 × 60 µ€ = 0.6 c → 1 c',
    [
      {
        kind: 'volume',
        resourceId: 'vol_a',
        item: 'volume_gib',
        region: 'par1',
        quantityMilli: 10_000,
        startMs: at(1),
        endMs: at(1, 10),
      },
    ],
    [10],
    [1],
  ],
];

for (const [name, intervals, hours, cents] of table) {
  test(`rating: ${name}`, () => {
    const lines = rate(intervals);
    assert.deepEqual(
      lines.map((l) => l.hours),
      hours,
    );
    assert.deepEqual(
      lines.map((l) => l.amount_cents),
      cents,
    );
  });
}

test('rating: a price change mid-month bills each part at its own price (versions never rewritten)', () => {
  const raised = [...prices, { ...productPriceVersion('vps-starter', 3, 1499, at(11)) }];
  const lines = rateMonth({
    range: march,
    untilMs: march.endMs,
    intervals: [server('srv_a', 'vps-starter', at(1), at(21))],
    prices: raised,
    products,
    traffic: null,
    ddosTier: null,
    slaTier: 'standard',
  });
  // 240 h at 2 c + 240 h at 3 c
  assert.equal(lines[0]!.amount_cents, 480 + 720);
  assert.equal(lines[0]!.hours, 480);
});

test('rating: the month so far clips open intervals at untilMs', () => {
  const lines = rate([server('srv_a', 'vps-starter', at(1), null)], { untilMs: at(2, 12) });
  assert.equal(lines[0]!.hours, 36);
  assert.equal(lines[0]!.amount_cents, 72);
});

test('rating: included traffic is prorated; overage per TiB to the thousandth, rounded up', () => {
  const tib = 1024 ** 4;
  // A full month of VPS-STARTER includes 2 TiB; 3.5 TiB used → 1.5 TiB over.
  const lines = rate([server('srv_a', 'vps-starter', at(1), null)], {
    traffic: { egressBytes: 3.5 * tib, p95Mbps: null },
  });
  const traffic = lines.find((l) => l.kind === 'traffic')!;
  assert.equal(traffic.quantity, 1.5);
  assert.equal(traffic.amount_cents, 150);
  // Within the included traffic: no line.
  assert.equal(
    rate([server('srv_a', 'vps-starter', at(1), null)], { traffic: { egressBytes: 2 * tib, p95Mbps: null } }).length,
    1,
  );
  // Half a month of server includes half: 1 TiB (372 of 744 h).
  const half = rate([server('srv_a', 'vps-starter', at(1), at(16, 12))], {
    traffic: { egressBytes: 2 * tib, p95Mbps: null },
  });
  assert.equal(half.find((l) => l.kind === 'traffic')!.quantity, 1);
});

test('rating: 95th-percentile billing replaces the overage; DDoS and SLA tiers add lines', () => {
  const lines = rate([server('srv_a', 'vps-starter', at(1), null)], {
    traffic: { egressBytes: 100 * 1024 ** 4, p95Mbps: 200 },
    ddosTier: 'business',
    slaTier: 'business',
  });
  assert.deepEqual(
    lines.map((l) => [l.kind, l.amount_cents]),
    [
      ['server', 999],
      ['traffic', 10000],
      ['ddos', 5000],
      ['sla_surcharge', 200],
    ],
  );
});

test('money: half up per line, away from zero for credits', () => {
  assert.equal(centsOfMicros(5_000), 1);
  assert.equal(centsOfMicros(4_999), 0);
  assert.equal(centsOfMicros(-5_000), -1);
  assert.equal(centsOfMicros(15_000), 2);
});

test('the traffic plan picks the figure: the p95 only on percentile95', () => {
  const usage = { egressBytes: 5 * 1024 ** 4, p95Mbps: 42.5 };
  assert.deepEqual(trafficOfPlan(usage, 'percentile95'), usage);
  assert.deepEqual(trafficOfPlan(usage, 'volume'), { egressBytes: usage.egressBytes, p95Mbps: null });
  assert.deepEqual(trafficOfPlan(usage, undefined), { egressBytes: usage.egressBytes, p95Mbps: null });
  assert.equal(trafficOfPlan(null, 'percentile95'), null);
});
