/**
 * Firewalls for real, in network namespaces this test creates and deletes: a "host" namespace with a
 * bridge (the public bridge's role, carrying a gateway address) and three "servers" plugged into it
 * through veth pairs whose host ends carry the servers' tap names. The server `web` gets a firewall
 * allowing tcp/22 from `admin`'s address only, applied by the agent's firewall data plane. Allowed
 * traffic passes, the rest is dropped and counted, an established connection outlives a rule change,
 * a hand-deleted chain comes back, and removing the firewall restores the default (everything passes).
 * No packet leaves these namespaces. Needs root, ip, nft and busybox (ping, nc).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import type { DesiredFirewallRule, DesiredServerFirewall } from '../contract/index.ts';
import { runCommand } from './host-network.ts';
import { tapName } from './names.ts';
import { createFirewallDataPlane } from './firewall-data-plane.ts';

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
const ping = async (ns: string, address: string) =>
  (await runCommand('ip', ['netns', 'exec', ns, 'busybox', 'ping', '-c', '1', '-W', '1', address])).code === 0;

/** A TCP listener in `ns` answering `reply` to each connection (busybox nc, one connection at a time). */
function listen(ns: string, port: number, reply: string, program = 'echo') {
  const loop = `while true; do busybox nc -l -p ${port} -e ${program} ${reply}; done`;
  const child = spawn('ip', ['netns', 'exec', ns, 'busybox', 'sh', '-c', loop], {
    stdio: 'ignore',
    detached: true,
  });
  return { stop: () => child.pid && process.kill(-child.pid, 'SIGKILL') };
}
/** What a TCP connection from `ns` to address:port reads (empty: nothing answered within 2 s). */
const connect = async (ns: string, address: string, port: number) =>
  (
    await runCommand('ip', ['netns', 'exec', ns, 'busybox', 'timeout', '2', 'busybox', 'nc', address, String(port)])
  ).stdout.trim();

test(
  'firewall on a tap: tcp/22 from one CIDR only, counters, established traffic, drift, removal',
  { skip, timeout: 120_000 },
  async () => {
    const tag = randomBytes(3).toString('hex');
    const hostNs = `vmct-${tag}-fwh`;
    const servers = {
      web: { ns: `vmct-${tag}-web`, id: `srv_${tag}web`, ip: '10.88.0.10' },
      admin: { ns: `vmct-${tag}-adm`, id: `srv_${tag}adm`, ip: '10.88.0.20' },
      other: { ns: `vmct-${tag}-oth`, id: `srv_${tag}oth`, ip: '10.88.0.30' },
    };
    const namespaces = [hostNs, ...Object.values(servers).map((s) => s.ns)];
    const listeners: Array<{ stop: () => unknown }> = [];
    try {
      for (const ns of namespaces) await sh('ip', ['netns', 'add', ns]);
      await sh('ip', ['-n', hostNs, 'link', 'add', 'vmcbr0', 'type', 'bridge']);
      await sh('ip', ['-n', hostNs, 'addr', 'add', '10.88.0.1/24', 'dev', 'vmcbr0']);
      await sh('ip', ['-n', hostNs, 'link', 'set', 'vmcbr0', 'up']);
      for (const s of Object.values(servers)) {
        const tap = tapName(s.id);
        await sh('ip', ['link', 'add', tap, 'netns', hostNs, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', s.ns]);
        await sh('ip', ['-n', hostNs, 'link', 'set', tap, 'master', 'vmcbr0', 'up']);
        await sh('ip', ['-n', s.ns, 'addr', 'add', `${s.ip}/24`, 'dev', 'eth0']);
        await sh('ip', ['-n', s.ns, 'link', 'set', 'eth0', 'up']);
        await sh('ip', ['-n', s.ns, 'link', 'set', 'lo', 'up']);
      }
      listeners.push(listen(servers.web.ns, 22, 'ssh-ok'), listen(servers.web.ns, 80, 'http-ok'));
      // Before any firewall: everything passes.
      const until = async (check: () => Promise<boolean>, what: string) => {
        for (const deadline = Date.now() + 10_000; Date.now() < deadline;) if (await check()) return;
        assert.fail(`timed out: ${what}`);
      };
      await until(async () => (await connect(servers.other.ns, servers.web.ip, 80)) === 'http-ok', 'listeners up');
      assert.equal(await connect(servers.other.ns, servers.web.ip, 22), 'ssh-ok');
      assert.ok(await ping(servers.other.ns, servers.web.ip));

      const plane = createFirewallDataPlane({ netns: hostNs });
      const ssh: DesiredFirewallRule = {
        direction: 'in',
        protocol: 'tcp',
        ports: [22, 22],
        ips: [`${servers.admin.ip}/32`],
      };
      const desired = (rules: DesiredFirewallRule[], version: number): DesiredServerFirewall[] => [
        { serverId: servers.web.id, firewalls: [{ id: 'fw_test', version, rules }] },
      ];
      let observed = await plane.converge(desired([ssh], 1));
      assert.equal(plane.lastApply(), 'full');
      const mode = await plane.stateMatch();
      assert.ok(mode === 'ct' || mode === 'mark');

      // Allowed: tcp/22 from admin. Dropped: tcp/22 from another address, tcp/80 from anyone, ping.
      assert.equal(await connect(servers.admin.ns, servers.web.ip, 22), 'ssh-ok');
      assert.equal(await connect(servers.other.ns, servers.web.ip, 22), '');
      assert.equal(await connect(servers.admin.ns, servers.web.ip, 80), '');
      assert.ok(!(await ping(servers.other.ns, servers.web.ip)));
      // The host itself (routing to a guest through the bridge) is outside too.
      assert.equal(await connect(hostNs, servers.web.ip, 80), '');
      // Outbound is free and its replies come back (established).
      assert.ok(await ping(servers.web.ns, servers.other.ip));

      observed = await plane.converge(desired([ssh], 1));
      assert.equal(plane.lastApply(), 'none', 'converged: nothing applied again');
      const sshCounter = observed[0].firewalls[0].counters[0];
      assert.ok(sshCounter.packets >= 1 && sshCounter.bytes >= 40, `ssh rule counted: ${JSON.stringify(sshCounter)}`);
      const table = JSON.parse(
        await sh('ip', ['netns', 'exec', hostNs, 'nft', '-j', 'list', 'table', 'bridge', 'vmcloud_fw']),
      ) as {
        nftables: Array<{ counter?: { name: string; packets: number } }>;
      };
      const dropped = table.nftables.find((i) => i.counter?.name === `${tapName(servers.web.id)}_drop_in`)!.counter!;
      assert.ok(dropped.packets >= 3, `drops counted: ${dropped.packets}`);

      // A rule change (tcp/80 opened to all) is an update of this port only, and takes effect.
      const http: DesiredFirewallRule = {
        direction: 'in',
        protocol: 'tcp',
        ports: [80, 80],
        ips: ['0.0.0.0/0', '::/0'],
      };
      await plane.converge(desired([ssh, http], 2));
      assert.equal(plane.lastApply(), 'update');
      assert.equal(await connect(servers.other.ns, servers.web.ip, 80), 'http-ok');
      assert.equal(await connect(servers.other.ns, servers.web.ip, 22), '', 'still only admin on 22');

      // An established connection survives a change of the rules that allowed it: an echo session on
      // tcp/8080 opened while a rule allowed it keeps working after the rule is gone; a new one is refused.
      const echo: DesiredFirewallRule = {
        direction: 'in',
        protocol: 'tcp',
        ports: [8080, 8080],
        ips: ['10.88.0.0/24'],
      };
      listeners.push(listen(servers.web.ns, 8080, '', 'cat'));
      await plane.converge(desired([ssh, echo], 3));
      const session = spawn('ip', ['netns', 'exec', servers.admin.ns, 'busybox', 'nc', servers.web.ip, '8080'], {
        stdio: ['pipe', 'pipe', 'ignore'],
      });
      listeners.push({ stop: () => session.kill('SIGKILL') });
      let received = '';
      session.stdout.on('data', (chunk: Buffer) => (received += chunk.toString()));
      const echoed = async (line: string) => {
        session.stdin.write(`${line}\n`);
        for (const deadline = Date.now() + 3000; Date.now() < deadline && !received.includes(line);)
          await new Promise((resolve) => setTimeout(resolve, 50));
        return received.includes(line);
      };
      await until(async () => echoed('first'), 'the echo session answers');
      await plane.converge(desired([ssh], 4));
      assert.equal(plane.lastApply(), 'update');
      assert.ok(await echoed('second'), 'the established session still flows after its rule went');
      assert.equal(await connect(servers.other.ns, servers.web.ip, 80), '', 'tcp/80 closed again');
      session.kill('SIGKILL');

      // Drift: the chain deleted by hand (and its jump) comes back at the next pass.
      await sh('ip', [
        'netns',
        'exec',
        hostNs,
        'nft',
        'flush',
        'chain',
        'bridge',
        'vmcloud_fw',
        `in_${tapName(servers.web.id)}`,
      ]);
      assert.equal(await connect(servers.admin.ns, servers.web.ip, 80), 'http-ok', 'a flushed chain lets all through');
      await plane.converge(desired([ssh], 4));
      assert.equal(plane.lastApply(), 'full', 'drift: the whole table rewritten');
      assert.equal(await connect(servers.admin.ns, servers.web.ip, 80), '');
      assert.equal(await connect(servers.admin.ns, servers.web.ip, 22), 'ssh-ok');

      // Out rules: only DNS to one address allowed out; ping out is dropped, replies to inbound ssh still flow.
      await plane.converge([
        {
          serverId: servers.web.id,
          firewalls: [
            { id: 'fw_test', version: 4, rules: [ssh] },
            {
              id: 'fw_out',
              version: 1,
              rules: [{ direction: 'out', protocol: 'udp', ports: [53, 53], ips: ['10.88.0.1/32'] }],
            },
          ],
        },
      ]);
      assert.ok(!(await ping(servers.web.ns, servers.other.ip)), 'outbound ping dropped once out rules exist');
      assert.equal(await connect(servers.admin.ns, servers.web.ip, 22), 'ssh-ok', 'replies are established');

      // Removing the firewall restores the default: everything passes, the tables are gone.
      await plane.converge([]);
      assert.equal(plane.lastApply(), 'removed');
      assert.equal(await connect(servers.other.ns, servers.web.ip, 22), 'ssh-ok');
      assert.equal(await connect(servers.other.ns, servers.web.ip, 80), 'http-ok');
      assert.ok(await ping(servers.other.ns, servers.web.ip));
      assert.ok(await ping(servers.web.ns, servers.other.ip));
      assert.equal(
        (await runCommand('ip', ['netns', 'exec', hostNs, 'nft', 'list', 'table', 'bridge', 'vmcloud_fw'])).code,
        1,
      );
    } finally {
      for (const l of listeners) {
        try {
          l.stop();
        } catch {
          // already gone
        }
      }
      for (const ns of namespaces) await runCommand('ip', ['netns', 'del', ns]);
    }
  },
);
