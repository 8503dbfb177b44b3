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
 *     rule count into it), read back with `nft -j list table`;
 *   - per chain, two dynamic sets `drops4_<chain>` / `drops6_<chain>` that remember what the chain's drop
 *     dropped: one element per (source, destination, protocol, destination port — 0 for protocols without
 *     ports) with its own counter, added by a rule of its own just before the drop (a full set makes that
 *     rule fail, never the drop), expiring `timeout` after it was added (not refreshed: an element covers
 *     at most that long). The agent's traffic loop turns the elements into flow records with action `drop`
 *     (src/traffic/firewall-drops.ts).
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

/** The drop sets: elements at most per set, and how long one lives after the first packet it counts. */
export interface DropSetOptions {
  size: number;
  timeoutSeconds: number;
}
export const defaultDropSets: DropSetOptions = { size: 1024, timeoutSeconds: 60 };
export const dropSetName = (ifname: string, direction: 'in' | 'out', family: 4 | 6) =>
  `drops${family}_${chainName(ifname, direction)}`;
/** The protocols whose packets have a destination port (`th dport`); others count with port 0. */
const portProtocols = '{ tcp, udp, sctp, dccp, udplite }';

function checkDropSets(drops: DropSetOptions) {
  const ok = (n: number, max: number) => Number.isInteger(n) && n >= 1 && n <= max;
  if (!ok(drops.size, 1_000_000) || !ok(drops.timeoutSeconds, 86_400))
    throw new RangeError(`bad drop sets: size ${drops.size}, timeout ${drops.timeoutSeconds}s`);
}

/** The body of a drop set's declaration (`{ type …; }`), for the table text and for `add set`. */
export function dropSetBody(family: 4 | 6, drops: DropSetOptions = defaultDropSets): string {
  checkDropSets(drops);
  const addr = family === 4 ? 'ipv4_addr' : 'ipv6_addr';
  return `{ type ${addr} . ${addr} . inet_proto . inet_service; size ${drops.size}; flags dynamic,timeout; timeout ${drops.timeoutSeconds}s; counter; }`;
}

/** The rules that put a dropped packet in the chain's drop sets (they carry no verdict). */
export function dropSetRules(ifname: string, direction: 'in' | 'out'): string[] {
  const lines: string[] = [];
  for (const [family, ip] of [
    [4, 'ip'],
    [6, 'ip6'],
  ] as const) {
    const set = `@${dropSetName(ifname, direction, family)}`;
    lines.push(
      `meta l4proto ${portProtocols} add ${set} { ${ip} saddr . ${ip} daddr . meta l4proto . th dport }`,
      `meta l4proto != ${portProtocols} add ${set} { ${ip} saddr . ${ip} daddr . meta l4proto . 0 }`,
    );
  }
  return lines;
}

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
  lines.push(...dropSetRules(port.ifname, direction));
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
export function renderFirewallRuleset(
  ports: readonly FirewallPort[],
  state: StateMatch,
  drops: DropSetOptions = defaultDropSets,
): string {
  const sorted = sortPorts(ports);
  sorted.forEach(check);
  checkDropSets(drops);
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
    for (const direction of hasOut(port) ? (['in', 'out'] as const) : (['in'] as const))
      for (const family of [4, 6] as const)
        lines.push(`  set ${dropSetName(port.ifname, direction, family)} ${dropSetBody(family, drops)}`);
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
  drops: DropSetOptions = defaultDropSets,
): string {
  checkDropSets(drops);
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
        // `add set` keeps a set that is there (and what it remembers).
        for (const family of [4, 6] as const)
          lines.push(`add set ${t} ${dropSetName(ifname, direction, family)} ${dropSetBody(family, drops)}`);
        lines.push(`add chain ${t} ${chain}`, `flush chain ${t} ${chain}`);
        for (const rule of chainRules(now, direction, state)) lines.push(`add rule ${t} ${chain} ${rule}`);
        if (!had) lines.push(`add element ${t} ${mapName} { "${ifname}" : jump ${chain} }`);
      } else if (had) {
        lines.push(
          `delete element ${t} ${mapName} { "${ifname}" }`,
          `flush chain ${t} ${chain}`,
          `delete chain ${t} ${chain}`,
          `delete set ${t} ${dropSetName(ifname, direction, 4)}`,
          `delete set ${t} ${dropSetName(ifname, direction, 6)}`,
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
  // A drop set's elements come and go with the traffic: they are no drift either.
  const withoutElements = (item: Record<string, unknown>) => {
    if (!item.set || typeof item.set !== 'object') return item;
    const { elem: _elem, ...set } = item.set as Record<string, unknown>;
    return { set };
  };
  return JSON.stringify(
    (doc.nftables ?? [])
      .filter((item) => !('metainfo' in item))
      .map(withoutElements)
      .map(strip),
  );
}

/** One element of a drop set: what a chain dropped from one source to one destination port so far. */
export interface FirewallDropElement {
  ifname: string;
  /** `in`: the chain of what reaches the server; `out`: of what it sends. */
  direction: 'in' | 'out';
  src: string;
  dst: string;
  /** IANA protocol number. */
  protocol: number;
  /** 0 for protocols without ports. */
  dstPort: number;
  packets: number;
  bytes: number;
  /** Seconds until the element expires, and the set's timeout (its age is their difference). */
  expiresSeconds: number | null;
  timeoutSeconds: number | null;
}

/** Protocol names nft prints (from /etc/protocols) → numbers; numbers pass through (`nft -p`). */
const protocolNumbers: Record<string, number> = {
  icmp: 1,
  igmp: 2,
  ipip: 4,
  tcp: 6,
  egp: 8,
  udp: 17,
  dccp: 33,
  ipv6: 41,
  gre: 47,
  esp: 50,
  ah: 51,
  'ipv6-icmp': 58,
  icmpv6: 58,
  ospf: 89,
  pim: 103,
  vrrp: 112,
  l2tp: 115,
  sctp: 132,
  udplite: 136,
};

/** `nft -j list table bridge vmcloud_fw` (or `list set`) → the elements of its drop sets. */
export function parseFirewallDrops(json: string): FirewallDropElement[] {
  const out: FirewallDropElement[] = [];
  const doc = JSON.parse(json) as { nftables?: Array<Record<string, unknown>> };
  for (const item of doc.nftables ?? []) {
    const set = item.set as { name?: string; timeout?: number; elem?: unknown[] } | undefined;
    const named = set?.name !== undefined ? /^drops[46]_(in|out)_([A-Za-z0-9_]{1,15})$/.exec(set.name) : null;
    if (!set || !named) continue;
    for (const raw of set.elem ?? []) {
      const wrapped = (raw as { elem?: Record<string, unknown> }).elem;
      const value = (wrapped ? wrapped.val : raw) as { concat?: unknown[] } | undefined;
      const concat = value?.concat;
      if (!Array.isArray(concat) || concat.length !== 4) continue;
      const [src, dst, proto, port] = concat;
      const protocol = typeof proto === 'number' ? proto : protocolNumbers[String(proto)];
      const dstPort = Number(port);
      if (typeof src !== 'string' || typeof dst !== 'string' || protocol === undefined || !Number.isInteger(dstPort))
        continue;
      const counter = wrapped?.counter as { packets?: number; bytes?: number } | undefined;
      out.push({
        ifname: named[2],
        direction: named[1] as 'in' | 'out',
        src,
        dst,
        protocol,
        dstPort,
        packets: Number(counter?.packets ?? 0),
        bytes: Number(counter?.bytes ?? 0),
        expiresSeconds: typeof wrapped?.expires === 'number' ? wrapped.expires : null,
        timeoutSeconds: typeof set.timeout === 'number' ? set.timeout : null,
      });
    }
  }
  return out;
}
