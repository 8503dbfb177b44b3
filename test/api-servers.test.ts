import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../src/db/test-helpers.ts';
import { startTestControlPlane, until, type TestControlPlane } from './helpers.ts';

for (const dialect of testDialects()) {
  describe(`servers through the REST API (${dialect})`, () => {
    let t: TestControlPlane;
    before(async () => {
      t = await startTestControlPlane(dialect);
    });
    after(async () => {
      await t?.dispose();
    });

    test('create → running → stop → start → reboot → delete, and the host gets its resources back', async () => {
      const created = await t.call('POST', '/v1/servers', {
        body: { name: 'web-1', product: 'VPS-STARTER', region: 'FRA1', image: 'debian-12', labels: { env: 'prod' } },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      const { server, action } = created.body;
      assert.match(server.id, /^srv_/);
      assert.equal(server.product, 'vps-starter');
      assert.equal(server.region, 'fra1');
      assert.equal(action.command, 'create');
      assert.equal((await t.waitForAction(action.id)).status, 'success');
      const shown = await t.call('GET', `/v1/servers/${server.id}`);
      assert.equal(shown.body.server.status, 'running');
      assert.deepEqual(shown.body.server.placement.numa_nodes.length, 1);
      assert.match(shown.headers.get('etag') ?? '', /^"v\d+"$/);

      const hosts = await t.call('GET', '/v1/hosts?region=fra1', { token: t.secrets.operatorToken });
      const used = hosts.body.hosts.filter((h: { usage: { servers: number } }) => h.usage.servers > 0);
      assert.equal(used.length, 1);
      assert.equal(used[0].usage.vcpus, 2);

      for (const [path, expected] of [
        ['stop', 'stopped'],
        ['start', 'running'],
        ['reboot', 'running'],
      ] as const) {
        const response = await t.call('POST', `/v1/servers/${server.id}/actions/${path}`);
        assert.equal(response.status, 202, JSON.stringify(response.body));
        assert.equal((await t.waitForAction(response.body.action.id)).status, 'success', path);
        assert.equal((await t.call('GET', `/v1/servers/${server.id}`)).body.server.status, expected, path);
      }

      const deleted = await t.call('DELETE', `/v1/servers/${server.id}`);
      assert.equal(deleted.status, 202);
      assert.equal((await t.waitForAction(deleted.body.action.id)).status, 'success');
      assert.equal((await t.call('GET', `/v1/servers/${server.id}`)).status, 404);
      // On PostgreSQL the stream shows a transaction's events once every older transaction has ended: poll.
      const types = await until('the server.deleted event in the stream', async () => {
        const events = await t.call('GET', '/v1/events?limit=1000');
        const mine = events.body.events
          .filter((e: { resource: { id: string } }) => e.resource.id === server.id)
          .map((e: { type: string }) => e.type);
        return mine.includes('server.deleted') ? mine : null;
      });
      assert.deepEqual(types, [
        'server.created',
        'server.started',
        'server.stopping',
        'server.stopped',
        'server.starting',
        'server.started',
        'server.rebooting',
        'server.rebooted',
        'server.deleting',
        'server.deleted',
      ]);
      const after = await t.call('GET', `/v1/hosts/${used[0].id}`, { token: t.secrets.operatorToken });
      assert.deepEqual(after.body.host.usage, { servers: 0, vcpus: 0, memory_mib: 0, disk_gib: 0, gpus: 0 });
    });

    test('list: cursor pagination and label selectors', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await t.call('POST', '/v1/servers', {
          body: {
            name: `page-${i}`,
            product: 'vps-nano',
            region: 'ams1',
            image: 'ubuntu-24.04',
            labels: { tier: i % 2 === 0 ? 'web' : 'db', batch: 'paging' },
          },
        });
        assert.equal(r.status, 202, JSON.stringify(r.body));
        ids.push(r.body.server.id);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { servers: Array<{ id: string }>; next_cursor: string | null } } = await t.call(
          'GET',
          `/v1/servers?limit=2&label_selector=batch%3Dpaging${cursor ? `&cursor=${cursor}` : ''}`,
        );
        assert.ok(page.body.servers.length <= 2);
        seen.push(...page.body.servers.map((s) => s.id));
        cursor = page.body.next_cursor;
      } while (cursor);
      assert.deepEqual(seen, ids);
      const web = await t.call('GET', '/v1/servers?label_selector=tier%3Dweb,batch%3Dpaging');
      assert.equal(web.body.servers.length, 3);
      const notWeb = await t.call('GET', '/v1/servers?label_selector=batch%3Dpaging,tier%20notin%20(web)');
      assert.equal(notWeb.body.servers.length, 2);
      const bad = await t.call('GET', '/v1/servers?label_selector=%3D%3D');
      assert.equal(bad.status, 400);
      assert.equal(bad.body.code, 'invalid');
    });

    test('regions: planned is not orderable, maintenance takes no new servers until an operator reopens it', async () => {
      const planned = await t.call('POST', '/v1/servers', {
        body: { name: 'mad', product: 'vps-nano', region: 'mad1', image: 'debian-12' },
      });
      assert.equal(planned.status, 400);
      assert.equal(planned.body.reason, 'region_not_orderable');
      const maintenance = await t.call('POST', '/v1/servers', {
        body: { name: 'lon', product: 'vps-nano', region: 'lon1', image: 'debian-12' },
      });
      assert.equal(maintenance.status, 409);
      assert.equal(maintenance.body.reason, 'region_in_maintenance');
      const denied = await t.call('PATCH', '/v1/regions/lon1', { body: { status: 'operational' } });
      assert.equal(denied.status, 403);
      const reopened = await t.call('PATCH', '/v1/regions/lon1', {
        token: t.secrets.operatorToken,
        body: { status: 'operational' },
      });
      assert.equal(reopened.status, 200);
      assert.equal(reopened.body.region.orderable, true);
      const ok = await t.call('POST', '/v1/servers', {
        body: { name: 'lon', product: 'vps-nano', region: 'lon1', image: 'debian-12' },
      });
      assert.equal(ok.status, 202, JSON.stringify(ok.body));
      await t.call('PATCH', '/v1/regions/lon1', { token: t.secrets.operatorToken, body: { status: 'maintenance' } });
      assert.equal(
        (await t.waitForAction(ok.body.action.id)).status,
        'success',
        'existing servers keep running in maintenance',
      );
    });

    test('catalog rules: GPU images need GPU products, products are sold where they are sold', async () => {
      const gpuImage = await t.call('POST', '/v1/servers', {
        body: { name: 'cuda', product: 'vps-starter', region: 'fra1', image: 'cuda-12' },
      });
      assert.equal(gpuImage.status, 400);
      assert.equal(gpuImage.body.reason, 'image_needs_gpu');
      const a100 = await t.call('POST', '/v1/servers', {
        body: { name: 'a100', product: 'gpu-a100', region: 'fra1', image: 'pytorch-2' },
      });
      assert.equal(a100.status, 400);
      assert.equal(a100.body.reason, 'product_not_in_region');
      const gpu = await t.call('POST', '/v1/servers', {
        body: { name: 'train-1', product: 'gpu-a100', region: 'par1', image: 'pytorch-2' },
      });
      assert.equal(gpu.status, 202, JSON.stringify(gpu.body));
      assert.equal(gpu.body.server.placement.gpus.length, 1);
    });

    test('roles and tenancy: a viewer cannot mutate; another project sees 404', async () => {
      const viewer = await t.call('POST', '/v1/tokens', {
        body: { name: 'ci-read', role: 'viewer', expires_in_days: 30 },
      });
      assert.equal(viewer.status, 201);
      assert.match(viewer.body.secret, /^vmc_/);
      assert.equal(viewer.body.token.prefix, viewer.body.secret.slice(0, 10));
      const refused = await t.call('POST', '/v1/servers', {
        token: viewer.body.secret,
        body: { name: 'nope', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
      });
      assert.equal(refused.status, 403);
      assert.equal(refused.body.code, 'forbidden');
      assert.equal((await t.call('GET', '/v1/servers', { token: viewer.body.secret })).status, 200);

      const mine = await t.call('POST', '/v1/servers', {
        body: { name: 'private', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
      });
      const other = await t.call('POST', '/v1/projects', {
        token: t.secrets.operatorToken,
        body: { name: 'acme', owner_email: 'ops@acme.example' },
      });
      assert.equal(other.status, 201);
      for (const [method, path] of [
        ['GET', `/v1/servers/${mine.body.server.id}`],
        ['POST', `/v1/servers/${mine.body.server.id}/actions/stop`],
        ['DELETE', `/v1/servers/${mine.body.server.id}`],
        ['GET', `/v1/actions/${mine.body.action.id}`],
      ] as const) {
        const response = await t.call(method, path, { token: other.body.secret });
        assert.equal(response.status, 404, `${method} ${path}`);
      }
      assert.equal(
        (await t.call('GET', '/v1/servers?name=private', { token: other.body.secret })).body.servers.length,
        0,
      );
      assert.equal(
        (await t.call('GET', '/v1/hosts', { token: other.body.secret })).status,
        403,
        'operator routes need an operator token',
      );

      const revoke = await t.call('DELETE', `/v1/tokens/${viewer.body.token.id}`);
      assert.equal(revoke.status, 204);
      assert.equal((await t.call('GET', '/v1/servers', { token: viewer.body.secret })).status, 401);
    });

    test('quotas: a clear error and nothing created', async () => {
      const project = await t.call('POST', '/v1/projects', {
        token: t.secrets.operatorToken,
        body: { name: 'small', owner_email: 'small@example.com', quotas: { servers: 1, vcpus: 4, gpus: 0 } },
      });
      const token = project.body.secret;
      assert.equal(
        (
          await t.call('POST', '/v1/servers', {
            token,
            body: { name: 'one', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
          })
        ).status,
        202,
      );
      const second = await t.call('POST', '/v1/servers', {
        token,
        body: { name: 'two', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
      });
      assert.equal(second.status, 403);
      assert.equal(second.body.reason, 'quota_exceeded');
      assert.match(second.body.detail, /servers 1\/1/);
      const list = await t.call('GET', '/v1/servers', { token });
      assert.equal(list.body.servers.length, 1);
      const me = await t.call('GET', '/v1/project', { token });
      assert.deepEqual(me.body.project.usage, {
        servers: 1,
        vcpus: 1,
        gpus: 0,
        volumes: 0,
        volume_gib: 0,
        custom_images: 0,
      });
    });

    test('Idempotency-Key: a retry returns the first result; another body with the same key is refused', async () => {
      const body = { name: 'idem-1', product: 'vps-nano', region: 'fra1', image: 'debian-12' };
      const first = await t.call('POST', '/v1/servers', { body, headers: { 'idempotency-key': 'create-idem-1' } });
      const retry = await t.call('POST', '/v1/servers', { body, headers: { 'idempotency-key': 'create-idem-1' } });
      assert.equal(first.status, 202);
      assert.equal(retry.status, 202);
      assert.equal(retry.headers.get('idempotent-replayed'), 'true');
      assert.equal(retry.body.server.id, first.body.server.id);
      const other = await t.call('POST', '/v1/servers', {
        body: { ...body, name: 'idem-2' },
        headers: { 'idempotency-key': 'create-idem-1' },
      });
      assert.equal(other.status, 422);
      assert.equal(other.body.reason, 'idempotency_key_reused');
      assert.equal((await t.call('GET', '/v1/servers?name=idem-2')).body.servers.length, 0);
    });

    test('names are unique per project; rename with If-Match', async () => {
      const first = await t.call('POST', '/v1/servers', {
        body: { name: 'dup', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
      });
      assert.equal(first.status, 202);
      const dup = await t.call('POST', '/v1/servers', {
        body: { name: 'dup', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
      });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.reason, 'name_taken');
      const shown = await t.call('GET', `/v1/servers/${first.body.server.id}`);
      const etag = shown.headers.get('etag')!;
      const renamed = await t.call('PATCH', `/v1/servers/${first.body.server.id}`, {
        body: { name: 'dup-renamed', labels: { a: 'b' } },
        headers: { 'if-match': etag },
      });
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
      assert.equal(renamed.body.server.name, 'dup-renamed');
      const stale = await t.call('PATCH', `/v1/servers/${first.body.server.id}`, {
        body: { name: 'dup-again' },
        headers: { 'if-match': etag },
      });
      assert.equal(stale.status, 412);
    });

    test('every mutation is in the audit log with who, what, when and from where', async () => {
      const created = await t.call('POST', '/v1/servers', {
        body: { name: 'audited', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
        headers: { 'user-agent': 'audit-test/1.0' },
      });
      const log = await t.call('GET', '/v1/audit-log?limit=100');
      assert.equal(log.status, 200);
      const entry = log.body.entries.find(
        (e: { resource: { id: string } }) => e.resource.id === created.body.server.id,
      );
      assert.ok(entry, 'audit entry for the create');
      assert.equal(entry.action, 'POST /v1/servers');
      assert.equal(entry.outcome, 'success');
      assert.equal(entry.source_ip, '127.0.0.1');
      assert.equal(entry.user_agent, 'audit-test/1.0');
      assert.match(entry.request_id, /^req_/);
      assert.match(entry.actor.token_id, /^tok_/);
    });

    test('errors are problem+json with a code and a request id; OpenAPI 3.1 and health are served', async () => {
      const unauthenticated = await t.call('GET', '/v1/servers', { token: null });
      assert.equal(unauthenticated.status, 401);
      assert.equal(unauthenticated.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      assert.equal(unauthenticated.body.code, 'unauthenticated');
      assert.equal(unauthenticated.body.request_id, unauthenticated.headers.get('x-request-id'));
      const malformed = await t.call('GET', '/v1/servers', { token: 'vmc_123' });
      assert.equal(malformed.status, 401);
      const invalid = await t.call('POST', '/v1/servers', {
        body: { name: 'x', product: 'vps-nano', region: 'fra1', image: 'debian-12', extra: 1 },
      });
      assert.equal(invalid.status, 400);
      assert.deepEqual(invalid.body.errors, [{ field: 'extra', message: 'is not a known field' }]);
      const openapi = await t.call('GET', '/v1/openapi.json', { token: null });
      assert.equal(openapi.status, 200);
      assert.equal(openapi.body.openapi, '3.1.0');
      assert.ok(openapi.body.paths['/v1/servers'].post);
      assert.equal((await t.call('GET', '/healthz', { token: null })).body.status, 'ok');
      assert.equal((await t.call('GET', '/docs/', { token: null })).status, 200);
    });
  });
}
