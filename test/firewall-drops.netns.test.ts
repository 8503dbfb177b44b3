/**
 * Firewall drops become flow records, for real (root only; skipped otherwise). A host joins over the agent
 * listener's mutual TLS as a `qemu` host, a server is placed on it, and network namespaces this test
 * creates play the rest: `host` (the hypervisor: a bridge whose ports are the server's tap and an uplink),
 * `guest` (the server, with the address the control plane gave it) and `peer` (a client on the Internet,
 * 198.51.100.200). Nothing is sent outside these namespaces.
 *
 * The agent's firewall data plane applies a firewall allowing tcp/22 from the peer only (drop sets with an
 * 8 s timeout); the agent's traffic loop runs with `firewallDrops` and nft in the host namespace. The peer
 * tries tcp/5432 and pings: both are dropped, the chain's drop sets count them, and once their elements
 * expire the loop reports them — `GET /v1/flow-logs?port=5432` shows one record with the peer's and the
 * server's addresses, protocol 6, port 5432, action `drop` and rule `firewall:default-deny`, and the ping
 * one with protocol 1; the allowed tcp/22 attempt is no drop record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createTrafficLoop } from '../src/agent/index.ts';
import { silentLogger } from '../src/core/index.ts';
import { createClient } from '../src/client/index.ts';
import { createHostToken } from '../src/contract/index.ts';
import { nftRunner } from '../src/ddos/index.ts';
import { createFirewallDataPlane } from '../src/network/index.ts';
import { testDialects } from '../src/db/test-helpers.ts';
import { startTestControlPlane, until } from './helpers.ts';
import { startSimHost } from './sim-host.ts';

const canRun = process.getuid?.() === 0 && existsSync('/usr/sbin/nft') && existsSync('/usr/bin/busybox');
const suffix = String(process.pid % 100000);
const ns = { host: `vd-h${suffix}`, guest: `vd-g${suffix}`, peer: `vd-p${suffix}` };
const tap = `vdtap${suffix}`;
const peerIp = '198.51.100.200';

const sh = (...argv: string[]) =>
  execFileSync(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const inNs = (name: string, ...argv: string[]) => sh('ip', 'netns', 'exec', name, ...argv);

function setUp(serverIp: string) {
  for (const name of Object.values(ns)) sh('ip', 'netns', 'add', name);
  for (const name of Object.values(ns)) {
    inNs(name, 'ip', 'link', 'set', 'lo', 'up');
    inNs(name, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1');
  }
  inNs(ns.host, 'ip', 'link', 'add', 'vmcbr0', 'type', 'bridge');
  inNs(ns.host, 'ip', 'link', 'set', 'vmcbr0', 'up');
  // The server's tap and the uplink: veths whose host ends are ports of the bridge.
  sh('ip', 'link', 'add', tap, 'netns', ns.host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.guest);
  sh('ip', 'link', 'add', 'up0', 'netns', ns.host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.peer);
  for (const port of [tap, 'up0']) inNs(ns.host, 'ip', 'link', 'set', port, 'master', 'vmcbr0', 'up');
  // Both ends on one link, each with a /32 and a route to the other.
  for (const [name, own, other] of [
    [ns.guest, serverIp, peerIp],
    [ns.peer, peerIp, serverIp],
  ]) {
    inNs(name, 'ip', 'addr', 'add', `${own}/32`, 'dev', 'eth0');
    inNs(name, 'ip', 'link', 'set', 'eth0', 'up');
    inNs(name, 'ip', 'route', 'add', other, 'dev', 'eth0');
  }
}

function tearDown() {
  for (const name of Object.values(ns)) {
    try {
      sh('ip', 'netns', 'del', name);
    } catch {
      // not created
    }
  }
}

/** A TCP connection attempt from the peer (busybox nc, at most 2 s), only to the server's address. */
function connect(serverIp: string, target: string, port: number) {
  if (target !== serverIp) throw new Error('refusing to send outside the test namespaces');
  spawnSync('ip', ['netns', 'exec', ns.peer, 'busybox', 'timeout', '2', 'busybox', 'nc', target, String(port)], {
    stdio: 'ignore',
  });
}

for (const dialect of testDialects())
  test(
    `a firewall's drops on a qemu host become flow records with the rule that dropped them (${dialect})`,
    { skip: !canRun && 'needs root, nft and busybox', timeout: 120_000 },
    async () => {
      tearDown();
      const t = await startTestControlPlane(dialect, { fleet: 'none' });
      const stops: Array<() => Promise<void>> = [];
      try {
        const operator = createClient({ baseUrl: t.url, token: t.secrets.operatorToken });
        const agentUrl = await t.cp.agentListener.listen({ host: '127.0.0.1', port: 0 });
        const token = await operator.call(createHostToken, { body: { name: 'fra1-drops' } });
        const host = await startSimHost({
          agentUrl,
          caSha256: token.ca_sha256,
          hostToken: token.secret,
          name: 'fra1-drops',
          region: 'fra1',
          registerAs: 'qemu',
        });
        stops.push(() => host.stop());
        const { hostId, link } = host;

        const created = await t.call('POST', '/v1/servers', {
          body: { name: 'guarded', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
        });
        assert.equal(created.status, 202, JSON.stringify(created.body));
        const serverId = created.body.server.id as string;
        await until('the server running on the qemu host', async () => {
          const s = await t.call('GET', `/v1/servers/${serverId}`);
          return s.body.server.status === 'running' ? true : null;
        });
        const desired = (await link.desired(hostId)).find((d) => d.spec.serverId === serverId)!;
        const serverIp = desired.spec.ipv4!.split('/')[0];
        assert.match(serverIp, /^\d+\.\d+\.\d+\.\d+$/);
        setUp(serverIp);

        // The host's firewall: tcp/22 from the peer only; drop-set elements live 8 s here (60 s by default).
        const firewalls = createFirewallDataPlane({
          netns: ns.host,
          ifnameOf: () => tap,
          dropSets: { size: 64, timeoutSeconds: 8 },
        });
        await firewalls.converge([
          {
            serverId,
            firewalls: [
              {
                id: 'fw_drops',
                version: 1,
                rules: [{ direction: 'in', protocol: 'tcp', ports: [22, 22], ips: [`${peerIp}/32`] }],
              },
            ],
          },
        ]);

        const loop = createTrafficLoop({
          hostId,
          link,
          log: silentLogger,
          taps: async () => [{ serverId, ifname: tap, addresses: [serverIp] }],
          nft: nftRunner(ns.host),
          firewallDrops: true,
        });
        stops.push(() => loop.stop());
        const logging = await t.call('PUT', '/v1/flow-logs/settings', { body: { enabled: true } });
        assert.equal(logging.status, 200, JSON.stringify(logging.body));

        await loop.runOnce();
        const fromMs = Date.now() - 1000;
        connect(serverIp, serverIp, 5432);
        connect(serverIp, serverIp, 22);
        assert.equal(
          spawnSync('ip', ['netns', 'exec', ns.peer, 'busybox', 'ping', '-c', '1', '-W', '1', serverIp]).status,
          1,
          'the ping is dropped',
        );
        // The chain's drop set holds what it dropped, counted.
        const set = await nftRunner(ns.host)(['list', 'set', 'bridge', 'vmcloud_fw', `drops4_in_${tap}`]);
        assert.match(
          set,
          new RegExp(
            `${peerIp.replaceAll('.', '\\.')} \\. ${serverIp.replaceAll('.', '\\.')} \\. tcp \\. 5432 counter packets [1-9]`,
          ),
        );
        assert.doesNotMatch(set, /tcp \. 22 /, 'the allowed port is not a drop');
        await loop.runOnce();

        // The elements expire (8 s after they were added); the next tick reports them as ended.
        const peerRecords = await until(
          'the drop records in GET /v1/flow-logs',
          async () => {
            await loop.runOnce();
            const flows = await t.call(
              'GET',
              `/v1/flow-logs?server=${serverId}&from=${new Date(fromMs - 5000).toISOString()}&to=${new Date(Date.now() + 60_000).toISOString()}`,
            );
            assert.equal(flows.status, 200, JSON.stringify(flows.body));
            // The peer's records (the bridge's own IGMP queries to the tap are dropped and recorded too).
            const list = (flows.body.flows as Array<Record<string, unknown>>).filter((f) => f.src_addr === peerIp);
            return list.some((f) => f.protocol === 1) && list.some((f) => f.protocol === 6) ? list : null;
          },
          20_000,
        );
        const byPort = await t.call(
          'GET',
          `/v1/flow-logs?server=${serverId}&port=5432&from=${new Date(fromMs - 5000).toISOString()}&to=${new Date(Date.now() + 60_000).toISOString()}`,
        );
        const records = byPort.body.flows as Array<Record<string, unknown>>;
        assert.equal(records.length, 1, JSON.stringify(records));
        const [r] = records;
        assert.deepEqual(
          [r.direction, r.src_addr, r.dst_addr, r.src_port, r.dst_port, r.protocol, r.action, r.rule],
          ['in', peerIp, serverIp, 0, 5432, 6, 'drop', 'firewall:default-deny'],
        );
        // busybox nc's SYN and its retransmissions in 2 s, each 60 bytes of IP.
        assert.ok((r.packets as number) >= 1 && (r.packets as number) <= 4, `packets ${r.packets}`);
        assert.equal(r.bytes, (r.packets as number) * 60);
        const startMs = Date.parse(r.start as string);
        assert.ok(startMs >= fromMs - 1000 && startMs <= Date.parse(r.end as string), `${r.start} → ${r.end}`);

        const all = (
          (
            await t.call(
              'GET',
              `/v1/flow-logs?server=${serverId}&from=${new Date(fromMs - 5000).toISOString()}&to=${new Date(Date.now() + 60_000).toISOString()}`,
            )
          ).body.flows as Array<Record<string, unknown>>
        ).filter((f) => f.src_addr === peerIp);
        assert.equal(all.length, peerRecords.length);
        assert.deepEqual(
          all
            .map((f) => [f.protocol, f.dst_port, f.action, f.src_addr])
            .sort((a, b) => String(a).localeCompare(String(b))),
          [
            [1, 0, 'drop', peerIp],
            [6, 5432, 'drop', peerIp],
          ],
          'the ping dropped too, and nothing for the allowed tcp/22',
        );
      } finally {
        for (const stop of stops.reverse()) await stop().catch(() => undefined);
        tearDown();
        await t.dispose();
      }
    },
  );
