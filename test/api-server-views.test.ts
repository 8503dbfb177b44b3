/**
 * What the console's server page reads about one server: its events (`GET /v1/events?resource_id=`), its
 * private networks (`GET /v1/servers/{id}/networks`) and what it can be resized to
 * (`GET /v1/servers/{id}/resize-options`), on a control plane with simulated hosts. Tenancy: another
 * project's server answers 404 (its events: none).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, testDialects, until, type TestControlPlane } from './helpers.ts';

for (const dialect of testDialects()) {
  describe(`a server's events, networks and resize options through the REST API (${dialect})`, () => {
    let t: TestControlPlane;
    let other: string;
    const ids: Record<string, string> = {};

    const act = (id: string, verb: string, body?: unknown) =>
      t.call('POST', `/v1/servers/${id}/actions/${verb}`, body === undefined ? {} : { body });
    const succeed = async (id: string, verb: string, body?: unknown) => {
      const r = await act(id, verb, body);
      assert.equal(r.status, 202, `${verb}: ${JSON.stringify(r.body)}`);
      const action = await t.waitForAction(r.body.action.id);
      assert.equal(action.status, 'success', `${verb}: ${JSON.stringify(action)}`);
      return action;
    };
    const createServer = async (name: string, product = 'vps-nano') => {
      const created = await t.call('POST', '/v1/servers', {
        body: { name, product, region: 'fra1', image: 'debian-12' },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      assert.equal((await t.waitForAction(created.body.action.id)).status, 'success');
      ids[name] = created.body.server.id;
      return created.body.server.id as string;
    };
    const hostOf = async (id: string) => (await t.cp.services.scheduler.placementsOf(t.cp.db, [id])).get(id)!.hostId;
    const maintain = (hostId: string, state: 'maintenance' | 'active') =>
      t.call('PATCH', `/v1/hosts/${hostId}`, { token: t.secrets.operatorToken, body: { state } });

    before(async () => {
      t = await startTestControlPlane(dialect);
      await Promise.all([createServer('view-a'), createServer('view-b', 'vps-starter')]);
      const project = await t.call('POST', '/v1/projects', {
        token: t.secrets.operatorToken,
        body: { name: 'elsewhere', owner_email: 'ops@elsewhere.example' },
      });
      assert.equal(project.status, 201);
      other = project.body.secret;
    });
    after(async () => {
      await t?.dispose();
    });

    test('events of one resource: only its events, in stream order, paged; other projects see none', async () => {
      const a = ids['view-a'];
      await succeed(a, 'stop');
      await succeed(a, 'start');
      // On PostgreSQL an event is readable once every older transaction of the cluster has ended: wait for the last.
      const everything = await until('the server’s events readable', async () => {
        const events = (await t.call('GET', '/v1/events?limit=1000')).body.events as Array<{
          seq: number;
          type: string;
          resource: { type: string; id: string };
        }>;
        return events.filter((e) => e.resource.id === a).at(-1)?.type === 'server.started' && events;
      });
      const expected = everything.filter((e) => e.resource.id === a).map((e) => e.seq);
      assert.ok(expected.length >= 5, `created, stopping, stopped, starting, started: ${expected.length}`);
      assert.ok(
        everything.some((e) => e.resource.id === ids['view-b']),
        'the project has other events too',
      );

      const paged: number[] = [];
      let after = '0';
      for (let page = 0; page < 50; page++) {
        const r = await t.call('GET', `/v1/events?resource_type=server&resource_id=${a}&limit=2&after=${after}`);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        if (r.body.events.length === 0) {
          assert.equal(String(r.body.last), after, 'an empty page keeps the cursor');
          break;
        }
        assert.ok(r.body.events.length <= 2);
        for (const e of r.body.events) assert.deepEqual(e.resource, { type: 'server', id: a });
        paged.push(...r.body.events.map((e: { seq: number }) => e.seq));
        after = String(r.body.last);
      }
      assert.deepEqual(paged, expected, 'the same events, in the same order, as the unfiltered stream');

      const byIdAlone = (await t.call('GET', `/v1/events?resource_id=${a}&limit=1000`)).body.events;
      assert.deepEqual(
        byIdAlone.map((e: { seq: number }) => e.seq),
        expected,
      );
      const typed = (await t.call('GET', `/v1/events?resource_id=${a}&type=server.stopped&limit=1000`)).body.events;
      assert.deepEqual(
        typed.map((e: { type: string }) => e.type),
        ['server.stopped'],
      );
      const wrongType = await t.call('GET', `/v1/events?resource_type=volume&resource_id=${a}`);
      assert.deepEqual(wrongType.body.events, []);

      const foreign = await t.call('GET', `/v1/events?resource_id=${a}&limit=1000`, { token: other });
      assert.equal(foreign.status, 200);
      assert.deepEqual(foreign.body.events, [], 'another project sees none of the server’s events');
      const operator = await t.call('GET', `/v1/events?resource_id=${a}&limit=1000`, {
        token: t.secrets.operatorToken,
      });
      assert.deepEqual(
        operator.body.events.map((e: { seq: number }) => e.seq),
        expected,
        'operators see every project',
      );
      const bad = await t.call('GET', '/v1/events?resource_type=Server%20X');
      assert.equal(bad.status, 400);
      assert.equal(bad.body.code, 'invalid');
    });

    test('networks of a server: its attachments with network, subnet and address; 404 elsewhere', async () => {
      const created = await t.call('POST', '/v1/networks', {
        body: {
          name: 'backend',
          region: 'fra1',
          ip_range: '10.50.0.0/16',
          subnets: [{ ip_range: '10.50.1.0/24' }, { ip_range: '10.50.2.0/24' }],
        },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const network = created.body.network;
      const a = ids['view-a'];
      assert.deepEqual((await t.call('GET', `/v1/servers/${a}/networks`)).body, { networks: [] });
      await succeed(a, 'attach-network', { network: 'backend', ip: '10.50.2.20' });

      const listed = await t.call('GET', `/v1/servers/${a}/networks`);
      assert.equal(listed.status, 200, JSON.stringify(listed.body));
      assert.equal(listed.body.networks.length, 1);
      const [n] = listed.body.networks;
      assert.deepEqual(
        [n.network_id, n.network_name, n.region, n.ip_range, n.subnet, n.ip, n.status, n.mtu],
        [
          network.id,
          'backend',
          'fra1',
          '10.50.0.0/16',
          { ip_range: '10.50.2.0/24', gateway: '10.50.2.1' },
          '10.50.2.20',
          'attached',
          1450,
        ],
      );
      const shown = (await t.call('GET', `/v1/networks/${network.id}`)).body.network;
      assert.equal(n.mac_address, shown.attachments[0].mac_address);
      assert.ok(!Number.isNaN(Date.parse(n.attached_at)));
      assert.deepEqual((await t.call('GET', '/v1/servers/view-a/networks')).body, listed.body, 'by name too');
      assert.deepEqual((await t.call('GET', `/v1/servers/${ids['view-b']}/networks`)).body, { networks: [] });

      const foreign = await t.call('GET', `/v1/servers/${a}/networks`, { token: other });
      assert.equal(foreign.status, 404);
      assert.equal(foreign.body.code, 'not_found');
      assert.match(foreign.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.equal((await t.call('GET', '/v1/servers/srv_00000000000000000000000000/networks')).status, 404);

      await succeed(a, 'detach-network', { network: 'backend' });
      assert.deepEqual((await t.call('GET', `/v1/servers/${a}/networks`)).body, { networks: [] });
    });

    test('resize options: the kind’s products with prices and availability; what they say is what resize does', async () => {
      const b = ids['view-b'];
      const products = (await t.call('GET', '/v1/products')).body.products as Array<{
        code: string;
        family: string;
        regions: string[];
        disk_gib: number;
        price: { hourly_cents: number; monthly_cents: number };
      }>;
      const starter = products.find((p) => p.code === 'vps-starter')!;
      const running = await t.call('GET', `/v1/servers/${b}/resize-options`);
      assert.equal(running.status, 200, JSON.stringify(running.body));
      assert.equal(running.body.must_stop_first, true, 'a running server must be stopped first');
      const codes = running.body.options.map((o: { product: string }) => o.product).sort();
      assert.deepEqual(
        codes,
        products
          .filter((p) => p.family === 'vps' && p.code !== 'vps-starter' && p.regions.includes('fra1'))
          .map((p) => p.code)
          .sort(),
        'every other VPS product sold in FRA1, no GPU product',
      );
      for (const option of running.body.options) {
        const product = products.find((p) => p.code === option.product)!;
        assert.deepEqual(option.price, { ...product.price, currency: 'EUR' });
        assert.equal(option.monthly_difference_cents, product.price.monthly_cents - starter.price.monthly_cents);
        assert.equal(option.direction, product.price.monthly_cents > starter.price.monthly_cents ? 'grow' : 'shrink');
        assert.equal(option.disk_gib_after, Math.max(starter.disk_gib, product.disk_gib));
        assert.deepEqual(
          [option.fits_current_host, option.region_availability, option.possible, option.reason],
          [true, 'available', true, null],
          option.product,
        );
      }
      const nano = running.body.options.find((o: { product: string }) => o.product === 'vps-nano');
      assert.equal(nano.direction, 'shrink');
      assert.equal(nano.disk_gib_after, starter.disk_gib, 'a smaller product keeps the disk');

      await succeed(b, 'stop');
      const host = await hostOf(b);
      assert.equal((await t.call('GET', `/v1/servers/${b}/resize-options`)).body.must_stop_first, false);

      // Its host in maintenance and made to look like a QEMU host: nothing fits there, and a real disk cannot move.
      await t.cp.db.updateTable('hosts').set({ driver: 'qemu' }).where('id', '=', host).execute();
      try {
        assert.equal((await maintain(host, 'maintenance')).status, 200);
        const pinned = (await t.call('GET', `/v1/servers/${b}/resize-options`)).body.options;
        const perf = pinned.find((o: { product: string }) => o.product === 'vps-performance');
        assert.deepEqual([perf.fits_current_host, perf.possible, perf.reason], [false, false, 'migration_unsupported']);
        assert.match(perf.message, /does not fit on the host/);
        const refused = await act(b, 'resize', { product: 'vps-performance' });
        assert.deepEqual([refused.status, refused.body.reason], [409, 'migration_unsupported'], 'the resize agrees');
      } finally {
        await t.cp.db.updateTable('hosts').set({ driver: 'sim' }).where('id', '=', host).execute();
      }
      // A simulated server may move: possible while the region has room, and the resize moves it.
      const movable = (await t.call('GET', `/v1/servers/${b}/resize-options`)).body.options.find(
        (o: { product: string }) => o.product === 'vps-performance',
      );
      assert.deepEqual([movable.fits_current_host, movable.possible, movable.reason], [false, true, null]);
      await succeed(b, 'resize', { product: 'vps-performance' });
      assert.notEqual(await hostOf(b), host, 'moved as the options said it could');
      assert.equal((await maintain(host, 'active')).status, 200);
      assert.equal(
        (await t.call('GET', `/v1/servers/${b}/resize-options`)).body.product,
        'vps-performance',
        'the options now start from the new product',
      );

      // The project's vCPU quota at its usage: every growth is past it, a shrink is not; the resize agrees.
      const project = (await t.call('GET', '/v1/project')).body.project;
      const setVcpus = (vcpus: number) =>
        t.call('PATCH', `/v1/projects/${project.id}/quotas`, { token: t.secrets.operatorToken, body: { vcpus } });
      assert.equal((await setVcpus(project.usage.vcpus)).status, 200);
      try {
        const capped = (await t.call('GET', `/v1/servers/${b}/resize-options`)).body.options as Array<{
          product: string;
          direction: string;
          possible: boolean;
          reason: string | null;
        }>;
        for (const option of capped)
          assert.deepEqual(
            [option.possible, option.reason],
            option.direction === 'grow' ? [false, 'quota_exceeded'] : [true, null],
            option.product,
          );
        const grow = capped.find((o) => o.direction === 'grow')!;
        const refused = await act(b, 'resize', { product: grow.product });
        assert.deepEqual([refused.status, refused.body.reason], [403, 'quota_exceeded'], 'the resize agrees');
      } finally {
        await setVcpus(project.quotas.vcpus);
      }

      const foreign = await t.call('GET', `/v1/servers/${b}/resize-options`, { token: other });
      assert.equal(foreign.status, 404);
      assert.equal(foreign.body.code, 'not_found');
    });
  });
}
