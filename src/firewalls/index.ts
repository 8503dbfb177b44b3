/**
 * The firewalls domain: a project's firewalls (table `firewalls`), what each is applied to
 * (`firewall_targets`: servers and label selectors) and the per-rule counters hosts report
 * (`firewall_counters`); the part of each host's network desired state they make.
 */
export type { FirewallCountersTable, FirewallTargetsTable, FirewallsTable } from './tables.ts';
export {
  createFirewallService,
  firewallsOfServers,
  type FirewallService,
  type FirewallServers,
  type FirewallsDeps,
} from './service.ts';
export { createFirewallSync, type FirewallSync } from './sync.ts';
export { checkRule, checkRules, desiredRule, normalizeCidr, parsePort, type StoredRule } from './rules.ts';
