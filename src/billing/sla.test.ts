import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverAvailability, subtractWindows, mttrMinutes, type DowntimeInterval } from './sla.ts';
import { monthRange } from './months.ts';

const april = monthRange('2026-04'); // 30 days = 43 200 minutes
const min = 60_000;
const start = Date.UTC(2026, 3, 10, 12);
const a100 = {
  serverId: 'srv_g',
  region: 'par1',
  existedMinutes: 43_200,
  monthlyPriceMicros: 1_499_000_000,
  chargedMicros: 1_499_000_000,
};
const outage = (minutes: number, cause = 'host_down'): DowntimeInterval => ({
  serverId: 'srv_g',
  cause,
  startMs: start,
  endMs: start + minutes * min,
  hostId: 'host_1',
  region: 'par1',
});

// 3 h on a GPU-A100 (1499 €/month): prorated 180 × 1499 € / 43 200 = 6.2458 €.
const table: Array<[string, number, 'standard' | 'business' | 'enterprise', boolean, number]> = [
  ['3 h, standard: 10 × 6.2458 €', 180, 'standard', true, 6246],
  ['3 h, business: 25 ×', 180, 'business', true, 15615],
  ['3 h, enterprise: 50 ×', 180, 'enterprise', true, 31229],
  ['43 min, standard (99.9 % allows 43.2): no breach', 43, 'standard', false, 0],
  ['44 min, standard: breach', 44, 'standard', true, 1527],
  ['21 min, business (allows 21.6): no breach', 21, 'business', false, 0],
  ['5 min, enterprise (allows 4.32): breach', 5, 'enterprise', true, 867],
  ['4 min, enterprise: none', 4, 'enterprise', false, 0],
  ['3 days, enterprise: capped at the month charge', 3 * 1440, 'enterprise', true, 149900],
];

for (const [name, minutes, tier, breached, credit] of table) {
  test(`SLA: ${name}`, () => {
    const result = serverAvailability(april, april.endMs, a100, [outage(minutes)], [], tier);
    assert.equal(result.downtime_minutes, minutes);
    assert.equal(result.breached, breached);
    assert.equal(result.credit_cents, credit);
  });
}

test('SLA: announced maintenance is cut out of downtime; seconds round up to a minute', () => {
  const result = serverAvailability(
    april,
    april.endMs,
    a100,
    [{ ...outage(0), endMs: start + 180 * min + 1000 }],
    [{ startMs: start, endMs: start + 120 * min }],
    'standard',
  );
  assert.equal(result.downtime_minutes, 61);
  assert.equal(result.downtime.length, 1);
  assert.equal(result.downtime[0]!.from, new Date(start + 120 * min).toISOString());
});

test('SLA: a server that existed 10 days is measured over those 10 days', () => {
  const result = serverAvailability(
    april,
    april.endMs,
    { ...a100, existedMinutes: 14_400 },
    [outage(15)],
    [],
    'standard',
  );
  // 15 / 14 400 = 0.104 % down: breach of 99.9 %
  assert.equal(result.breached, true);
  assert.equal(result.availability_percent, 99.895);
});

test('subtractWindows and MTTR', () => {
  assert.deepEqual(
    subtractWindows(0, 100, [
      { startMs: 20, endMs: 30 },
      { startMs: 90, endMs: 200 },
    ]),
    [
      { startMs: 0, endMs: 20 },
      { startMs: 30, endMs: 90 },
    ],
  );
  assert.equal(mttrMinutes([outage(30), outage(90), { ...outage(1), endMs: null }]), 60);
  assert.equal(mttrMinutes([]), null);
});
