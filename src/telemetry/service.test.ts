/** The telemetry service on SQLite and PostgreSQL: peers, probe rows per host and hour, usage and its retention. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../core/index.ts';
import { createTestDatabase, testDialects } from '../db/test-helpers.ts';
import { createTelemetryService, type TelemetryHost } from './service.ts';
import { histogramOf } from './stats.ts';

const hosts: TelemetryHost[] = [
  { hostId: 'host_a', region: 'fra1', simulated: false, up: true, apiUrl: 'https://10.0.0.1:8443' },
  { hostId: 'host_b', region: 'fra1', simulated: false, up: true, apiUrl: 'https://10.0.0.2:8443' },
  { hostId: 'host_c', region: 'fra1', simulated: false, up: false, apiUrl: 'https://10.0.0.3:8443' },
  { hostId: 'host_d', region: 'fra1', simulated: true, up: true, apiUrl: null },
  { hostId: 'host_e', region: 'fra1', simulated: false, up: true, apiUrl: null },
  { hostId: 'host_p1', region: 'par1', simulated: false, up: true, apiUrl: 'https://10.1.0.1:8443' },
  { hostId: 'host_p2', region: 'par1', simulated: false, up: true, apiUrl: 'https://10.1.0.2:8443' },
  { hostId: 'host_p3', region: 'par1', simulated: false, up: true, apiUrl: 'https://10.1.0.3:8443' },
  { hostId: 'host_p4', region: 'par1', simulated: true, up: true, apiUrl: null },
  { hostId: 'host_m1', region: 'ams1', simulated: false, up: false, apiUrl: 'https://10.2.0.1:8443' },
];

for (const dialect of testDialects()) {
  test(`telemetry service (${dialect})`, async () => {
    const fleet = new Map<string, typeof hosts>();
    for (const h of [...hosts].sort((a, b) => a.hostId.localeCompare(b.hostId)))
      fleet.set(h.region, [...(fleet.get(h.region) ?? []), h]);
    const t = await createTestDatabase(dialect);
    let now = Date.parse('2025-03-01T12:00:30Z');
    const clock = { nowMs: () => now, nowIso: () => new Date(now).toISOString() };
    try {
      const service = createTelemetryService({
        db: t.db,
        clock,
        log: silentLogger,
        host: async (id) => hosts.find((h) => h.hostId === id) ?? null,
        hostsByRegion: async () => fleet,
        serverIdsOnHost: async (id) => (id === 'host_a' ? ['srv_1'] : []),
      });
      // Peers: the up hosts of its kind with an echo endpoint; never itself. Then two hosts of each other
      // region (of its kind, up), marked with their region.
      const answer = await service.receive('host_a', {});
      assert.equal(answer.region, 'fra1');
      assert.deepEqual(answer.peers[0], { hostId: 'host_b', address: '10.0.0.2', port: 8443 });
      const remote = answer.peers.slice(1);
      assert.equal(remote.length, 2, 'two of par1’s three real hosts; ams1’s only host is down');
      for (const peer of remote) {
        assert.equal(peer.region, 'par1');
        assert.match(peer.hostId, /^host_p[123]$/);
        assert.match(peer.address!, /^10\.1\.0\.[123]$/);
      }
      assert.deepEqual(
        (await service.receive('host_d', {})).peers,
        [{ hostId: 'host_p4', address: null, port: null, region: 'par1' }],
        'a simulated host probes simulated hosts only (none other in its region; one in par1)',
      );

      // Two reports of the same hour add up; another host's row counts in the region.
      const report = (rtts: number[], sent: number) => ({
        periodS: 60,
        sent,
        received: rtts.length,
        p50Ms: null,
        p99Ms: null,
        histogram: histogramOf(rtts),
        peers: [],
        method: 'sockets' as const,
      });
      await service.receive('host_a', { probes: report([0.25, 0.25, 0.25], 4) });
      await service.receive('host_a', { probes: report([0.25], 1) });
      await service.receive('host_b', { probes: report([0.25, 0.25], 2) });
      const [fra1] = await service.regionProbes();
      assert.deepEqual([fra1.region, fra1.sent, fra1.received, fra1.hosts, fra1.simulated], ['fra1', 7, 6, 2, false]);
      assert.equal(fra1.p50Ms, 0.25);
      assert.equal(fra1.lossRatio, 1 / 7);
      assert.deepEqual(await service.regionPairProbes(), [], 'no inter-region probe yet');

      // Inter-region: reported apart per remote region (not in the intra-DC figures), both directions per pair.
      const remoteReport = (region: string, rtts: number[], sent: number) => ({
        region,
        sent,
        received: rtts.length,
        histogram: histogramOf(rtts),
        peers: 2,
      });
      await service.receive('host_a', {
        probes: { ...report([], 0), remote: [remoteReport('par1', [12, 12, 12], 4), remoteReport('fra1', [1], 1)] },
      });
      await service.receive('host_p1', { probes: { ...report([0.2], 1), remote: [remoteReport('fra1', [14], 1)] } });
      const [pair] = await service.regionPairProbes();
      assert.deepEqual(
        [pair.regions, pair.sent, pair.received, pair.hosts, pair.simulated],
        [['fra1', 'par1'], 5, 4, 2, false],
        'its own region as a remote region is ignored',
      );
      assert.ok(pair.p50Ms! > 10 && pair.p50Ms! <= 20, `p50 ${pair.p50Ms}`);
      assert.equal((await service.regionProbes()).find((r) => r.region === 'fra1')!.sent, 7, 'intra-DC unchanged');

      // CPU steal: seconds summed per host and hour; a simulated host's figure is marked.
      await service.receive('host_a', { cpu: { periodS: 60, stealRatio: 0.02, method: 'procfs' } });
      await service.receive('host_a', { cpu: { periodS: 60, stealRatio: 0, method: 'procfs' } });
      await service.receive('host_d', { cpu: { periodS: 60, stealRatio: 0, method: 'model' } });
      assert.deepEqual(await service.hostSteal(), [
        { hostId: 'host_a', region: 'fra1', stealPercent: 1, periodSeconds: 120, simulated: false },
        { hostId: 'host_d', region: 'fra1', stealPercent: 0, periodSeconds: 60, simulated: true },
      ]);

      const families = await service.metricFamilies();
      assert.deepEqual(families.find((f) => f.name === 'vmcloud_region_intra_dc_probes')!.samples, [
        { labels: { region: 'fra1' }, value: 7 },
        { labels: { region: 'par1' }, value: 1 },
      ]);

      // Usage: only for the host's own servers; two reports in one minute add up.
      const usage = (serverId: string, cpuSeconds: number) => ({
        serverId,
        seconds: 20,
        cpuSeconds,
        diskReadBytes: 100,
        diskWriteBytes: 200,
        diskReadOps: 1,
        diskWriteOps: 2,
      });
      await service.receive('host_a', { usage: [usage('srv_1', 10), usage('srv_other', 99)] });
      now += 25_000;
      await service.receive('host_a', { usage: [usage('srv_1', 5)] });
      const rows = await service.serverUsage('srv_1', now - 3_600_000, now);
      assert.deepEqual(
        rows.map((r) => [new Date(r.startMs).toISOString(), r.seconds, r.cpuSeconds, r.diskWriteOps]),
        [['2025-03-01T12:00:00.000Z', 40, 15, 4]],
      );
      assert.deepEqual(await service.serverUsage('srv_other', now - 3_600_000, now), []);

      // Retention: past 7 days the minutes are folded into 5-minute rows (still served), past 35 days gone.
      now += 8 * 86_400_000;
      assert.deepEqual(await service.prune(), { folded: 1, deleted: 0 });
      const folded = await service.serverUsage('srv_1', Date.parse('2025-03-01T11:00:00Z'), now);
      assert.deepEqual(
        folded.map((r) => [new Date(r.startMs).toISOString(), r.seconds, r.cpuSeconds]),
        [['2025-03-01T12:00:00.000Z', 40, 15]],
      );
      now += 30 * 86_400_000;
      assert.deepEqual(await service.prune(), { folded: 0, deleted: 1 });
      now += 60 * 86_400_000;
      assert.deepEqual(
        await service.prune(),
        { folded: 0, deleted: 7 },
        'probe rows past 90 days: 3 intra-DC, 2 inter-region, 2 CPU steal',
      );
      assert.deepEqual(await service.hostSteal(100 * 86_400_000), []);
    } finally {
      await t.dispose();
    }
  });
}
