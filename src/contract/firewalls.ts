/**
 * Cloud firewalls (as at Hetzner Cloud and DigitalOcean): a project's named set of rules, applied to
 * servers directly or through a label selector. A server with at least one firewall gets only the inbound
 * traffic some rule allows (plus replies: established/related); its outbound traffic is free unless some
 * firewall of it has `out` rules, then only what they allow. Rules of several firewalls add up. The
 * agents compile the effective rules of each server into an nftables chain on its tap
 * (docs/networking.md, "Firewalls"); per-rule packet and byte counters come back in `rules[].counters`.
 */
import { Type, type Static } from 'typebox';
import { CursorQuery, IdParams, Labels, LimitQuery, Literals, NextCursor, Nullable, Timestamp } from './common.ts';
import { plainTextPattern } from './common.ts';
import { defineOperation } from './operation.ts';
import { hostnamePattern } from './servers.ts';

export const firewallDirections = ['in', 'out'] as const;
export type FirewallDirection = (typeof firewallDirections)[number];
export const firewallProtocols = ['tcp', 'udp', 'icmp', 'icmpv6', 'esp', 'gre'] as const;
export type FirewallProtocol = (typeof firewallProtocols)[number];

/** The bounds a firewall keeps (the service refuses past them with the stable reasons below). */
export const firewallLimits = {
  /** `too_many_rules` */
  rulesPerFirewall: 50,
  /** `too_many_ips` */
  ipsPerRule: 100,
  /** `too_many_firewalls`: firewalls applying to one server (directly or by selector) */
  firewallsPerServer: 5,
  /** `too_many_targets`: servers and selectors one firewall is applied to */
  targetsPerFirewall: 100,
} as const;

export const FirewallName = Type.String({
  minLength: 1,
  maxLength: 63,
  pattern: hostnamePattern,
  description: '1–63 letters, digits and hyphens, not starting or ending with a hyphen',
});

const IpList = Type.Array(Type.String({ minLength: 1, maxLength: 43 }), {
  maxItems: 1000,
  description: 'IPv4 or IPv6 addresses or CIDRs (0.0.0.0/0 and ::/0 for any)',
});

export const FirewallRule = Type.Object(
  {
    direction: Literals(firewallDirections),
    protocol: Literals(firewallProtocols),
    port: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 11,
        description: 'tcp/udp only: a port (`22`) or a range (`8000-8100`); absent: every port',
      }),
    ),
    source_ips: Type.Optional(IpList),
    destination_ips: Type.Optional(IpList),
    description: Type.Optional(Nullable(Type.String({ maxLength: 255, pattern: plainTextPattern }))),
  },
  {
    additionalProperties: false,
    description: '`in` rules match `source_ips` (required), `out` rules `destination_ips` (required)',
  },
);
export type FirewallRule = Static<typeof FirewallRule>;

export const RuleCounters = Type.Object({
  packets: Type.Integer(),
  bytes: Type.Integer(),
});
export type RuleCounters = Static<typeof RuleCounters>;

export const FirewallRuleView = Type.Object({
  direction: Literals(firewallDirections),
  protocol: Literals(firewallProtocols),
  port: Nullable(Type.String()),
  source_ips: Type.Array(Type.String()),
  destination_ips: Type.Array(Type.String()),
  description: Nullable(Type.String()),
  /** Packets and bytes the rule let through, summed over the servers it applies to, as their hosts last reported. */
  counters: RuleCounters,
});
export type FirewallRuleView = Static<typeof FirewallRuleView>;

const ServerTarget = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 100, description: 'server id or name' }) },
  { additionalProperties: false },
);
const SelectorTarget = Type.Object(
  { selector: Type.String({ minLength: 1, maxLength: 2000 }) },
  { additionalProperties: false },
);

/** What a firewall is applied to: one server, or every server of the project whose labels match. */
export const FirewallTarget = Type.Object(
  {
    type: Literals(['server', 'label_selector'] as const),
    server: Type.Optional(ServerTarget),
    label_selector: Type.Optional(SelectorTarget),
  },
  {
    additionalProperties: false,
    description: '`server` with `server.id`, or `label_selector` with `label_selector.selector`',
  },
);
export type FirewallTarget = Static<typeof FirewallTarget>;

export const AppliedTo = Type.Object({
  type: Literals(['server', 'label_selector'] as const),
  server: Type.Optional(Type.Object({ id: Type.String() })),
  label_selector: Type.Optional(Type.Object({ selector: Type.String() })),
  /** For a selector: the servers it matches now. */
  applied_to_resources: Type.Optional(
    Type.Array(Type.Object({ type: Type.Literal('server'), server: Type.Object({ id: Type.String() }) })),
  ),
});
export type AppliedTo = Static<typeof AppliedTo>;

export const Firewall = Type.Object({
  id: Type.String({ description: 'fw_…' }),
  name: Type.String(),
  project_id: Type.String(),
  labels: Labels,
  rules: Type.Array(FirewallRuleView),
  /** Bumped by every change of the rules (counters restart with it). */
  rules_version: Type.Integer(),
  applied_to: Type.Array(AppliedTo),
  counters_updated_at: Nullable(Timestamp),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Firewall = Static<typeof Firewall>;

export const CreateFirewallBody = Type.Object(
  {
    name: FirewallName,
    labels: Type.Optional(Labels),
    rules: Type.Optional(Type.Array(FirewallRule, { maxItems: 1000 })),
    apply_to: Type.Optional(Type.Array(FirewallTarget, { maxItems: 1000 })),
  },
  { additionalProperties: false },
);
export type CreateFirewallBody = Static<typeof CreateFirewallBody>;

export const UpdateFirewallBody = Type.Object(
  { name: Type.Optional(FirewallName), labels: Type.Optional(Labels) },
  { additionalProperties: false },
);
export type UpdateFirewallBody = Static<typeof UpdateFirewallBody>;

export const SetFirewallRulesBody = Type.Object(
  { rules: Type.Array(FirewallRule, { maxItems: 1000 }) },
  { additionalProperties: false },
);
export type SetFirewallRulesBody = Static<typeof SetFirewallRulesBody>;

export const ApplyFirewallBody = Type.Object(
  { apply_to: Type.Array(FirewallTarget, { minItems: 1, maxItems: 1000 }) },
  { additionalProperties: false },
);
export type ApplyFirewallBody = Static<typeof ApplyFirewallBody>;

export const RemoveFirewallBody = Type.Object(
  { remove_from: Type.Array(FirewallTarget, { minItems: 1, maxItems: 1000 }) },
  { additionalProperties: false },
);
export type RemoveFirewallBody = Static<typeof RemoveFirewallBody>;

export const ListFirewallsQuery = Type.Object(
  {
    limit: Type.Optional(LimitQuery),
    cursor: Type.Optional(CursorQuery),
    label_selector: Type.Optional(Type.String({ maxLength: 2000 })),
    name: Type.Optional(Type.String({ maxLength: 63 })),
  },
  { additionalProperties: false },
);
export type ListFirewallsQuery = Static<typeof ListFirewallsQuery>;

export const FirewallList = Type.Object({ firewalls: Type.Array(Firewall), next_cursor: NextCursor });
export type FirewallList = Static<typeof FirewallList>;
export const FirewallEnvelope = Type.Object({ firewall: Firewall });
export type FirewallEnvelope = Static<typeof FirewallEnvelope>;

const tags = ['firewalls'];

export const createFirewall = defineOperation({
  operationId: 'createFirewall',
  method: 'POST',
  path: '/v1/firewalls',
  tags,
  summary: 'Create a firewall (optionally with rules and targets)',
  description: `At most ${firewallLimits.rulesPerFirewall} rules (\`too_many_rules\`), ${firewallLimits.ipsPerRule} addresses per rule (\`too_many_ips\`), ${firewallLimits.firewallsPerServer} firewalls per server (\`too_many_firewalls\`). A bad rule is refused with \`rule_invalid\`, \`port_invalid\`, \`ip_invalid\` or \`ips_required\`; nothing is written.`,
  auth: 'project',
  body: CreateFirewallBody,
  status: 201,
  response: FirewallEnvelope,
  resource: 'firewall',
});

export const listFirewalls = defineOperation({
  operationId: 'listFirewalls',
  method: 'GET',
  path: '/v1/firewalls',
  tags,
  summary: 'List firewalls',
  auth: 'project',
  query: ListFirewallsQuery,
  status: 200,
  response: FirewallList,
});

export const getFirewall = defineOperation({
  operationId: 'getFirewall',
  method: 'GET',
  path: '/v1/firewalls/:id',
  tags,
  summary: 'Show a firewall, its targets and its rules’ counters',
  auth: 'project',
  params: IdParams,
  status: 200,
  response: FirewallEnvelope,
});

export const updateFirewall = defineOperation({
  operationId: 'updateFirewall',
  method: 'PATCH',
  path: '/v1/firewalls/:id',
  tags,
  summary: 'Rename a firewall or replace its labels',
  auth: 'project',
  params: IdParams,
  body: UpdateFirewallBody,
  status: 200,
  response: FirewallEnvelope,
  resource: 'firewall',
});

export const deleteFirewall = defineOperation({
  operationId: 'deleteFirewall',
  method: 'DELETE',
  path: '/v1/firewalls/:id',
  tags,
  summary: 'Delete a firewall',
  description: 'Refused with 409 `firewall_in_use` while it is applied: remove it from its targets first.',
  auth: 'project',
  params: IdParams,
  status: 204,
  resource: 'firewall',
});

export const setFirewallRules = defineOperation({
  operationId: 'setFirewallRules',
  method: 'POST',
  path: '/v1/firewalls/:id/actions/set_rules',
  tags,
  summary: 'Replace all rules of a firewall at once',
  description: 'The whole list is checked before anything changes; the hosts of its servers converge to it.',
  auth: 'project',
  params: IdParams,
  body: SetFirewallRulesBody,
  status: 200,
  response: FirewallEnvelope,
  resource: 'firewall',
});

export const applyFirewall = defineOperation({
  operationId: 'applyFirewall',
  method: 'POST',
  path: '/v1/firewalls/:id/actions/apply_to_resources',
  tags,
  summary: 'Apply a firewall to servers or to a label selector',
  description:
    'A server matched by a selector is protected from its first packet: the rules are in its host’s desired state before it starts.',
  auth: 'project',
  params: IdParams,
  body: ApplyFirewallBody,
  status: 200,
  response: FirewallEnvelope,
  resource: 'firewall',
});

export const removeFirewall = defineOperation({
  operationId: 'removeFirewall',
  method: 'POST',
  path: '/v1/firewalls/:id/actions/remove_from_resources',
  tags,
  summary: 'Remove a firewall from servers or label selectors',
  auth: 'project',
  params: IdParams,
  body: RemoveFirewallBody,
  status: 200,
  response: FirewallEnvelope,
  resource: 'firewall',
});

export const firewallOperations = {
  createFirewall,
  listFirewalls,
  getFirewall,
  updateFirewall,
  deleteFirewall,
  setFirewallRules,
  applyFirewall,
  removeFirewall,
};
