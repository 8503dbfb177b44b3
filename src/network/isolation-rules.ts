/**
 * The nftables ruleset that isolates tenants on a host bridge, rendered as one `nft -f` transaction that
 * replaces the previous one atomically. In the `bridge` family, a frame from a guest port may leave only
 * through ports of the same tenant (or up to the host: the gateway); each port may only use its own MAC
 * and its own source addresses (anti-spoofing, ARP included, checked in prerouting so it covers traffic to
 * the host): its bridge address, the floating and primary IPv4 addresses routed to it, and, for IPv6, its
 * routed /64s plus link-local and the unspecified address (neighbour discovery, DAD). Packets the host itself
 * sends into the bridge (routed through the gateway) leave through the `output` hook: there a packet from a
 * guest address may only reach a port of that guest's tenant, so no tenant reaches another by routing
 * through the host either.
 */
export interface IsolationPort {
  /** Host-side interface of the guest (its tap). */
  ifname: string;
  /** Tenant (project) the server belongs to. */
  tenant: string;
  mac?: string | null;
  /** The guest's address with or without prefix; null/absent: no IP anti-spoofing. */
  ipv4?: string | null;
  /** Further IPv4 addresses routed to the guest (floating and primary IPs), allowed as sources. */
  routedIpv4?: readonly string[];
  /** IPv6 prefixes routed to the guest (its /64s); with IP anti-spoofing, other global IPv6 sources are dropped. */
  ipv6Prefixes?: readonly string[];
}

const quote = (value: string) => JSON.stringify(value);
const ipv4Pattern = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const ipv6PrefixPattern = /^[0-9a-f:]+\/(\d{1,3})$/i;

/** IPv6 sources every guest may use: link-local (neighbour discovery, router solicitations) and `::` (DAD). */
export const ipv6LocalSources = ['::', 'fe80::/10'] as const;

export function isolationTableName(bridge: string): string {
  return `vmcloud_${bridge.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** The IPv4 source addresses of a port (bridge address first, then routed ones), or [] without anti-spoofing. */
export function ipv4SourcesOf(port: IsolationPort): string[] {
  const own = port.ipv4?.split('/')[0] ?? null;
  if (!own) return [];
  return [...new Set([own, ...(port.routedIpv4 ?? [])])].filter((ip) => ipv4Pattern.test(ip));
}

/** The routed IPv6 prefixes of a port (refusing anything that is not `address/prefix`). */
export function ipv6SourcesOf(port: IsolationPort): string[] {
  return [...new Set(port.ipv6Prefixes ?? [])].filter((p) => ipv6PrefixPattern.test(p) && p.length <= 43).sort();
}

const element = (values: string[], quoted: boolean) =>
  values.length > 0 ? ` elements = { ${values.map((value) => (quoted ? quote(value) : value)).join(', ')} };` : '';

export function renderIsolationRuleset(bridge: string, ports: IsolationPort[]): string {
  const table = isolationTableName(bridge);
  const sorted = [...ports].sort((a, b) => a.ifname.localeCompare(b.ifname));
  const tenants = [...new Set(sorted.map((port) => port.tenant))].sort();
  const ips = (members: IsolationPort[]) => [...new Set(members.flatMap(ipv4SourcesOf))].sort();
  const nets6 = (members: IsolationPort[]) => [...new Set(members.flatMap(ipv6SourcesOf))].sort();
  const lines: string[] = [
    `table bridge ${table}`,
    `delete table bridge ${table}`,
    `table bridge ${table} {`,
    `  set guest_ports { type ifname;${element(
      sorted.map((port) => port.ifname),
      true,
    )} }`,
    `  set guest_ips { type ipv4_addr;${element(ips(sorted), false)} }`,
    `  set guest_nets6 { type ipv6_addr; flags interval;${element(nets6(sorted), false)} }`,
  ];
  tenants.forEach((tenant, i) => {
    const members = sorted.filter((port) => port.tenant === tenant);
    lines.push(`  # tenant ${tenant.replace(/[\r\n]/g, ' ')}`);
    lines.push(
      `  set tenant_${i} { type ifname;${element(
        members.map((port) => port.ifname),
        true,
      )} }`,
    );
    lines.push(`  set tenant_${i}_ips { type ipv4_addr;${element(ips(members), false)} }`);
    lines.push(`  set tenant_${i}_nets6 { type ipv6_addr; flags interval;${element(nets6(members), false)} }`);
    lines.push(`  chain from_tenant_${i} {`, `    oifname @guest_ports oifname != @tenant_${i} counter drop`, '  }');
    lines.push(
      `  chain to_tenant_${i} {`,
      `    ip saddr @guest_ips ip saddr != @tenant_${i}_ips counter drop`,
      `    ip6 saddr @guest_nets6 ip6 saddr != @tenant_${i}_nets6 counter drop`,
      '  }',
    );
  });
  // Anti-spoofing in prerouting: it must also cover frames to the host itself (input), not only forwarded ones.
  lines.push('  chain prerouting {', '    type filter hook prerouting priority 0; policy accept;');
  for (const port of sorted) {
    if (port.mac) lines.push(`    iifname ${quote(port.ifname)} ether saddr != ${port.mac} counter drop`);
    const sources = ipv4SourcesOf(port);
    if (sources.length > 0) {
      const set = sources.length === 1 ? sources[0] : `{ ${sources.join(', ')} }`;
      lines.push(`    iifname ${quote(port.ifname)} ip saddr != ${set} counter drop`);
      lines.push(`    iifname ${quote(port.ifname)} arp saddr ip != ${set} counter drop`);
      const sources6 = [...ipv6LocalSources, ...ipv6SourcesOf(port)];
      lines.push(`    iifname ${quote(port.ifname)} ip6 saddr != { ${sources6.join(', ')} } counter drop`);
    }
  }
  lines.push('  }', '  chain forward {', '    type filter hook forward priority 0; policy accept;');
  const vmap = (direction: 'iifname' | 'oifname', chain: 'from_tenant' | 'to_tenant') =>
    `    ${direction} vmap { ${sorted.map((port) => `${quote(port.ifname)} : jump ${chain}_${tenants.indexOf(port.tenant)}`).join(', ')} }`;
  if (sorted.length > 0) lines.push(vmap('iifname', 'from_tenant'));
  lines.push('  }', '  chain output {', '    type filter hook output priority 0; policy accept;');
  if (sorted.length > 0) lines.push(vmap('oifname', 'to_tenant'));
  lines.push('  }', '}');
  return lines.join('\n') + '\n';
}
