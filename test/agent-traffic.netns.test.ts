/**
 * A qemu host's traffic reaching the control plane for real (root only; skipped otherwise): a host joins
 * over the agent listener's mutual TLS as a `qemu` host, a server is placed on it, and network namespaces
 * this test creates play the rest — `host` (the hypervisor: the server's tap is a veth there, nft runs
 * there), `guest` (the server, with the address the control plane gave it) and `peer` (the Internet:
 * 198.51.100.2 stands for one of the provider's own sites, 198.51.100.200 for anyone else). Nothing is
 * sent outside these namespaces.
 *
 * The agent's traffic loop (src/agent/traffic.ts) runs as on a host, with the real link, the real sysfs
 * reader (the host namespace's /sys/class/net) and nft in the host namespace:
 *  1. known UDP traffic from the guest → one 5-minute sample: `GET /v1/servers/{id}/traffic` shows the tap's
 *     bytes and packets, and exactly the nft-counted bytes to and from the unmetered site as unmetered;
 *  2. a bounded UDP flood from the peer to the server's address → the meter's per-second observations reach
 *     detection, the answer carries the mitigation, the loop installs its nft table in the host namespace
 *     (its counters show drops, reported into the incident), and once the attack has been quiet for the
 *     tier's quiet time it ends and the table is deleted.
 * The agent's clock runs ahead of the wall clock where the test needs a slot boundary or the quiet time to
 * pass (observations and samples carry the agent's instants).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createTrafficLoop } from '../src/agent/index.ts';
import { silentLogger } from '../src/core/index.ts';
import { createClient } from '../src/client/index.ts';
import { createHostToken } from '../src/contract/index.ts';
import { mitigationTable, nftRunner, protectedTarget } from '../src/ddos/index.ts';
import { defaultAddressPlans } from '../src/addresses/index.ts';
import { testDialects } from '../src/db/test-helpers.ts';
import { startTestControlPlane, until } from './helpers.ts';
import { startSimHost } from './sim-host.ts';

const canRun = process.getuid?.() === 0 && existsSync('/usr/sbin/nft');
const suffix = String(process.pid % 100000);
const ns = { host: `vt-h${suffix}`, guest: `vt-g${suffix}`, peer: `vt-p${suffix}` };
const tap = `vtap${suffix}`;
const node = process.execPath;

const sh = (...argv: string[]) =>
  execFileSync(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const inNs = (name: string, ...argv: string[]) => sh('ip', 'netns', 'exec', name, ...argv);

function setUp(serverIp: string) {
  for (const name of Object.values(ns)) sh('ip', 'netns', 'add', name);
  for (const name of Object.values(ns)) {
    inNs(name, 'ip', 'link', 'set', 'lo', 'up');
    // No IPv6 chatter (router solicitations, MLD) in the counters: the traffic is exactly what the test sends.
    inNs(name, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1');
  }
  // The server's tap: a veth whose host end is the tap, the guest end has the server's address.
  sh('ip', 'link', 'add', tap, 'netns', ns.host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.guest);
  inNs(ns.guest, 'ip', 'addr', 'add', `${serverIp}/32`, 'dev', 'eth0');
  inNs(ns.guest, 'ip', 'link', 'set', 'eth0', 'up');
  inNs(ns.guest, 'ip', 'route', 'add', '169.254.1.1', 'dev', 'eth0');
  inNs(ns.guest, 'ip', 'route', 'add', 'default', 'via', '169.254.1.1');
  inNs(ns.host, 'ip', 'addr', 'add', '169.254.1.1/32', 'dev', tap);
  inNs(ns.host, 'ip', 'link', 'set', tap, 'up');
  inNs(ns.host, 'ip', 'route', 'add', `${serverIp}/32`, 'dev', tap);
  // The peer: a site of the provider's (.2, unmetered) and anyone else (.200).
  sh('ip', 'link', 'add', 'up0', 'netns', ns.host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.peer);
  inNs(ns.host, 'ip', 'addr', 'add', '198.51.100.1/24', 'dev', 'up0');
  inNs(ns.host, 'ip', 'link', 'set', 'up0', 'up');
  inNs(ns.peer, 'ip', 'addr', 'add', '198.51.100.2/24', 'dev', 'eth0');
  inNs(ns.peer, 'ip', 'addr', 'add', '198.51.100.200/24', 'dev', 'eth0');
  inNs(ns.peer, 'ip', 'link', 'set', 'eth0', 'up');
  inNs(ns.peer, 'ip', 'route', 'add', 'default', 'via', '198.51.100.1');
  inNs(ns.host, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
  // Connection tracking as on a host: its firewall uses it (a ct rule turns it on in the namespace), the
  // agent turns on per-direction counters; UDP entries expire after 2 s here (30 s and 120 s by default).
  sh('ip', 'netns', 'exec', ns.host, 'nft', 'add table inet test_fw');
  sh('ip', 'netns', 'exec', ns.host, 'nft', 'add chain inet test_fw f { type filter hook forward priority 0; }');
  sh('ip', 'netns', 'exec', ns.host, 'nft', 'add rule inet test_fw f ct state established,related accept');
  inNs(
    ns.host,
    'sysctl',
    '-qw',
    'net.netfilter.nf_conntrack_acct=1',
    'net.netfilter.nf_conntrack_udp_timeout=2',
    'net.netfilter.nf_conntrack_udp_timeout_stream=2',
  );
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

const runIn = (name: string, script: string, args: string[]): ChildProcess =>
  spawn('ip', ['netns', 'exec', name, node, '-e', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
const exited = (child: ChildProcess) =>
  new Promise<string>((resolve) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', () => resolve(out));
  });

// In the peer: UDP echo on .2:7 (the site answers), discard on .200:9.
const peerScript = `
const dgram = require('node:dgram');
const echo = dgram.createSocket('udp4'); echo.on('message', (m, r) => echo.send(m, r.port, r.address)); echo.bind(7, '198.51.100.2');
const discard = dgram.createSocket('udp4'); discard.on('message', () => {}); discard.bind(9, '198.51.100.200');`;

// A sender: `count` datagrams of `size` bytes (count 0: as fast as it can for `seconds`), only to addresses
// inside these namespaces (checked).
const senderScript = `
const dgram = require('node:dgram');
const [target, port, size, count, seconds, allowed] = process.argv.slice(1);
if (!new RegExp(allowed).test(target)) throw new Error('refusing to send outside the test namespaces');
const s = dgram.createSocket('udp4'); const payload = Buffer.alloc(Number(size));
let sent = 0; const end = Date.now() + Number(seconds) * 1000;
function burst() {
  if ((Number(count) > 0 && sent >= Number(count)) || Date.now() >= end) { setTimeout(() => { console.log(JSON.stringify({ sent })); s.close(); }, 200); return; }
  const n = Number(count) > 0 ? Math.min(20, Number(count) - sent) : 200;
  let pending = n;
  for (let i = 0; i < n; i++) { sent++; s.send(payload, Number(port), target, () => { if (--pending === 0) setTimeout(burst, Number(count) > 0 ? 5 : 0); }); }
}
burst();`;

for (const dialect of testDialects())
  test(
    `a qemu host reports its servers’ tap and nft counters and its DDoS meter over the real link; mitigation follows the desired state (${dialect})`,
    { skip: !canRun && 'needs root and nft', timeout: 180_000 },
    async () => {
      tearDown();
      // The provider's sites include 198.51.100.0/25 here (par1's plan): the control plane tells the agent.
      const t = await startTestControlPlane(dialect, {
        fleet: 'none',
        addressPlans: { ...defaultAddressPlans, par1: { ipv4: '198.51.100.0/25', ipv6: '2001:db8:1::/48' } },
      });
      const stops: Array<() => Promise<void>> = [];
      const children: ChildProcess[] = [];
      try {
        const operator = createClient({ baseUrl: t.url, token: t.secrets.operatorToken });
        const agentUrl = await t.cp.agentListener.listen({ host: '127.0.0.1', port: 0 });
        const token = await operator.call(createHostToken, { body: { name: 'fra1-traffic' } });
        const host = await startSimHost({
          agentUrl,
          caSha256: token.ca_sha256,
          hostToken: token.secret,
          name: 'fra1-traffic',
          region: 'fra1',
          registerAs: 'qemu',
        });
        stops.push(() => host.stop());
        const { hostId, link } = host;

        const created = await t.call('POST', '/v1/servers', {
          body: { name: 'metered', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
        });
        assert.equal(created.status, 202, JSON.stringify(created.body));
        const serverId = created.body.server.id as string;
        await until('the server running on the qemu host', async () => {
          const s = await t.call('GET', `/v1/servers/${serverId}`);
          return s.body.server.status === 'running' ? true : null;
        });
        // The host learns its servers and their addresses from its desired state, as the daemon does.
        const desired = (await link.desired(hostId)).find((d) => d.spec.serverId === serverId)!;
        const serverIp = desired.spec.ipv4!.split('/')[0];
        assert.match(serverIp, /^\d+\.\d+\.\d+\.\d+$/);

        setUp(serverIp);
        // A process living in the host namespace: its /proc/<pid>/root/sys is that namespace's sysfs.
        const holder = spawn('ip', ['netns', 'exec', ns.host, 'sleep', '600'], { stdio: 'ignore' });
        children.push(holder);
        await until('the host namespace’s sysfs', async () =>
          existsSync(`/proc/${holder.pid}/root/sys/class/net/${tap}`) ? true : null,
        );
        children.push(runIn(ns.peer, peerScript, []));

        let aheadMs = 0;
        const clock = { nowMs: () => Date.now() + aheadMs, nowIso: () => new Date(Date.now() + aheadMs).toISOString() };
        const loop = createTrafficLoop({
          hostId,
          link,
          log: silentLogger,
          taps: async () => [{ serverId, ifname: tap, addresses: [serverIp] }],
          nft: nftRunner(ns.host),
          sysClassNet: `/proc/${holder.pid}/root/sys/class/net`,
          // The host namespace's conntrack table (/proc/<pid>/net is the net namespace of that process).
          readConntrack: () => readFile(`/proc/${holder.pid}/net/nf_conntrack`, 'utf8'),
          clock,
        });
        stops.push(() => loop.stop());

        const logging = await t.call('PUT', '/v1/flow-logs/settings', { body: { enabled: true } });
        assert.equal(logging.status, 200, JSON.stringify(logging.body));
        // 1. Accounting: baseline ticks (the first report's answer names the unmetered prefixes, the second
        // tick puts them in the accounting table), known traffic, then the agent's clock past the slot's end.
        await loop.runOnce();
        await loop.runOnce();
        const acct = await nftRunner(ns.host)(['list', 'set', 'inet', 'vmcloud_acct', 'unmetered4']);
        assert.match(acct, /198\.51\.100\.0\/25/);
        assert.match(acct, /198\.18\.16\.0\/20/, 'every region’s pool is a site of the provider’s');
        const slotStartMs = Math.floor(clock.nowMs() / 300_000) * 300_000;
        const allowed = '^198\\.51\\.100\\.(2|200)$';
        const toSite = exited(runIn(ns.guest, senderScript, ['198.51.100.2', '7', '1000', '200', '30', allowed]));
        const toOthers = exited(runIn(ns.guest, senderScript, ['198.51.100.200', '9', '500', '300', '30', allowed]));
        assert.equal(JSON.parse(await toSite).sent, 200);
        assert.equal(JSON.parse(await toOthers).sent, 300);
        aheadMs = slotStartMs + 300_000 + 1000 - Date.now();
        await loop.runOnce();
        const from = new Date(slotStartMs - 600_000).toISOString();
        const to = new Date(slotStartMs + 600_000).toISOString();
        const series = await t.call('GET', `/v1/servers/${serverId}/traffic?from=${from}&to=${to}&step=5m`);
        assert.equal(series.status, 200, JSON.stringify(series.body));
        const point = (series.body.points as Array<Record<string, number | string>>).find(
          (p) => p.at === new Date(slotStartMs).toISOString(),
        );
        assert.ok(point, JSON.stringify(series.body.points));
        // IP bytes: 1 000 + 28 and 500 + 28 per datagram; the tap counts Ethernet frames (14 bytes more).
        const siteIp = 200 * 1028;
        const othersIp = 300 * 528;
        assert.equal(point.tx_unmetered_bytes, siteIp, 'the bytes to the site, counted by nft, are unmetered');
        assert.equal(point.rx_unmetered_bytes, siteIp, 'the site’s echoes are unmetered');
        const tx = point.tx_bytes as number;
        assert.ok(tx >= siteIp + othersIp + 500 * 14 && tx <= siteIp + othersIp + 500 * 14 + 2_000, `tx ${tx}`);
        assert.ok((point.tx_packets as number) >= 500 && (point.tx_packets as number) <= 520, `${point.tx_packets}`);
        assert.ok((point.rx_packets as number) >= 200 && (point.rx_packets as number) <= 220, `${point.rx_packets}`);
        assert.equal(series.body.totals.billable_bytes, tx - siteIp, 'billable: metered outbound');

        // The meter watches every public address the control plane names for the server: its IPv4 and the
        // /64 of its IPv6 primary IP.
        const primaries = (await t.call('GET', '/v1/primary-ips')).body.primary_ips as Array<{
          type: string;
          ip: string;
          assignee_id: string | null;
        }>;
        const v6 = primaries.find((p) => p.type === 'ipv6' && p.assignee_id === serverId);
        assert.ok(v6, JSON.stringify(primaries));
        const meterText = await nftRunner(ns.host)(['list', 'table', 'inet', 'vmcloud_ddos_meter']);
        assert.ok(meterText.includes(`ip daddr ${serverIp} `), meterText);
        assert.ok(meterText.includes(`ip6 daddr ${protectedTarget(v6.ip).text} `), meterText);

        // Flow records: the connections ended (2 s of UDP timeout here), conntrack forgot them, the next
        // tick reports them; the project logs flows, so they are kept.
        await new Promise((resolve) => setTimeout(resolve, 3500));
        await loop.runOnce();
        const flows = await t.call(
          'GET',
          `/v1/flow-logs?server=${serverId}&from=${from}&to=${new Date(Date.now() + aheadMs + 60_000).toISOString()}`,
        );
        assert.equal(flows.status, 200, JSON.stringify(flows.body));
        const seen = (flows.body.flows as Array<Record<string, unknown>>)
          .map((f) => [f.direction, f.src_addr, f.dst_addr, f.dst_port, f.protocol, f.packets, f.bytes, f.action])
          .sort((a, b) => String(a).localeCompare(String(b)));
        const echoPort = (flows.body.flows as Array<{ dst_port: number; src_port: number; dst_addr: string }>).find(
          (f) => f.dst_addr === '198.51.100.2',
        )?.src_port;
        assert.deepEqual(seen, [
          ['in', '198.51.100.2', serverIp, echoPort, 17, 200, 200 * 1028, 'accept'],
          ['out', serverIp, '198.51.100.2', 7, 17, 200, 200 * 1028, 'accept'],
          ['out', serverIp, '198.51.100.200', 9, 17, 300, 300 * 528, 'accept'],
        ]);

        // 2. The fast path: an enterprise project with a low threshold for this address.
        await t.call('PUT', '/v1/ddos/tier', { body: { tier: 'enterprise' } });
        const thresholds = await t.call('PUT', '/v1/ddos/thresholds', {
          body: { thresholds: [{ address: serverIp, min_pps: 2000, min_bps: 2_000_000 }] },
        });
        assert.equal(thresholds.status, 200, JSON.stringify(thresholds.body));
        const tick = async () => {
          await new Promise((resolve) => setTimeout(resolve, 1000));
          await loop.runOnce();
        };
        for (let i = 0; i < 14; i++) await tick(); // the baseline: 12 calm observations and more
        const attacks = async () =>
          (await t.call('GET', '/v1/ddos/attacks')).body.attacks as Array<Record<string, unknown>>;
        assert.equal((await attacks()).length, 0, 'nothing flagged while calm');

        const flood = exited(
          runIn(ns.peer, senderScript, [serverIp, '5000', '64', '0', '5', `^${serverIp.replace(/\./g, '\\.')}$`]),
        );
        let ticks = 0;
        while (loop.installed().size === 0 && ticks++ < 8) await tick();
        assert.equal(loop.installed().size, 1, 'the answer carried a mitigation and the loop installed it');
        const nft = nftRunner(ns.host);
        assert.match(await nft(['list', 'table', 'inet', mitigationTable(serverIp)]), /dropped_rate/);
        await flood;
        await tick(); // drops counted and reported
        await tick();
        const active = (await attacks())[0];
        assert.equal(active.status, 'active');
        assert.equal(active.detected_by, 'fast_path');
        assert.equal(active.vector, 'udp_flood');
        assert.equal(active.server_id, serverId);
        assert.ok((active.dropped_packets as number) > 0, `drops reported: ${active.dropped_packets}`);
        assert.ok(
          (active.actions as string[]).some((a) => a.startsWith('host agent: table inet')),
          JSON.stringify(active.actions),
        );

        // Quiet: the agent's clock past the enterprise quiet time (30 min); the attack ends, the table goes.
        await tick();
        aheadMs += 31 * 60_000;
        await tick();
        await tick();
        assert.equal(loop.installed().size, 0);
        await assert.rejects(nft(['list', 'table', 'inet', mitigationTable(serverIp)]));
        const ended = (await attacks())[0];
        assert.equal(ended.status, 'ended');
        assert.ok((ended.dropped_packets as number) >= (active.dropped_packets as number));
        const events = await until('the attack events', async () => {
          const list = await t.call('GET', '/v1/events?limit=200');
          const types = (list.body.events as Array<{ type: string }>)
            .map((e) => e.type)
            .filter((x) => x.startsWith('ddos.attack'));
          return types.length >= 2 ? types : null;
        });
        assert.deepEqual(events, ['ddos.attack_started', 'ddos.attack_ended']);

        // A host speaks only for its own servers: another server id and a foreign address are refused.
        const refused = await link.traffic(hostId, {
          samples: [
            {
              serverId: 'srv_not_here',
              slot: slotStartMs / 300_000,
              rxBytes: 1,
              txBytes: 1,
              rxPackets: 1,
              txPackets: 1,
              rxUnmeteredBytes: 0,
              txUnmeteredBytes: 0,
            },
          ],
          observations: [{ address: '203.0.113.9', atMs: Date.now(), pps: 1e6, bps: 1e9 }],
        });
        assert.equal(refused.refused, 2);
        assert.equal((await attacks()).length, 1);
      } finally {
        for (const stop of stops.reverse()) await stop().catch(() => undefined);
        for (const child of children) child.kill('SIGTERM');
        tearDown();
        await t.dispose();
      }
    },
  );
