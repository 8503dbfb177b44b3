/** The pure parts of metrics: windows and their errors, rates from counted intervals, /proc parsers, id times. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isVmcError, newId } from '../core/index.ts';
import { metricsWindow, pointTimes, ratesFromIntervals, simulatedSeries } from './server-metrics.ts';
import { parseCpuStealSeconds } from './agent.ts';
import { statusClass, timeOfId } from './control-plane.ts';
import { parseProcessCpuSeconds, parseResidentBytes, sumBlockStats } from '../compute/drivers/qemu/usage.ts';

const now = Date.parse('2025-03-01T12:00:00Z');
const reasonOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    assert.ok(isVmcError(error));
    return error.reason;
  }
  return null;
};

test('metrics windows: defaults, and stable reasons for bad ranges', () => {
  assert.deepEqual(metricsWindow({}, now), { startMs: now - 3_600_000, endMs: now, stepS: 60 });
  assert.equal(metricsWindow({ start: '2025-03-01T00:00:00Z' }, now).stepS, 720);
  assert.equal(metricsWindow({ end: '2025-03-02T00:00:00Z' }, now).endMs, now, 'the future is cut at now');
  const cases: Array<[Parameters<typeof metricsWindow>[0], string]> = [
    [{ start: '2025-03-01T12:00:00Z', end: '2025-03-01T11:00:00Z' }, 'invalid_range'],
    [{ start: '2025-03-01T13:00:00Z' }, 'invalid_range'],
    [{ start: '2024-01-01T00:00:00Z' }, 'invalid_range'],
    [{ start: '2025-02-27T00:00:00Z', step: '60' }, 'too_many_points'],
    [{ step: '0' }, 'invalid_step'],
  ];
  for (const [query, reason] of cases)
    assert.equal(
      reasonOf(() => metricsWindow(query, now)),
      reason,
      JSON.stringify(query),
    );
});

test('rates from 5-minute intervals: weighted by overlap, gaps left out', () => {
  const window = { startMs: now - 900_000, endMs: now, stepS: 300 };
  assert.deepEqual(pointTimes(window), [now - 600_000, now - 300_000, now]);
  const rates = ratesFromIntervals(
    [
      { startMs: now - 900_000, seconds: 300, values: { rx: 3000 } },
      // none for the second step
      { startMs: now - 300_000, seconds: 300, values: { rx: 600 } },
    ],
    window,
    ['rx'],
  );
  assert.deepEqual(rates.get('rx'), [
    [(now - 600_000) / 1000, 10],
    [now / 1000, 2],
  ]);
  // A step of 60 s inside one 5-minute slot: the slot's average rate.
  const fine = ratesFromIntervals(
    [{ startMs: now - 300_000, seconds: 300, values: { rx: 600 } }],
    { startMs: now - 120_000, endMs: now, stepS: 60 },
    ['rx'],
  );
  assert.deepEqual(
    fine.get('rx')!.map(([, v]) => v),
    [2, 2],
  );
});

test('simulated CPU: deterministic, within the vCPUs, nothing before the server existed', () => {
  const window = { startMs: now - 3_600_000, endMs: now, stepS: 600 };
  const a = simulatedSeries({ id: 'srv_x', vcpus: 2, createdAtMs: now - 1_800_000 }, window, 'cpu');
  const b = simulatedSeries({ id: 'srv_x', vcpus: 2, createdAtMs: now - 1_800_000 }, window, 'cpu');
  assert.deepEqual(a, b);
  const values = a.get('cpu')!;
  assert.equal(values.length, 3, 'the last 30 minutes only');
  for (const [, v] of values) assert.ok(v >= 0 && v <= 200);
});

test('/proc and QMP parsers', () => {
  // A command name with spaces and parentheses; utime 250, stime 50 ticks.
  const stat = '4242 (qemu (vm) x) S 1 4242 4242 0 -1 4194560 500 0 0 0 250 50 0 0 20 0 3 0 100 1000 200';
  assert.equal(parseProcessCpuSeconds(stat), 3);
  assert.equal(parseProcessCpuSeconds(''), null);
  assert.equal(parseResidentBytes('Name:\tqemu\nVmRSS:\t  2048 kB\n'), 2048 * 1024);
  assert.equal(parseCpuStealSeconds('cpu  10 0 5 100 0 0 0 250 0 0\ncpu0 1 0 1 1 0 0 0 1 0 0\n'), 2.5);
  assert.equal(parseCpuStealSeconds('nothing'), null);
  assert.deepEqual(
    sumBlockStats([
      { device: '', 'node-name': 'disk0', stats: { rd_bytes: 10, wr_bytes: 20, rd_operations: 1, wr_operations: 2 } },
      { device: '', 'node-name': 'vol0', stats: { rd_bytes: 5, wr_bytes: 5, rd_operations: 1, wr_operations: 1 } },
    ]),
    { readBytes: 15, writeBytes: 25, readOps: 2, writeOps: 3 },
  );
});

test('the start time of an action from its id, and status classes', () => {
  const at = Date.parse('2025-03-01T10:00:00.123Z');
  assert.equal(timeOfId(newId('action', at)), at);
  assert.equal(timeOfId('act_!!'), null);
  assert.equal(statusClass(404), '4xx');
});
