import { createServer } from '../../../contract/index.ts';
import { restBody, type GraphqlModule } from '../module.ts';

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
      "The private networks it is attached to, with its address on each (batched per request)."
      networks: [ServerNetwork!]!
    }
    type ServerNetwork {
      network_id: ID!
      network_name: String!
      region: String!
      ip_range: String!
      subnet: Subnet
      ip: String!
      mac_address: String!
      mtu: Int!
      status: String!
      attached_at: String!
      updated_at: String!
    }
    type ResizePrice {
      hourly_cents: Int!
      monthly_cents: Int!
      currency: String!
    }
    type ResizeOption {
      product: String!
      name: String!
      vcpus: Int!
      memory_mib: Int!
      disk_gib: Int!
      gpu: JSON
      price: ResizePrice!
      monthly_difference_cents: Int!
      "grow or shrink"
      direction: String!
      disk_gib_after: Int!
      fits_current_host: Boolean
      region_availability: String!
      possible: Boolean!
      "why it is not possible: migration_unsupported, no_capacity or quota_exceeded"
      reason: String
      message: String
    }
    type ResizeOptions {
      server_id: ID!
      product: String!
      disk_gib: Int!
      must_stop_first: Boolean!
      options: [ResizeOption!]!
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
      "OpenSSH public keys, or the ids or names of the project's saved SSH keys"
      ssh_keys: [String!]
      user_data: String
      "private networks (ids or names) attached in the create transaction"
      networks: [String!]
      "firewalls (ids or names) applied in the create transaction"
      firewalls: [String!]
    }
    extend type Query {
      servers(limit: Int, cursor: String, label_selector: String, region: String): ServerPage!
      server(id: ID!): Server
      action(id: ID!): Action
      "The products a server can be resized to, with prices and whether each would be placed now."
      resizeOptions(server: ID!): ResizeOptions!
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
      resizeOptions: (_p, { server }, { principal, services }) => services.compute.resizeOptions(principal, server),
    },
    Server: {
      volumes: (server, _a, { loaders }) => loaders.volumesOfServer.load(server.id),
      actions: (server, _a, { loaders }) => loaders.actionsOfServer.load(server.id),
      networks: (server, _a, { loaders }) => loaders.networksOfServer.load(server.id),
    },
    Mutation: {
      createServer: (_p, { input }, { principal, services }) =>
        services.compute.createServer(principal, restBody(createServer, input)),
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
