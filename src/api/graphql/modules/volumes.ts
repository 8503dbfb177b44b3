import { attachVolume, createVolume, resizeVolume } from '../../../contract/index.ts';
import { restBody, type GraphqlModule } from '../module.ts';

export const volumesModule: GraphqlModule = {
  typeDefs: /* GraphQL */ `
    type Volume {
      id: ID!
      name: String!
      project_id: String!
      region: String!
      size_gib: Int!
      backend: String!
      status: String!
      server_id: String
      labels: JSON!
      error: String
      "What it was made from: {kind: backup, backup_id} or {kind: snapshot, server_id, snapshot}; null: empty."
      source: JSON
      created_at: String!
      updated_at: String!
      "The server it is attached to (batched per request)."
      server: Server
    }
    type VolumePage {
      volumes: [Volume!]!
      next_cursor: String
    }
    type VolumeCreated {
      volume: Volume!
      action: Action!
    }
    input VolumeSnapshotSourceInput {
      "server id or name"
      server: String!
      name: String!
    }
    input CreateVolumeInput {
      name: String!
      "required for an empty volume; with a source, at least its disk's (by default that)"
      size_gib: Int
      region: String!
      labels: JSON
      "fill it with this backup of a server disk (bkp_…)"
      from_backup: String
      "fill it with this disk snapshot of a server"
      from_snapshot: VolumeSnapshotSourceInput
      "with from_backup: one of the backup's volumes (the volume_id of one of its volumes) instead of the server's disk"
      backup_volume_id: String
      "with from_backup: made on this server's host and attached to it once filled (id or name)"
      server: String
    }
    extend type Query {
      volumes(limit: Int, cursor: String, region: String, server_id: String): VolumePage!
      volume(id: ID!): Volume
    }
    extend type Mutation {
      createVolume(input: CreateVolumeInput!): VolumeCreated!
      attachVolume(id: ID!, server: String!): Action!
      detachVolume(id: ID!): Action!
      resizeVolume(id: ID!, size_gib: Int!): Action!
      deleteVolume(id: ID!): Action!
    }
  `,
  resolvers: {
    Query: {
      volumes: (_p, args, { principal, services }) =>
        services.volumes.listVolumes(principal, {
          limit: args.limit == null ? undefined : String(args.limit),
          cursor: args.cursor ?? undefined,
          region: args.region ?? undefined,
          server_id: args.server_id ?? undefined,
        }),
      volume: async (_p, { id }, { principal, services }) => (await services.volumes.getVolume(principal, id)).volume,
    },
    Volume: {
      server: (volume, _a, { loaders }) => (volume.server_id ? loaders.server.load(volume.server_id) : null),
    },
    Mutation: {
      createVolume: (_p, { input }, { principal, services }) =>
        services.volumes.createVolume(principal, restBody(createVolume, input)),
      attachVolume: async (_p, { id, server }, { principal, services }) =>
        (await services.volumes.attach(principal, id, restBody(attachVolume, { server }).server)).action,
      detachVolume: async (_p, { id }, { principal, services }) =>
        (await services.volumes.detach(principal, id)).action,
      resizeVolume: async (_p, { id, size_gib }, { principal, services }) =>
        (await services.volumes.resize(principal, id, restBody(resizeVolume, { size_gib }).size_gib)).action,
      deleteVolume: async (_p, { id }, { principal, services }) =>
        (await services.volumes.delete(principal, id)).action,
    },
  },
};
