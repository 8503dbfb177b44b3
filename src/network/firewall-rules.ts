/**
 * Cloud firewalls on a host, compiled to nftables text (pure). One table `bridge vmcloud_fw`:
 *   - per server tap with a firewall, a chain `in_<tap>` for what reaches the guest, and — only when one
 *     of its firewalls has `out` rules — a chain `out_<tap>` for what the guest sends;
 *   - the maps `in_ports` / `out_ports` (tap name → jump to its chain), used by the bridge's `forward`
 *     hook (guest to guest), `output` (routed by the host to a guest: the public bridge's gateway) and
 *     `input` (a guest to the host and, routed, beyond);
 *   - each chain: replies accepted (established/related), ARP and IPv6 neighbour discovery accepted, the
 *     rules of every firewall of the server (a union: all accept), then a counted drop;
 *   - one named counter per rule, `<tap>_<firewall id>_v<version>_<index>` (both address families of a
 *     rule count into it), read back with `nft -j list table`.
 *
 * Stateful matching, two ways (the host picks one, firewall-data-plane.ts):
 *   - `ct`: `ct state established,related` in the bridge family (needs nf_conntrack_bridge, Linux ≥ 5.3);
 *   - `mark`: where the bridge family has no conntrack, br_netfilter gives bridged IP packets to the inet
 *     hooks; a small `inet vmcloud_fw_state` table marks established/related packets with one bit of the
 *     packet mark (0x10000000) before the bridge chains run, and the chains accept on that bit.
 *
 * `renderFirewallRuleset` replaces the whole table in one `nft -f` transaction (first pass, drift);
 * `renderFirewallUpdate` changes only the ports that differ (one server's rules changed): other chains and
 * their counters are left alone.
 */
import type { DesiredFirewallRule } from '../contract/index.ts';

export const firewallTable = 'vmcloud_fw';
export const firewallStateTable = 'vmcloud_fw_state';
/** The packet-mark bit that says "established or related" in `mark` mode. */
export const establishedMark = 0x10000000;

export type StateMatch = 'ct' | 'mark';

export interface PortFirewall {
  id: string;
  version: number;
  rules: DesiredFirewallRule[];
}

export interface FirewallPort {
  /** The server's tap on the public bridge. */
  ifname: string;
  firewalls: PortFirewall[];
}

const ifnameOk = (name: string) => /^[A-Za-z0-9_]{1,15}$/.test(name);
const idOk = (id: string) => /^[A-Za-z0-9_]{1,64}$/.test(id);
const cidr4 = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/;
const cidr6 = /^[0-9a-f:]+\/\d{1,3}$/;
const protocols = new Set(['tcp', 'udp', 'icmp', 'icmpv6', 'esp', 'gre']);

export const counterName = (ifname: string, firewall: { id: string; version: number }, index: number) =>
  `${ifname}_${firewall.id}_v${firewall.version}_${index}`;
export const dropCounterName = (ifname: string, direction: 'in' | 'out') => `${ifname}_drop_${direction}`;
const chainName = (ifname: string, direction: 'in' | 'out') => `${direction}_${ifname}`;

function check(port: FirewallPort) {
  if (!ifnameOk(port.ifname)) throw new RangeError(`bad interface name ${port.ifname}`);
  for (const firewall of port.firewalls) {
    if (!idOk(firewall.id) || !Number.isInteger(firewall.version) || firewall.version < 0)
      throw new RangeError(`bad firewall ${firewall.id} v${firewall.version}`);
    for (const rule of firewall.rules) {
      if (!protocols.has(rule.protocol)) throw new RangeError(`bad protocol ${rule.protocol}`);
      if (rule.direction !== 'in' && rule.direction !== 'out') throw new RangeError(`bad direction ${rule.direction}`);
      for (const ip of rule.ips) if (!cidr4.test(ip) && !cidr6.test(ip)) throw new RangeError(`bad CIDR ${ip}`);
      if (rule.ports) {
        const [from, to] = rule.ports;
        const ok = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535;
        if (!ok(from) || !ok(to) || from > to || (rule.protocol !== 'tcp' && rule.protocol !== 'udp'))
          throw new RangeError(`bad ports ${from}-${to} for ${rule.protocol}`);
      }
    }
  }
}

/** `ip saddr { … } tcp dport 22` and/or its IPv6 twin: the match parts of one rule, one per address family. */
export function ruleMatches(rule: DesiredFirewallRule): string[] {
  const side = rule.direction === 'in' ? 'saddr' : 'daddr';
  const l4 = (() => {
    const ports = rule.ports ? (rule.ports[0] === rule.ports[1] ? `${rule.ports[0]}` : rule.ports.join('-')) : null;
    switch (rule.protocol) {
      case 'tcp':
      case 'udp':
        return ports ? `${rule.protocol} dport ${ports}` : `meta l4proto ${rule.protocol}`;
      case 'icmpv6':
        return 'meta l4proto ipv6-icmp';
      default:
        return `meta l4proto ${rule.protocol}`;
    }
  })();
  const v4 = rule.ips.filter((ip) => cidr4.test(ip));
  const v6 = rule.ips.filter((ip) => cidr6.test(ip));
  const out: string[] = [];
  if (v4.length > 0 && rule.protocol !== 'icmpv6') out.push(`ip ${side} { ${v4.join(', ')} } ${l4}`);
  if (v6.length > 0 && rule.protocol !== 'icmp') out.push(`ip6 ${side} { ${v6.join(', ')} } ${l4}`);
  return out;
}

const stateAccept = (state: StateMatch) =>
  state === 'ct'
    ? 'ct state established,related accept'
    : `meta mark & 0x${establishedMark.toString(16)} == 0x${establishedMark.toString(16)} accept`;

const hasOut = (port: FirewallPort) => port.firewalls.some((f) => f.rules.some((r) => r.direction === 'out'));

/** The counters one port needs (names), in order. */
export function portCounters(port: FirewallPort): string[] {
  const names = [dropCounterName(port.ifname, 'in')];
  if (hasOut(port)) names.push(dropCounterName(port.ifname, 'out'));
  for (const firewall of port.firewalls)
    firewall.rules.forEach((_, i) => names.push(counterName(port.ifname, firewall, i)));
  return names;
}

/** The rule lines of a port's chain for one direction (without the chain braces). */
export function chainRules(port: FirewallPort, direction: 'in' | 'out', state: StateMatch): string[] {
  const lines = [
    stateAccept(state),
    'ether type arp accept',
    direction === 'in'
      ? 'icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert, nd-redirect } accept'
      : 'icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } accept',
  ];
  for (const firewall of port.firewalls)
    firewall.rules.forEach((rule, i) => {
      if (rule.direction !== direction) return;
      for (const match of ruleMatches(rule))
        lines.push(`${match} counter name ${counterName(port.ifname, firewall, i)} accept`);
    });
  lines.push(`counter name ${dropCounterName(port.ifname, direction)} drop`);
  return lines;
}

const sortPorts = (ports: readonly FirewallPort[]) =>
  [...ports].filter((p) => p.firewalls.length > 0).sort((a, b) => a.ifname.localeCompare(b.ifname));

/** The state-marking table of `mark` mode (replaced as a whole; it never changes). */
export function renderStateTable(): string {
  const bit = `0x${establishedMark.toString(16)}`;
  const clear = `0x${(~establishedMark >>> 0).toString(16)}`;
  const body = [
    `    meta mark set meta mark & ${clear}`,
    `    ct state established,related meta mark set meta mark | ${bit}`,
  ];
  return [
    `table inet ${firewallStateTable}`,
    `delete table inet ${firewallStateTable}`,
    `table inet ${firewallStateTable} {`,
    '  chain prerouting {',
    '    type filter hook prerouting priority -150; policy accept;',
    ...body,
    '  }',
    '  chain output {',
    '    type filter hook output priority -150; policy accept;',
    ...body,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** The whole firewall table for these ports, replacing whatever table there was (one transaction). */
export function renderFirewallRuleset(ports: readonly FirewallPort[], state: StateMatch): string {
  const sorted = sortPorts(ports);
  sorted.forEach(check);
  const element = (port: FirewallPort, direction: 'in' | 'out') =>
    `"${port.ifname}" : jump ${chainName(port.ifname, direction)}`;
  const map = (name: string, elements: string[]) =>
    `  map ${name} { type ifname : verdict;${elements.length > 0 ? ` elements = { ${elements.join(', ')} };` : ''} }`;
  const lines = [
    `table bridge ${firewallTable}`,
    `delete table bridge ${firewallTable}`,
    `table bridge ${firewallTable} {`,
  ];
  for (const port of sorted) for (const name of portCounters(port)) lines.push(`  counter ${name} {}`);
  lines.push(
    map(
      'in_ports',
      sorted.map((p) => element(p, 'in')),
    ),
  );
  lines.push(
    map(
      'out_ports',
      sorted.filter(hasOut).map((p) => element(p, 'out')),
    ),
  );
  for (const port of sorted)
    for (const direction of hasOut(port) ? (['in', 'out'] as const) : (['in'] as const)) {
      lines.push(`  chain ${chainName(port.ifname, direction)} {`);
      for (const rule of chainRules(port, direction, state)) lines.push(`    ${rule}`);
      lines.push('  }');
    }
  lines.push(
    '  chain forward {',
    '    type filter hook forward priority 0; policy accept;',
    '    oifname vmap @in_ports',
    '    iifname vmap @out_ports',
    '  }',
    '  chain output {',
    '    type filter hook output priority 0; policy accept;',
    '    oifname vmap @in_ports',
    '  }',
    '  chain input {',
    '    type filter hook input priority 0; policy accept;',
    '    iifname vmap @out_ports',
    '  }',
    '}',
    '',
  );
  return lines.join('\n');
}

const samePort = (a: FirewallPort | undefined, b: FirewallPort | undefined) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The commands that take the table from `previous` (what the last apply put there, verified unchanged)
 * to `next`, touching only the ports that differ; an empty string when nothing does. Counters of a
 * firewall version the port keeps are kept (their values too).
 */
export function renderFirewallUpdate(
  previous: readonly FirewallPort[],
  next: readonly FirewallPort[],
  state: StateMatch,
): string {
  const before = new Map(sortPorts(previous).map((p) => [p.ifname, p]));
  const after = new Map(sortPorts(next).map((p) => [p.ifname, p]));
  after.forEach(check);
  const t = `bridge ${firewallTable}`;
  const lines: string[] = [];
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  for (const ifname of names) {
    const old = before.get(ifname);
    const now = after.get(ifname);
    if (samePort(old, now)) continue;
    const oldCounters = new Set(old ? portCounters(old) : []);
    const newCounters = now ? portCounters(now) : [];
    for (const name of newCounters) if (!oldCounters.has(name)) lines.push(`add counter ${t} ${name}`);
    for (const direction of ['in', 'out'] as const) {
      const had = old !== undefined && (direction === 'in' || hasOut(old));
      const has = now !== undefined && (direction === 'in' || hasOut(now));
      const chain = chainName(ifname, direction);
      const mapName = `${direction}_ports`;
      if (has) {
        lines.push(`add chain ${t} ${chain}`, `flush chain ${t} ${chain}`);
        for (const rule of chainRules(now, direction, state)) lines.push(`add rule ${t} ${chain} ${rule}`);
        if (!had) lines.push(`add element ${t} ${mapName} { "${ifname}" : jump ${chain} }`);
      } else if (had) {
        lines.push(
          `delete element ${t} ${mapName} { "${ifname}" }`,
          `flush chain ${t} ${chain}`,
          `delete chain ${t} ${chain}`,
        );
      }
    }
    const keep = new Set(newCounters);
    for (const name of oldCounters) if (!keep.has(name)) lines.push(`delete counter ${t} ${name}`);
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

/** `nft -j list table bridge vmcloud_fw` → counter name → packets and bytes. */
export function parseFirewallCounters(json: string): Map<string, { packets: number; bytes: number }> {
  const out = new Map<string, { packets: number; bytes: number }>();
  const doc = JSON.parse(json) as { nftables?: Array<Record<string, unknown>> };
  for (const item of doc.nftables ?? []) {
    const counter = item.counter as { name?: string; packets?: number; bytes?: number } | undefined;
    if (counter?.name !== undefined)
      out.set(counter.name, { packets: Number(counter.packets ?? 0), bytes: Number(counter.bytes ?? 0) });
  }
  return out;
}

/**
 * The table's shape without its changing numbers (counter values, the metainfo): equal texts mean nobody
 * changed the table since it was last read. Used to notice drift (a rule or chain removed by hand).
 */
export function firewallFingerprint(json: string): string {
  const doc = JSON.parse(json) as { nftables?: Array<Record<string, unknown>> };
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, v] of Object.entries(value)) if (key !== 'packets' && key !== 'bytes') out[key] = strip(v);
      return out;
    }
    return value;
  };
  return JSON.stringify((doc.nftables ?? []).filter((item) => !('metainfo' in item)).map(strip));
}
