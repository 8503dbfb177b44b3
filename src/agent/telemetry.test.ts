/** The agent's CPU steal samplers: /proc/stat deltas on real hosts, the model's none on the sim fleet. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../core/index.ts';
import type { TelemetryBody } from '../contract/index.ts';
import { createModelSteal, createProcStatSteal, createTelemetryLoop } from './telemetry.ts';

test('CPU steal from /proc/stat: the first reading only reads, then steal over all ticks since the previous', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmcloud-steal-'));
  try {
    const path = join(dir, 'stat');
    let now = Date.parse('2025-03-01T12:00:00Z');
    const clock = { nowMs: () => now, nowIso: () => new Date(now).toISOString() };
    const write = (user: number, idle: number, steal: number) =>
      writeFileSync(path, `cpu  ${user} 0 0 ${idle} 0 0 0 ${steal} 0 0\ncpu0 ${user} 0 0 ${idle} 0 0 0 ${steal} 0 0\n`);
    const steal = createProcStatSteal({ path, clock });
    write(1000, 9000, 0);
    assert.equal(await steal(), null);
    write(1500, 13_450, 50);
    now += 60_000;
    assert.deepEqual(await steal(), { periodS: 60, stealRatio: 0.01, method: 'procfs' });
    write(100, 100, 0); // counters reset (reboot): no figure, the next one counts from here
    now += 60_000;
    assert.equal(await steal(), null);
    rmSync(path);
    assert.equal(await steal(), null, 'no /proc/stat: nothing reported');

    const model = createModelSteal({ clock });
    assert.equal(await model(), null);
    now += 30_000;
    assert.deepEqual(await model(), { periodS: 30, stealRatio: 0, method: 'model' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the telemetry loop sends the CPU steal with its report', async () => {
  const bodies: TelemetryBody[] = [];
  let ratio: number | null = null;
  const loop = createTelemetryLoop({
    hostId: 'host_a',
    link: {
      telemetry: async (_hostId, body) => {
        bodies.push(body);
        return { peers: [], region: 'fra1', probeIntervalMs: 1000, reportIntervalMs: 60_000 };
      },
    },
    driver: {},
    log: silentLogger,
    reportUsage: false,
    cpuSteal: async () => (ratio === null ? null : { periodS: 60, stealRatio: ratio, method: 'procfs' }),
  });
  await loop.runOnce();
  ratio = 0.005;
  await loop.runOnce();
  assert.deepEqual(bodies, [{}, { cpu: { periodS: 60, stealRatio: 0.005, method: 'procfs' } }]);
});
