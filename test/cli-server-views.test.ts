/** `vmcloud server networks|resize-options` and `vmcloud events --resource` against the real control plane. */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, testDialects, until, type TestControlPlane, runCliAgainst } from './helpers.ts';

for (const dialect of testDialects()) {
  describe(`vmcloud server networks, resize-options, events --resource (${dialect})`, () => {
    let t: TestControlPlane;
    const cli = (argv: string[]) => runCliAgainst(t, argv);
    before(async () => {
      t = await startTestControlPlane(dialect);
    });
    after(async () => {
      await t?.dispose();
    });

    test('a server’s networks, its resize options and its events', async () => {
      for (const name of ['cli-a', 'cli-b']) {
        const r = await cli(
          [
            'server',
            'create',
            '--name',
            name,
            '--product',
            'vps-starter',
            '--region',
            'fra1',
            '--image',
            'debian-12',
          ].concat('--wait'),
        );
        assert.equal(r.code, 0, r.stderr);
      }
      let r = await cli(['server', 'networks', 'cli-a']);
      assert.deepEqual([r.code, r.stdout], [0, 'No private networks.\n']);
      r = await cli(['network', 'create', '--name', 'lan', '--region', 'fra1', '--ip-range', '10.60.0.0/24']);
      assert.equal(r.code, 0, r.stderr);
      r = await cli(['server', 'attach-network', 'cli-a', '--network', 'lan', '--ip', '10.60.0.7', '--wait']);
      assert.equal(r.code, 0, r.stderr);
      r = await cli(['server', 'networks', 'cli-a']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^NETWORK +ID +IP +SUBNET +GATEWAY +MAC +STATUS +ATTACHED/);
      assert.match(r.stdout, /\nlan +net_\S+ +10\.60\.0\.7 +10\.60\.0\.0\/24 +10\.60\.0\.1 +\S+ +attached /);
      r = await cli(['-o', 'json', 'server', 'networks', 'cli-a']);
      assert.deepEqual(
        JSON.parse(r.stdout).map((n: { network_name: string; ip: string }) => [n.network_name, n.ip]),
        [['lan', '10.60.0.7']],
      );
      r = await cli(['server', 'networks', 'no-such-server']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /not found/i);

      r = await cli(['server', 'resize-options', 'cli-b']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^server cli-b \(srv_\S+\): vps-starter, disk \d+ GiB — stop it before resizing\n/);
      assert.match(r.stdout, /\nvps-nano +1 +\S+ GiB +\d+ GiB +€\S+ +€\S+ +shrink -€\S+\/mo +fits +available +yes/);
      assert.doesNotMatch(r.stdout, /gpu-/, 'no product of another kind');
      r = await cli(['-o', 'json', 'server', 'resize-options', 'cli-b']);
      const options = JSON.parse(r.stdout);
      assert.equal(options.product, 'vps-starter');
      assert.ok(options.options.some((o: { direction: string }) => o.direction === 'grow'));

      r = await cli(['-o', 'json', 'server', 'show', 'cli-a']);
      const id = JSON.parse(r.stdout).id as string;
      // On PostgreSQL an event is readable once every older transaction of the cluster has ended.
      await until('the server’s events readable', async () =>
        (await t.call('GET', `/v1/events?resource_id=${id}&limit=1000`)).body.events.some(
          (e: { type: string }) => e.type === 'server.started',
        ),
      );
      r = await cli(['-o', 'json', 'events', '--resource', 'cli-a', '--limit', '1000']);
      assert.equal(r.code, 0, r.stderr);
      const events = JSON.parse(r.stdout) as Array<{ type: string; resource: { id: string } }>;
      assert.ok(events.length >= 2);
      assert.ok(
        events.every((e) => e.resource.id === id),
        'only that server’s events',
      );
      assert.equal(events[0].type, 'server.created');
      r = await cli(['-o', 'json', 'events', '--resource', id, '--resource-type', 'network', '--limit', '1000']);
      assert.deepEqual(JSON.parse(r.stdout), []);
    });
  });
}
