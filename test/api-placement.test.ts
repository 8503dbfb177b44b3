import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../src/db/test-helpers.ts';
import { startTestControlPlane, type TestControlPlane } from './helpers.ts';

for (const dialect of testDialects()) {
  describe(`placement through the API (${dialect})`, () => {
    let t: TestControlPlane;
    let token: string;
    before(async () => {
      t = await startTestControlPlane(dialect);
      const project = await t.call('POST', '/v1/projects', {
        token: t.secrets.operatorToken,
        body: { name: 'big', owner_email: 'big@example.com', quotas: { servers: 10_000, vcpus: 100_000, gpus: 100 } },
      });
      token = project.body.secret;
    });
    after(async () => {
      await t?.dispose();
    });

    test('concurrent creates never oversell: AMS1 fills with VPS-ENTERPRISE+ and the rest are refused with the reason', async () => {
      const before = (await t.call('GET', '/v1/capacity?region=ams1', { token: t.secrets.operatorToken })).body
        .capacity[0];
      const fits = before.products.find((p: { product: string }) => p.product === 'vps-enterprise-plus').servers;
      assert.ok(fits > 0);
      const attempts = fits + 12;
      const results = await Promise.all(
        Array.from({ length: attempts }, (_, i) =>
          t.call('POST', '/v1/servers', {
            token,
            body: { name: `ent-${i}`, product: 'vps-enterprise-plus', region: 'ams1', image: 'debian-12' },
          }),
        ),
      );
      const accepted = results.filter((r) => r.status === 202);
      const refused = results.filter((r) => r.status !== 202);
      assert.equal(accepted.length, fits, 'exactly the capacity the scheduler announced');
      for (const r of refused) {
        assert.equal(r.status, 409, JSON.stringify(r.body));
        assert.equal(r.body.reason, 'no_capacity');
        assert.match(r.body.detail, /AMS1/);
        assert.ok(r.body.placement.rejections.length > 0, 'says which filter rejected how many hosts');
      }
      const audit = await t.call('GET', '/v1/admin/audit-placement', { token: t.secrets.operatorToken });
      assert.deepEqual(audit.body.violations, []);
      const hosts = (await t.call('GET', '/v1/hosts?region=ams1', { token: t.secrets.operatorToken })).body.hosts;
      for (const host of hosts) assert.ok(host.usage.vcpus <= host.capacity.vcpus, `${host.name} over its vCPUs`);
      const customer = await t.call('GET', '/v1/capacity?region=ams1', { token });
      const ent = customer.body.capacity[0].products.find(
        (p: { product: string }) => p.product === 'vps-enterprise-plus',
      );
      assert.deepEqual(ent, { product: 'vps-enterprise-plus', availability: 'none' });
    });

    test('draining a host moves its servers elsewhere through the engine and reports what could not move', async () => {
      const created = [];
      for (let i = 0; i < 4; i++) {
        const r = await t.call('POST', '/v1/servers', {
          token,
          body: { name: `drain-${i}`, product: 'vps-starter', region: 'par1', image: 'debian-12' },
        });
        assert.equal(r.status, 202, JSON.stringify(r.body));
        created.push(r.body);
      }
      for (const c of created) assert.equal((await t.waitForAction(c.action.id, token)).status, 'success');
      const hosts = (await t.call('GET', '/v1/hosts?region=par1', { token: t.secrets.operatorToken })).body.hosts;
      const source = hosts.find(
        (h: { usage: { servers: number }; kind: string }) => h.kind === 'standard' && h.usage.servers > 0,
      );
      const drained = await t.call('PATCH', `/v1/hosts/${source.id}`, {
        token: t.secrets.operatorToken,
        body: { state: 'draining' },
      });
      assert.equal(drained.status, 200, JSON.stringify(drained.body));
      assert.equal(drained.body.drain.moved.length, source.usage.servers);
      assert.deepEqual(drained.body.drain.stuck, []);
      assert.equal(drained.body.host.usage.servers, 0);
      for (const c of created) {
        const deadline = Date.now() + 20_000;
        let server;
        do {
          server = (await t.call('GET', `/v1/servers/${c.server.id}`, { token })).body.server;
          if (server.status === 'running') break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        } while (Date.now() < deadline);
        assert.equal(server.status, 'running');
      }
      const refused = await t.call('POST', '/v1/servers', {
        token,
        body: { name: 'after-drain', product: 'vps-starter', region: 'par1', image: 'debian-12' },
      });
      assert.equal(refused.status, 202);
      const placedHost = (
        await t.call('GET', '/v1/hosts?region=par1', { token: t.secrets.operatorToken })
      ).body.hosts.find((h: { id: string }) => h.id === source.id);
      assert.equal(placedHost.usage.servers, 0, 'a draining host takes no new servers');
      assert.deepEqual(
        (await t.call('GET', '/v1/admin/audit-placement', { token: t.secrets.operatorToken })).body.violations,
        [],
      );
    });
  });
}
