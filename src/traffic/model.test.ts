import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diurnalFactor, floodAt, hash32, profileOf, slotCounters } from './model.ts';
import { percentile95, bitsPerSecond } from './percentile.ts';

const seed = 'test-seed';
const dayStartSlot = Date.UTC(2026, 10, 2) / 300_000;

test('deterministic: same seed, server and slot → same counters; another seed → others', () => {
  assert.deepEqual(slotCounters(seed, 'srv_a', 1000), slotCounters(seed, 'srv_a', 1000));
  assert.notDeepEqual(slotCounters(seed, 'srv_a', 1000), slotCounters('other', 'srv_a', 1000));
  assert.equal(hash32('a', 1), hash32('a', 1));
  assert.notEqual(hash32('a', 1), hash32('a1'));
});

test('diurnal curve: quiet at 04:00 UTC, busiest at 20:00', () => {
  const at = (h: number) => diurnalFactor(Date.UTC(2026, 10, 2, h));
  assert.ok(Math.abs(at(20) - 1) < 1e-9);
  assert.ok(Math.abs(at(8) - 0.15) < 1e-9);
  assert.ok(at(4) < at(12) && at(12) < at(20));
});

test('a region of 1 000 servers: a few heavy users, unmetered below half, p95 above the mean', () => {
  const servers = Array.from({ length: 1000 }, (_, i) => `srv_${i}`);
  const heavy = servers.filter((s) => profileOf(seed, s).heavy).length;
  assert.ok(heavy > 10 && heavy < 60, `${heavy} heavy users`);
  const slots = Array.from({ length: 288 }, (_, i) => dayStartSlot + i);
  const counters = slots.map((slot) => slotCounters(seed, 'srv_7', slot));
  for (const c of counters) {
    assert.ok(c.txUnmeteredBytes <= c.txBytes * 0.5 && c.rxUnmeteredBytes <= c.rxBytes);
    assert.ok(c.txBytes > 0 && c.rxPackets > 0);
  }
  const rates = counters.map((c) => bitsPerSecond(c.txBytes));
  const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
  assert.ok(percentile95(rates) > mean);
});

test('floods: rare (about one server-day in 400), 3–9 slots long, inbound only and all metered', () => {
  let floodedDays = 0;
  let example: { server: string; slot: number } | null = null;
  for (let i = 0; i < 2000; i++) {
    const server = `srv_${i}`;
    const day = Array.from({ length: 288 }, (_, k) => dayStartSlot + k).filter((slot) => floodAt(seed, server, slot));
    if (day.length > 0) {
      floodedDays++;
      assert.ok(day.length >= 3 && day.length <= 9, `${day.length} slots`);
      example ??= { server, slot: day[0] };
    }
  }
  assert.ok(floodedDays >= 1 && floodedDays <= 15, `${floodedDays} flooded server-days of 2000`);
  const flooded = slotCounters(seed, example!.server, example!.slot);
  const calm = slotCounters(seed, example!.server, example!.slot - 1);
  assert.ok(flooded.rxPackets > calm.rxPackets * 100);
  assert.equal(flooded.rxUnmeteredBytes, 0);
});
