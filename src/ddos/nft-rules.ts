/**
 * The mitigation rules of one attacked target, compiled to nftables text (pure): one table per target — an
 * IPv4 address (`inet vmcloud_ddos_<8 hex>`) or the /64 of an IPv6 address (`inet vmcloud_ddos6_<16 hex>`,
 * targets.ts) — so that installing is one atomic `nft -f` and ending is `delete table`, never touching
 * another address or the firewall's tables. In order:
 *   1. the tenant's custom rules (business/enterprise): allow (accept past the mitigation) or deny (drop);
 *   2. UDP from reflector source ports dropped (amplification: chargen, DNS, NTP, SNMP, CLDAP, SSDP, memcached);
 *   3. SYNs towards the address limited to the tier's rate;
 *   4. per-source limit: any one source above the tier's packets/s is dropped (a dynamic set with timeout);
 *      on IPv6 a "source" is the sender's /64 (one host owns a /64: per-address limits would be no limit).
 * A custom rule whose source is of the other family does not apply to the target (it is left out); its
 * length range is the IP packet length on both (IPv6: `ip6 length` is the payload, so 40 bytes less).
 * Every drop has a named counter, read back into the incident ("counters show drops").
 */
import { reflectorPorts } from './detection.ts';
import { parsePrefix } from '../traffic/index.ts';
import { protectedTarget, type ProtectedTarget } from './targets.ts';

export interface CustomRule {
  action: 'allow' | 'deny';
  /** A source address or prefix (`203.0.113.0/24`, `2001:db8:77::/48`); absent: any source. */
  source?: string;
  protocol?: 'tcp' | 'udp' | 'icmp';
  /** Destination port (tcp/udp). */
  port?: number;
  /** IP packet length range, bytes. */
  lengthMin?: number;
  lengthMax?: number;
}

export interface MitigationInput {
  /** An IPv4 address, or an IPv6 address or /64 (the table protects the whole /64). */
  address: string;
  customRules: readonly CustomRule[];
  perSourcePps: number;
  synPps: number;
  /** The hook the chain runs at: `forward` for routed/bridged guests (default), `input` for a local address. */
  hook?: 'forward' | 'input' | 'prerouting';
}

export const mitigationCounters = ['dropped_custom', 'dropped_reflection', 'dropped_syn', 'dropped_rate'] as const;

/** The table of a target: `vmcloud_ddos_0a0b0c0d` for 10.11.12.13, `vmcloud_ddos6_20010db800000005` for
 * any address of 2001:db8:0:5::/64. */
export function mitigationTable(address: string): string {
  const target = protectedTarget(address);
  return target.family === 4 ? `vmcloud_ddos_${target.hex}` : `vmcloud_ddos6_${target.hex}`;
}

/** The family of a custom rule's source, or null (no source: both families). Throws on a bad source. */
function sourceFamily(source: string | undefined): 4 | 6 | null {
  return source === undefined ? null : parsePrefix(source).family;
}

/** Why a custom rule is refused, or null (the API checks this before storing). */
export function customRuleProblem(rule: CustomRule): string | null {
  if (rule.source !== undefined) {
    try {
      sourceFamily(rule.source);
    } catch {
      return `source ${rule.source} is not an IPv4 or IPv6 address or prefix`;
    }
  }
  if (rule.port !== undefined && (rule.protocol === undefined || rule.protocol === 'icmp'))
    return 'a port needs protocol tcp or udp';
  if (rule.port !== undefined && (!Number.isInteger(rule.port) || rule.port < 1 || rule.port > 65535))
    return 'port must be 1–65535';
  const lengthOk = (n: number | undefined) => n === undefined || (Number.isInteger(n) && n >= 20 && n <= 65535);
  if (!lengthOk(rule.lengthMin) || !lengthOk(rule.lengthMax)) return 'lengths must be 20–65535';
  if (rule.lengthMin !== undefined && rule.lengthMax !== undefined && rule.lengthMin > rule.lengthMax)
    return 'length_min is above length_max';
  return null;
}

function customMatch(rule: CustomRule, family: 4 | 6): string {
  const parts: string[] = [];
  const ip = family === 4 ? 'ip' : 'ip6';
  if (rule.source) parts.push(`${ip} saddr ${rule.source}`);
  if (rule.protocol === 'icmp') parts.push(family === 4 ? 'ip protocol icmp' : 'meta l4proto ipv6-icmp');
  else if (rule.protocol)
    parts.push(
      rule.port !== undefined
        ? `${rule.protocol} dport ${rule.port}`
        : family === 4
          ? `ip protocol ${rule.protocol}`
          : `meta l4proto ${rule.protocol}`,
    );
  if (rule.lengthMin !== undefined || rule.lengthMax !== undefined) {
    // IPv4's total length includes its header; IPv6's payload length does not (a fixed 40 bytes).
    const header = family === 4 ? 0 : 40;
    parts.push(
      `${ip} length ${Math.max(0, (rule.lengthMin ?? 20) - header)}-${Math.max(0, (rule.lengthMax ?? 65535) - header)}`,
    );
  }
  return parts.join(' ');
}

/** The whole table for one attacked address (apply with `nft -f -`). */
export function compileMitigation(input: MitigationInput): string {
  const target: ProtectedTarget = protectedTarget(input.address);
  const table = mitigationTable(input.address);
  for (const rule of input.customRules) {
    const problem = customRuleProblem(rule);
    if (problem) throw new RangeError(problem);
  }
  const rate = (n: number) => {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`rate ${n}`);
    return n;
  };
  const to = target.daddr;
  const v4 = target.family === 4;
  const lines = [
    `table inet ${table} {}`,
    `flush table inet ${table}`,
    `table inet ${table} {`,
    ...mitigationCounters.map((c) => `  counter ${c} {}`),
    `  set flood_sources { type ${v4 ? 'ipv4_addr' : 'ipv6_addr'}; size 65535; flags dynamic,timeout; timeout 60s; }`,
    `  chain mitigate {`,
    `    type filter hook ${input.hook ?? 'forward'} priority -150; policy accept;`,
  ];
  for (const rule of input.customRules) {
    const family = sourceFamily(rule.source);
    if (family !== null && family !== target.family) continue;
    const match = customMatch(rule, target.family);
    lines.push(
      rule.action === 'allow'
        ? `    ${to} ${match} accept`.replace(/ +/g, ' ')
        : `    ${to} ${match} counter name dropped_custom drop`.replace(/ +/g, ' '),
    );
  }
  const source = v4 ? 'ip saddr' : 'ip6 saddr & ffff:ffff:ffff:ffff::';
  lines.push(
    `    ${to} udp sport { ${reflectorPorts.join(', ')} } counter name dropped_reflection drop`,
    `    ${to} tcp flags & (syn | ack) == syn limit rate over ${rate(input.synPps)}/second burst ${rate(input.synPps)} packets counter name dropped_syn drop`,
    `    ${to} update @flood_sources { ${source} limit rate over ${rate(input.perSourcePps)}/second burst ${rate(input.perSourcePps)} packets } counter name dropped_rate drop`,
    '  }',
    '}',
  );
  return `${lines.join('\n')}\n`;
}
