/** `vmcloud server traffic`, `traffic summary`, `flow-logs`, `ddos` against the real control plane (SQLite). */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sparkline } from '../src/cli/commands/traffic.ts';
import { startTestControlPlane, type TestControlPlane, runCliAgainst } from './helpers.ts';

test('sparkline: one column per value up to the width, scaled to the maximum', () => {
  assert.equal(sparkline([0, 1, 2, 3, 4, 5, 6, 7]), '▁▂▃▄▅▆▇█');
  assert.equal(sparkline([0, 0]), '▁▁');
  assert.equal(
    sparkline(
      Array.from({ length: 120 }, (_, i) => i),
      60,
    ).length,
    60,
  );
  assert.equal(sparkline([]), '');
});

describe('vmcloud traffic commands (sqlite)', () => {
  let t: TestControlPlane;
  const cli = (argv: string[]) => runCliAgainst(t, argv, { token: t.secrets.projectToken });
  before(async () => {
    t = await startTestControlPlane('sqlite', { trafficLoopIntervalMs: 3_600_000 });
  });
  after(async () => {
    await t?.dispose();
  });

  test('a server’s chart, the month’s summary, flow logs on, the DDoS tier and attacks', async () => {
    let r = await cli([
      'server',
      'create',
      '--name',
      'web-1',
      '--product',
      'vps-nano',
      '--region',
      'fra1',
      '--image',
      'debian-12',
      '--wait',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const now = Date.now();
    await t.cp.services.trafficCollector.backfill(now - 86_400_000, now);
    r = await cli(['server', 'traffic', 'web-1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Billable/);
    assert.match(r.stdout, /^out [▁▂▃▄▅▆▇█]{60} max [\d.]+ Mbit\/s$/m);
    r = await cli(['server', 'traffic', 'web-1', '--since', 'x']);
    assert.equal(r.code, 2);
    r = await cli(['traffic', 'summary']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /95th percentile/);
    assert.match(r.stdout, /web-1/);
    r = await cli(['traffic', 'summary', '--month', '2026-13']);
    assert.notEqual(r.code, 0);
    r = await cli(['flow-logs', 'enable', '--server', 'web-1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /enabled: true/);
    r = await cli(['flow-logs', 'list', '--server', 'web-1']);
    assert.equal(r.code, 0, r.stderr);
    r = await cli(['ddos', 'tier', 'set', 'business']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /business \(500 Gbps/);
    r = await cli(['ddos', 'tier']);
    assert.match(r.stdout, /tier: business/);
    r = await cli(['ddos', 'tier', 'set', 'gold']);
    assert.equal(r.code, 2);
    r = await cli(['ddos', 'attacks']);
    assert.equal(r.code, 0, r.stderr);
  });
});
