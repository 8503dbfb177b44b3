/**
 * Observability (docs/observability.md): `GET /metrics` of a serve replica and of an agent pass
 * `promtool check metrics` without a warning; the control plane's carries no server id; the deploy/
 * files pass `promtool check rules` and `check config`, and every dashboard panel and alert names a metric
 * the two endpoints export (collected from live scrapes); `GET /v1/servers/{id}/metrics` answers Hetzner's
 * shape, refuses bad ranges with stable reasons and hides other tenants' servers.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMetricsListener, silentLogger } from '../src/core/index.ts';
import { createSimDriver } from '../src/compute/index.ts';
import { createAgentMetrics } from '../src/metrics/index.ts';
import { startTestControlPlane, type TestControlPlane, runCliAgainst } from './helpers.ts';

const promtool = '/usr/bin/promtool';
const hasPromtool = existsSync(promtool);
const skipPromtool = hasPromtool ? false : 'promtool is not installed (Debian package prometheus)';
const deploy = join(import.meta.dirname, '..', 'deploy');

/** `promtool check metrics` on a scrape: its whole output (empty when there is nothing to say). */
function promtoolCheckMetrics(text: string): { status: number | null; output: string } {
  const run = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}`.trim() };
}

/** The metric names a scrape declares (its `# TYPE` lines) and, for histograms, their series names. */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(match[1]);
    if (match[2] === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(match[1] + suffix);
  }
  return names;
}

/** Metric names an expression uses (`vmcloud_…`, `process_…`, `nodejs_…`, `up`). */
function namesInExpr(expr: string): string[] {
  const withoutStrings = expr.replace(/"[^"]*"/g, '""');
  return [...withoutStrings.matchAll(/\b((?:vmcloud|process|nodejs)_[a-z0-9_]+|up)\b/g)].map((m) => m[1]);
}

describe('observability', () => {
  let t: TestControlPlane;
  let serveScrape = '';
  let agentScrape = '';
  let serverId = '';

  before(async () => {
    t = await startTestControlPlane('sqlite');
    const created = await t.call('POST', '/v1/servers', {
      body: { name: 'observed', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
    });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    serverId = created.body.server.id;
    assert.equal((await t.waitForAction(created.body.action.id)).status, 'success');
    // A placement that fails (every AMS1 host in maintenance) and a 404, so that their series exist.
    for (const host of await t.cp.services.inventory.listHosts({ region: 'ams1' }))
      await t.cp.services.inventory.setHostState(host.id, 'maintenance');
    const refused = await t.call('POST', '/v1/servers', {
      body: { name: 'nowhere', product: 'vps-nano', region: 'ams1', image: 'debian-12' },
    });
    assert.notEqual(refused.status, 202, JSON.stringify(refused.body));
    await t.call('GET', `/v1/servers/${serverId}-nope`);
    const answer = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${t.secrets.operatorToken}` } });
    assert.equal(answer.status, 200);
    assert.match(answer.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    serveScrape = await answer.text();

    // An agent's registry over its metrics listener: the sim driver with one running instance.
    const driver = createSimDriver({ delays: { startMs: 1, stopMs: 1, rebootMs: 1, destroyMs: 1, forcedStopMs: 1 } });
    const metrics = createAgentMetrics({
      driver: () => timed,
      log: silentLogger,
      host: { id: 'host_test', name: 'sim-1', region: 'fra1', driver: 'sim', version: 'test' },
    });
    const timed = metrics.instrument(driver);
    await timed.start(
      {
        serverId: 'srv_agentmetrics01',
        hostname: 'observed',
        vcpus: 2,
        memoryMiB: 2048,
        diskGiB: 20,
        image: 'debian-12',
        threads: [0, 1],
        numaNodes: [0],
        gpus: [],
        vfs: [],
        sshKeys: [],
        userData: null,
        ipv4: null,
      },
      0,
    );
    // The sim boots in the background: running once listed so.
    for (let i = 0; i < 200 && (await timed.list())[0]?.power !== 'running'; i++)
      await new Promise((resolve) => setTimeout(resolve, 5));
    await timed.usage!();
    const listener = await startMetricsListener({
      host: '127.0.0.1',
      port: 0,
      render: metrics.render,
      bearerToken: 'scrape-secret',
      log: silentLogger,
    });
    try {
      assert.equal((await fetch(listener.url)).status, 401);
      assert.equal((await fetch(listener.url.replace('/metrics', '/other'))).status, 404);
      const scraped = await fetch(listener.url, { headers: { authorization: 'Bearer scrape-secret' } });
      assert.equal(scraped.status, 200);
      agentScrape = await scraped.text();
    } finally {
      await listener.close();
      await driver.close();
    }
  });
  after(() => t?.dispose());

  test('only operators scrape the control plane', async () => {
    assert.equal((await t.call('GET', '/metrics')).status, 403);
    assert.equal((await t.call('GET', '/metrics', { token: null })).status, 401);
  });

  test('the control plane exports its families, by route pattern and without server ids', () => {
    for (const name of [
      'vmcloud_http_requests_total',
      'vmcloud_http_request_duration_seconds',
      'vmcloud_placement_decisions_total',
      'vmcloud_placement_failures_total',
      'vmcloud_actions_finished_total',
      'vmcloud_action_duration_seconds',
      'vmcloud_event_consumer_lag_events',
      'vmcloud_db_transaction_duration_seconds',
      'vmcloud_webhook_deliveries',
      'vmcloud_capacity_sellable_servers',
      'vmcloud_region_utilisation_ratio',
      'vmcloud_servers',
      'vmcloud_hosts',
      'vmcloud_actions_failed_total',
    ])
      assert.ok(exportedNames(serveScrape).has(name), `${name} is exported`);
    assert.match(serveScrape, /vmcloud_http_requests_total\{route="\/v1\/servers\/:id",method="GET",status="404"\} 1/);
    assert.match(serveScrape, /vmcloud_placement_decisions_total\{region="fra1",outcome="placed"\} 1/);
    assert.match(serveScrape, /vmcloud_placement_failures_total\{region="ams1",reason="maintenance"\} 1/);
    assert.match(serveScrape, /vmcloud_actions_finished_total\{command="create",outcome="success"\} 1/);
    assert.match(serveScrape, /vmcloud_capacity_sellable_servers\{region="fra1",product="vps-nano"\} \d+/);
    assert.doesNotMatch(serveScrape, /srv_|prj_|act_/, 'no resource id in a label of the control plane');
  });

  test('the agent exports per-server usage, driver timings and its identity', () => {
    assert.match(agentScrape, /vmcloud_server_cpu_seconds_total\{server_id="srv_agentmetrics01"\} [0-9.e-]+/);
    assert.match(agentScrape, /vmcloud_server_memory_bytes\{server_id="srv_agentmetrics01"\} [1-9]/);
    assert.match(agentScrape, /vmcloud_agent_servers\{state="running"\} 1/);
    assert.match(
      agentScrape,
      /vmcloud_agent_driver_operation_duration_seconds_count\{operation="start",outcome="ok"\} 1/,
    );
    assert.match(
      agentScrape,
      /vmcloud_agent_info\{host_id="host_test",host="sim-1",region="fra1",driver="sim",version="test"\} 1/,
    );
  });

  test('promtool check metrics: no warning on either endpoint', { skip: skipPromtool }, () => {
    for (const [name, text] of [
      ['serve', serveScrape],
      ['agent', agentScrape],
    ]) {
      const result = promtoolCheckMetrics(text);
      assert.equal(result.output, '', `promtool on ${name}: ${result.output}`);
      assert.equal(result.status, 0);
    }
  });

  test('promtool check rules and check config on deploy/prometheus', { skip: skipPromtool }, () => {
    const dir = join(deploy, 'prometheus');
    const rules = readdirSync(dir).filter((f) => f.endsWith('.rules.yml'));
    assert.ok(rules.length > 0);
    execFileSync(promtool, ['check', 'rules', ...rules.map((f) => join(dir, f))], { encoding: 'utf8' });
    // The sample names its secrets relative to itself: a copy beside empty stand-ins.
    const scratch = mkdtempSync(join(tmpdir(), 'vmcloud-prometheus-'));
    for (const file of readdirSync(dir)) copyFileSync(join(dir, file), join(scratch, file));
    const config = readFileSync(join(dir, 'prometheus.yml'), 'utf8');
    mkdirSync(join(scratch, 'secrets'));
    for (const match of config.matchAll(/^\s*(?:credentials_file|ca_file): (\S+)$/gm))
      writeFileSync(join(scratch, match[1]), '');
    execFileSync(promtool, ['check', 'config', join(scratch, 'prometheus.yml')], { encoding: 'utf8' });
  });

  test('every dashboard panel and alert names a metric the endpoints export', () => {
    const exported = new Set([...exportedNames(serveScrape), ...exportedNames(agentScrape), 'up']);
    const dashboards = readdirSync(join(deploy, 'grafana')).filter((f) => f.endsWith('.json'));
    assert.deepEqual(dashboards.sort(), [
      'agents.json',
      'api.json',
      'billing.json',
      'fleet-overview.json',
      'region-capacity.json',
    ]);
    let exprs = 0;
    for (const file of dashboards) {
      const dashboard = JSON.parse(readFileSync(join(deploy, 'grafana', file), 'utf8')) as {
        panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
      };
      for (const panel of dashboard.panels) {
        assert.ok(panel.targets && panel.targets.length > 0, `${file}: ${panel.title} has a query`);
        for (const target of panel.targets) {
          const names = namesInExpr(target.expr);
          assert.ok(names.length > 0, `${file}: ${panel.title}: ${target.expr} names a metric`);
          for (const name of names) assert.ok(exported.has(name), `${file}: ${panel.title}: ${name} is not exported`);
          exprs++;
        }
      }
    }
    const rules = readFileSync(join(deploy, 'prometheus', 'vmcloud.rules.yml'), 'utf8');
    for (const match of rules.matchAll(/expr: (\|\n(?:\s{10,}.*\n)+|.*)/g))
      for (const name of namesInExpr(match[1])) assert.ok(exported.has(name), `alert rule: ${name} is not exported`);
    assert.ok(exprs > 40);
  });

  test('a server’s metrics: Hetzner’s shape, simulated CPU and disk, traffic for network', async () => {
    const start = new Date(Date.now() - 30 * 60_000).toISOString();
    const answer = await t.call('GET', `/v1/servers/${serverId}/metrics?type=cpu,disk,network&start=${start}&step=60`);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(answer.body.sources, { cpu: 'simulated', disk: 'simulated', network: 'traffic' });
    assert.equal(answer.body.metrics.step, 60);
    const cpu = answer.body.metrics.time_series.cpu.values as Array<[number, string]>;
    assert.ok(cpu.length >= 1, 'the server ran at least a minute of the window');
    for (const [at, value] of cpu) {
      assert.equal(typeof at, 'number');
      assert.ok(Number(value) >= 0 && Number(value) <= 100, `a vps-nano (1 vCPU) uses at most 100 %: ${value}`);
    }
    for (const name of ['disk.0.iops.read', 'disk.0.bandwidth.write', 'network.0.bandwidth.in', 'network.0.pps.out'])
      assert.ok(Array.isArray(answer.body.metrics.time_series[name].values), name);
  });

  test('bad ranges are refused with stable reasons; another tenant gets 404', async () => {
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const backwards = await t.call(
      'GET',
      `/v1/servers/${serverId}/metrics?type=cpu&start=${iso(now)}&end=${iso(now - 60_000)}`,
    );
    assert.equal(backwards.status, 400);
    assert.equal(backwards.body.code, 'invalid');
    assert.equal(backwards.body.reason, 'invalid_range');
    const tooMany = await t.call(
      'GET',
      `/v1/servers/${serverId}/metrics?type=cpu&start=${iso(now - 2 * 86_400_000)}&step=60`,
    );
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.body.reason, 'too_many_points');
    const badType = await t.call('GET', `/v1/servers/${serverId}/metrics?type=gpu`);
    assert.equal(badType.status, 400);
    const other = await t.cp.services.identity.createProject({ name: 'other', ownerEmail: 'other@example.com' });
    const foreign = await t.call('GET', `/v1/servers/${serverId}/metrics?type=cpu`, { token: other.secret });
    assert.equal(foreign.status, 404);
  });

  test('vmcloud server metrics: a table per series; bad flags exit 2', async () => {
    const cli = (argv: string[]) => runCliAgainst(t, argv, { token: t.secrets.projectToken });
    const table = await cli(['server', 'metrics', 'observed', '--type', 'cpu,disk', '--since', '30m']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^SERIES\s+SOURCE\s+LAST\s+AVERAGE\s+PEAK\s+CHART$/m);
    assert.match(table.stdout, /^cpu\s+simulated\s+[0-9.]+k? %/m);
    assert.match(table.stdout, /^disk\.0\.iops\.write\s+simulated\s/m);
    const json = await cli(['-o', 'json', 'server', 'metrics', 'observed', '--type', 'network']);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(JSON.parse(json.stdout).sources.network, 'traffic');
    assert.equal((await cli(['server', 'metrics', 'observed', '--type', 'gpu'])).code, 2);
    assert.equal((await cli(['server', 'metrics', 'observed', '--since', 'yesterday'])).code, 2);
  });
});
