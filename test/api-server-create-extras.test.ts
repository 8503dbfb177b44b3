/**
 * A server created with `networks` and `firewalls` (ids or names), on SQLite and PostgreSQL: the create
 * attaches it to the network (the attachment becomes `attached`) and applies the firewall to it in the
 * same transaction (the host's desired state has the firewall); an unknown name (400, the field named),
 * a network of another region (409 `region_mismatch`) are refused before anything is written.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, testDialects, until, type TestControlPlane } from './helpers.ts';

for (const dialect of testDialects()) {
  describe(`create a server with networks and firewalls (${dialect})`, () => {
    let t: TestControlPlane;
    let networkId = '';
    let firewallId = '';

    const serverCount = async () => (await t.call('GET', '/v1/servers?limit=100')).body.servers.length as number;
    const create = (name: string, extra: Record<string, unknown>) =>
      t.call('POST', '/v1/servers', {
        body: { name, product: 'vps-nano', region: 'fra1', image: 'debian-12', ...extra },
      });

    before(async () => {
      t = await startTestControlPlane(dialect);
      const net = await t.call('POST', '/v1/networks', {
        body: { name: 'backend', region: 'fra1', ip_range: '10.50.0.0/16' },
      });
      assert.equal(net.status, 201, JSON.stringify(net.body));
      networkId = net.body.network.id;
      const par = await t.call('POST', '/v1/networks', {
        body: { name: 'backend-par', region: 'par1', ip_range: '10.51.0.0/16' },
      });
      assert.equal(par.status, 201, JSON.stringify(par.body));
      const fw = await t.call('POST', '/v1/firewalls', {
        body: {
          name: 'web-fw',
          rules: [{ direction: 'in', protocol: 'tcp', port: '22', source_ips: ['0.0.0.0/0'] }],
        },
      });
      assert.equal(fw.status, 201, JSON.stringify(fw.body));
      firewallId = fw.body.firewall.id;
    });
    after(async () => {
      await t?.dispose();
    });

    test('created with a network and a firewall by name: attached, behind the firewall', async () => {
      const created = await create('web-x', { networks: ['backend'], firewalls: ['web-fw'] });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      const serverId = created.body.server.id;
      assert.equal((await t.waitForAction(created.body.action.id)).status, 'success');

      const firewall = (await t.call('GET', `/v1/firewalls/${firewallId}`)).body.firewall;
      assert.deepEqual(firewall.applied_to, [{ type: 'server', server: { id: serverId } }]);

      const attached = await until('the attachment is attached', async () => {
        const list = (await t.call('GET', `/v1/servers/${serverId}/networks`)).body.networks;
        return list.length === 1 && list[0].status === 'attached' ? list : null;
      });
      assert.equal(attached[0].network_id, networkId);
      assert.equal(attached[0].network_name, 'backend');
      assert.match(attached[0].ip, /^10\.50\./);

      // Both by id, and the events tell the apply and the attach.
      const byId = await create('web-y', { networks: [networkId], firewalls: [firewallId] });
      assert.equal(byId.status, 202, JSON.stringify(byId.body));
      const events = (await t.call('GET', '/v1/events?type=firewall.applied&limit=10')).body.events;
      assert.ok(
        events.some((e: { data: { server_ids: string[] } }) => e.data.server_ids.includes(byId.body.server.id)),
        JSON.stringify(events),
      );
    });

    test('unknown names and a network of another region are refused; nothing is created', async () => {
      const before = await serverCount();
      const cases: Array<[string, Record<string, unknown>, number, string, string | null]> = [
        ['unknown network', { networks: ['backend', 'nope'] }, 400, 'unknown_network', 'networks[1]'],
        ['unknown firewall', { firewalls: ['nope'] }, 400, 'unknown_firewall', 'firewalls[0]'],
        ['another region', { networks: ['backend-par'] }, 409, 'region_mismatch', 'networks[0]'],
        ['twice', { firewalls: ['web-fw', firewallId] }, 400, 'duplicate_firewall', 'firewalls[1]'],
      ];
      for (const [what, extra, status, reason, field] of cases) {
        const r = await create('refused-1', extra);
        assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.reason, reason, `${what}: ${JSON.stringify(r.body)}`);
        if (field)
          assert.ok(
            (r.body.errors ?? []).some((f: { field: string }) => f.field === field),
            `${what}: ${JSON.stringify(r.body)}`,
          );
      }
      assert.equal(await serverCount(), before, 'no server was created');
      const firewall = (await t.call('GET', `/v1/firewalls/${firewallId}`)).body.firewall;
      assert.equal(firewall.applied_to.length, 2, 'only web-x and web-y');
      const net = (await t.call('GET', `/v1/networks/${networkId}`)).body.network;
      assert.equal(net.attachments.length, 2, JSON.stringify(net.attachments));
    });
  });
}
