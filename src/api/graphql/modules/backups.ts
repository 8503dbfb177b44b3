import type { GraphqlModule } from '../module.ts';

export const backupsModule: GraphqlModule = {
  typeDefs: /* GraphQL */ `
    type Backup {
      id: ID!
      project_id: String!
      source: JSON!
      region: String!
      status: String!
      trigger: String!
      kind: String
      consistency: String
      disk_bytes: Float
      read_bytes: Float
      stored_bytes: Float
      duration_ms: Float
      location: JSON
      remote_region: String
      verified_at: String
      error: String
      created_at: String!
      finished_at: String
    }
    type BackupPage {
      backups: [Backup!]!
      next_cursor: String
    }
    extend type Query {
      backups(server_id: String, limit: Int, cursor: String): BackupPage!
      backup(id: ID!): Backup
    }
  `,
  resolvers: {
    Query: {
      backups: (_p, args, { principal, services }) =>
        services.backups.listBackups(principal, {
          server_id: args.server_id ?? undefined,
          limit: args.limit == null ? undefined : String(args.limit),
          cursor: args.cursor ?? undefined,
        }),
      backup: (_p, { id }, { principal, services }) => services.backups.getBackup(principal, id),
    },
  },
};
