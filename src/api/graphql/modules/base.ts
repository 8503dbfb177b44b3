import type { GraphqlModule } from '../module.ts';

/** The roots every module extends, and the scalars. Names of fields follow the REST API (snake_case). */
export const baseModule: GraphqlModule = {
  typeDefs: /* GraphQL */ `
    "Any JSON value (labels, event payloads, quotas)."
    scalar JSON
    type Query {
      "The API version this schema belongs to."
      version: String!
    }
    type Mutation {
      _unused: Boolean
    }
    type Subscription {
      _unused: Boolean
    }
    type Action {
      id: ID!
      command: String!
      status: String!
      progress: Int!
      resource: JSON
      error: JSON
      started_at: String!
      finished_at: String
    }
  `,
  resolvers: { Query: { version: () => 'v1' } },
};
