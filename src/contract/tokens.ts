/** API tokens: project tokens with a role, operator tokens, host tokens. Secrets are shown once. */
import { Type, type Static } from 'typebox';
import { IdParams, Nullable, NullableTimestamp, Timestamp, plainTextPattern } from './common.ts';
import { defineOperation } from './operation.ts';

export const TokenKind = Type.Union([Type.Literal('project'), Type.Literal('operator'), Type.Literal('host')]);
export type TokenKind = Static<typeof TokenKind>;

export const Token = Type.Object({
  id: Type.String({ description: 'tok_…' }),
  kind: TokenKind,
  name: Type.String(),
  role: Type.String({ description: 'owner | member | viewer for project tokens; operator; host' }),
  project_id: Nullable(Type.String()),
  host_id: Nullable(Type.String({ description: 'host tokens: the host it registered' })),
  prefix: Type.String({ description: 'the first characters of the secret, to recognise it' }),
  expires_at: NullableTimestamp,
  last_used_at: NullableTimestamp,
  revoked_at: NullableTimestamp,
  created_at: Timestamp,
});
export type Token = Static<typeof Token>;

export const TokenName = Type.String({ minLength: 1, maxLength: 100, pattern: plainTextPattern });
export const ExpiresInDays = Type.Integer({ minimum: 1, maximum: 3650 });

export const CreateTokenBody = Type.Object(
  {
    name: TokenName,
    role: Type.Union([Type.Literal('owner'), Type.Literal('member'), Type.Literal('viewer')]),
    expires_in_days: Type.Optional(ExpiresInDays),
  },
  { additionalProperties: false },
);
export type CreateTokenBody = Static<typeof CreateTokenBody>;

export const CreateOperatorTokenBody = Type.Object(
  { name: TokenName, expires_in_days: Type.Optional(ExpiresInDays) },
  { additionalProperties: false },
);
export type CreateOperatorTokenBody = Static<typeof CreateOperatorTokenBody>;

export const CreateHostTokenBody = Type.Object(
  {
    name: TokenName,
    expires_in_days: Type.Optional(ExpiresInDays),
    host_id: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        description:
          'rotation: a join token for this existing host (its agent lost its state); joining with it re-issues the host certificate and revokes the older ones',
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreateHostTokenBody = Static<typeof CreateHostTokenBody>;

export const TokenCreated = Type.Object({
  token: Token,
  secret: Type.String({ description: 'vmc_…: shown once, stored only as a hash' }),
});
export type TokenCreated = Static<typeof TokenCreated>;

/** A host (join) token and what the agent needs to trust the control plane before it has a certificate. */
export const HostTokenCreated = Type.Object({
  token: Token,
  secret: Type.String({
    description: 'vmc_…: a one-time join token, shown once; give it to the agent in VMCLOUD_JOIN_TOKEN',
  }),
  ca_sha256: Type.String({
    description: "SHA-256 fingerprint of the control plane's host CA (`vmcloud agent --ca-sha256`), AB:CD:…",
  }),
});
export type HostTokenCreated = Static<typeof HostTokenCreated>;

export const TokenList = Type.Object({ tokens: Type.Array(Token) });
export type TokenList = Static<typeof TokenList>;

export const createToken = defineOperation({
  operationId: 'createToken',
  method: 'POST',
  path: '/v1/tokens',
  tags: ['identity'],
  summary: 'Create an API token (owners)',
  description: 'The secret is returned once and stored only as a hash.',
  auth: 'project',
  body: CreateTokenBody,
  status: 201,
  response: TokenCreated,
  resource: 'token',
});

export const listTokens = defineOperation({
  operationId: 'listTokens',
  method: 'GET',
  path: '/v1/tokens',
  tags: ['identity'],
  summary: 'List the project tokens (owners)',
  auth: 'project',
  status: 200,
  response: TokenList,
});

export const revokeToken = defineOperation({
  operationId: 'revokeToken',
  method: 'DELETE',
  path: '/v1/tokens/:id',
  tags: ['identity'],
  summary: 'Revoke a token (owners)',
  auth: 'project',
  params: IdParams,
  status: 204,
  resource: 'token',
});

export const createHostToken = defineOperation({
  operationId: 'createHostToken',
  method: 'POST',
  path: '/v1/host-tokens',
  tags: ['operators'],
  summary: 'Create a host join token (operators)',
  description:
    "A one-time join token: an agent joins with it once (a CSR in, a host certificate out) and it registers exactly one host, ever. With `host_id` it re-joins an existing host whose agent lost its state. Revoking the token revokes its host's certificates: the host is down at the next housekeeping pass.",
  auth: 'operator',
  body: CreateHostTokenBody,
  status: 201,
  response: HostTokenCreated,
  resource: 'token',
});

export const listHostTokens = defineOperation({
  operationId: 'listHostTokens',
  method: 'GET',
  path: '/v1/host-tokens',
  tags: ['operators'],
  summary: 'List host tokens (operators)',
  auth: 'operator',
  status: 200,
  response: TokenList,
});

export const revokeHostToken = defineOperation({
  operationId: 'revokeHostToken',
  method: 'DELETE',
  path: '/v1/host-tokens/:id',
  tags: ['operators'],
  summary: 'Revoke a host token (operators)',
  auth: 'operator',
  params: IdParams,
  status: 204,
  resource: 'token',
});

export const createOperatorToken = defineOperation({
  operationId: 'createOperatorToken',
  method: 'POST',
  path: '/v1/operator-tokens',
  tags: ['operators'],
  summary: 'Create an operator token (operators)',
  auth: 'operator',
  body: CreateOperatorTokenBody,
  status: 201,
  response: TokenCreated,
  resource: 'token',
});

export const listOperatorTokens = defineOperation({
  operationId: 'listOperatorTokens',
  method: 'GET',
  path: '/v1/operator-tokens',
  tags: ['operators'],
  summary: 'List operator tokens (operators)',
  auth: 'operator',
  status: 200,
  response: TokenList,
});

export const revokeOperatorToken = defineOperation({
  operationId: 'revokeOperatorToken',
  method: 'DELETE',
  path: '/v1/operator-tokens/:id',
  tags: ['operators'],
  summary: 'Revoke an operator token (operators)',
  description: 'The last valid operator token cannot be revoked (409 last_operator_token).',
  auth: 'operator',
  params: IdParams,
  status: 204,
  resource: 'token',
});

export const tokenOperations = {
  createToken,
  listTokens,
  revokeToken,
  createHostToken,
  listHostTokens,
  revokeHostToken,
  createOperatorToken,
  listOperatorTokens,
  revokeOperatorToken,
};
