/**
 * Host networking for real, inside network namespaces this test creates and deletes: a "host" namespace
 * with the bridge, and three "guest" namespaces plugged into it through veth pairs whose host ends are
 * named like the servers' taps. Tenant A owns guests 1 and 2, tenant B guest 3. Needs root, ip and nft.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHostNetwork, runCommand } from './host-network.ts';
import { createInstanceNetwork } from './instance-network.ts';
import { isolationTableName, type IsolationPort } from './isolation-rules.ts';
import { macAddress, tapName } from './names.ts';

async function skipReason(): Promise<string | false> {
  if (process.getuid?.() !== 0) return 'not root: network namespace tests skipped';
  for (const [command, args] of [
    ['ip', ['netns', 'list']],
    ['nft', ['--version']],
    ['busybox', ['ping', '--help']],
  ] as const) {
    const result = await runCommand(command, [...args]).catch(() => null);
    if (!result || (result.code !== 0 && command !== 'busybox'))
      return `${command} is not usable here: network namespace tests skipped`;
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

test('bridge, taps and tenant isolation with nftables', { skip, timeout: 60_000 }, async () => {
  const tag = randomBytes(3).toString('hex');
  const hostNs = `vmct-${tag}-h`;
  const guests = [
    { ns: `vmct-${tag}-g1`, serverId: `srv_${tag}_1`, ip: '10.77.0.2', tenant: 'prj_a' },
    { ns: `vmct-${tag}-g2`, serverId: `srv_${tag}_2`, ip: '10.77.0.3', tenant: 'prj_a' },
    { ns: `vmct-${tag}-g3`, serverId: `srv_${tag}_3`, ip: '10.77.0.4', tenant: 'prj_b' },
  ];
  const stateDir = await mkdtemp(join(tmpdir(), 'vmc-net-'));
  const namespaces = [hostNs, ...guests.map((guest) => guest.ns)];
  try {
    for (const ns of namespaces) await sh('ip', ['netns', 'add', ns]);
    const host = createHostNetwork({ bridge: 'vmcbr0', gatewayCidr: '10.77.0.1/24', netns: hostNs });
    await host.ensureBridge();
    await host.ensureBridge(); // idempotent

    // A real tap for a QEMU server, through the driver-facing hook.
    const network = createInstanceNetwork<{ serverId: string; ipv4: string | null }>({
      host,
      stateFile: join(stateDir, 'ports.json'),
      tenantOf: () => 'prj_c',
    });
    const tap = await network.attach({ serverId: `srv_${tag}_tap`, ipv4: '10.77.0.9/24' });
    assert.equal(tap.tapName, tapName(`srv_${tag}_tap`));
    assert.match(await sh('ip', ['-n', hostNs, '-d', 'link', 'show', 'dev', tap.tapName]), /master vmcbr0/);
    assert.match(await sh('ip', ['-n', hostNs, '-d', 'link', 'show', 'dev', tap.tapName]), /tun type tap/);

    // Guests: veth pairs, host end named like the server's tap.
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
      await sh('ip', ['-n', hostNs, 'link', 'set', hostEnd, 'master', 'vmcbr0', 'up']);
      await sh('ip', ['-n', guest.ns, 'link', 'set', 'eth0', 'address', macAddress(guest.serverId)]);
      await sh('ip', ['-n', guest.ns, 'addr', 'add', `${guest.ip}/24`, 'dev', 'eth0']);
      await sh('ip', ['-n', guest.ns, 'link', 'set', 'eth0', 'up']);
      await sh('ip', ['-n', guest.ns, 'link', 'set', 'lo', 'up']);
    }
    const [g1, g2, g3] = guests;
    assert.equal(await ping(g1.ns, g3.ip), true, 'before the rules, tenants see each other');

    const ports: IsolationPort[] = guests.map((guest) => ({
      ifname: tapName(guest.serverId),
      tenant: guest.tenant,
      mac: macAddress(guest.serverId),
      ipv4: `${guest.ip}/24`,
    }));
    await host.applyIsolation(ports);
    await host.applyIsolation(ports); // atomic replace, idempotent

    assert.equal(await ping(g1.ns, g2.ip), true, 'same tenant: reachable');
    assert.equal(await ping(g2.ns, g1.ip), true, 'same tenant: reachable back');
    assert.equal(await ping(g1.ns, g3.ip), false, 'tenant A cannot reach tenant B');
    assert.equal(await ping(g3.ns, g1.ip), false, 'tenant B cannot reach tenant A');
    assert.equal(await ping(g3.ns, '10.77.0.1'), true, 'every guest reaches its gateway');

    // Spoofing: guest 3 takes another address; traffic from it is dropped even towards the gateway.
    await sh('ip', ['-n', g3.ns, 'addr', 'add', '10.77.0.50/24', 'dev', 'eth0']);
    assert.equal(await ping(g3.ns, '10.77.0.1', '10.77.0.50'), false, 'a spoofed source address is dropped');

    // Routing through the host back into the bridge does not cross tenants either.
    await sh('ip', ['netns', 'exec', hostNs, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    await sh('ip', ['-n', g3.ns, 'route', 'add', `${g1.ip}/32`, 'via', '10.77.0.1']);
    assert.equal(await ping(g3.ns, g1.ip), false);
    const table = isolationTableName('vmcbr0');
    const toTenantA = await sh('ip', ['netns', 'exec', hostNs, 'nft', 'list', 'chain', 'bridge', table, 'to_tenant_0']);
    assert.match(toTenantA, /counter packets [1-9]/, 'the routed packet was dropped on its way out to tenant A');

    await network.detach(`srv_${tag}_tap`);
    assert.notEqual(
      (await runCommand('ip', ['-n', hostNs, 'link', 'show', 'dev', tap.tapName])).code,
      0,
      'tap removed',
    );
  } finally {
    for (const ns of namespaces) await runCommand('ip', ['netns', 'del', ns]);
    await rm(stateDir, { recursive: true, force: true });
  }
});
