import type { GraphqlModule } from '../module.ts';

export const catalogModule: GraphqlModule = {
  typeDefs: /* GraphQL */ `
    type Region {
      code: ID!
      name: String!
      city: String!
      country: String!
      peering: String!
      peering_gbps: Int
      status: String!
      orderable: Boolean!
      opens: String
    }
    type Product {
      code: ID!
      name: String!
      family: String!
      vcpus: Int!
      memory_mib: Int!
      disk_gib: Int!
      traffic_tib: Int!
      gpu: JSON
      "Servers get an SR-IOV virtual function of the host NIC on their NUMA node."
      sriov: Boolean!
      "Prices (integer cents) as the REST API shows them."
      price: JSON!
      "The regions it is sold in."
      regions: JSON!
      "Live availability in each region that sells it (available | scarce | none), as customers see it."
      availability: [ProductAvailability!]!
    }
    type ProductAvailability {
      region: String!
      availability: String!
    }
    type Image {
      id: ID!
      slug: String!
      name: String!
      os_family: String!
      os_version: String!
      category: String!
      requires_gpu: Boolean!
      min_disk_gib: Int!
      status: String!
    }
    extend type Query {
      regions: [Region!]!
      region(code: ID!): Region
      products(region: String): [Product!]!
      images: [Image!]!
    }
  `,
  resolvers: {
    Product: {
      availability: async (product, _a, { loaders }) =>
        (await loaders.capacity.load('all')).flatMap((region) =>
          region.products
            .filter((p) => p.product === product.code)
            .map((p) => ({ region: region.region, availability: p.availability })),
        ),
    },
    Query: {
      regions: (_p, _a, { services }) => services.catalog.listRegions(),
      region: (_p, { code }, { services }) => services.catalog.getRegion(code),
      products: (_p, { region }, { services }) => services.catalog.listProducts({ region: region ?? undefined }),
      images: (_p, _a, { services }) => services.catalog.listImages(),
    },
  },
};
