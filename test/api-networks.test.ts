/**
 * Private networks, floating IPs and primary IPs through the REST API on a control plane with simulated
 * hosts (whose data plane acknowledges what it is told): the state machines, the refusals (with their
 * codes, changing nothing), IPAM under concurrent requests, and servers' lifecycle (IPv6 /64 on create,
 * addresses released or kept on delete).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { DesiredHostNetwork } from '../src/contract/index.ts';
import { startTestControlPlane, testDialects, until, type TestControlPlane } from './helpers.ts';

for (const dialect of testDialects()) {
  describe(`networks and addresses through the REST API (${dialect})`, () => {
    let t: TestControlPlane;
    const servers: Record<string, string> = {};

    const createServer = async (name: string, region = 'fra1') => {
      const created = await t.call('POST', '/v1/servers', {
        body: { name, product: 'vps-nano', region, image: 'debian-12' },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      assert.equal((await t.waitForAction(created.body.action.id)).status, 'success');
      servers[name] = created.body.server.id;
      return created.body.server.id as string;
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
    const eventsOf = async (type: string) =>
      (await t.call('GET', `/v1/events?type=${type}&limit=1000`)).body.events as Array<{
        resource: { id: string };
        data: Record<string, unknown>;
      }>;
    /** The network desired state of every host of a region. */
    const desiredOfRegion = async (region: string) => {
      const hosts = (await t.call('GET', `/v1/hosts?region=${region}`, { token: t.secrets.operatorToken })).body.hosts;
      return Promise.all(hosts.map((h: { id: string }) => t.cp.services.hostNetworkSync.desiredFor(h.id))) as Promise<
        DesiredHostNetwork[]
      >;
    };
    const network = async (ref: string) => (await t.call('GET', `/v1/networks/${ref}`)).body.network;

    before(async () => {
      t = await startTestControlPlane(dialect);
      await Promise.all([createServer('net-a'), createServer('net-b'), createServer('net-par', 'par1')]);
    });
    after(async () => {
      await t?.dispose();
    });

    test('create a network; bad ranges, subnets and routes are refused with their codes and change nothing', async () => {
      const created = await t.call('POST', '/v1/networks', {
        body: {
          name: 'net-1',
          region: 'FRA1',
          ip_range: '10.30.0.0/16',
          subnets: [{ ip_range: '10.30.1.0/24' }, { ip_range: '10.30.2.0/24' }],
          routes: [{ destination: '10.100.0.0/16', gateway: '10.30.1.254' }],
          labels: { env: 'test' },
        },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const net = created.body.network;
      assert.match(net.id, /^net_/);
      assert.equal(net.region, 'fra1');
      assert.equal(net.mtu, 1450);
      assert.deepEqual(net.subnets, [
        { ip_range: '10.30.1.0/24', gateway: '10.30.1.1' },
        { ip_range: '10.30.2.0/24', gateway: '10.30.2.1' },
      ]);
      assert.deepEqual(net.routes, [{ destination: '10.100.0.0/16', gateway: '10.30.1.254' }]);

      const before = (await t.call('GET', '/v1/networks')).body.networks.length;
      const bad = (body: Record<string, unknown>) =>
        t.call('POST', '/v1/networks', { body: { name: 'bad', region: 'fra1', ...body } });
      await refused('public range', bad({ ip_range: '8.8.0.0/16' }), 400, 'ip_range_not_private');
      await refused('too small', bad({ ip_range: '10.40.0.0/29' }), 400, 'ip_range_prefix');
      await refused('too big', bad({ ip_range: '10.0.0.0/7' }), 400, 'ip_range_prefix');
      await refused('host bits', bad({ ip_range: '10.40.0.1/24' }), 400, 'ip_range_invalid');
      await refused('overlap with net-1', bad({ ip_range: '10.30.128.0/17' }), 409, 'ip_range_overlap');
      await refused('overlap with a region pool', bad({ ip_range: '10.12.5.0/24' }), 409, 'ip_range_overlap');
      await refused(
        'subnet outside',
        bad({ ip_range: '10.41.0.0/16', subnets: [{ ip_range: '10.42.0.0/24' }] }),
        400,
        'subnet_outside_range',
      );
      await refused(
        'subnets overlapping',
        bad({ ip_range: '10.41.0.0/16', subnets: [{ ip_range: '10.41.0.0/24' }, { ip_range: '10.41.0.128/25' }] }),
        400,
        'subnet_overlap',
      );
      await refused(
        'route gateway outside',
        bad({ ip_range: '10.41.0.0/16', routes: [{ destination: '0.0.0.0/0', gateway: '10.99.0.5' }] }),
        400,
        'ip_outside_subnet',
      );
      await refused('unknown region', bad({ ip_range: '10.41.0.0/16', region: 'xyz9' }), 400, 'unknown_region');
      await refused('name taken', bad({ name: 'net-1', ip_range: '10.41.0.0/16' }), 409, 'name_taken');
      assert.equal((await t.call('GET', '/v1/networks')).body.networks.length, before, 'nothing was created');
      await until('network.created in the stream', async () =>
        (await eventsOf('network.created')).some((e) => e.resource.id === net.id),
      );
      assert.deepEqual(
        (await eventsOf('network.created')).map((e) => e.resource.id),
        [net.id],
        'the refusals recorded no event',
      );

      const subnet = await t.call('POST', `/v1/networks/${net.id}/actions/add-subnet`, {
        body: { ip_range: '10.30.3.0/24' },
      });
      assert.equal(subnet.status, 200, JSON.stringify(subnet.body));
      assert.equal(subnet.body.network.subnets.length, 3);
      await refused(
        'subnet overlapping another',
        t.call('POST', `/v1/networks/${net.id}/actions/add-subnet`, { body: { ip_range: '10.30.3.128/25' } }),
        400,
        'subnet_overlap',
      );
      const renamed = await t.call('PATCH', `/v1/networks/${net.id}`, { body: { labels: { env: 'prod' } } });
      assert.deepEqual(renamed.body.network.labels, { env: 'prod' });
      assert.equal((await t.call('GET', '/v1/networks?label_selector=env%3Dprod')).body.networks.length, 1);
    });

    test('attach and detach servers: addresses from the subnets, asked addresses checked, released on detach', async () => {
      const attach = (server: string, body: Record<string, unknown>) =>
        t.call('POST', `/v1/servers/${server}/actions/attach-network`, { body: { network: 'net-1', ...body } });
      await refused('outside the subnets', attach('net-a', { ip: '10.30.200.7' }), 400, 'ip_outside_subnet');
      await refused('the gateway', attach('net-a', { ip: '10.30.1.1' }), 400, 'ip_outside_subnet');
      await refused('another region', attach('net-par', {}), 409, 'region_mismatch');
      assert.deepEqual((await network('net-1')).attachments, [], 'refusals attach nothing');

      const first = await attach('net-a', {});
      assert.equal(first.status, 202, JSON.stringify(first.body));
      assert.equal(first.body.action.command, 'attach_server');
      assert.equal((await t.waitForAction(first.body.action.id)).status, 'success');
      const second = await attach('net-b', { ip: '10.30.2.77' });
      assert.equal(second.status, 202, JSON.stringify(second.body));
      assert.equal((await t.waitForAction(second.body.action.id)).status, 'success');
      let net = await network('net-1');
      assert.deepEqual(
        net.attachments.map((a: { server_id: string; ip: string; status: string }) => [a.server_id, a.ip, a.status]),
        [
          [servers['net-a'], '10.30.1.2', 'attached'],
          [servers['net-b'], '10.30.2.77', 'attached'],
        ],
      );
      assert.match(net.attachments[0].mac_address, /^02(:[0-9a-f]{2}){5}$/);
      await refused('attached twice', attach('net-a', {}), 409, 'already_attached');

      // The hosts' desired state: a segment with the VNI, its local port.
      const desired = await desiredOfRegion('fra1');
      const segment = desired
        .flatMap((d) => d.segments)
        .find((s) => s.ports.some((p) => p.serverId === servers['net-a']))!;
      assert.ok(segment, 'the host of net-a has the segment');
      assert.ok(segment.ports.some((p) => p.serverId === servers['net-a'] && p.ip === '10.30.1.2'));
      assert.deepEqual(segment.routes, [{ destination: '10.100.0.0/16', gateway: '10.30.1.254' }]);

      await refused('delete while in use', t.call('DELETE', `/v1/networks/${net.id}`), 409, 'network_in_use');
      const detached = await t.call('POST', `/v1/servers/${servers['net-b']}/actions/detach-network`, {
        body: { network: 'net-1' },
      });
      assert.equal(detached.status, 202, JSON.stringify(detached.body));
      assert.equal((await t.waitForAction(detached.body.action.id)).status, 'success');
      net = await network('net-1');
      assert.deepEqual(
        net.attachments.map((a: { server_id: string }) => a.server_id),
        [servers['net-a']],
      );
      await until('network.server_detached in the stream', async () =>
        (await eventsOf('network.server_detached')).some((e) => e.data.ip === '10.30.2.77'),
      );
      // The address is free again.
      const again = await attach('net-b', { ip: '10.30.2.77' });
      assert.equal(again.status, 202, JSON.stringify(again.body));
      assert.equal((await t.waitForAction(again.body.action.id)).status, 'success');
    });

    test('IPAM never hands out an address twice: concurrent attaches and floating IPs', async () => {
      const names = ['ipam-1', 'ipam-2', 'ipam-3', 'ipam-4', 'ipam-5', 'ipam-6'];
      await Promise.all(names.map((name) => createServer(name)));
      const created = await t.call('POST', '/v1/networks', {
        body: { name: 'net-race', region: 'fra1', ip_range: '10.31.0.0/24' },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const answers = await Promise.all(
        names.map((name) =>
          t.call('POST', `/v1/servers/${name}/actions/attach-network`, { body: { network: 'net-race' } }),
        ),
      );
      for (const answer of answers) assert.equal(answer.status, 202, JSON.stringify(answer.body));
      const ips = (await network('net-race')).attachments.map((a: { ip: string }) => a.ip).sort();
      assert.equal(ips.length, names.length);
      assert.equal(new Set(ips).size, names.length, `distinct addresses: ${ips.join(', ')}`);

      // The same asked address, twice at once: one wins, the other is refused.
      const duel = await Promise.all(
        ['ipam-1', 'ipam-2'].map((name) =>
          t.call('POST', `/v1/servers/${name}/actions/attach-network`, { body: { network: 'net-1', ip: '10.30.3.9' } }),
        ),
      );
      assert.deepEqual(duel.map((d) => d.status).sort(), [202, 409], JSON.stringify(duel.map((d) => d.body)));

      const floating = await Promise.all(
        Array.from({ length: 12 }, () => t.call('POST', '/v1/floating-ips', { body: { region: 'fra1' } })),
      );
      for (const f of floating) assert.equal(f.status, 201, JSON.stringify(f.body));
      const addresses = floating.map((f) => f.body.floating_ip.ip as string);
      assert.equal(new Set(addresses).size, addresses.length, `distinct floating IPs: ${addresses.join(', ')}`);
      for (const f of floating)
        assert.equal((await t.call('DELETE', `/v1/floating-ips/${f.body.floating_ip.id}`)).status, 204);
    });

    test('floating IPs: assign, reassign within the region, other region refused, unassign, dns_ptr, release', async () => {
      const created = await t.call('POST', '/v1/floating-ips', {
        body: { region: 'fra1', name: 'web-vip', description: 'the web front' },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const fip = created.body.floating_ip;
      assert.match(fip.id, /^fip_/);
      assert.match(fip.ip, /^198\.18\.(1[6-9]|2\d|3[01])\.\d+$/, 'from fra1’s pool');
      assert.equal(created.body.action, null);

      const assign = (server: string) =>
        t.call('POST', `/v1/floating-ips/${fip.id}/actions/assign`, { body: { server } });
      const a = await assign('net-a');
      assert.equal(a.status, 202, JSON.stringify(a.body));
      assert.equal((await t.waitForAction(a.body.action.id)).status, 'success');
      assert.equal((await t.call('GET', `/v1/floating-ips/${fip.id}`)).body.floating_ip.server_id, servers['net-a']);

      await refused('a server of another region', assign('net-par'), 409, 'region_mismatch');
      assert.equal(
        (await t.call('GET', `/v1/floating-ips/${fip.id}`)).body.floating_ip.server_id,
        servers['net-a'],
        'unchanged',
      );

      const b = await assign('net-b');
      assert.equal(b.status, 202, JSON.stringify(b.body));
      assert.equal((await t.waitForAction(b.body.action.id)).status, 'success');
      // The stream shows a transaction's events once no older transaction is open (PostgreSQL): poll.
      const moved = await until('both assignments in the stream', async () => {
        const events = (await eventsOf('floating_ip.assigned')).filter((e) => e.resource.id === fip.id);
        return events.length === 2 ? events : null;
      });
      assert.deepEqual(
        moved.map((e) => [e.data.server_id, e.data.previous_server_id]),
        [
          [servers['net-a'], null],
          [servers['net-b'], servers['net-a']],
        ],
      );
      const routes = (await desiredOfRegion('fra1')).flatMap((d) => d.publicRoutes);
      assert.ok(routes.some((r) => r.address === fip.ip && r.serverId === servers['net-b'] && r.kind === 'floating'));

      await refused('delete while assigned', t.call('DELETE', `/v1/floating-ips/${fip.id}`), 409, 'address_assigned');
      const ptr = await t.call('POST', `/v1/floating-ips/${fip.id}/actions/change-dns-ptr`, {
        body: { ip: fip.ip, dns_ptr: 'www.example.com' },
      });
      assert.equal(ptr.status, 200, JSON.stringify(ptr.body));
      assert.deepEqual(ptr.body.floating_ip.dns_ptr, [{ ip: fip.ip, dns_ptr: 'www.example.com' }]);
      await refused(
        'dns_ptr of another address',
        t.call('POST', `/v1/floating-ips/${fip.id}/actions/change-dns-ptr`, {
          body: { ip: '198.18.99.1', dns_ptr: 'x.example.com' },
        }),
        400,
        'ip_outside_subnet',
      );
      const un = await t.call('POST', `/v1/floating-ips/${fip.id}/actions/unassign`);
      assert.equal(un.status, 202, JSON.stringify(un.body));
      assert.equal((await t.waitForAction(un.body.action.id)).status, 'success');
      assert.equal((await t.call('DELETE', `/v1/floating-ips/${fip.id}`)).status, 204);
      assert.equal((await t.call('GET', `/v1/floating-ips/${fip.id}`)).status, 404);
    });

    test('primary IPs: every server has an IPv6 /64; one kept with auto_delete false outlives its server', async () => {
      const v6 = await until('net-a’s IPv6 primary IP', async () => {
        const list = await t.call('GET', `/v1/primary-ips?server_id=${servers['net-a']}&type=ipv6`);
        return list.body.primary_ips[0];
      });
      assert.match(v6.ip, /^2001:db8:2:[0-9a-f]+::\/64$/, 'a /64 of fra1’s /48');
      assert.equal(v6.auto_delete, true);
      const ptr = await t.call('POST', `/v1/primary-ips/${v6.id}/actions/change-dns-ptr`, {
        body: { ip: v6.ip.replace('::/64', '::1'), dns_ptr: 'net-a.example.com' },
      });
      assert.equal(ptr.status, 200, JSON.stringify(ptr.body));
      assert.deepEqual(ptr.body.primary_ip.dns_ptr, [
        { ip: v6.ip.replace('::/64', '::1'), dns_ptr: 'net-a.example.com' },
      ]);
      await refused(
        'an address outside the /64',
        t.call('POST', `/v1/primary-ips/${v6.id}/actions/change-dns-ptr`, {
          body: { ip: '2001:db8:ffff::1', dns_ptr: 'x.example.com' },
        }),
        400,
        'ip_outside_subnet',
      );
      const prefixes = new Set<string>();
      for (const name of ['net-a', 'net-b']) {
        const list = await until(`${name}’s IPv6`, async () => {
          const l = await t.call('GET', `/v1/primary-ips?server_id=${servers[name]}&type=ipv6`);
          return l.body.primary_ips[0];
        });
        prefixes.add(list.ip);
      }
      assert.equal(prefixes.size, 2, 'one /64 per server');

      const kept = await t.call('POST', '/v1/primary-ips', {
        body: { name: 'keep-me', region: 'fra1', type: 'ipv4', auto_delete: false },
      });
      assert.equal(kept.status, 201, JSON.stringify(kept.body));
      const pip = kept.body.primary_ip;
      const doomed = await createServer('doomed-1');
      const assigned = await t.call('POST', `/v1/primary-ips/${pip.id}/actions/assign`, { body: { server: doomed } });
      assert.equal(assigned.status, 202, JSON.stringify(assigned.body));
      assert.equal((await t.waitForAction(assigned.body.action.id)).status, 'success');
      const other = await t.call('POST', '/v1/primary-ips', {
        body: { name: 'second-v4', region: 'fra1', type: 'ipv4' },
      });
      await refused(
        'a second primary IPv4',
        t.call('POST', `/v1/primary-ips/${other.body.primary_ip.id}/actions/assign`, { body: { server: doomed } }),
        409,
        'primary_ip_taken',
      );
      const doomedV6 = await until('doomed’s IPv6', async () => {
        const l = await t.call('GET', `/v1/primary-ips?server_id=${doomed}&type=ipv6`);
        return l.body.primary_ips[0];
      });

      const deleted = await t.call('DELETE', `/v1/servers/${doomed}`);
      assert.equal(deleted.status, 202, JSON.stringify(deleted.body));
      assert.equal((await t.waitForAction(deleted.body.action.id)).status, 'success');
      await until('the primary IPv4 is unassigned', async () => {
        const shown = (await t.call('GET', `/v1/primary-ips/${pip.id}`)).body.primary_ip;
        return shown.assignee_id === null ? shown : null;
      });
      await until('the auto_delete IPv6 is released', async () => {
        return (await t.call('GET', `/v1/primary-ips/${doomedV6.id}`)).status === 404;
      });
      const reborn = await createServer('reborn-1');
      const again = await t.call('POST', `/v1/primary-ips/${pip.id}/actions/assign`, { body: { server: reborn } });
      assert.equal(again.status, 202, JSON.stringify(again.body));
      assert.equal((await t.waitForAction(again.body.action.id)).status, 'success');
      const shown = (await t.call('GET', `/v1/primary-ips/${pip.id}`)).body.primary_ip;
      assert.equal(shown.assignee_id, reborn);
      assert.equal(shown.ip, pip.ip, 'the same address on the new server');
    });
  });
}
