/**
 * Passkeys (WebAuthn) for console sign-in (docs/adr/0013-passkeys.md). A signed-in user registers passkeys
 * (discoverable credentials, user verification required) and signs in with one instead of the password and
 * TOTP: possession of the authenticator plus its user verification are the two factors. Each ceremony is
 * two calls: options (a single-use challenge stored server side, 5 minutes) and the browser's answer.
 * The option and credential objects are the WebAuthn JSON forms (as `@simplewebauthn/browser` gives them).
 */
import { Type, type Static } from 'typebox';
import { Nullable, Timestamp, plainTextPattern } from './common.ts';
import { defineOperation } from './operation.ts';
import { SignedIn } from './auth.ts';

const Base64Url = (description: string) =>
  Type.String({ minLength: 1, maxLength: 4096, pattern: '^[A-Za-z0-9_-]+$', description });
const open = { additionalProperties: true } as const;

export const Passkey = Type.Object({
  id: Type.String({ description: 'pky_…' }),
  name: Type.String(),
  transports: Type.Array(Type.String(), { description: 'how the browser reaches the authenticator' }),
  backed_up: Type.Boolean({ description: 'synced by its provider (a multi-device passkey)' }),
  created_at: Timestamp,
  last_used_at: Nullable(Timestamp),
});
export type Passkey = Static<typeof Passkey>;

const CredentialDescriptor = Type.Object(
  { id: Type.String(), type: Type.String(), transports: Type.Optional(Type.Array(Type.String())) },
  open,
);

/** PublicKeyCredentialCreationOptionsJSON: what navigator.credentials.create() takes (as JSON). */
export const PasskeyCreationOptions = Type.Object(
  {
    challenge: Type.String(),
    rp: Type.Object({ id: Type.Optional(Type.String()), name: Type.String() }, open),
    user: Type.Object({ id: Type.String(), name: Type.String(), displayName: Type.String() }, open),
    pubKeyCredParams: Type.Array(Type.Object({ type: Type.String(), alg: Type.Integer() }, open)),
    timeout: Type.Optional(Type.Integer()),
    excludeCredentials: Type.Optional(Type.Array(CredentialDescriptor)),
    authenticatorSelection: Type.Optional(Type.Object({}, open)),
    attestation: Type.Optional(Type.String()),
    extensions: Type.Optional(Type.Object({}, open)),
    hints: Type.Optional(Type.Array(Type.String())),
  },
  open,
);

/** PublicKeyCredentialRequestOptionsJSON: what navigator.credentials.get() takes (as JSON). */
export const PasskeyRequestOptions = Type.Object(
  {
    challenge: Type.String(),
    rpId: Type.Optional(Type.String()),
    timeout: Type.Optional(Type.Integer()),
    allowCredentials: Type.Optional(Type.Array(CredentialDescriptor)),
    userVerification: Type.Optional(Type.String()),
    extensions: Type.Optional(Type.Object({}, open)),
    hints: Type.Optional(Type.Array(Type.String())),
  },
  open,
);

const ChallengeId = Type.String({ minLength: 1, maxLength: 100, description: 'pkc_…: the challenge to answer' });

export const PasskeyRegistrationOptions = Type.Object({
  challenge_id: ChallengeId,
  options: PasskeyCreationOptions,
  expires_at: Timestamp,
});
export type PasskeyRegistrationOptions = Static<typeof PasskeyRegistrationOptions>;

export const PasskeyLoginOptions = Type.Object({
  challenge_id: ChallengeId,
  options: PasskeyRequestOptions,
  expires_at: Timestamp,
});
export type PasskeyLoginOptions = Static<typeof PasskeyLoginOptions>;

/** RegistrationResponseJSON: what navigator.credentials.create() answered (as JSON). */
export const PasskeyRegistrationCredential = Type.Object(
  {
    id: Base64Url('the credential id'),
    rawId: Base64Url('the credential id'),
    type: Type.Literal('public-key'),
    response: Type.Object(
      {
        clientDataJSON: Base64Url('client data'),
        attestationObject: Type.String({ minLength: 1, maxLength: 65536, pattern: '^[A-Za-z0-9_-]+$' }),
        transports: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 10 })),
      },
      open,
    ),
    authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
    clientExtensionResults: Type.Object({}, open),
  },
  open,
);

/** AuthenticationResponseJSON: what navigator.credentials.get() answered (as JSON). */
export const PasskeyAssertion = Type.Object(
  {
    id: Base64Url('the credential id'),
    rawId: Base64Url('the credential id'),
    type: Type.Literal('public-key'),
    response: Type.Object(
      {
        clientDataJSON: Base64Url('client data'),
        authenticatorData: Base64Url('authenticator data'),
        signature: Base64Url('the signature'),
        userHandle: Type.Optional(Type.String({ maxLength: 256 })),
      },
      open,
    ),
    authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
    clientExtensionResults: Type.Object({}, open),
  },
  open,
);

export const RegisterPasskeyBody = Type.Object(
  {
    challenge_id: ChallengeId,
    name: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 60,
        pattern: plainTextPattern,
        description: 'what to call it (default: "Passkey" and the date)',
      }),
    ),
    credential: PasskeyRegistrationCredential,
  },
  { additionalProperties: false },
);
export type RegisterPasskeyBody = Static<typeof RegisterPasskeyBody>;

export const PasskeyLoginBody = Type.Object(
  {
    challenge_id: ChallengeId,
    credential: PasskeyAssertion,
    project_id: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'default: the first' })),
  },
  { additionalProperties: false },
);
export type PasskeyLoginBody = Static<typeof PasskeyLoginBody>;

const PasskeyParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100, description: 'pky_…' }) });

export const beginPasskeyRegistration = defineOperation({
  operationId: 'beginPasskeyRegistration',
  method: 'POST',
  path: '/v1/auth/passkeys/registration-options',
  tags: ['auth'],
  summary: 'Options for registering a passkey (a single-use challenge, 5 minutes)',
  description:
    'Signed-in sessions only (403 `session_required` for a token). The options ask for a discoverable credential with user verification and exclude the passkeys the user has already.',
  auth: 'project',
  status: 200,
  response: PasskeyRegistrationOptions,
  resource: 'user',
});

export const registerPasskey = defineOperation({
  operationId: 'registerPasskey',
  method: 'POST',
  path: '/v1/auth/passkeys',
  tags: ['auth'],
  summary: "Verify the browser's answer and store the passkey",
  description:
    '400 `passkey_challenge_invalid` for an unknown, used or expired challenge (or one of another user); 400 `passkey_invalid` when the answer does not verify (origin, RP ID, user verification); 409 `passkey_exists` when the credential is registered already.',
  auth: 'project',
  body: RegisterPasskeyBody,
  status: 201,
  response: Type.Object({ passkey: Passkey }),
  resource: 'passkey',
});

export const listPasskeys = defineOperation({
  operationId: 'listPasskeys',
  method: 'GET',
  path: '/v1/auth/passkeys',
  tags: ['auth'],
  summary: "The signed-in user's passkeys",
  auth: 'project',
  status: 200,
  response: Type.Object({ passkeys: Type.Array(Passkey) }),
});

export const deletePasskey = defineOperation({
  operationId: 'deletePasskey',
  method: 'DELETE',
  path: '/v1/auth/passkeys/:id',
  tags: ['auth'],
  summary: 'Delete one of your passkeys (it signs in no more)',
  description: "404 for an unknown id or another user's passkey.",
  auth: 'project',
  params: PasskeyParams,
  status: 204,
  resource: 'passkey',
});

export const beginPasskeyLogin = defineOperation({
  operationId: 'beginPasskeyLogin',
  method: 'POST',
  path: '/v1/auth/passkey-login/options',
  tags: ['auth'],
  summary: 'Options for signing in with a passkey (discoverable: no e-mail needed)',
  description:
    'Each call stores a single-use challenge (5 minutes): 429 `passkey_options_throttled` past 30 a minute per address.',
  auth: 'public',
  status: 200,
  response: PasskeyLoginOptions,
});

export const passkeyLogin = defineOperation({
  operationId: 'passkeyLogin',
  method: 'POST',
  path: '/v1/auth/passkey-login',
  tags: ['auth'],
  summary: 'Sign in with a passkey: sets the session cookies, as password sign-in does',
  description:
    'A passkey with user verification counts as two factors: no TOTP code is asked. 401 `passkey_challenge_invalid` (unknown, used or expired challenge); 401 `passkey_unknown` (no such passkey: deleted?); 401 `passkey_invalid` (the signature, origin, RP ID, user verification or signature counter does not verify); 429 `login_throttled`.',
  auth: 'public',
  body: PasskeyLoginBody,
  status: 200,
  response: SignedIn,
});

export const passkeyOperations = {
  beginPasskeyRegistration,
  registerPasskey,
  listPasskeys,
  deletePasskey,
  beginPasskeyLogin,
  passkeyLogin,
};
