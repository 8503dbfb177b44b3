import { createSshKey, listSshKeys, updateSshKey } from '../../../contract/index.ts';
import { restBody, restQuery, type GraphqlModule } from '../module.ts';

/** The project's saved SSH keys (`/v1/ssh-keys`): the same service, schemas and refusals as REST. */
export const sshKeysModule: GraphqlModule = {
  typeDefs: /* GraphQL */ `
    type SshKey {
      id: ID!
      name: String!
      "The OpenSSH public key line: type base64 [comment]"
      public_key: String!
      "SHA256:…, as ssh-keygen -l -E sha256 prints it"
      fingerprint: String!
      type: String!
      bits: Int!
      labels: JSON!
      created_at: String!
    }
    type SshKeyPage {
      ssh_keys: [SshKey!]!
      next_cursor: String
    }
    input CreateSshKeyInput {
      name: String!
      "one OpenSSH public key line (the content of ~/.ssh/id_ed25519.pub)"
      public_key: String!
      labels: JSON
    }
    input UpdateSshKeyInput {
      name: String
      labels: JSON
    }
    extend type Query {
      ssh_keys(limit: Int, cursor: String, label_selector: String, name: String, fingerprint: String): SshKeyPage!
      "By id or name."
      ssh_key(id: ID!): SshKey
    }
    extend type Mutation {
      createSshKey(input: CreateSshKeyInput!): SshKey!
      updateSshKey(id: ID!, input: UpdateSshKeyInput!): SshKey!
      deleteSshKey(id: ID!): Boolean!
    }
  `,
  resolvers: {
    Query: {
      ssh_keys: (_p, args, { principal, services }) =>
        services.sshKeys.listSshKeys(principal, restQuery(listSshKeys, args)),
      ssh_key: async (_p, { id }, { principal, services }) => (await services.sshKeys.getSshKey(principal, id)).ssh_key,
    },
    Mutation: {
      createSshKey: async (_p, { input }, { principal, services }) =>
        (await services.sshKeys.createSshKey(principal, restBody(createSshKey, input))).ssh_key,
      updateSshKey: async (_p, { id, input }, { principal, services }) =>
        (await services.sshKeys.updateSshKey(principal, id, restBody(updateSshKey, input))).ssh_key,
      deleteSshKey: async (_p, { id }, { principal, services }) => {
        await services.sshKeys.deleteSshKey(principal, id);
        return true;
      },
    },
  },
};
