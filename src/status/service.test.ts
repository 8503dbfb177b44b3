/**
 * The status service on a real database (SQLite, and PostgreSQL where TEST_DATABASE_URL is set), with fake
 * probes: hysteresis across passes, incidents raising components, maintenances announced by the pass,
 * daily rollups and uptime, bad input refused with nothing written, events of every change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEventBus, createManualClock, silentLogger, VmcError } from '../core/index.ts';
import { createTestDatabase, testDialects } from '../db/test-helpers.ts';
import { createEventRecorder } from '../events/record.ts';
import { listEvents } from '../events/query.ts';
import type { Principal } from '../identity/index.ts';
import { createStatusService, type StatusProbes } from './service.ts';
import type { ProbeOutcome } from './derive.ts';

const operator: Principal = { kind: 'operator', tokenId: 'tok_op', userId: null };
const customer: Principal = { kind: 'project', tokenId: 'tok_p', userId: null, projectId: 'prj_1', role: 'owner' };

async function rejects(work: Promise<unknown>, code: string, reason?: string) {
  await assert.rejects(work, (error: unknown) => {
    assert.ok(error instanceof VmcError, String(error));
    assert.equal(error.code, code, error.message);
    if (reason) assert.equal(error.reason, reason, error.message);
    return true;
  });
}

for (const dialect of testDialects()) {
  test(`status service: incidents, maintenances, probe passes with hysteresis, rollups (${dialect})`, async () => {
    const t = await createTestDatabase(dialect);
    try {
      const clock = createManualClock(Date.UTC(2030, 2, 10, 12));
      let api: ProbeOutcome = { ok: true, latencyMs: 5 };
      let fra1Down = 0;
      const canaries: string[] = [];
      const probes: StatusProbes = {
        api: async () => api,
        billing: async () => ({ ok: true, latencyMs: 1 }),
        hosts: async () => [
          ...Array.from({ length: 4 }, (_, i) => ({
            region: 'fra1',
            state: 'active',
            health: i < fra1Down ? 'down' : 'up',
            heartbeatAgeMs: 1000,
          })),
          { region: 'lon1', state: 'active', health: 'up', heartbeatAgeMs: 1000 },
        ],
        canary: async (region) => {
          canaries.push(region);
          return { ok: true, latencyMs: 40 };
        },
      };
      const status = createStatusService({
        db: t.db,
        clock,
        log: silentLogger,
        events: createEventRecorder({ bus: createEventBus(), clock }),
        regions: async () => [
          { code: 'fra1', name: 'Frankfurt', status: 'operational' },
          { code: 'lon1', name: 'London', status: 'maintenance' },
          { code: 'mad1', name: 'Madrid', status: 'planned' },
        ],
        probes,
        promiseSources: {
          slaOverview: async () => {
            throw new Error('billing down');
          },
          backupStats: async () => ({ regions: [], promise: { rpo_s: 21_600, rto_s: 3600 } }),
          placementViolations: async () => 0,
          simulatedFleet: async () => true,
        },
        options: { hysteresisPasses: 2, canaryIntervalMs: 60_000 },
      });
      /**
       * The types recorded so far, once those expected are readable: on PostgreSQL the ordered stream shows
       * an event only when every transaction begun before it ended, anywhere in the cluster (other test
       * files run beside this one). Returns what it read after 15 s regardless (the assertions say what is missing).
       */
      const eventTypes = async (expected: readonly string[] = []) => {
        const deadline = Date.now() + 15_000;
        for (;;) {
          const types = (await listEvents(t.db, { projectId: null, after: 0, limit: 1000 })).events.map(
            (e) => e.type as string,
          );
          if (expected.every((type) => types.includes(type)) || Date.now() > deadline) return types;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      };

      // Components: global + non-planned regions; lon1 (region in maintenance) shows under maintenance.
      let shown = await status.probePass();
      assert.deepEqual(Object.keys(shown).sort(), [
        'fra1.api',
        'fra1.compute',
        'fra1.network',
        'fra1.storage',
        'global.api',
        'global.billing',
        'global.console',
        'lon1.api',
        'lon1.compute',
        'lon1.network',
        'lon1.storage',
      ]);
      assert.equal(shown['fra1.compute'], 'operational');
      assert.equal(shown['lon1.compute'], 'under_maintenance');
      assert.deepEqual(canaries, ['fra1'], 'a canary only where servers can be ordered');

      // One host of four down: partial outage only after two passes in a row.
      fra1Down = 1;
      clock.advanceMs(30_000);
      shown = await status.probePass();
      assert.equal(shown['fra1.compute'], 'operational', 'one pass is not enough');
      clock.advanceMs(30_000);
      shown = await status.probePass();
      assert.equal(shown['fra1.compute'], 'partial_outage');
      assert.equal(shown['fra1.network'], 'partial_outage');
      assert.deepEqual(canaries, ['fra1', 'fra1'], 'the next canary after the interval');
      assert.ok((await eventTypes(['component.status_changed'])).includes('component.status_changed'));
      // The API failing once, then answering: no change (no flapping).
      api = { ok: false, latencyMs: null, error: 'ECONNREFUSED' };
      clock.advanceMs(30_000);
      shown = await status.probePass();
      api = { ok: true, latencyMs: 5 };
      clock.advanceMs(30_000);
      shown = await status.probePass();
      assert.equal(shown['global.api'], 'operational');

      // Incidents: operators only; unknown components and blank text refused with nothing written.
      await rejects(
        status.createIncident(customer, { title: 'x', impact: 'minor', components: ['fra1.api'], body: 'x' }),
        'forbidden',
      );
      await rejects(
        status.createIncident(operator, { title: 'x', impact: 'minor', components: ['zzz1.api'], body: 'x' }),
        'invalid',
        'unknown_component',
      );
      await rejects(
        status.createIncident(operator, { title: 'x', impact: 'minor', components: ['mad1.api'], body: 'x' }),
        'invalid',
        'unknown_component',
      );
      await rejects(
        status.createIncident(operator, { title: '  ', impact: 'minor', components: ['fra1.api'], body: 'x' }),
        'invalid',
        'blank',
      );
      assert.equal((await status.listIncidents({})).incidents.length, 0, 'nothing written');

      const { incident } = await status.createIncident(operator, {
        title: 'Storage latency in FRA1',
        impact: 'critical',
        components: ['fra1.storage', 'global.api'],
        body: 'We are looking into it.',
      });
      assert.equal(incident.status, 'investigating');
      assert.equal(incident.updates.length, 1);
      let components = new Map((await status.listComponents()).components.map((c) => [c.id, c]));
      assert.equal(components.get('fra1.storage')!.status, 'major_outage');
      assert.equal(components.get('fra1.storage')!.measured_status, 'partial_outage');
      assert.equal(components.get('global.api')!.status, 'major_outage');
      assert.match(components.get('global.api')!.reason, /incident: Storage latency/);

      clock.advanceMs(60_000);
      const updated = await status.updateIncident(operator, incident.id, {
        status: 'identified',
        impact: 'minor',
        components: ['fra1.storage'],
        body: 'A failing disk.\nReplacing it.',
      });
      assert.equal(updated.incident.status, 'identified');
      assert.equal(updated.incident.updates.length, 2);
      assert.equal(updated.incident.updates[0].body, 'A failing disk.\nReplacing it.', 'newest first');
      components = new Map((await status.listComponents()).components.map((c) => [c.id, c]));
      assert.equal(components.get('global.api')!.status, 'operational', 'no longer affected');

      clock.advanceMs(9 * 60_000);
      const resolved = await status.resolveIncident(operator, incident.id, {});
      assert.equal(resolved.incident.status, 'resolved');
      assert.ok(resolved.incident.resolved_at);
      await rejects(status.resolveIncident(operator, incident.id, {}), 'conflict', 'incident_resolved');
      await rejects(status.updateIncident(operator, incident.id, { body: 'again' }), 'conflict', 'incident_resolved');
      await rejects(status.getIncident('inc_nope'), 'not_found');
      assert.equal((await status.listIncidents({ state: 'active' })).incidents.length, 0);
      assert.equal((await status.listIncidents({ state: 'resolved' })).incidents.length, 1);
      // A major incident of 10 minutes (the first one ended minor: it does not count as major).
      const outage = await status.createIncident(operator, {
        title: 'Billing unreachable',
        impact: 'major',
        components: ['global.billing'],
        body: 'Invoices cannot be read.',
      });
      clock.advanceMs(10 * 60_000);
      await status.resolveIncident(operator, outage.incident.id, { body: 'Back.' });

      // Maintenances: window checks, derived status, announced by the pass, cancel.
      const now = clock.nowMs();
      const iso = (ms: number) => new Date(ms).toISOString();
      await rejects(
        status.createMaintenance(operator, {
          title: 'kernel',
          components: ['fra1.compute'],
          starts_at: iso(now + 3600_000),
          ends_at: iso(now + 1800_000),
        }),
        'invalid',
        'window_invalid',
      );
      await rejects(
        status.createMaintenance(operator, {
          title: 'kernel',
          components: ['fra1.compute'],
          starts_at: iso(now - 7200_000),
          ends_at: iso(now - 3600_000),
        }),
        'invalid',
        'window_in_past',
      );
      assert.equal((await status.listMaintenances({})).maintenances.length, 0, 'nothing written');
      const { maintenance } = await status.createMaintenance(operator, {
        title: 'Kernel upgrade',
        components: ['fra1.compute'],
        starts_at: iso(now + 60_000),
        ends_at: iso(now + 120_000),
      });
      assert.equal(maintenance.status, 'scheduled');
      const other = await status.createMaintenance(operator, {
        title: 'Switch swap',
        components: ['fra1.network'],
        starts_at: iso(now + 3600_000),
        ends_at: iso(now + 7200_000),
      });
      await status.cancelMaintenance(operator, other.maintenance.id);
      await rejects(status.cancelMaintenance(operator, other.maintenance.id), 'conflict', 'maintenance_ended');
      assert.equal((await status.getMaintenance(other.maintenance.id)).maintenance.status, 'cancelled');

      // For the SLA: a window excuses downtime only when announced ahead (created ≥ notice before its
      // start), on the server's region, not cancelled.
      const longAhead = await status.createMaintenance(operator, {
        title: 'Planned storage upgrade',
        components: ['fra1.storage', 'global.api'],
        starts_at: iso(now + 8 * 86_400_000),
        ends_at: iso(now + 8 * 86_400_000 + 3600_000),
      });
      const windows = (region: string, noticeMs: number) =>
        status.announcedWindows({ region, fromMs: now, toMs: now + 30 * 86_400_000, noticeMs });
      assert.deepEqual(await windows('fra1', 7 * 86_400_000), [
        { startMs: now + 8 * 86_400_000, endMs: now + 8 * 86_400_000 + 3600_000 },
      ]);
      assert.equal((await windows('fra1', 0)).length, 2, 'with no notice, the kernel window counts too');
      assert.deepEqual(await windows('lon1', 0), [], 'another region');
      await status.cancelMaintenance(operator, longAhead.maintenance.id);
      assert.deepEqual(await windows('fra1', 7 * 86_400_000), [], 'cancelled');

      fra1Down = 0;
      clock.advanceMs(90_000);
      shown = await status.probePass();
      assert.equal((await status.getMaintenance(maintenance.id)).maintenance.status, 'in_progress');
      assert.equal(shown['fra1.compute'], 'partial_outage', 'the measured outage still shows (hysteresis)');
      clock.advanceMs(10_000);
      shown = await status.probePass();
      assert.equal(shown['fra1.compute'], 'under_maintenance', 'recovered, and in its window');
      clock.advanceMs(60_000);
      await status.probePass();
      assert.equal((await status.getMaintenance(maintenance.id)).maintenance.status, 'completed');
      assert.deepEqual(
        (await status.listMaintenances({ state: 'upcoming' })).maintenances.map((m) => m.id),
        [],
        'nothing upcoming',
      );

      const expectedTypes = [
        'incident.created',
        'incident.updated',
        'incident.resolved',
        'maintenance.scheduled',
        'maintenance.cancelled',
        'maintenance.started',
        'maintenance.completed',
        'component.status_changed',
      ];
      const types = await eventTypes(expectedTypes);
      for (const type of expectedTypes) assert.ok(types.includes(type), `${type} recorded`);

      // Uptime from the rollups: fra1.compute was partial in 4 of 9 passes (3 after hysteresis + 1 shown).
      components = new Map((await status.listComponents()).components.map((c) => [c.id, c]));
      const fra1 = components.get('fra1.compute')!;
      assert.ok(fra1.uptime_90d_percent !== null && fra1.uptime_90d_percent < 100, String(fra1.uptime_90d_percent));
      assert.equal(components.get('global.billing')!.uptime_90d_percent, 100);

      // The snapshot: groups, the region in maintenance, promises (billing failed: null with a reason).
      const snapshot = await status.snapshot();
      assert.deepEqual(
        snapshot.groups.map((g) => g.id),
        ['global', 'fra1', 'lon1'],
      );
      assert.deepEqual(snapshot.regionsInMaintenance, [{ code: 'lon1', name: 'London' }]);
      assert.equal(snapshot.groups[1].components[0].bars.length, 90);
      const uptime = snapshot.promises.promises.find((p) => p.id === 'uptime.standard')!;
      assert.equal(uptime.measured, null);
      assert.match(uptime.reason!, /could not be computed/);
      const violations = snapshot.promises.promises.find((p) => p.id === 'no_overselling')!;
      assert.deepEqual([violations.measured, violations.holds, violations.simulated], [0, true, true]);
      const major = snapshot.promises.promises.find((p) => p.id === 'incidents.major')!;
      assert.equal(major.measured, 1, 'the major incident counts, not the one downgraded to minor');
      const minutes = snapshot.promises.promises.find((p) => p.id === 'incidents.major_minutes')!;
      assert.equal(minutes.measured, 10);
      assert.equal(snapshot.recentIncidents.length, 2);
    } finally {
      await t.dispose();
    }
  });
}
