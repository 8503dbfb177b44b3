/**
 * SSH keys (as at Hetzner Cloud and DigitalOcean): a project's saved OpenSSH public keys, named and
 * fingerprinted, that `POST /v1/servers` takes by id or name in `ssh_keys` beside inline public keys.
 * The key is parsed by the control plane (src/sshkeys/public-key.ts): its type inside the blob must match
 * the type before it, RSA keys have at least 2048 bits, DSA and private keys are refused.
 */
import { Type, type Static } from 'typebox';
import { CursorQuery, IdParams, Labels, LimitQuery, Literals, NextCursor, Timestamp } from './common.ts';
import { defineOperation } from './operation.ts';

export const sshKeyTypesAccepted = [
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
] as const;
export type SshKeyType = (typeof sshKeyTypesAccepted)[number];

/** The bounds SSH keys keep. */
export const sshKeyLimits = {
  /** `quota_exceeded` (403, as the project quotas) past this many keys in one project */
  keysPerProject: 100,
  /** `weak_key`: RSA moduli shorter than this */
  rsaMinBits: 2048,
} as const;

/**
 * A name: letters, digits, `.`, `_`, `-` and `@`, no space — so that an entry of a server's `ssh_keys`
 * is either a public key (it has a space) or a key's id or name (it has none).
 */
export const sshKeyNamePattern = '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$';
export const SshKeyName = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: sshKeyNamePattern,
  description: '1–64 letters, digits, `.`, `_`, `-` or `@`, starting with a letter or digit (no spaces)',
});

export const SshKey = Type.Object({
  id: Type.String({ description: 'key_…' }),
  name: Type.String(),
  public_key: Type.String({ description: 'The OpenSSH public key line: type base64 [comment]' }),
  fingerprint: Type.String({
    description: 'SHA256:… (unpadded base64 of the SHA-256 of the key blob), as `ssh-keygen -l -E sha256` prints it',
  }),
  type: Literals(sshKeyTypesAccepted),
  /** The key size in bits (RSA modulus, ECDSA curve, 256 for Ed25519). */
  bits: Type.Integer(),
  labels: Labels,
  created_at: Timestamp,
});
export type SshKey = Static<typeof SshKey>;

export const CreateSshKeyBody = Type.Object(
  {
    name: SshKeyName,
    public_key: Type.String({
      minLength: 1,
      maxLength: 16_384,
      description: 'One OpenSSH public key line (the content of `~/.ssh/id_ed25519.pub`)',
    }),
    labels: Type.Optional(Labels),
  },
  { additionalProperties: false },
);
export type CreateSshKeyBody = Static<typeof CreateSshKeyBody>;

export const UpdateSshKeyBody = Type.Object(
  { name: Type.Optional(SshKeyName), labels: Type.Optional(Labels) },
  { additionalProperties: false },
);
export type UpdateSshKeyBody = Static<typeof UpdateSshKeyBody>;

export const ListSshKeysQuery = Type.Object(
  {
    limit: Type.Optional(LimitQuery),
    cursor: Type.Optional(CursorQuery),
    label_selector: Type.Optional(Type.String({ maxLength: 2000 })),
    name: Type.Optional(Type.String({ maxLength: 64 })),
    fingerprint: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
);
export type ListSshKeysQuery = Static<typeof ListSshKeysQuery>;

export const SshKeyList = Type.Object({ ssh_keys: Type.Array(SshKey), next_cursor: NextCursor });
export type SshKeyList = Static<typeof SshKeyList>;
export const SshKeyEnvelope = Type.Object({ ssh_key: SshKey });
export type SshKeyEnvelope = Static<typeof SshKeyEnvelope>;

const tags = ['ssh-keys'];

export const createSshKey = defineOperation({
  operationId: 'createSshKey',
  method: 'POST',
  path: '/v1/ssh-keys',
  tags,
  summary: 'Save an SSH public key',
  description: `Accepted types: ${sshKeyTypesAccepted.join(', ')}. Refused with 400 \`invalid_public_key\` (not one OpenSSH public key line, a private key, a blob that does not decode or names another type, DSA), 400 \`weak_key\` (RSA under ${sshKeyLimits.rsaMinBits} bits), 409 \`name_taken\` or \`key_exists\` (the same key under another name), 403 \`quota_exceeded\` past ${sshKeyLimits.keysPerProject} keys.`,
  auth: 'project',
  body: CreateSshKeyBody,
  status: 201,
  response: SshKeyEnvelope,
  resource: 'ssh_key',
});

export const listSshKeys = defineOperation({
  operationId: 'listSshKeys',
  method: 'GET',
  path: '/v1/ssh-keys',
  tags,
  summary: 'List SSH keys',
  auth: 'project',
  query: ListSshKeysQuery,
  status: 200,
  response: SshKeyList,
});

export const getSshKey = defineOperation({
  operationId: 'getSshKey',
  method: 'GET',
  path: '/v1/ssh-keys/:id',
  tags,
  summary: 'Show an SSH key (by id or name)',
  auth: 'project',
  params: IdParams,
  status: 200,
  response: SshKeyEnvelope,
});

export const updateSshKey = defineOperation({
  operationId: 'updateSshKey',
  method: 'PATCH',
  path: '/v1/ssh-keys/:id',
  tags,
  summary: 'Rename an SSH key or replace its labels',
  auth: 'project',
  params: IdParams,
  body: UpdateSshKeyBody,
  status: 200,
  response: SshKeyEnvelope,
  resource: 'ssh_key',
});

export const deleteSshKey = defineOperation({
  operationId: 'deleteSshKey',
  method: 'DELETE',
  path: '/v1/ssh-keys/:id',
  tags,
  summary: 'Delete an SSH key',
  description: 'Servers created with it keep the key: it was copied into them at create.',
  auth: 'project',
  params: IdParams,
  status: 204,
  resource: 'ssh_key',
});

export const sshKeyOperations = { createSshKey, listSshKeys, getSshKey, updateSshKey, deleteSshKey };
