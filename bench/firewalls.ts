/**
 * `node bench/firewalls.ts [--servers 1000] [--json]`: the firewalls of one host with N servers (default
 * 1 000), each with two firewalls (an SSH rule from two CIDRs, web ports from anywhere over IPv4 and IPv6,
 * an ICMP rule; 4 rules, 7 nft rules with both families), through the agent's real firewall data plane:
 *   1. render: the whole table's text (pure), best of 5;
 *   2. full apply: `nft -f` of the whole table in a fresh network namespace (as at an agent start);
 *   3. converged pass: the table read back (`nft -j list table`), its shape compared, counters parsed;
 *   4. incremental: one server's rules changed, only its chain rewritten (the other chains' counters kept).
 * Needs root and nft (it creates and deletes its own namespace; no packet is sent). Figures go to
 * docs/benchmarks.md.
 */
import { randomBytes } from 'node:crypto';
import type { DesiredServerFirewall } from '../src/contract/index.ts';
import { createFirewallDataPlane, renderFirewallRuleset, runCommand, tapName } from '../src/network/index.ts';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const serverCount = arg('--servers', 1000);
const json = args.includes('--json');

const desired = (version: number, changed: number | null = null): DesiredServerFirewall[] =>
  Array.from({ length: serverCount }, (_, i) => ({
    serverId: `srv_bench${String(i).padStart(6, '0')}`,
    firewalls: [
      {
        id: 'fw_benchssh',
        version: 1,
        rules: [{ direction: 'in', protocol: 'tcp', ports: [22, 22], ips: ['203.0.113.0/24', '2001:db8:ff::/48'] }],
      },
      {
        id: `fw_benchweb${i % 10}`,
        version: i === changed ? version : 1,
        rules: [
          { direction: 'in', protocol: 'tcp', ports: [80, 80], ips: ['0.0.0.0/0', '::/0'] },
          {
            direction: 'in',
            protocol: 'tcp',
            ports: i === changed ? [8443, 8443] : [443, 443],
            ips: ['0.0.0.0/0', '::/0'],
          },
          { direction: 'in', protocol: 'icmp', ports: null, ips: ['0.0.0.0/0'] },
        ],
      },
    ],
  }));

const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;
const time = async (body: () => Promise<unknown> | unknown) => {
  const start = process.hrtime.bigint();
  await body();
  return ms(start);
};

if (process.getuid?.() !== 0) {
  console.error('needs root (it makes a network namespace and loads nftables into it)');
  process.exit(2);
}
const ns = `vmcb-${randomBytes(3).toString('hex')}`;
const created = await runCommand('ip', ['netns', 'add', ns]);
if (created.code !== 0) throw new Error(created.stderr);
try {
  const ports = desired(1).map((s) => ({ ifname: tapName(s.serverId), firewalls: s.firewalls }));
  let renderMs = Infinity;
  let text = '';
  for (let i = 0; i < 5; i++)
    renderMs = Math.min(renderMs, await time(() => (text = renderFirewallRuleset(ports, 'mark'))));

  const plane = createFirewallDataPlane({ netns: ns });
  const mode = await plane.stateMatch();
  const fullMs = await time(() => plane.converge(desired(1)));
  if (plane.lastApply() !== 'full') throw new Error(`expected a full apply, got ${plane.lastApply()}`);
  const nftOnly = await time(async () => {
    const r = await runCommand('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], text);
    if (r.code !== 0) throw new Error(r.stderr);
  });
  // The raw `nft -f` replaced the table under the data plane: one pass repairs it (drift), then it is steady.
  await plane.converge(desired(1));
  const steadyMs = await time(() => plane.converge(desired(1)));
  if (plane.lastApply() !== 'none') throw new Error(`expected nothing to apply, got ${plane.lastApply()}`);
  const updateMs = await time(() => plane.converge(desired(2, Math.floor(serverCount / 2))));
  if (plane.lastApply() !== 'update') throw new Error(`expected an update, got ${plane.lastApply()}`);

  const figures = {
    servers: serverCount,
    nft_rules: text.split('\n').filter((line) => line.includes(' accept') || line.includes(' drop')).length,
    ruleset_bytes: text.length,
    state_match: mode,
    render_ms: Number(renderMs.toFixed(1)),
    nft_f_whole_table_ms: Number(nftOnly.toFixed(1)),
    first_pass_full_apply_ms: Number(fullMs.toFixed(1)),
    converged_pass_ms: Number(steadyMs.toFixed(1)),
    one_server_update_pass_ms: Number(updateMs.toFixed(1)),
  };
  if (json) console.log(JSON.stringify(figures));
  else for (const [key, value] of Object.entries(figures)) console.log(`${key.padEnd(28)} ${value}`);
} finally {
  await runCommand('ip', ['netns', 'del', ns]);
}
