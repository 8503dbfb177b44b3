import { test } from 'node:test';
import assert from 'node:assert/strict';
import { billedPercentile95, bitsPerSecond, monthRange, percentile95, slotsInMonth } from './percentile.ts';

const repeat = (value: number, count: number) => Array.from({ length: count }, () => value);
/** Bytes of a 5-minute slot at `mbps` Mbit/s. */
const bytesAt = (mbps: number) => (mbps * 1_000_000 * 300) / 8;

test('slots in a month: 28, 29, 30 and 31 days', () => {
  assert.equal(slotsInMonth('2026-02'), 8064);
  assert.equal(slotsInMonth('2028-02'), 8352);
  assert.equal(slotsInMonth('2026-11'), 8640);
  assert.equal(slotsInMonth('2026-12'), 8928);
  assert.deepEqual(monthRange('2026-12'), { startMs: Date.UTC(2026, 11, 1), endMs: Date.UTC(2027, 0, 1) });
  assert.throws(() => monthRange('2026-13'), RangeError);
  assert.throws(() => monthRange('26-1'), RangeError);
});

test('the worked example of docs/traffic.md: 30 days, 240 slots at 900, 400 at 300, the rest at 40 Mbit/s', () => {
  const out = [...repeat(900, 240), ...repeat(300, 400), ...repeat(40, 8000)];
  // 432 slots are dropped (5 % of 8 640): the 240 at 900 and 192 of the 300s; the 433rd highest is 300.
  assert.equal(percentile95(out, 8640), 300);
  const inbound = [...repeat(500, 100), ...repeat(20, 8540)];
  assert.equal(percentile95(inbound, 8640), 20);
  const billed = billedPercentile95(
    out.map((mbps, i) => ({ outBytes: bytesAt(mbps), inBytes: bytesAt(inbound[i]) })),
    8640,
  );
  assert.equal(billed.outBps, 300_000_000);
  assert.equal(billed.inBps, 20_000_000);
  assert.equal(billed.billedBps, 300_000_000);
});

test('bursts shorter than 36 hours in a 30-day month cost nothing', () => {
  const out = [...repeat(900, 240), ...repeat(300, 150), ...repeat(40, 8250)];
  assert.equal(percentile95(out, 8640), 40);
  // One slot more than the 432 dropped and the burst shows.
  assert.equal(percentile95([...repeat(900, 433), ...repeat(40, 8207)], 8640), 900);
});

test('missing slots count as zero (N stays the month), and the rounding drops floor(5 %)', () => {
  // A server that existed 1 day of 30: 288 samples at 100, the rest missing → all in the dropped 5 %.
  assert.equal(percentile95(repeat(100, 288), 8640), 0);
  // Three days (864 samples > 432 dropped) and the rate shows.
  assert.equal(percentile95(repeat(100, 864), 8640), 100);
  // 31 days: 5 % of 8 928 is 446.4 → 446 dropped, the 447th highest is billed.
  assert.equal(percentile95([...repeat(10, 446), ...repeat(5, 1), ...repeat(1, 8481)], 8928), 5);
  assert.equal(percentile95([], 8640), 0);
  assert.equal(percentile95([], 0), 0);
  assert.throws(() => percentile95([1, 2], 1), RangeError);
});

test('order of the samples does not matter; the input is not mutated', () => {
  const rates = [5, 1, 9, 3, 7, 2, 8, 4, 6, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20];
  const copy = [...rates];
  // 20 slots: floor(1) dropped (20), the 2nd highest is 19.
  assert.equal(percentile95(rates), 19);
  assert.deepEqual(rates, copy);
  assert.equal(bitsPerSecond(37_500_000), 1_000_000);
});
