/**
 * The nftables ruleset that isolates tenants on a host bridge, rendered as one `nft -f` transaction that
 * replaces the previous one atomically. In the `bridge` family, a frame from a guest port may leave only
 * through ports of the same tenant (or up to the host: the gateway); each port may only use its own MAC
 * and IPv4 address (anti-spoofing, ARP included, checked in prerouting so it covers traffic to the host). Packets the host itself sends into the bridge (routed
 * through the gateway) leave through the `output` hook: there a packet from a guest address may only reach
 * a port of that guest's tenant, so no tenant reaches another by routing through the host either.
 */
export interface IsolationPort {
  /** Host-side interface of the guest (its tap). */
  ifname: string;
  /** Tenant (project) the server belongs to. */
  tenant: string;
  mac?: string | null;
  /** The guest's address with or without prefix; null/absent: no IP anti-spoofing. */
  ipv4?: string | null;
}

const quote = (value: string) => JSON.stringify(value);

export function isolationTableName(bridge: string): string {
  return `vmcloud_${bridge.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

export function renderIsolationRuleset(bridge: string, ports: IsolationPort[]): string {
  const table = isolationTableName(bridge);
  const sorted = [...ports].sort((a, b) => a.ifname.localeCompare(b.ifname));
  const tenants = [...new Set(sorted.map((port) => port.tenant))].sort();
  const ipOf = (port: IsolationPort) => port.ipv4?.split('/')[0] ?? null;
  const elements = (values: string[], quoted: boolean) =>
    values.length > 0 ? ` elements = { ${values.map((value) => (quoted ? quote(value) : value)).join(', ')} };` : '';
  const ips = (members: IsolationPort[]) => members.map(ipOf).filter((ip): ip is string => ip !== null);
  const lines: string[] = [
    `table bridge ${table}`,
    `delete table bridge ${table}`,
    `table bridge ${table} {`,
    `  set guest_ports { type ifname;${elements(sorted.map((port) => port.ifname), true)} }`,
    `  set guest_ips { type ipv4_addr;${elements(ips(sorted), false)} }`,
  ];
  tenants.forEach((tenant, i) => {
    const members = sorted.filter((port) => port.tenant === tenant);
    lines.push(`  # tenant ${tenant.replace(/[\r\n]/g, ' ')}`);
    lines.push(`  set tenant_${i} { type ifname;${elements(members.map((port) => port.ifname), true)} }`);
    lines.push(`  set tenant_${i}_ips { type ipv4_addr;${elements(ips(members), false)} }`);
    lines.push(`  chain from_tenant_${i} {`, `    oifname @guest_ports oifname != @tenant_${i} counter drop`, '  }');
    lines.push(`  chain to_tenant_${i} {`, `    ip saddr @guest_ips ip saddr != @tenant_${i}_ips counter drop`, '  }');
  });
  // Anti-spoofing in prerouting: it must also cover frames to the host itself (input), not only forwarded ones.
  lines.push('  chain prerouting {', '    type filter hook prerouting priority 0; policy accept;');
  for (const port of sorted) {
    if (port.mac) lines.push(`    iifname ${quote(port.ifname)} ether saddr != ${port.mac} counter drop`);
    const ip = ipOf(port);
    if (ip) {
      lines.push(`    iifname ${quote(port.ifname)} ip saddr != ${ip} counter drop`);
      lines.push(`    iifname ${quote(port.ifname)} arp saddr ip != ${ip} counter drop`);
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
