import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ComponentStatus } from '../contract/index.ts';
import {
  addSample,
  apiSignal,
  applyHysteresis,
  canarySignal,
  dailyBars,
  effectiveStatus,
  emptyCounts,
  hostsSignal,
  maintenanceStatusAt,
  measure,
  pageIndicator,
  uptimePercent,
  type HysteresisState,
} from './derive.ts';
import { buildPromises, percentileOf } from './promises.ts';
import { pickLanguage } from './page.ts';

const up = { state: 'active', health: 'up', heartbeatAgeMs: 1000 };
const down = { state: 'active', health: 'down', heartbeatAgeMs: 60_000 };

test('hostsSignal: a table of host censuses', () => {
  const cases: Array<[string, Parameters<typeof hostsSignal>[0], ComponentStatus]> = [
    ['all up', [up, up, up, up], 'operational'],
    ['one late heartbeat', [up, up, { ...up, heartbeatAgeMs: 25_000 }], 'degraded_performance'],
    ['never heartbeated', [up, { ...up, heartbeatAgeMs: null }], 'degraded_performance'],
    ['one of four down', [up, up, up, down], 'partial_outage'],
    ['half down', [up, down], 'major_outage'],
    ['unusable counts as down', [up, up, up, { ...up, health: 'unusable' }], 'partial_outage'],
    ['no host', [], 'major_outage'],
    ['all in maintenance', [{ ...up, state: 'maintenance' }], 'under_maintenance'],
    ['maintenance hosts out of the count', [up, { ...down, state: 'maintenance' }], 'operational'],
    ['draining hosts still count', [up, { ...down, state: 'draining' }], 'major_outage'],
  ];
  for (const [name, hosts, expected] of cases) assert.equal(hostsSignal(hosts, 20_000).status, expected, name);
  assert.equal(hostsSignal([up, up, up, down], 20_000).reason, '1 of 4 hosts down');
});

test('apiSignal and canarySignal: failure, slowness, success', () => {
  assert.equal(apiSignal(null, 1000), null);
  assert.equal(apiSignal({ ok: false, latencyMs: null, error: 'ECONNREFUSED' }, 1000)!.status, 'major_outage');
  assert.equal(apiSignal({ ok: true, latencyMs: 1500 }, 1000)!.status, 'degraded_performance');
  assert.equal(apiSignal({ ok: true, latencyMs: 12 }, 1000)!.status, 'operational');
  assert.equal(canarySignal({ ok: false, latencyMs: null }, 1000)!.status, 'partial_outage');
  assert.equal(canarySignal({ ok: true, latencyMs: 2000 }, 1000)!.status, 'degraded_performance');
  assert.equal(canarySignal({ ok: true, latencyMs: 20 }, 1000)!.status, 'operational');
});

test('measure: the worst signal wins, its reasons joined; no signal is operational with a reason', () => {
  assert.deepEqual(measure([]), { status: 'operational', reason: 'no probe result yet' });
  assert.deepEqual(
    measure([
      { status: 'operational', reason: 'a' },
      { status: 'partial_outage', reason: 'b' },
      null,
      { status: 'partial_outage', reason: 'c' },
    ]),
    { status: 'partial_outage', reason: 'b; c' },
  );
});

test('applyHysteresis: a new status must hold N passes in a row; an interruption starts over', () => {
  const run = (observations: ComponentStatus[], required: number) => {
    let state: HysteresisState | null = null;
    const shown: ComponentStatus[] = [];
    for (const o of observations) {
      state = applyHysteresis(state, o, required).next;
      shown.push(state.status);
    }
    return shown;
  };
  const O = 'operational' as const;
  const M = 'major_outage' as const;
  const D = 'degraded_performance' as const;
  // First observation taken as is.
  assert.deepEqual(run([M], 3), [M]);
  // Three in a row to change; back needs three too.
  assert.deepEqual(run([O, M, M, M, O, O, O], 3), [O, O, O, M, M, M, O]);
  // Flapping never changes it.
  assert.deepEqual(run([O, M, O, M, O, M, O], 3), [O, O, O, O, O, O, O]);
  // A different bad status restarts the count.
  assert.deepEqual(run([O, M, M, D, D, D], 3), [O, O, O, O, O, D]);
  // N = 1: follows every observation.
  assert.deepEqual(run([O, M, O], 1), [O, M, O]);
  const step = applyHysteresis({ status: O, candidate: M, candidateCount: 1 }, M, 2);
  assert.deepEqual(step, { next: { status: M, candidate: null, candidateCount: 0 }, changed: true });
});

test('maintenanceStatusAt: derived from the window; cancelled wins', () => {
  const m = { startsAt: '2030-01-01T10:00:00.000Z', endsAt: '2030-01-01T12:00:00.000Z', cancelledAt: null };
  assert.equal(maintenanceStatusAt(m, Date.parse('2030-01-01T09:59:59Z')), 'scheduled');
  assert.equal(maintenanceStatusAt(m, Date.parse('2030-01-01T10:00:00Z')), 'in_progress');
  assert.equal(maintenanceStatusAt(m, Date.parse('2030-01-01T12:00:00Z')), 'completed');
  assert.equal(
    maintenanceStatusAt({ ...m, cancelledAt: '2030-01-01T10:30:00Z' }, Date.parse('2030-01-01T11:00:00Z')),
    'cancelled',
  );
});

test('effectiveStatus: incidents impose at least their impact; maintenance shows unless worse is measured', () => {
  const ok = { status: 'operational' as const, reason: 'fine' };
  const incident = (impact: 'none' | 'minor' | 'major' | 'critical') => ({
    title: 'disk',
    impact,
    components: ['fra1.storage'],
  });
  assert.equal(effectiveStatus('fra1.storage', ok, [incident('minor')], []).status, 'degraded_performance');
  assert.equal(effectiveStatus('fra1.storage', ok, [incident('major')], []).status, 'partial_outage');
  assert.equal(effectiveStatus('fra1.storage', ok, [incident('critical')], []).status, 'major_outage');
  assert.equal(effectiveStatus('fra1.storage', ok, [incident('none')], []).status, 'operational');
  assert.equal(effectiveStatus('par1.storage', ok, [incident('critical')], []).status, 'operational');
  // A measured outage is not lowered by a smaller incident.
  assert.equal(
    effectiveStatus('fra1.storage', { status: 'major_outage', reason: 'x' }, [incident('minor')], []).status,
    'major_outage',
  );
  const maintenance = { title: 'kernel', components: ['fra1.storage'] };
  assert.deepEqual(effectiveStatus('fra1.storage', ok, [], [maintenance]), {
    status: 'under_maintenance',
    reason: 'maintenance: kernel',
  });
  assert.equal(
    effectiveStatus('fra1.storage', { status: 'partial_outage', reason: 'x' }, [], [maintenance]).status,
    'partial_outage',
  );
});

test('uptimePercent: major counts fully, partial at 30 %, degraded and maintenance as up; rounded down', () => {
  const counts = (entries: Array<[ComponentStatus, number]>) => {
    let c = emptyCounts();
    for (const [status, n] of entries) for (let i = 0; i < n; i++) c = addSample(c, status);
    return c;
  };
  assert.equal(uptimePercent(emptyCounts()), null);
  assert.equal(uptimePercent(counts([['operational', 10]])), 100);
  assert.equal(
    uptimePercent(
      counts([
        ['operational', 9],
        ['major_outage', 1],
      ]),
    ),
    90,
  );
  assert.equal(
    uptimePercent(
      counts([
        ['operational', 9],
        ['partial_outage', 1],
      ]),
    ),
    97,
  );
  assert.equal(
    uptimePercent(
      counts([
        ['degraded_performance', 5],
        ['under_maintenance', 5],
      ]),
    ),
    100,
    'degraded and announced maintenance are up',
  );
  // 1 major in 1440 passes: 99.93055… → 99.930 (floored, never rounded up).
  assert.equal(
    uptimePercent(
      counts([
        ['operational', 1439],
        ['major_outage', 1],
      ]),
    ),
    99.93,
  );
  assert.equal(
    uptimePercent(
      counts([
        ['operational', 2],
        ['major_outage', 1],
      ]),
    ),
    66.666,
  );
});

test('dailyBars: 90 days ending today, oldest first, null where nothing was measured', () => {
  const today = Date.parse('2030-03-31T15:00:00Z');
  const byDay = new Map([
    ['2030-03-31', addSample(emptyCounts(), 'operational')],
    ['2030-03-30', addSample(addSample(emptyCounts(), 'operational'), 'major_outage')],
  ]);
  const bars = dailyBars(byDay, today, 90);
  assert.equal(bars.length, 90);
  assert.equal(bars[0].day, '2030-01-01');
  assert.deepEqual(bars[89], { day: '2030-03-31', uptimePercent: 100, worst: 'operational' });
  assert.deepEqual(bars[88], { day: '2030-03-30', uptimePercent: 50, worst: 'major_outage' });
  assert.deepEqual(bars[0], { day: '2030-01-01', uptimePercent: null, worst: null });
});

test('pageIndicator: the worst component or unresolved impact', () => {
  assert.equal(pageIndicator(['operational'], []).indicator, 'none');
  assert.equal(pageIndicator(['operational', 'under_maintenance'], []).indicator, 'maintenance');
  assert.equal(pageIndicator(['degraded_performance'], []).indicator, 'minor');
  assert.equal(pageIndicator(['partial_outage'], []).indicator, 'major');
  assert.equal(pageIndicator(['operational'], ['critical']).indicator, 'critical');
  assert.equal(pageIndicator(['major_outage'], ['minor']).indicator, 'critical');
});

test('pickLanguage: ?lang wins, then Accept-Language by quality, else English', () => {
  assert.equal(pickLanguage('fr', 'en'), 'fr');
  assert.equal(pickLanguage(undefined, 'fr-FR,fr;q=0.9,en;q=0.8'), 'fr');
  assert.equal(pickLanguage(undefined, 'en;q=0.5,fr;q=0.9'), 'fr');
  assert.equal(pickLanguage(undefined, 'de-DE,en;q=0.7,fr;q=0.3'), 'en');
  assert.equal(pickLanguage(undefined, 'de'), 'en');
  assert.equal(pickLanguage('xx', undefined), 'en');
  assert.equal(pickLanguage(undefined, 'fr;q=0'), 'en');
});

test('buildPromises: measured where measurable, null with a reason where not, holds compared to the claim', () => {
  const promises = buildPromises({
    sla: {
      month: '2030-03',
      regions: [
        { region: 'fra1', tier: 'standard', servers: 3, availability_percent: 99.95, breaches: 0, credits_cents: 0 },
        { region: 'par1', tier: 'standard', servers: 2, availability_percent: 99.8, breaches: 1, credits_cents: 100 },
        { region: 'fra1', tier: 'business', servers: 1, availability_percent: 100, breaches: 0, credits_cents: 0 },
      ],
      total_credits_cents: 100,
      mttr: [
        { tier: 'standard', incidents: 2, mttr_minutes: 300, target_minutes: 240, met: false },
        { tier: 'business', incidents: 0, mttr_minutes: null, target_minutes: 120, met: null },
        { tier: 'enterprise', incidents: 0, mttr_minutes: null, target_minutes: 30, met: null },
      ],
    },
    backups: {
      regions: [
        {
          region: 'fra1',
          servers: 2,
          servers_without_backup: 0,
          rpo_s: { p50: 100, p99: 7200 },
          rto_s: { p50: null, p99: null },
        },
      ],
      promise: { rpo_s: 21_600, rto_s: 3600 },
    },
    placementViolations: 0,
    majorIncidents: { count: 3, minutes: 30 },
    uptime90dPercent: 99.99,
    apiLatencyP50Ms: 2,
    apiLatencyP99Ms: 9,
    simulatedFleet: true,
  });
  const byId = new Map(promises.map((p) => [p.id, p]));
  assert.deepEqual(
    [byId.get('uptime.standard')!.measured, byId.get('uptime.standard')!.holds],
    [99.8, false],
    'the worst region counts',
  );
  assert.deepEqual([byId.get('uptime.business')!.measured, byId.get('uptime.business')!.holds], [100, true]);
  assert.equal(byId.get('uptime.enterprise')!.measured, null);
  assert.equal(byId.get('uptime.enterprise')!.holds, null);
  assert.match(byId.get('uptime.enterprise')!.reason!, /no server on this tier/);
  assert.deepEqual([byId.get('mttr.standard')!.measured, byId.get('mttr.standard')!.holds], [300, false]);
  assert.deepEqual([byId.get('rpo')!.measured, byId.get('rpo')!.holds], [7200, true]);
  assert.equal(byId.get('rto')!.measured, null);
  assert.deepEqual([byId.get('no_overselling')!.measured, byId.get('no_overselling')!.holds], [0, true]);
  assert.equal(byId.get('no_overselling')!.simulated, true);
  assert.deepEqual([byId.get('incidents.major')!.measured, byId.get('incidents.major')!.holds], [3, false]);
  for (const unmeasurable of ['latency.intra_dc_p50', 'packet_loss', 'latency.intra_eu', 'no_throttling']) {
    assert.equal(byId.get(unmeasurable)!.measured, null, unmeasurable);
    assert.equal(byId.get(unmeasurable)!.holds, null, unmeasurable);
    assert.ok(byId.get(unmeasurable)!.reason, unmeasurable);
  }
  // Sources that failed: null with a reason, never a number.
  const empty = buildPromises({
    sla: null,
    backups: null,
    placementViolations: null,
    majorIncidents: { count: 0, minutes: 0 },
    uptime90dPercent: null,
    apiLatencyP50Ms: null,
    apiLatencyP99Ms: null,
    simulatedFleet: false,
  });
  for (const p of empty.filter((p) => !p.id.startsWith('incidents.'))) {
    assert.equal(p.measured, null, p.id);
    assert.ok(p.reason, p.id);
  }
});

test('percentileOf: nearest rank', () => {
  assert.equal(percentileOf([], 50), null);
  assert.equal(percentileOf([5, 1, 3], 50), 3);
  assert.equal(percentileOf([1, 2, 3, 4, 5, 6, 7, 8, 9, 100], 99), 100);
  assert.equal(percentileOf([1, 2, 3, 4], 50), 2);
});
