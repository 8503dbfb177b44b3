import { applyFirewall, createFirewall, removeFirewall, setFirewallRules } from '../../../contract/index.ts';
import { restBody, type GraphqlModule } from '../module.ts';

/** `server:NAME|ID` or `label:SELECTOR` (as the CLI spells targets) → the contract's target. */
const targetOf = (spec: { server?: string | null; label_selector?: string | null }) =>
  spec.server
    ? { type: 'server' as const, server: { id: spec.server } }
    : { type: 'label_selector' as const, label_selector: { selector: spec.label_selector ?? '' } };

const ruleOf = (rule: Record<string, unknown>) => Object.fromEntries(Object.entries(rule).filter(([, v]) => v != null));

export const firewallsModule: GraphqlModule = {
  typeDefs: /* GraphQL */ `
    type RuleCounters {
      packets: Float!
      bytes: Float!
    }
    type FirewallRule {
      direction: String!
      protocol: String!
      port: String
      source_ips: [String!]!
      destination_ips: [String!]!
      description: String
      counters: RuleCounters!
    }
    type Firewall {
      id: ID!
      name: String!
      project_id: String!
      labels: JSON!
      rules: [FirewallRule!]!
      rules_version: Int!
      "Servers and label selectors it applies to (a selector lists the servers it matches now)."
      applied_to: JSON!
      counters_updated_at: String
      created_at: String!
      updated_at: String!
    }
    type FirewallPage {
      firewalls: [Firewall!]!
      next_cursor: String
    }
    input FirewallRuleInput {
      direction: String!
      protocol: String!
      port: String
      source_ips: [String!]
      destination_ips: [String!]
      description: String
    }
    "One of server (id or name) or label_selector."
    input FirewallTargetInput {
      server: String
      label_selector: String
    }
    input CreateFirewallInput {
      name: String!
      labels: JSON
      rules: [FirewallRuleInput!]
      apply_to: [FirewallTargetInput!]
    }
    extend type Query {
      firewalls(limit: Int, cursor: String, label_selector: String, name: String): FirewallPage!
      firewall(id: ID!): Firewall
    }
    extend type Mutation {
      createFirewall(input: CreateFirewallInput!): Firewall!
      setFirewallRules(id: ID!, rules: [FirewallRuleInput!]!): Firewall!
      applyFirewall(id: ID!, apply_to: [FirewallTargetInput!]!): Firewall!
      removeFirewall(id: ID!, remove_from: [FirewallTargetInput!]!): Firewall!
      deleteFirewall(id: ID!): Boolean!
    }
  `,
  resolvers: {
    Query: {
      firewalls: (_p, args, { principal, services }) =>
        services.firewalls.listFirewalls(principal, {
          limit: args.limit == null ? undefined : String(args.limit),
          cursor: args.cursor ?? undefined,
          label_selector: args.label_selector ?? undefined,
          name: args.name ?? undefined,
        }),
      firewall: async (_p, { id }, { principal, services }) =>
        (await services.firewalls.getFirewall(principal, id)).firewall,
    },
    Mutation: {
      createFirewall: async (_p, { input }, { principal, services }) =>
        (
          await services.firewalls.createFirewall(
            principal,
            restBody(createFirewall, {
              name: input.name,
              labels: input.labels,
              rules: input.rules?.map(ruleOf),
              apply_to: input.apply_to?.map(targetOf),
            }),
          )
        ).firewall,
      setFirewallRules: async (_p, { id, rules }, { principal, services }) =>
        (
          await services.firewalls.setRules(
            principal,
            id,
            restBody(setFirewallRules, { rules: rules.map(ruleOf) }).rules,
          )
        ).firewall,
      applyFirewall: async (_p, { id, apply_to }, { principal, services }) =>
        (
          await services.firewalls.applyToResources(
            principal,
            id,
            restBody(applyFirewall, { apply_to: apply_to.map(targetOf) }).apply_to,
          )
        ).firewall,
      removeFirewall: async (_p, { id, remove_from }, { principal, services }) =>
        (
          await services.firewalls.removeFromResources(
            principal,
            id,
            restBody(removeFirewall, { remove_from: remove_from.map(targetOf) }).remove_from,
          )
        ).firewall,
      deleteFirewall: async (_p, { id }, { principal, services }) => {
        await services.firewalls.deleteFirewall(principal, id);
        return true;
      },
    },
  },
};
