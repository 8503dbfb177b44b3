import { test } from 'node:test';
import assert from 'node:assert/strict';
import { includedBytes, projectUsage, serverUsageFromSamples, tebibyte } from './usage.ts';
import { monthRange } from './percentile.ts';

const zero = { rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0, rxUnmeteredBytes: 0, txUnmeteredBytes: 0 };

test('included traffic is prorated to the part of the month the server existed', () => {
  const month = monthRange('2026-11');
  assert.equal(includedBytes(20, { fromMs: 0, toMs: null }, month), 20 * tebibyte);
  const half = month.startMs + (month.endMs - month.startMs) / 2;
  assert.equal(includedBytes(1, { fromMs: half, toMs: null }, month), tebibyte / 2);
  assert.equal(includedBytes(1, { fromMs: 0, toMs: month.startMs }, month), 0);
});

test('billable is metered outbound; overage pooled per project; p95 of the per-slot sums', () => {
  const a = serverUsageFromSamples({
    serverId: 'srv_a',
    name: 'a',
    product: 'vps-nano',
    includedBytes: 1000,
    samples: [
      { ...zero, txBytes: 1500, txUnmeteredBytes: 300, rxBytes: 700, rxUnmeteredBytes: 100 },
      { ...zero, txBytes: 100 },
    ],
    slotCount: 20,
  });
  assert.equal(a.billableBytes, 1300);
  assert.equal(a.unmeteredBytes, 400);
  assert.equal(a.overageBytes, 300);
  const b = serverUsageFromSamples({
    serverId: 'srv_b',
    name: 'b',
    product: 'x',
    includedBytes: 1000,
    samples: [],
    slotCount: 20,
  });
  const project = projectUsage([a, b], [{ ...zero, txBytes: 37_500_000 }], 20);
  assert.equal(project.overageBytes, 0, 'b’s unused allowance covers a’s overage');
  assert.equal(project.includedBytes, 2000);
  // 20 slots, 1 dropped: the 2nd highest is 0.
  assert.equal(project.p95OutBps, 0);
  const busy = projectUsage(
    [a],
    Array.from({ length: 2 }, () => ({ ...zero, txBytes: 37_500_000 })),
    20,
  );
  assert.equal(busy.p95OutBps, 1_000_000);
  assert.equal(busy.p95Bps, 1_000_000);
});
