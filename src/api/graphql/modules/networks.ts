import { assignFloatingIp, attachServerToNetwork, createFloatingIp, createNetwork } from '../../../contract/index.ts';
import { restBody, type GraphqlModule } from '../module.ts';

const page = (args: { limit?: number | null; cursor?: string | null }) => ({
  limit: args.limit == null ? undefined : String(args.limit),
  cursor: args.cursor ?? undefined,
});

export const networksModule: GraphqlModule = {
  typeDefs: /* GraphQL */ `
    type Subnet {
      ip_range: String!
      gateway: String!
    }
    type NetworkRoute {
      destination: String!
      gateway: String!
    }
    type NetworkAttachment {
      server_id: String!
      ip: String!
      mac_address: String!
      status: String!
      "The attached server (batched per request)."
      server: Server
    }
    type Network {
      id: ID!
      name: String!
      project_id: String!
      region: String!
      ip_range: String!
      subnets: [Subnet!]!
      routes: [NetworkRoute!]!
      mtu: Int!
      attachments: [NetworkAttachment!]!
      labels: JSON!
      created_at: String!
      updated_at: String!
    }
    type NetworkPage {
      networks: [Network!]!
      next_cursor: String
    }
    type DnsPtr {
      ip: String!
      dns_ptr: String!
    }
    type FloatingIp {
      id: ID!
      name: String!
      description: String!
      project_id: String!
      region: String!
      type: String!
      ip: String!
      server_id: String
      dns_ptr: [DnsPtr!]!
      labels: JSON!
      created_at: String!
      updated_at: String!
      "The server it is routed to (batched per request)."
      server: Server
    }
    type FloatingIpPage {
      floating_ips: [FloatingIp!]!
      next_cursor: String
    }
    type FloatingIpCreated {
      floating_ip: FloatingIp!
      action: Action
    }
    input CreateNetworkInput {
      name: String!
      region: String!
      ip_range: String!
      labels: JSON
    }
    input CreateFloatingIpInput {
      region: String!
      type: String
      name: String
      description: String
      server: String
      labels: JSON
    }
    extend type Query {
      networks(limit: Int, cursor: String, region: String, label_selector: String): NetworkPage!
      network(id: ID!): Network
      floating_ips(limit: Int, cursor: String, region: String, server_id: String): FloatingIpPage!
      floating_ip(id: ID!): FloatingIp
    }
    extend type Mutation {
      createNetwork(input: CreateNetworkInput!): Network!
      deleteNetwork(id: ID!): Boolean!
      attachServerToNetwork(server: ID!, network: String!, ip: String): Action!
      detachServerFromNetwork(server: ID!, network: String!): Action!
      createFloatingIp(input: CreateFloatingIpInput!): FloatingIpCreated!
      assignFloatingIp(id: ID!, server: String!): Action!
      unassignFloatingIp(id: ID!): Action!
      deleteFloatingIp(id: ID!): Boolean!
    }
  `,
  resolvers: {
    Query: {
      networks: (_p, args, { principal, services }) =>
        services.networks.listNetworks(principal, {
          ...page(args),
          region: args.region ?? undefined,
          label_selector: args.label_selector ?? undefined,
        }),
      network: async (_p, { id }, { principal, services }) =>
        (await services.networks.getNetwork(principal, id)).network,
      floating_ips: (_p, args, { principal, services }) =>
        services.addresses.listFloatingIps(principal, {
          ...page(args),
          region: args.region ?? undefined,
          server_id: args.server_id ?? undefined,
        }),
      floating_ip: async (_p, { id }, { principal, services }) =>
        (await services.addresses.getFloatingIp(principal, id)).floating_ip,
    },
    NetworkAttachment: {
      server: (attachment, _a, { loaders }) => loaders.server.load(attachment.server_id),
    },
    FloatingIp: {
      server: (fip, _a, { loaders }) => (fip.server_id ? loaders.server.load(fip.server_id) : null),
    },
    Mutation: {
      createNetwork: async (_p, { input }, { principal, services }) =>
        (await services.networks.createNetwork(principal, restBody(createNetwork, input))).network,
      deleteNetwork: async (_p, { id }, { principal, services }) => {
        await services.networks.deleteNetwork(principal, id);
        return true;
      },
      attachServerToNetwork: async (_p, { server, network, ip }, { principal, services }) =>
        (await services.networks.attachServer(principal, server, restBody(attachServerToNetwork, { network, ip })))
          .action,
      detachServerFromNetwork: async (_p, { server, network }, { principal, services }) =>
        (await services.networks.detachServer(principal, server, network)).action,
      createFloatingIp: (_p, { input }, { principal, services }) =>
        services.addresses.createFloatingIp(principal, restBody(createFloatingIp, input)),
      assignFloatingIp: async (_p, { id, server }, { principal, services }) =>
        (await services.addresses.assignFloatingIp(principal, id, restBody(assignFloatingIp, { server }).server))
          .action,
      unassignFloatingIp: async (_p, { id }, { principal, services }) =>
        (await services.addresses.unassignFloatingIp(principal, id)).action,
      deleteFloatingIp: async (_p, { id }, { principal, services }) => {
        await services.addresses.deleteFloatingIp(principal, id);
        return true;
      },
    },
  },
};
