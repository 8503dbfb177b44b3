/**
 * The tenant isolation ruleset with the addresses routed to each server, for real, inside network
 * namespaces this test creates and deletes: a "host" namespace with the public bridge, converged by the
 * segment data plane (floating IP and IPv6 /64 routes) wrapped with `withIsolationSources`, and three
 * "guest" namespaces plugged in through veth pairs named like the servers' taps (tenant A: g1, g2; tenant
 * B: g3). A guest answers from its floating IPv4 and its /64; a spoofed address is still dropped; a moved
 * floating IP stops being a source of its old server. No packet leaves these namespaces. Needs root, ip,
 * nft and busybox.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DesiredHostNetwork, DesiredPublicRoute } from '../contract/index.ts';
import { createHostNetwork, runCommand } from './host-network.ts';
import { createInstanceNetwork } from './instance-network.ts';
import { withIsolationSources } from './isolation-sources.ts';
import { isolationTableName } from './isolation-rules.ts';
import { macAddress, tapName } from './names.ts';
import { createSegmentDataPlane } from './segment-data-plane.ts';

async function skipReason(): Promise<string | false> {
  if (process.getuid?.() !== 0) return 'not root: network namespace tests skipped';
  for (const [command, args] of [
    ['ip', ['netns', 'list']],
    ['nft', ['--version']],
    ['busybox', ['true']],
  ] as const) {
    const result = await runCommand(command, [...args]).catch(() => null);
    if (!result || result.code !== 0) return `${command} is not usable here: network namespace tests skipped`;
  }
  return false;
}
const skip = await skipReason();

async function sh(command: string, args: string[]) {
  const result = await runCommand(command, args);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}
const ping = async (ns: string, address: string, source?: string) =>
  (
    await runCommand('ip', [
      'netns',
      'exec',
      ns,
      'busybox',
      'ping',
      '-c',
      '1',
      '-W',
      '1',
      ...(source ? ['-I', source] : []),
      address,
    ])
  ).code === 0;

test(
  'isolation ruleset: replies from floating and primary addresses pass, spoofing is dropped, moves converge',
  { skip, timeout: 90_000 },
  async () => {
    const tag = randomBytes(3).toString('hex');
    const hostNs = `vmct-${tag}-h`;
    const guests = [
      { ns: `vmct-${tag}-g1`, serverId: `srv_${tag}_1`, ip: '10.77.0.2', tenant: 'prj_a' },
      { ns: `vmct-${tag}-g2`, serverId: `srv_${tag}_2`, ip: '10.77.0.3', tenant: 'prj_a' },
      { ns: `vmct-${tag}-g3`, serverId: `srv_${tag}_3`, ip: '10.77.0.4', tenant: 'prj_b' },
    ];
    const [g1, g2, g3] = guests;
    const fip = '198.18.16.5';
    const v6 = { prefix: '2001:db8:2:7::/64', address: '2001:db8:2:7::1' };
    const hostV6 = '2001:db8:ff::1';
    const stateDir = await mkdtemp(join(tmpdir(), 'vmc-iso-'));
    const namespaces = [hostNs, ...guests.map((guest) => guest.ns)];
    try {
      for (const ns of namespaces) await sh('ip', ['netns', 'add', ns]);
      const host = createHostNetwork({ bridge: 'vmcbr0', gatewayCidr: '10.77.0.1/24', netns: hostNs });
      await host.ensureBridge();
      await sh('ip', ['-n', hostNs, 'addr', 'add', `${hostV6}/64`, 'dev', 'vmcbr0', 'nodad']);
      // Guests: veth pairs whose host ends carry the taps' names (attach finds them and puts them in the bridge).
      for (const guest of guests) {
        const hostEnd = tapName(guest.serverId);
        await sh('ip', [
          'link',
          'add',
          hostEnd,
          'netns',
          hostNs,
          'type',
          'veth',
          'peer',
          'name',
          'eth0',
          'netns',
          guest.ns,
        ]);
        await sh('ip', ['-n', guest.ns, 'link', 'set', 'eth0', 'address', macAddress(guest.serverId), 'up']);
        await sh('ip', ['-n', guest.ns, 'link', 'set', 'lo', 'up']);
        await sh('ip', ['-n', guest.ns, 'addr', 'add', `${guest.ip}/24`, 'dev', 'eth0']);
        await sh('ip', ['-n', guest.ns, 'route', 'add', `${hostV6.replace(/1$/, '')}/64`, 'dev', 'eth0']);
      }
      const network = createInstanceNetwork<{ serverId: string; ipv4: string | null; tenant: string }>({
        host,
        stateFile: join(stateDir, 'ports.json'),
        tenantOf: (server) => server.tenant,
      });
      for (const guest of guests)
        await network.attach({ serverId: guest.serverId, ipv4: `${guest.ip}/24`, tenant: guest.tenant });

      const segments = createSegmentDataPlane({ netns: hostNs, publicBridge: 'vmcbr0' });
      const plane = withIsolationSources(segments, () => network);
      const desired = (fipServer: string | null): DesiredHostNetwork => {
        const routes: DesiredPublicRoute[] = [
          { address: v6.prefix, type: 'ipv6', kind: 'primary', serverId: g1.serverId },
        ];
        if (fipServer) routes.push({ address: fip, type: 'ipv4', kind: 'floating', serverId: fipServer });
        return { vtep: null, segments: [], publicRoutes: routes };
      };

      // The guest configures its floating IP and its /64 address itself (as at Hetzner).
      await sh('ip', ['-n', g1.ns, 'addr', 'add', `${fip}/32`, 'dev', 'eth0']);
      await sh('ip', ['-n', g1.ns, 'addr', 'add', `${v6.address}/64`, 'dev', 'eth0', 'nodad']);

      // Routes alone (the data plane without the isolation update): the replies are dropped, as before.
      await segments.converge(desired(g1.serverId));
      assert.equal(
        await ping(hostNs, fip),
        false,
        'without its routed sources, g1’s reply from the floating IP is dropped',
      );

      const observed = await plane.converge(desired(g1.serverId));
      assert.equal(observed.publicRoutes.length, 2);
      assert.equal(await ping(hostNs, fip), true, 'g1 answers from its floating IP');
      assert.equal(await ping(g1.ns, '10.77.0.1', fip), true, 'g1 sends from its floating IP');
      assert.equal(await ping(g1.ns, hostV6, v6.address), true, 'g1 sends from its /64 and gets the reply');
      assert.equal(await ping(g1.ns, '10.77.0.1'), true, 'its bridge address still works');

      // Spoofing: an address not routed to the guest, or routed to another guest.
      await sh('ip', ['-n', g1.ns, 'addr', 'add', '198.18.16.6/32', 'dev', 'eth0']);
      assert.equal(await ping(g1.ns, '10.77.0.1', '198.18.16.6'), false, 'another IPv4 source is dropped');
      await sh('ip', ['-n', g1.ns, 'addr', 'add', '2001:db8:2:8::1/64', 'dev', 'eth0', 'nodad']);
      assert.equal(await ping(g1.ns, hostV6, '2001:db8:2:8::1'), false, 'an IPv6 source outside its /64 is dropped');
      await sh('ip', ['-n', g3.ns, 'addr', 'add', `${fip}/32`, 'dev', 'eth0']);
      assert.equal(await ping(g3.ns, '10.77.0.1', fip), false, 'another tenant cannot use g1’s floating IP');
      await sh('ip', ['-n', g3.ns, 'addr', 'del', `${fip}/32`, 'dev', 'eth0']);
      assert.equal(await ping(g3.ns, g1.ip), false, 'tenants stay apart');
      const prerouting = await sh('ip', [
        'netns',
        'exec',
        hostNs,
        'nft',
        'list',
        'chain',
        'bridge',
        isolationTableName('vmcbr0'),
        'prerouting',
      ]);
      assert.match(
        prerouting,
        new RegExp(`ip saddr != \\{ 10\\.77\\.0\\.2, ${fip.replaceAll('.', '\\.')} \\} counter packets [1-9]`),
      );
      assert.match(prerouting, /ip6 saddr != \{ ::, 2001:db8:2:7::\/64, fe80::\/10 \} counter packets [1-9]/);

      // A converged pass does not rewrite the ruleset; the move to g2 does.
      assert.equal(await network.setRoutedSources(new Map([[g1.serverId, { ipv4: [fip], ipv6: [v6.prefix] }]])), false);
      await sh('ip', ['-n', g1.ns, 'addr', 'del', `${fip}/32`, 'dev', 'eth0']);
      await sh('ip', ['-n', g2.ns, 'addr', 'add', `${fip}/32`, 'dev', 'eth0']);
      await plane.converge(desired(g2.serverId));
      assert.equal(await ping(hostNs, fip), true, 'the floating IP answers on g2 now');
      await sh('ip', ['-n', g1.ns, 'addr', 'add', `${fip}/32`, 'dev', 'eth0']);
      assert.equal(await ping(g1.ns, '10.77.0.1', fip), false, 'g1 may no longer send from it');

      // Moved to another host: this host's desired state no longer has it; no guest here may use it.
      await plane.converge(desired(null));
      assert.equal(await ping(g2.ns, '10.77.0.1', fip), false, 'g2 may no longer send from it either');
      assert.equal(await ping(g2.ns, '10.77.0.1'), true, 'g2’s bridge address still works');
    } finally {
      for (const ns of namespaces) await runCommand('ip', ['netns', 'del', ns]);
      await rm(stateDir, { recursive: true, force: true });
    }
  },
);
