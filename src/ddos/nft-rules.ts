/**
 * The mitigation rules of one attacked address, compiled to nftables text (pure): one table per address
 * (`inet vmcloud_ddos_<hex>`), so that installing is one atomic `nft -f` and ending is `delete table`,
 * never touching another address or the firewall's tables. In order:
 *   1. the tenant's custom rules (business/enterprise): allow (accept past the mitigation) or deny (drop);
 *   2. UDP from reflector source ports dropped (amplification: chargen, DNS, NTP, SNMP, CLDAP, SSDP, memcached);
 *   3. SYNs towards the address limited to the tier's rate;
 *   4. per-source limit: any one source above the tier's packets/s is dropped (a dynamic set with timeout).
 * Every drop has a named counter, read back into the incident ("counters show drops").
 */
import { reflectorPorts } from './detection.ts';

export interface CustomRule {
  action: 'allow' | 'deny';
  /** A source prefix (`203.0.113.0/24`); absent: any source. */
  source?: string;
  protocol?: 'tcp' | 'udp' | 'icmp';
  /** Destination port (tcp/udp). */
  port?: number;
  /** IP packet length range, bytes. */
  lengthMin?: number;
  lengthMax?: number;
}

export interface MitigationInput {
  address: string;
  customRules: readonly CustomRule[];
  perSourcePps: number;
  synPps: number;
  /** The hook the chain runs at: `forward` for routed/bridged guests (default), `input` for a local address. */
  hook?: 'forward' | 'input' | 'prerouting';
}

export const mitigationCounters = ['dropped_custom', 'dropped_reflection', 'dropped_syn', 'dropped_rate'] as const;

const ipv4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const ipv4Prefix = /^(\d{1,3}\.){3}\d{1,3}\/([0-9]|[12]\d|3[0-2])$/;

/** The table of an address: `vmcloud_ddos_0a0b0c0d` for 10.11.12.13. */
export function mitigationTable(address: string): string {
  if (!ipv4.test(address)) throw new RangeError(`not an IPv4 address: ${address}`);
  return `vmcloud_ddos_${address
    .split('.')
    .map((o) => Number(o).toString(16).padStart(2, '0'))
    .join('')}`;
}

/** Why a custom rule is refused, or null (the API checks this before storing). */
export function customRuleProblem(rule: CustomRule): string | null {
  if (rule.source !== undefined && !ipv4Prefix.test(rule.source) && !ipv4.test(rule.source))
    return `source ${rule.source} is not an IPv4 address or prefix`;
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

function customMatch(rule: CustomRule): string {
  const parts: string[] = [];
  if (rule.source) parts.push(`ip saddr ${rule.source}`);
  if (rule.protocol === 'icmp') parts.push('ip protocol icmp');
  else if (rule.protocol)
    parts.push(rule.port !== undefined ? `${rule.protocol} dport ${rule.port}` : `ip protocol ${rule.protocol}`);
  if (rule.lengthMin !== undefined || rule.lengthMax !== undefined)
    parts.push(`ip length ${rule.lengthMin ?? 20}-${rule.lengthMax ?? 65535}`);
  return parts.join(' ');
}

/** The whole table for one attacked address (apply with `nft -f -`). */
export function compileMitigation(input: MitigationInput): string {
  const table = mitigationTable(input.address);
  for (const rule of input.customRules) {
    const problem = customRuleProblem(rule);
    if (problem) throw new RangeError(problem);
  }
  const rate = (n: number) => {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`rate ${n}`);
    return n;
  };
  const to = `ip daddr ${input.address}`;
  const lines = [
    `table inet ${table} {}`,
    `flush table inet ${table}`,
    `table inet ${table} {`,
    ...mitigationCounters.map((c) => `  counter ${c} {}`),
    `  set flood_sources { type ipv4_addr; size 65535; flags dynamic,timeout; timeout 60s; }`,
    `  chain mitigate {`,
    `    type filter hook ${input.hook ?? 'forward'} priority -150; policy accept;`,
  ];
  for (const rule of input.customRules) {
    const match = customMatch(rule);
    lines.push(
      rule.action === 'allow'
        ? `    ${to} ${match} accept`.replace(/ +/g, ' ')
        : `    ${to} ${match} counter name dropped_custom drop`.replace(/ +/g, ' '),
    );
  }
  lines.push(
    `    ${to} udp sport { ${reflectorPorts.join(', ')} } counter name dropped_reflection drop`,
    `    ${to} tcp flags & (syn | ack) == syn limit rate over ${rate(input.synPps)}/second burst ${rate(input.synPps)} packets counter name dropped_syn drop`,
    `    ${to} update @flood_sources { ip saddr limit rate over ${rate(input.perSourcePps)}/second burst ${rate(input.perSourcePps)} packets } counter name dropped_rate drop`,
    '  }',
    '}',
  );
  return `${lines.join('\n')}\n`;
}
