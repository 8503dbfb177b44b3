/**
 * The operator's view of a host's network (`GET /v1/hosts/{id}/network`, `vmcloud host network`) on a
 * control plane with simulated hosts: a server with a private network, a floating IP and a firewall shows
 * up in its host's segments, routes and chains, in place after the host's report; a report that lacks or
 * adds something is listed as drift; operators only, 404 for an unknown host.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { HostNetworkView } from '../src/contract/index.ts';
import { segmentBridgeName, tapName, vxlanDeviceName } from '../src/network/index.ts';
import { startTestControlPlane, testDialects, until, type TestControlPlane, runCliAgainst } from './helpers.ts';

for (const dialect of testDialects()) {
  describe(`host network view (${dialect})`, () => {
    let t: TestControlPlane;
    let serverId = '';
    let hostId = '';
    const cli = (argv: string[]) => runCliAgainst(t, argv, { token: t.secrets.operatorToken });
    const view = async (): Promise<HostNetworkView> => {
      const r = await t.call('GET', `/v1/hosts/${hostId}/network`, { token: t.secrets.operatorToken });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.network;
    };

    before(async () => {
      t = await startTestControlPlane(dialect);
      const created = await t.call('POST', '/v1/servers', {
        body: { name: 'hn-1', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      assert.equal((await t.waitForAction(created.body.action.id)).status, 'success');
      serverId = created.body.server.id;
    });
    after(async () => {
      await t?.dispose();
    });

    test('desired segments, routes and chains, in place after the report; drift listed; CLI', async () => {
      const net = await t.call('POST', '/v1/networks', {
        body: { name: 'hn-net', region: 'fra1', ip_range: '10.40.0.0/24' },
      });
      assert.equal(net.status, 201, JSON.stringify(net.body));
      const attach = await t.call('POST', `/v1/servers/${serverId}/actions/attach-network`, {
        body: { network: 'hn-net' },
      });
      assert.equal((await t.waitForAction(attach.body.action.id)).status, 'success');
      const fip = (await t.call('POST', '/v1/floating-ips', { body: { region: 'fra1' } })).body.floating_ip;
      const assign = await t.call('POST', `/v1/floating-ips/${fip.id}/actions/assign`, { body: { server: serverId } });
      assert.equal((await t.waitForAction(assign.body.action.id)).status, 'success');
      const fw = await t.call('POST', '/v1/firewalls', {
        body: {
          name: 'hn-fw',
          rules: [{ direction: 'in', protocol: 'tcp', port: '22', source_ips: ['0.0.0.0/0'] }],
          apply_to: [{ type: 'server', server: { id: serverId } }],
        },
      });
      assert.equal(fw.status, 201, JSON.stringify(fw.body));
      const fwId = fw.body.firewall.id as string;

      // The server's host: the one whose desired state has its port.
      const hosts = (await t.call('GET', '/v1/hosts?region=fra1', { token: t.secrets.operatorToken })).body.hosts;
      for (const host of hosts as Array<{ id: string }>) {
        const desired = await t.cp.services.hostNetworkSync.desiredFor(host.id);
        if (desired.segments.some((s) => s.ports.some((p) => p.serverId === serverId))) hostId = host.id;
      }
      assert.ok(hostId, 'the server’s host has its port');

      // The simulated host reports what it was told at its next pass: nothing drifts.
      const converged = await until('the host reports its data plane', async () => {
        const v = await view();
        return v.drift.length === 0 && v.firewalls.length === 1 && v.firewalls[0].firewalls[0].observed_version !== null
          ? v
          : null;
      });
      const segment = converged.segments.find((s) => s.network_id === net.body.network.id)!;
      assert.equal(segment.bridge, segmentBridgeName(segment.vni));
      assert.equal(segment.vxlan_device, vxlanDeviceName(segment.vni));
      assert.equal(segment.mtu, 1450);
      assert.deepEqual(
        segment.ports.map((p) => [p.server_id, p.ip, p.in_place]),
        [[serverId, '10.40.0.2', true]],
      );
      const route = converged.public_routes.find((r) => r.address === fip.ip)!;
      assert.deepEqual(
        [route.kind, route.type, route.server_id, route.tap, route.in_place],
        ['floating', 'ipv4', serverId, tapName(serverId), true],
      );
      assert.ok(
        converged.public_routes.some((r) => r.kind === 'primary' && r.type === 'ipv6' && r.server_id === serverId),
        'its IPv6 /64',
      );
      assert.deepEqual(converged.firewalls, [
        {
          server_id: serverId,
          chain: `in_${tapName(serverId)}`,
          firewalls: [{ id: fwId, version: 1, rules: 1, observed_version: 1 }],
        },
      ]);
      assert.ok(converged.reported_at);

      // A report that lacks the port and the floating IP, and has a port and a route that should not exist.
      await t.cp.services.hostNetworkSync.applyReport(hostId, {
        ports: [{ networkId: 'net_stale', serverId }],
        publicRoutes: converged.public_routes
          .filter((r) => r.address !== fip.ip)
          .map((r) => ({ address: r.address, serverId: r.server_id }))
          .concat([{ address: '198.18.99.9', serverId }]),
        firewalls: [{ serverId, firewalls: [{ id: fwId, version: 0, counters: [] }] }],
      });
      const drifted = await view();
      assert.deepEqual(
        drifted.drift.map((d) => [d.kind, d.subject]).sort(),
        [
          ['firewall_outdated', fwId],
          ['port_missing', net.body.network.id],
          ['port_unexpected', 'net_stale'],
          ['route_missing', fip.ip],
          ['route_unexpected', '198.18.99.9'],
        ].sort(),
      );
      assert.equal(drifted.segments[0].ports[0].in_place, false);

      const shown = await cli(['host', 'network', hostId]);
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, new RegExp(`${segment.bridge} +${segment.vxlan_device}`));
      assert.match(shown.stdout, new RegExp(`${fip.ip.replaceAll('.', '\\.')} +floating ipv4 +${serverId}`));
      assert.match(shown.stdout, /Drift: +5/);
      assert.match(shown.stdout, /- port_missing srv_\w+: port 10\.40\.0\.2 of net_\w+ is not in place/);
      assert.match(shown.stdout, new RegExp(`in_${tapName(serverId)} +${fwId} +1 +1 +0`));
      const json = await cli(['host', 'network', hostId, '--output', 'json']);
      assert.equal(json.code, 0, json.stderr);
      assert.equal((JSON.parse(json.stdout) as HostNetworkView).drift.length, 5);

      // The host's next report (after a change: the floating IP unassigned) is whole again: no drift.
      const unassign = await t.call('POST', `/v1/floating-ips/${fip.id}/actions/unassign`, { body: {} });
      assert.equal((await t.waitForAction(unassign.body.action.id)).status, 'success');
      const repaired = await until('a whole report', async () => {
        const v = await view();
        return v.drift.length === 0 ? v : null;
      });
      assert.ok(!repaired.public_routes.some((r) => r.address === fip.ip));
      assert.equal(repaired.segments[0].ports[0].in_place, true);
    });

    test('operators only; an unknown host is 404', async () => {
      const asProject = await t.call('GET', `/v1/hosts/${hostId || 'host_x'}/network`);
      assert.ok([401, 403, 404].includes(asProject.status), `a project token is refused: ${asProject.status}`);
      const unknown = await t.call('GET', '/v1/hosts/host_doesnotexist/network', { token: t.secrets.operatorToken });
      assert.equal(unknown.status, 404);
      assert.match(unknown.headers.get('content-type') ?? '', /application\/problem\+json/);
      const cliUnknown = await cli(['host', 'network', 'host_doesnotexist']);
      assert.notEqual(cliUnknown.code, 0);
      assert.match(cliUnknown.stderr, /not found|no host/i);
    });
  });
}
