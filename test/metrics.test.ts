/**
 * `GET /v1/metrics`: what operators scrape. Failed operations are counted (the trust-boundaries issue's
 * "an event, a metric"), servers by status and hosts by health; only operators read it.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { hostShapes, topologyOfShape } from '../src/inventory/index.ts';
import { startTestControlPlane, testDialects, type TestControlPlane } from './helpers.ts';

/** The value of one sample of the text, or null when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | null {
  const wanted = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${wanted}} `));
  return line ? Number(line.split(' ').at(-1)) : null;
}

for (const dialect of testDialects()) {
  describe(`metrics (${dialect})`, () => {
    let t: TestControlPlane;
    before(async () => {
      t = await startTestControlPlane(dialect, { fleet: 'none' });
      // A host with no agent running: what is placed there never converges.
      const { hostId } = await t.cp.services.inventory.registerHost(
        { kind: 'local' },
        {
          name: 'metrics-silent',
          region: 'fra1',
          driver: 'qemu',
          cpuModel: 'test',
          topology: topologyOfShape(hostShapes['std-7543']),
          agentVersion: 'test',
          address: null,
        },
      );
      await t.cp.services.scheduler.refreshHost(hostId);
    });
    after(() => t?.dispose());

    const scrape = async () => {
      const answer = await fetch(`${t.url}/v1/metrics`, {
        headers: { authorization: `Bearer ${t.secrets.operatorToken}` },
      });
      assert.equal(answer.status, 200);
      assert.match(answer.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      return answer.text();
    };

    test('only operators scrape', async () => {
      assert.equal((await t.call('GET', '/v1/metrics')).status, 403);
      assert.equal((await t.call('GET', '/v1/metrics', { token: null })).status, 401);
    });

    test('a failed action is counted, servers by status and hosts by health are shown', async () => {
      const before = await scrape();
      assert.equal(sample(before, 'vmcloud_hosts', { health: 'up', region: 'fra1' }), 1);
      const failedBefore = sample(before, 'vmcloud_actions_failed_total', { code: 'timeout', command: 'create' }) ?? 0;
      const created = await t.call('POST', '/v1/servers', {
        body: { name: 'never-boots', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      const pending = await scrape();
      assert.equal(sample(pending, 'vmcloud_servers', { region: 'fra1', status: 'pending' }), 1);
      // The host never answers: housekeeping fails the action once it is too old.
      assert.equal(await t.cp.services.hostSync.expireStaleActions(0), 1);
      const after = await scrape();
      assert.equal(
        sample(after, 'vmcloud_actions_failed_total', { code: 'timeout', command: 'create' }),
        failedBefore + 1,
      );
      assert.match(after, /# TYPE vmcloud_actions_failed_total counter/);
    });
  });
}
