/**
 * Firewall rules, pure: the checks the schema cannot express (ports only for tcp/udp, a range in order,
 * addresses on the right side of the rule, CIDRs with no host bits, the bounds), each failure an `invalid`
 * error with a stable reason and the field it is about; and the normalized form that is stored and sent
 * to the hosts (CIDR text canonical: `10.0.0.1` → `10.0.0.1/32`, `2001:DB8::/32` → `2001:db8::/32`).
 */
import { invalid } from '../core/index.ts';
import { firewallLimits, type FirewallRule } from '../contract/index.ts';
import type { DesiredFirewallRule } from '../contract/index.ts';
import { formatIpv6, ipv6Groups, parseRange, rangeText } from '../networks/index.ts';

/** A rule as stored: every field present. */
export interface StoredRule {
  direction: 'in' | 'out';
  protocol: FirewallRule['protocol'];
  port: string | null;
  source_ips: string[];
  destination_ips: string[];
  description: string | null;
}

const portProtocols = new Set(['tcp', 'udp']);

/** `22` → [22, 22], `8000-8100` → [8000, 8100]; null when malformed or out of 1–65535 or reversed. */
export function parsePort(port: string): [number, number] | null {
  const match = /^([0-9]{1,5})(?:-([0-9]{1,5}))?$/.exec(port);
  if (!match) return null;
  const from = Number(match[1]);
  const to = match[2] === undefined ? from : Number(match[2]);
  if (from < 1 || to > 65535 || from > to) return null;
  return [from, to];
}

/** The canonical CIDR of an IPv4 or IPv6 address or prefix, or why not. */
export function normalizeCidr(text: string): { cidr: string; family: 4 | 6 } | 'malformed' | 'host_bits' {
  const [address, prefixText, extra] = text.trim().split('/');
  if (extra !== undefined || (prefixText !== undefined && !/^[0-9]{1,3}$/.test(prefixText))) return 'malformed';
  if (/^[0-9.]+$/.test(address)) {
    const prefix = prefixText === undefined ? 32 : Number(prefixText);
    if (prefix > 32) return 'malformed';
    const range = parseRange(`${address}/${prefix}`);
    if (range === 'malformed' || range === 'prefix') return 'malformed';
    if (range === 'not_aligned') return 'host_bits';
    return { cidr: rangeText(range), family: 4 };
  }
  const groups = ipv6Groups(address);
  if (!groups) return 'malformed';
  const prefix = prefixText === undefined ? 128 : Number(prefixText);
  if (prefix > 128) return 'malformed';
  for (let bit = prefix; bit < 128; bit++)
    if ((groups[Math.floor(bit / 16)] >> (15 - (bit % 16))) & 1) return 'host_bits';
  return { cidr: `${formatIpv6(groups)}/${prefix}`, family: 6 };
}

/** Checks one rule (its position in `field`) and returns its stored form. */
export function checkRule(rule: FirewallRule, field: string): StoredRule {
  const { direction, protocol } = rule;
  let port: string | null = null;
  if (rule.port !== undefined) {
    if (!portProtocols.has(protocol))
      throw invalid(`${field}: a port is for tcp and udp rules only`, {
        reason: 'port_not_allowed',
        fields: [{ field: `${field}.port`, message: `not allowed with ${protocol}` }],
      });
    const range = parsePort(rule.port);
    if (!range)
      throw invalid(`${field}: port ${rule.port} is not a port (1–65535) or a range from-to`, {
        reason: 'port_invalid',
        fields: [{ field: `${field}.port`, message: 'a port 1–65535 or a range such as 8000-8100' }],
      });
    port = range[0] === range[1] ? String(range[0]) : `${range[0]}-${range[1]}`;
  }
  const own = direction === 'in' ? 'source_ips' : 'destination_ips';
  const other = direction === 'in' ? 'destination_ips' : 'source_ips';
  if (rule[other] !== undefined && rule[other].length > 0)
    throw invalid(`${field}: an ${direction} rule has ${own}, not ${other}`, {
      reason: 'rule_invalid',
      fields: [{ field: `${field}.${other}`, message: `not allowed for direction ${direction}` }],
    });
  const ips = rule[own] ?? [];
  if (ips.length === 0)
    throw invalid(`${field}: an ${direction} rule needs ${own} (0.0.0.0/0 and ::/0 for any address)`, {
      reason: 'ips_required',
      fields: [{ field: `${field}.${own}`, message: 'at least one address or CIDR' }],
    });
  if (ips.length > firewallLimits.ipsPerRule)
    throw invalid(`${field}: at most ${firewallLimits.ipsPerRule} addresses per rule`, {
      reason: 'too_many_ips',
      fields: [{ field: `${field}.${own}`, message: `at most ${firewallLimits.ipsPerRule}` }],
    });
  const cidrs: string[] = [];
  ips.forEach((ip, i) => {
    const parsed = normalizeCidr(ip);
    if (typeof parsed === 'string')
      throw invalid(
        parsed === 'host_bits'
          ? `${field}: ${ip} has host bits set: give the network address`
          : `${field}: ${ip} is not an IPv4 or IPv6 address or CIDR`,
        { reason: 'ip_invalid', fields: [{ field: `${field}.${own}[${i}]`, message: parsed.replace('_', ' ') }] },
      );
    if (protocol === 'icmp' && parsed.family === 6)
      throw invalid(`${field}: icmp is IPv4; use icmpv6 for ${ip}`, {
        reason: 'rule_invalid',
        fields: [{ field: `${field}.${own}[${i}]`, message: 'an IPv6 address in an icmp rule' }],
      });
    if (protocol === 'icmpv6' && parsed.family === 4)
      throw invalid(`${field}: icmpv6 is IPv6; use icmp for ${ip}`, {
        reason: 'rule_invalid',
        fields: [{ field: `${field}.${own}[${i}]`, message: 'an IPv4 address in an icmpv6 rule' }],
      });
    if (!cidrs.includes(parsed.cidr)) cidrs.push(parsed.cidr);
  });
  return {
    direction,
    protocol,
    port,
    source_ips: direction === 'in' ? cidrs : [],
    destination_ips: direction === 'out' ? cidrs : [],
    description: rule.description ?? null,
  };
}

/** Checks a whole rule list (nothing is stored unless every rule passes). */
export function checkRules(rules: readonly FirewallRule[], field = 'rules'): StoredRule[] {
  if (rules.length > firewallLimits.rulesPerFirewall)
    throw invalid(`at most ${firewallLimits.rulesPerFirewall} rules per firewall (${rules.length} given)`, {
      reason: 'too_many_rules',
      fields: [{ field, message: `at most ${firewallLimits.rulesPerFirewall}` }],
    });
  return rules.map((rule, i) => checkRule(rule, `${field}[${i}]`));
}

/** The stored rule as a host compiles it. */
export function desiredRule(rule: StoredRule): DesiredFirewallRule {
  return {
    direction: rule.direction,
    protocol: rule.protocol,
    ports: rule.port === null ? null : parsePort(rule.port),
    ips: rule.direction === 'in' ? rule.source_ips : rule.destination_ips,
  };
}
