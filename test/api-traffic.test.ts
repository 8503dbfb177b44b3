/**
 * Traffic accounting, flow logs and DDoS protection through the REST API on the simulated fleet: three days
 * of the traffic model for a server (backfilled), its series at 5 minutes and hourly, the month's summary
 * with the 95th percentile before and after the month is closed (and what billing reads), refusals with
 * stable codes; flow logs turned on, collected, queried by server, port and address, paginated and
 * exported; DDoS tiers, custom rules, an attack detected and ended, its incident and events.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../src/db/test-helpers.ts';
import { startTestControlPlane, until, type TestControlPlane } from './helpers.ts';
import { tebibyte } from '../src/traffic/index.ts';

const day = 86_400_000;
const from = Date.UTC(2026, 10, 28);
const monthEnd = Date.UTC(2026, 11, 1);

for (const dialect of testDialects()) {
  describe(`traffic, flow logs and DDoS through the REST API (${dialect})`, () => {
    let t: TestControlPlane;
    let serverId: string;
    let serverIp: string;
    before(async () => {
      t = await startTestControlPlane(dialect, { trafficLoopIntervalMs: 3_600_000 });
      const created = await t.call('POST', '/v1/servers', {
        body: { name: 'web-1', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      assert.equal((await t.waitForAction(created.body.action.id)).status, 'success');
      serverId = created.body.server.id;
      serverIp = created.body.server.ipv4;
    });
    after(async () => {
      await t?.dispose();
    });

    type Listed = Array<{ data: Record<string, unknown>; resource: { id: string } }>;
    const listEvents = async (type: string) =>
      (await t.call('GET', `/v1/events?type=${type}&limit=1000`)).body.events as Listed;
    /**
     * The events of a type once at least one is readable: on PostgreSQL the ordered stream shows an event
     * only when every transaction begun before it ended, anywhere in the cluster (docs/api.md).
     */
    const events = async (type: string) =>
      until(`a ${type} event readable`, async () => {
        const listed = await listEvents(type);
        return listed.length > 0 ? listed : undefined;
      });

    test('series, summary with the 95th percentile, month close, what billing reads, refusals', async () => {
      await t.cp.services.trafficCollector.backfill(from, monthEnd);

      const fine = await t.call(
        'GET',
        `/v1/servers/${serverId}/traffic?from=2026-11-30T00:00:00Z&to=2026-11-30T01:00:00Z&step=5m`,
      );
      assert.equal(fine.status, 200, JSON.stringify(fine.body));
      assert.equal(fine.body.points.length, 12);
      const hourly = await t.call(
        'GET',
        `/v1/servers/${serverId}/traffic?from=2026-11-28T00:00:00Z&to=2026-12-01T00:00:00Z&step=1h`,
      );
      assert.equal(hourly.body.points.length, 72);
      const hour = hourly.body.points.find((p: { at: string }) => p.at === '2026-11-30T00:00:00.000Z');
      const sum = (key: string) => fine.body.points.reduce((a: number, p: Record<string, number>) => a + p[key], 0);
      assert.equal(hour.tx_bytes, sum('tx_bytes'), 'the hourly rollup is the sum of its 5-minute samples');
      assert.equal(hour.rx_unmetered_bytes, sum('rx_unmetered_bytes'));
      const daily = await t.call(
        'GET',
        `/v1/servers/${serverId}/traffic?from=2026-11-28T00:00:00Z&to=2026-12-01T00:00:00Z&step=1d`,
      );
      assert.equal(daily.body.points.length, 3);
      assert.equal(daily.body.totals.tx_bytes, hourly.body.totals.tx_bytes, 'days and hours add up to the same total');

      const open = await t.call('GET', '/v1/traffic/summary?month=2026-11');
      assert.equal(open.status, 200, JSON.stringify(open.body));
      assert.equal(open.body.closed, false);
      const mine = open.body.servers.find((s: { server_id: string }) => s.server_id === serverId);
      assert.ok(mine.billable_bytes > 0 && mine.unmetered_bytes > 0);
      assert.equal(mine.billable_bytes, hourly.body.totals.billable_bytes);
      assert.equal(mine.p95_mbps, Math.max(mine.p95_in_mbps, mine.p95_out_mbps));
      assert.ok(mine.p95_out_mbps > 0, 'three days of samples (864 slots) are more than the 432 dropped');
      // vps-nano includes its TiB prorated to the 3 days of 30 the server existed in November.
      const product = (await t.call('GET', '/v1/products')).body.products.find(
        (p: { code: string }) => p.code === 'vps-nano',
      );
      assert.equal(mine.included_bytes, Math.floor((product.traffic_tib * tebibyte * 3) / 30));
      assert.equal(open.body.project.p95_mbps, mine.p95_mbps, 'one server: the project’s p95 is the server’s');

      // The worker's pass after the month: November is closed with the same figures, and billing reads them.
      const pass = await t.cp.services.traffic.rollupOnce(monthEnd + 2 * 3_600_000);
      assert.equal(pass.closedMonths, 1);
      const closed = await t.call('GET', '/v1/traffic/summary?month=2026-11');
      assert.equal(closed.body.closed, true);
      const again = closed.body.servers.find((s: { server_id: string }) => s.server_id === serverId);
      for (const key of ['billable_bytes', 'included_bytes', 'rx_bytes', 'tx_bytes', 'unmetered_bytes'])
        assert.equal(again[key], mine[key], key);
      assert.ok(Math.abs(again.p95_mbps - mine.p95_mbps) < 0.01);
      const usage = await t.cp.services.traffic.monthlyTrafficUsage(t.secrets.projectId, '2026-11');
      assert.equal(usage.closed, true);
      assert.equal(usage.servers[0].billableBytes, mine.billable_bytes);
      assert.equal((await events('traffic.month_closed')).length, 1);
      assert.equal((await t.cp.services.traffic.rollupOnce(monthEnd + 3 * 3_600_000)).closedMonths, 0, 'once');

      // Refusals: stable codes.
      for (const [path, status] of [
        ['/v1/traffic/summary?month=2026-13', 400],
        [`/v1/servers/${serverId}/traffic?from=2026-10-01T00:00:00Z&to=2026-12-01T00:00:00Z&step=5m`, 400],
        [`/v1/servers/${serverId}/traffic?from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z`, 400],
        ['/v1/servers/srv_nope/traffic', 404],
      ] as const) {
        const answer = await t.call('GET', path);
        assert.equal(answer.status, status, `${path}: ${JSON.stringify(answer.body)}`);
      }
      const b = await t.call('POST', '/v1/projects', {
        token: t.secrets.operatorToken,
        body: { name: 'tenant-b', owner_email: 'b@example.com' },
      });
      assert.equal((await t.call('GET', `/v1/servers/${serverId}/traffic`, { token: b.body.secret })).status, 404);
      const bSummary = await t.call('GET', '/v1/traffic/summary?month=2026-11', { token: b.body.secret });
      assert.deepEqual(bSummary.body.servers, []);
    });

    test('flow logs: settings, collection, query by server, port and address, pages, exports', async () => {
      const viewer = (await t.call('POST', '/v1/tokens', { body: { name: 'viewer', role: 'viewer' } })).body.secret;
      const refused = await t.call('PUT', '/v1/flow-logs/settings', { token: viewer, body: { enabled: true } });
      assert.equal(refused.status, 403);
      const tooLong = await t.call('PUT', '/v1/flow-logs/settings', { body: { enabled: true, retention_days: 90 } });
      assert.equal(tooLong.status, 400);
      const set = await t.call('PUT', '/v1/flow-logs/settings', { body: { enabled: true, servers: ['web-1'] } });
      assert.equal(set.status, 200, JSON.stringify(set.body));
      assert.deepEqual(set.body.settings.servers, [serverId]);
      assert.equal(set.body.settings.retention_days, 30);
      assert.equal((await events('flow_logs.settings_changed')).length, 1);

      const now = Date.now();
      const collected = await t.cp.services.trafficCollector.collectOnce(now);
      assert.equal(collected.slots, 1);
      const window = `from=${new Date(now - 900_000).toISOString()}&to=${new Date(now + 60_000).toISOString()}`;
      const all = await t.call('GET', `/v1/flow-logs?server=${serverId}&${window}`);
      assert.equal(all.status, 200, JSON.stringify(all.body));
      assert.equal(all.body.flows.length, 6);
      for (const f of all.body.flows) assert.ok(f.src_addr === serverIp || f.dst_addr === serverIp, JSON.stringify(f));
      const starts = all.body.flows.map((f: { start: string }) => f.start);
      assert.deepEqual(starts, [...starts].sort());

      const port = all.body.flows[0].dst_port;
      const byPort = await t.call('GET', `/v1/flow-logs?server=web-1&port=${port}&${window}`);
      assert.ok(byPort.body.flows.length >= 1);
      for (const f of byPort.body.flows) assert.ok(f.src_port === port || f.dst_port === port);
      const peer = all.body.flows[0].src_addr === serverIp ? all.body.flows[0].dst_addr : all.body.flows[0].src_addr;
      const byAddr = await t.call('GET', `/v1/flow-logs?addr=${peer}&${window}`);
      assert.ok(byAddr.body.flows.length >= 1);

      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { flows: Array<{ start: string; src_port: number }>; next_cursor: string | null } } =
          await t.call('GET', `/v1/flow-logs?server=${serverId}&${window}&limit=4${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...page.body.flows.map((f) => `${f.start}/${f.src_port}`));
        cursor = page.body.next_cursor;
      } while (cursor);
      assert.equal(seen.length, 6);
      assert.equal(new Set(seen).size, 6);

      const jsonl = await fetch(`${t.url}/v1/flow-logs/export?format=jsonl&server=${serverId}&${window}`, {
        headers: { authorization: `Bearer ${t.secrets.projectToken}` },
      });
      assert.match(jsonl.headers.get('content-type') ?? '', /ndjson/);
      const lines = (await jsonl.text()).trim().split('\n');
      assert.deepEqual(JSON.parse(lines[0]), all.body.flows[0]);
      const csv = await fetch(`${t.url}/v1/flow-logs/export?format=csv&server=${serverId}&${window}`, {
        headers: { authorization: `Bearer ${t.secrets.projectToken}` },
      });
      const rows = (await csv.text()).trim().split('\n');
      assert.match(rows[0], /^flowStartMilliseconds,/);
      assert.equal(rows.length, 7);

      for (const bad of ['port=70000', 'from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z', 'cursor=bm9wZQ'])
        assert.equal((await t.call('GET', `/v1/flow-logs?server=${serverId}&${bad}`)).status, 400, bad);
      assert.equal((await t.call('GET', '/v1/flow-logs?server=srv_nope')).status, 404);
      // Retention: a day older than 30 days is dropped whole, with its event.
      const purged = await t.cp.services.flowLogs.purge(now + 31 * day + day);
      assert.ok(purged.droppedDays.length >= 1);
      assert.equal((await t.call('GET', `/v1/flow-logs?server=${serverId}&${window}`)).body.flows.length, 0);
      // An operator's event (no project): read from the stream's table.
      const purgeEvents = await t.cp.db
        .selectFrom('events')
        .select('type')
        .where('type', '=', 'flow_logs.day_purged')
        .execute();
      assert.equal(purgeEvents.length, purged.droppedDays.length);
    });

    test('DDoS: tiers, custom rules, an attack detected and ended with its incident and events', async () => {
      const shown = await t.call('GET', '/v1/ddos');
      assert.equal(shown.body.ddos.tier, 'standard');
      assert.equal(shown.body.ddos.policy.scrubbing_capacity_gbps, 100);
      const rule = { action: 'deny', protocol: 'udp', port: 27015 };
      const needsTier = await t.call('PUT', '/v1/ddos/rules', { body: { rules: [rule] } });
      assert.equal(needsTier.status, 409);
      assert.equal(
        needsTier.body.reason ?? needsTier.body.code,
        needsTier.body.reason ? 'ddos_tier_required' : 'conflict',
      );
      const member = (await t.call('POST', '/v1/tokens', { body: { name: 'member', role: 'member' } })).body.secret;
      assert.equal((await t.call('PUT', '/v1/ddos/tier', { token: member, body: { tier: 'business' } })).status, 403);
      const upgraded = await t.call('PUT', '/v1/ddos/tier', { body: { tier: 'business' } });
      assert.equal(upgraded.status, 200, JSON.stringify(upgraded.body));
      assert.equal(await t.cp.services.ddos.ddosTierOf(t.secrets.projectId), 'business');
      assert.deepEqual(
        (await events('ddos.tier_changed')).map((e) => e.data),
        [{ from: 'standard', to: 'business' }],
      );
      assert.equal(
        (await t.call('PUT', '/v1/ddos/rules', { body: { rules: [{ action: 'deny', port: 80 }] } })).status,
        400,
      );
      const withRules = await t.call('PUT', '/v1/ddos/rules', { body: { rules: [rule] } });
      assert.equal(withRules.status, 200);
      assert.equal(
        (
          await t.call('PUT', '/v1/ddos/thresholds', {
            body: { thresholds: [{ address: serverIp, min_pps: 500, min_bps: 1_000_000 }] },
          })
        ).status,
        409,
        'thresholds are enterprise',
      );
      const downgrade = await t.call('PUT', '/v1/ddos/tier', { body: { tier: 'standard' } });
      assert.equal(downgrade.status, 409);
      assert.equal(await t.cp.services.ddos.ddosTierOf(t.secrets.projectId), 'business', 'no change');

      // The fast path: 12 calm seconds learn the baseline, then a flood, then quiet past the tier's 15 minutes.
      const observe = (atMs: number, pps: number) =>
        t.cp.services.ddos.observe({
          address: serverIp,
          projectId: t.secrets.projectId,
          serverId,
          detectedBy: 'fast_path',
          observation: { atMs, pps, bps: pps * 8 * 500, udpPps: pps * 0.99 },
        });
      const start = Date.now();
      for (let i = 0; i < 12; i++) assert.equal(await observe(start + i * 1000, 200), 'calm');
      assert.equal(await observe(start + 12_000, 150_000), 'started');
      assert.equal(await observe(start + 13_000, 250_000), 'continues');
      const active = await t.call('GET', '/v1/ddos/attacks?status=active');
      assert.equal(active.body.attacks.length, 1);
      const attack = active.body.attacks[0];
      assert.equal(attack.vector, 'udp_flood');
      assert.equal(attack.peak_pps, 250_000);
      assert.ok(attack.actions.some((a: string) => a.includes('compiled')));
      const live = await t.call('GET', '/v1/ddos/live', { token: t.secrets.operatorToken });
      assert.equal(live.body.attacks[0].id, attack.id);
      assert.equal((await t.call('GET', '/v1/ddos/live')).status, 403);
      assert.equal(await observe(start + 14_000 + 14 * 60_000, 200), 'continues', 'not yet quiet for 15 minutes');
      assert.equal(await observe(start + 13_000 + 15 * 60_000, 200), 'ended');
      const ended = await t.call('GET', `/v1/ddos/attacks/${attack.id}`);
      assert.equal(ended.body.attack.status, 'ended');
      assert.ok(ended.body.attack.ended_at);
      const started = await until('the attack events', async () => {
        const list = await events('ddos.attack_started');
        return list.length === 1 ? list : undefined;
      });
      assert.equal(started[0].resource.id, attack.id);
      const endedEvents = await events('ddos.attack_ended');
      assert.equal(endedEvents[0].data.peak_pps, 250_000);
      assert.equal(endedEvents[0].data.duration_s, 15 * 60 + 1);
      const b = await t.call('POST', '/v1/projects', {
        token: t.secrets.operatorToken,
        body: { name: 'tenant-c', owner_email: 'c@example.com' },
      });
      assert.equal((await t.call('GET', `/v1/ddos/attacks/${attack.id}`, { token: b.body.secret })).status, 404);
    });
  });
}
