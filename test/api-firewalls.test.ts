/**
 * Firewalls through the REST API on a control plane with simulated hosts (whose data plane reports the
 * firewalls it is told, with zero counters), on SQLite and PostgreSQL: create with rules and targets,
 * the refusals with their codes changing nothing, set_rules, apply/remove by server and by label
 * selector (a new server matching a selector has its firewall in its host's desired state), keyset
 * pagination, tenancy (another project's firewall is 404), events, and delete.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { DesiredServerFirewall } from '../src/contract/index.ts';
import { startTestControlPlane, testDialects, until, type TestControlPlane } from './helpers.ts';

for (const dialect of testDialects()) {
  describe(`firewalls through the REST API (${dialect})`, () => {
    let t: TestControlPlane;
    const servers: Record<string, { id: string }> = {};

    const createServer = async (name: string, labels: Record<string, string> = {}) => {
      const created = await t.call('POST', '/v1/servers', {
        body: { name, product: 'vps-nano', region: 'fra1', image: 'debian-12', labels },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      assert.equal((await t.waitForAction(created.body.action.id)).status, 'success');
      servers[name] = { id: created.body.server.id };
      return servers[name];
    };
    const refused = async (
      what: string,
      response: Promise<{ status: number; headers: Headers; body: any }>, // eslint-disable-line @typescript-eslint/no-explicit-any
      status: number,
      code: string,
    ) => {
      const r = await response;
      assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.reason, code, `${what}: ${JSON.stringify(r.body)}`);
      assert.match(r.headers.get('content-type') ?? '', /application\/problem\+json/);
    };
    const firewall = async (ref: string) => (await t.call('GET', `/v1/firewalls/${ref}`)).body.firewall;
    /** A server's firewalls in its host's desired state (every host of FRA1 asked). */
    const desiredOf = async (serverId: string): Promise<DesiredServerFirewall | undefined> => {
      const hosts = (await t.call('GET', '/v1/hosts?region=fra1', { token: t.secrets.operatorToken })).body.hosts;
      for (const host of hosts as Array<{ id: string }>) {
        const found = (await t.cp.services.firewallSync.desiredFor(host.id)).find((s) => s.serverId === serverId);
        if (found) return found;
      }
      return undefined;
    };

    before(async () => {
      t = await startTestControlPlane(dialect);
      await createServer('fw-web', { role: 'web' });
      await createServer('fw-db', { role: 'db' });
    });
    after(async () => {
      await t?.dispose();
    });

    test('create with rules and a server target; bad rules refused with their codes, nothing written', async () => {
      const sshRule = { direction: 'in', protocol: 'tcp', port: '22', source_ips: ['10.0.0.1', '2001:DB8::/32'] };
      const created = await t.call('POST', '/v1/firewalls', {
        body: {
          name: 'fw-1',
          labels: { env: 'test' },
          rules: [sshRule, { direction: 'in', protocol: 'icmp', source_ips: ['0.0.0.0/0'], description: 'ping' }],
          apply_to: [{ type: 'server', server: { id: 'fw-db' } }],
        },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const fw = created.body.firewall;
      assert.match(fw.id, /^fw_/);
      assert.equal(fw.rules_version, 1);
      assert.deepEqual(fw.rules[0], {
        direction: 'in',
        protocol: 'tcp',
        port: '22',
        source_ips: ['10.0.0.1/32', '2001:db8::/32'],
        destination_ips: [],
        description: null,
        counters: { packets: 0, bytes: 0 },
      });
      assert.deepEqual(fw.applied_to, [{ type: 'server', server: { id: servers['fw-db'].id } }]);

      const bad: Array<[string, unknown, number, string]> = [
        [
          'port on icmp',
          { direction: 'in', protocol: 'icmp', port: '1', source_ips: ['0.0.0.0/0'] },
          400,
          'port_not_allowed',
        ],
        ['port 0', { direction: 'in', protocol: 'tcp', port: '0', source_ips: ['0.0.0.0/0'] }, 400, 'port_invalid'],
        [
          'reversed range',
          { direction: 'in', protocol: 'udp', port: '90-80', source_ips: ['0.0.0.0/0'] },
          400,
          'port_invalid',
        ],
        [
          'port 65536',
          { direction: 'in', protocol: 'tcp', port: '65536', source_ips: ['0.0.0.0/0'] },
          400,
          'port_invalid',
        ],
        ['no sources', { direction: 'in', protocol: 'tcp', port: '22' }, 400, 'ips_required'],
        [
          'destination on in',
          { direction: 'in', protocol: 'gre', source_ips: ['0.0.0.0/0'], destination_ips: ['10.0.0.0/8'] },
          400,
          'rule_invalid',
        ],
        ['host bits', { direction: 'out', protocol: 'esp', destination_ips: ['10.0.0.1/8'] }, 400, 'ip_invalid'],
        ['not an address', { direction: 'out', protocol: 'tcp', destination_ips: ['example.com'] }, 400, 'ip_invalid'],
        ['icmp to v6', { direction: 'in', protocol: 'icmp', source_ips: ['::/0'] }, 400, 'rule_invalid'],
        [
          'too many addresses',
          { direction: 'in', protocol: 'tcp', source_ips: Array.from({ length: 101 }, (_, i) => `10.0.${i}.0/24`) },
          400,
          'too_many_ips',
        ],
      ];
      for (const [what, rule, status, code] of bad)
        await refused(
          what,
          t.call('POST', '/v1/firewalls', { body: { name: 'fw-bad', rules: [sshRule, rule] } }),
          status,
          code,
        );
      await refused(
        'too many rules',
        t.call('POST', '/v1/firewalls', { body: { name: 'fw-bad', rules: Array.from({ length: 51 }, () => sshRule) } }),
        400,
        'too_many_rules',
      );
      await refused('name taken', t.call('POST', '/v1/firewalls', { body: { name: 'fw-1' } }), 409, 'name_taken');
      await refused(
        'empty selector',
        t.call('POST', '/v1/firewalls', {
          body: { name: 'fw-bad', apply_to: [{ type: 'label_selector', label_selector: { selector: ' ' } }] },
        }),
        400,
        'target_invalid',
      );
      const unknownServer = await t.call('POST', '/v1/firewalls', {
        body: { name: 'fw-bad', apply_to: [{ type: 'server', server: { id: 'srv_nope' } }] },
      });
      assert.equal(unknownServer.status, 404);
      // The schema's own refusals (an unknown protocol) are problem documents too.
      const schema = await t.call('POST', '/v1/firewalls', {
        body: { name: 'fw-bad', rules: [{ direction: 'in', protocol: 'sctp', source_ips: ['0.0.0.0/0'] }] },
      });
      assert.equal(schema.status, 400);
      assert.equal((await t.call('GET', '/v1/firewalls?name=fw-bad')).body.firewalls.length, 0, 'nothing written');
      await until(
        'firewall.created',
        async () => (await t.call('GET', '/v1/events?type=firewall.created&limit=100')).body.events.length === 1,
      );

      // The db server's host has the firewall in its desired state, compiled.
      const desired = await desiredOf(servers['fw-db'].id);
      assert.deepEqual(desired?.firewalls, [
        {
          id: fw.id,
          version: 1,
          rules: [
            { direction: 'in', protocol: 'tcp', ports: [22, 22], ips: ['10.0.0.1/32', '2001:db8::/32'] },
            { direction: 'in', protocol: 'icmp', ports: null, ips: ['0.0.0.0/0'] },
          ],
        },
      ]);
      assert.equal(await desiredOf(servers['fw-web'].id), undefined, 'the web server has no firewall');
      // The simulated host reports the firewall in place: counters known.
      await until('counters reported', async () => (await firewall(fw.id)).counters_updated_at !== null);
    });

    test('set_rules replaces all rules at once (or none on a bad list) and bumps the version', async () => {
      const before = await firewall('fw-1');
      await refused(
        'one bad rule in the list',
        t.call('POST', `/v1/firewalls/${before.id}/actions/set_rules`, {
          body: {
            rules: [
              { direction: 'in', protocol: 'tcp', port: '443', source_ips: ['0.0.0.0/0'] },
              { direction: 'in', protocol: 'tcp', port: 'http', source_ips: ['0.0.0.0/0'] },
            ],
          },
        }),
        400,
        'port_invalid',
      );
      assert.deepEqual(await firewall('fw-1'), before, 'unchanged');
      const set = await t.call('POST', `/v1/firewalls/${before.id}/actions/set_rules`, {
        body: {
          rules: [
            { direction: 'in', protocol: 'tcp', port: '8000-8100', source_ips: ['0.0.0.0/0', '::/0'] },
            { direction: 'out', protocol: 'udp', port: '53', destination_ips: ['9.9.9.9'] },
          ],
        },
      });
      assert.equal(set.status, 200, JSON.stringify(set.body));
      assert.equal(set.body.firewall.rules_version, 2);
      assert.equal(set.body.firewall.rules.length, 2);
      const desired = await desiredOf(servers['fw-db'].id);
      assert.equal(desired?.firewalls[0].version, 2);
      assert.deepEqual(desired?.firewalls[0].rules[1], {
        direction: 'out',
        protocol: 'udp',
        ports: [53, 53],
        ips: ['9.9.9.9/32'],
      });
      // Events reach the stream in commit order (on PostgreSQL once older transactions are done): poll.
      const events = await until('firewall.rules_set', async () => {
        const found = (await t.call('GET', '/v1/events?type=firewall.rules_set&limit=10')).body.events;
        return found.length > 0 ? found : null;
      });
      assert.deepEqual(events.at(-1).data, { rules: 2, rules_version: 2 });
    });

    test('apply by label selector: matching servers (and later ones) get it; remove; limits', async () => {
      const created = await t.call('POST', '/v1/firewalls', {
        body: { name: 'fw-web', rules: [{ direction: 'in', protocol: 'tcp', port: '443', source_ips: ['0.0.0.0/0'] }] },
      });
      const id = created.body.firewall.id;
      const applied = await t.call('POST', `/v1/firewalls/${id}/actions/apply_to_resources`, {
        body: { apply_to: [{ type: 'label_selector', label_selector: { selector: 'role=web' } }] },
      });
      assert.equal(applied.status, 200, JSON.stringify(applied.body));
      assert.deepEqual(applied.body.firewall.applied_to, [
        {
          type: 'label_selector',
          label_selector: { selector: 'role=web' },
          applied_to_resources: [{ type: 'server', server: { id: servers['fw-web'].id } }],
        },
      ]);
      assert.deepEqual(
        (await desiredOf(servers['fw-web'].id))?.firewalls.map((f) => f.id),
        [id],
      );
      await refused(
        'applied twice',
        t.call('POST', `/v1/firewalls/${id}/actions/apply_to_resources`, {
          body: { apply_to: [{ type: 'label_selector', label_selector: { selector: 'role=web' } }] },
        }),
        409,
        'already_applied',
      );
      // A new server with the label is covered from the start: its host's desired state has the firewall.
      const later = await createServer('fw-web-2', { role: 'web' });
      assert.deepEqual(
        (await desiredOf(later.id))?.firewalls.map((f) => f.id),
        [id],
      );

      // Five firewalls per server: a sixth reaching fw-web is refused, and nothing is applied.
      const extra: string[] = [];
      for (let i = 0; i < 4; i++) {
        const r = await t.call('POST', '/v1/firewalls', {
          body: { name: `fw-extra-${i}`, apply_to: [{ type: 'server', server: { id: servers['fw-web'].id } }] },
        });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        extra.push(r.body.firewall.id);
      }
      await refused(
        'sixth firewall',
        t.call('POST', '/v1/firewalls', {
          body: {
            name: 'fw-extra-5',
            apply_to: [{ type: 'label_selector', label_selector: { selector: 'role in (web,db)' } }],
          },
        }),
        409,
        'too_many_firewalls',
      );
      assert.equal((await t.call('GET', '/v1/firewalls?name=fw-extra-5')).body.firewalls.length, 0);
      assert.equal((await desiredOf(servers['fw-web'].id))?.firewalls.length, 5);

      await refused('delete while applied', t.call('DELETE', `/v1/firewalls/${extra[0]}`), 409, 'firewall_in_use');
      await refused(
        'remove what is not applied',
        t.call('POST', `/v1/firewalls/${extra[0]}/actions/remove_from_resources`, {
          body: { remove_from: [{ type: 'server', server: { id: servers['fw-db'].id } }] },
        }),
        409,
        'not_applied',
      );
      for (const fw of extra) {
        const removed = await t.call('POST', `/v1/firewalls/${fw}/actions/remove_from_resources`, {
          body: { remove_from: [{ type: 'server', server: { id: 'fw-web' } }] },
        });
        assert.equal(removed.status, 200, JSON.stringify(removed.body));
        assert.equal((await t.call('DELETE', `/v1/firewalls/${fw}`)).status, 204);
      }
      const removed = await t.call('POST', `/v1/firewalls/${id}/actions/remove_from_resources`, {
        body: { remove_from: [{ type: 'label_selector', label_selector: { selector: 'role=web' } }] },
      });
      assert.deepEqual(removed.body.firewall.applied_to, []);
      assert.equal(
        await desiredOf(servers['fw-web'].id),
        undefined,
        'default restored: no firewall for the host to apply',
      );
      const eventsOf = (type: string, count: number) =>
        until(`${count} ${type}`, async () => {
          const found = (await t.call('GET', `/v1/events?type=${type}&limit=100`)).body.events;
          return found.length >= count ? found : null;
        });
      const appliedEvents = await eventsOf('firewall.applied', 6);
      assert.ok(
        appliedEvents.some((e: { data: { label_selectors: string[] } }) => e.data.label_selectors.includes('role=web')),
      );
      assert.equal((await eventsOf('firewall.removed', 5)).length, 5);
      assert.equal((await eventsOf('firewall.deleted', 4)).length, 4);
    });

    test('list: keyset pagination, label selector; update; tenancy: another project sees 404', async () => {
      const page1 = await t.call('GET', '/v1/firewalls?limit=1');
      assert.equal(page1.body.firewalls.length, 1);
      assert.ok(page1.body.next_cursor);
      const page2 = await t.call('GET', `/v1/firewalls?limit=1&cursor=${page1.body.next_cursor}`);
      assert.notEqual(page2.body.firewalls[0].id, page1.body.firewalls[0].id);
      assert.equal(page2.body.next_cursor, null);
      assert.deepEqual(
        (await t.call('GET', '/v1/firewalls?label_selector=env%3Dtest')).body.firewalls.map(
          (f: { name: string }) => f.name,
        ),
        ['fw-1'],
      );
      const renamed = await t.call('PATCH', '/v1/firewalls/fw-1', {
        body: { name: 'fw-one', labels: { env: 'prod' } },
      });
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
      assert.equal(renamed.body.firewall.name, 'fw-one');

      const other = await t.call('POST', '/v1/projects', {
        token: t.secrets.operatorToken,
        body: { name: 'fw-tenant-b', owner_email: 'fw-b@example.com' },
      });
      assert.equal(other.status, 201, JSON.stringify(other.body));
      const asB = { token: other.body.secret as string };
      const id = renamed.body.firewall.id;
      assert.equal((await t.call('GET', `/v1/firewalls/${id}`, asB)).status, 404);
      assert.equal((await t.call('PATCH', `/v1/firewalls/${id}`, { ...asB, body: { name: 'x' } })).status, 404);
      assert.equal((await t.call('DELETE', `/v1/firewalls/${id}`, asB)).status, 404);
      assert.equal(
        (await t.call('POST', `/v1/firewalls/${id}/actions/set_rules`, { ...asB, body: { rules: [] } })).status,
        404,
      );
      assert.deepEqual((await t.call('GET', '/v1/firewalls', asB)).body.firewalls, []);
      // B cannot apply its firewall to A's server either.
      const mine = await t.call('POST', '/v1/firewalls', { ...asB, body: { name: 'fw-b' } });
      assert.equal(
        (
          await t.call('POST', `/v1/firewalls/${mine.body.firewall.id}/actions/apply_to_resources`, {
            ...asB,
            body: { apply_to: [{ type: 'server', server: { id: servers['fw-db'].id } }] },
          })
        ).status,
        404,
      );
    });
  });
}
