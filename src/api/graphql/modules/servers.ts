import type { GraphqlModule } from '../module.ts';

export const serversModule: GraphqlModule = {
  typeDefs: /* GraphQL */ `
    type Server {
      id: ID!
      name: String!
      project_id: String!
      region: String!
      product: String!
      image: String!
      status: String!
      desired_state: String!
      labels: JSON!
      ipv4: String
      placement: JSON
      error: String
      created_at: String!
      updated_at: String!
      "The volumes attached to it (batched per request: no query per server)."
      volumes: [Volume!]!
      "Its newest actions (at most 20), newest first (batched per request)."
      actions: [Action!]!
    }
    type ServerPage {
      servers: [Server!]!
      next_cursor: String
    }
    type ServerCreated {
      server: Server!
      action: Action!
    }
    input CreateServerInput {
      name: String!
      product: String!
      region: String!
      image: String!
      labels: JSON
      ssh_keys: [String!]
      user_data: String
    }
    extend type Query {
      servers(limit: Int, cursor: String, label_selector: String, region: String): ServerPage!
      server(id: ID!): Server
      action(id: ID!): Action
    }
    extend type Mutation {
      createServer(input: CreateServerInput!): ServerCreated!
      startServer(id: ID!): Action!
      stopServer(id: ID!, force: Boolean): Action!
      rebootServer(id: ID!): Action!
      deleteServer(id: ID!): Action!
    }
  `,
  resolvers: {
    Query: {
      servers: (_p, args, { principal, services }) =>
        services.compute.listServers(principal, {
          limit: args.limit == null ? undefined : String(args.limit),
          cursor: args.cursor ?? undefined,
          label_selector: args.label_selector ?? undefined,
          region: args.region ?? undefined,
        }),
      server: async (_p, { id }, { principal, services }) => (await services.compute.getServer(principal, id)).server,
      action: (_p, { id }, { principal, services }) => services.compute.getAction(principal, id),
    },
    Server: {
      volumes: (server, _a, { loaders }) => loaders.volumesOfServer.load(server.id),
      actions: (server, _a, { loaders }) => loaders.actionsOfServer.load(server.id),
    },
    Mutation: {
      createServer: (_p, { input }, { principal, services }) => {
        const body = Object.fromEntries(Object.entries(input).filter(([, v]) => v != null));
        return services.compute.createServer(principal, body as never);
      },
      startServer: async (_p, { id }, { principal, services }) => (await services.compute.start(principal, id)).action,
      stopServer: async (_p, { id, force }, { principal, services }) =>
        (await services.compute.stop(principal, id, { force: force === true })).action,
      rebootServer: async (_p, { id }, { principal, services }) =>
        (await services.compute.reboot(principal, id)).action,
      deleteServer: async (_p, { id }, { principal, services }) =>
        (await services.compute.delete(principal, id)).action,
    },
  },
};
