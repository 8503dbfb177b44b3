import type { GraphqlModule } from '../module.ts';

export const projectModule: GraphqlModule = {
  typeDefs: /* GraphQL */ `
    type Project {
      id: ID!
      name: String!
      role: String
      quotas: JSON!
      "What the project uses now (servers, vCPUs, memory, volumes…)."
      usage: JSON!
      created_at: String!
    }
    type Webhook {
      id: ID!
      project_id: String!
      url: String!
      description: String!
      events: [String!]!
      enabled: Boolean!
      disabled_reason: String
      failing_since: String
      created_at: String!
      updated_at: String!
    }
    extend type Query {
      "The caller's project, with its quotas and usage."
      project: Project!
      webhooks: [Webhook!]!
    }
  `,
  resolvers: {
    Query: {
      project: (_p, _a, { principal, services }) => services.identity.getProject(principal),
      webhooks: async (_p, _a, { principal, services }) =>
        (await services.webhooks.list(principal, { limit: '100' })).webhooks,
    },
  },
};
