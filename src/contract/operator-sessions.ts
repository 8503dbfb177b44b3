/**
 * Operator sessions for people (issue #16): a user marked as an operator (`vmcloud operator-user link`)
 * signs in to the console's operator area with email, password and a TOTP code — TOTP is required. The
 * session lives in its own cookies (vmc_operator_session, vmc_operator_csrf), beside a project session,
 * and authenticates the operator API as an operator token does; its mutations need the CSRF token.
 */
import { Type, type Static } from 'typebox';
import { IdParams, Nullable } from './common.ts';
import { defineOperation } from './operation.ts';
import { AuthUser, Email, IssuedLink, TotpCode, TotpEnrolment, UserSummary, sessionFields } from './auth.ts';

export const OperatorLoginBody = Type.Object(
  {
    email: Email,
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    totp_code: Type.Optional(TotpCode),
  },
  { additionalProperties: false },
);
export type OperatorLoginBody = Static<typeof OperatorLoginBody>;

export const OperatorSession = Type.Object(sessionFields);
export type OperatorSession = Static<typeof OperatorSession>;

export const OperatorSignedIn = Type.Object({
  user: AuthUser,
  session: OperatorSession,
  csrf_token: Type.String({
    description:
      'send it back in X-CSRF-Token on every mutation made with the operator session cookie (also in the vmc_operator_csrf cookie)',
  }),
});
export type OperatorSignedIn = Static<typeof OperatorSignedIn>;

export const CurrentOperator = Type.Object({
  via: Type.Union([Type.Literal('session'), Type.Literal('token')]),
  user: Nullable(AuthUser),
  session: Nullable(OperatorSession),
});
export type CurrentOperator = Static<typeof CurrentOperator>;

export const OperatorUser = Type.Object({
  id: Type.String({ description: 'usr_…' }),
  email: Type.String(),
  name: Type.String(),
  operator: Type.Boolean(),
  totp_enabled: Type.Boolean({ description: 'an operator session needs it' }),
});
export type OperatorUser = Static<typeof OperatorUser>;

export const LinkTokenBody = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 200, description: 'the secret of the link (after #token=)' }) },
  { additionalProperties: false },
);

export const RedeemOperatorLinkBody = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 200, description: 'the secret of the link (after #token=)' }),
    password: Type.String({ minLength: 12, maxLength: 1024, description: 'the new password (12+ characters)' }),
    totp_code: Type.Optional(TotpCode),
    new_totp_code: Type.Optional(TotpCode),
  },
  { additionalProperties: false },
);
export type RedeemOperatorLinkBody = Static<typeof RedeemOperatorLinkBody>;

export const OperatorLinkRedeemed = Type.Object({
  ...OperatorSignedIn.properties,
  recovery_codes: Nullable(
    Type.Array(Type.String(), { description: 'TOTP turned on here: ten recovery codes, shown once' }),
  ),
});
export type OperatorLinkRedeemed = Static<typeof OperatorLinkRedeemed>;

export const OperatorUserBody = Type.Object({ email: Email }, { additionalProperties: false });

export const UserRefParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 254, description: 'the user: usr_… or their e-mail' }),
});

export const TotpReset = Type.Object({
  user: UserSummary,
  link: IssuedLink,
  had_totp: Type.Boolean({ description: 'whether TOTP was on before the reset' }),
  passkeys_deleted: Type.Integer({ minimum: 0, description: 'their passkeys, all deleted (each signs in alone)' }),
  sessions_revoked: Type.Integer({ minimum: 0, description: 'their project and operator sessions, all revoked' }),
});
export type TotpReset = Static<typeof TotpReset>;

export const operatorLogin = defineOperation({
  operationId: 'operatorLogin',
  method: 'POST',
  path: '/v1/auth/operator-login',
  tags: ['auth', 'operators'],
  summary: 'Sign in to the operator area with email, password and a TOTP code',
  description:
    'Sets the operator session cookies (vmc_operator_session HttpOnly, vmc_operator_csrf). Throttled with the sign-in (429 `login_throttled`). 401 `bad_credentials` for an unknown email or a wrong password (as the sign-in); with the right password, 403 `not_operator` when the user is not linked as an operator and 403 `operator_totp_required` when the user has no TOTP; 401 `totp_required` without a code, `totp_invalid` / `totp_replayed` for a bad one. Recovery codes do not open operator sessions.',
  auth: 'public',
  body: OperatorLoginBody,
  status: 200,
  response: OperatorSignedIn,
});

export const operatorLogout = defineOperation({
  operationId: 'operatorLogout',
  method: 'POST',
  path: '/v1/auth/operator-logout',
  tags: ['auth', 'operators'],
  summary: 'Leave the operator area: revokes this operator session and clears its cookies',
  auth: 'operator',
  status: 204,
  resource: 'session',
});

export const getOperatorSession = defineOperation({
  operationId: 'getOperatorSession',
  method: 'GET',
  path: '/v1/auth/operator-session',
  tags: ['auth', 'operators'],
  summary: 'Who is calling the operator API: the user and the operator session (a token answers too)',
  auth: 'operator',
  status: 200,
  response: CurrentOperator,
});

export const listOperatorSessions = defineOperation({
  operationId: 'listOperatorSessions',
  method: 'GET',
  path: '/v1/auth/operator-sessions',
  tags: ['auth', 'operators'],
  summary: "The signed-in operator's live operator sessions",
  auth: 'operator',
  status: 200,
  response: Type.Object({ sessions: Type.Array(OperatorSession) }),
});

export const revokeOperatorSession = defineOperation({
  operationId: 'revokeOperatorSession',
  method: 'DELETE',
  path: '/v1/auth/operator-sessions/:id',
  tags: ['auth', 'operators'],
  summary: "Revoke one of the operator's operator sessions",
  auth: 'operator',
  params: IdParams,
  status: 204,
  resource: 'session',
});

export const beginLinkTotpEnrolment = defineOperation({
  operationId: 'beginLinkTotpEnrolment',
  method: 'POST',
  path: '/v1/auth/links/totp',
  tags: ['auth', 'operators'],
  summary: 'Begin TOTP enrolment with a one-time link (an operator without TOTP, e.g. of no project)',
  description:
    'A new secret for the user of the link, who must be linked as an operator and have no TOTP yet; it is turned on only when `POST /v1/auth/links/operator-redeem` verifies a code of it. The link stays unused. 401 `link_invalid`, 403 `not_operator`, 409 `totp_enabled` (a link never replaces a second factor the user has).',
  auth: 'public',
  body: LinkTokenBody,
  status: 200,
  response: TotpEnrolment,
});

export const redeemOperatorLink = defineOperation({
  operationId: 'redeemOperatorLink',
  method: 'POST',
  path: '/v1/auth/links/operator-redeem',
  tags: ['auth', 'operators'],
  summary: 'Use a one-time link as an operator: set the password and open an operator session',
  description:
    'For users linked as operators, whether or not they belong to a project. A user with TOTP sends its `totp_code`; one without sends `new_totp_code`, a code of the secret `POST /v1/auth/links/totp` gave, and TOTP is turned on with the password (ten recovery codes in the answer, once). Sets the operator session cookies; every other session of the user is revoked. Nothing changes on a refusal: 401 `link_invalid`, 400 `weak_password`, 403 `not_operator`, 403 `operator_totp_required` (neither code), 409 `totp_not_pending`, 401 `totp_invalid` / `totp_replayed`.',
  auth: 'public',
  body: RedeemOperatorLinkBody,
  status: 200,
  response: OperatorLinkRedeemed,
});

export const listOperatorUsers = defineOperation({
  operationId: 'listOperatorUsers',
  method: 'GET',
  path: '/v1/operator-users',
  tags: ['operators'],
  summary: 'The users linked as operators (operators)',
  auth: 'operator',
  status: 200,
  response: Type.Object({ users: Type.Array(OperatorUser) }),
});

export const linkOperatorUser = defineOperation({
  operationId: 'linkOperatorUser',
  method: 'POST',
  path: '/v1/operator-users',
  tags: ['operators'],
  summary: 'Make an existing user an operator: they may open operator sessions (with TOTP) (operators)',
  description: '404 when no user has this email (create them with `POST /v1/users` first). Linking twice is a no-op.',
  auth: 'operator',
  body: OperatorUserBody,
  status: 200,
  response: OperatorUser,
  resource: 'user',
});

export const unlinkOperatorUser = defineOperation({
  operationId: 'unlinkOperatorUser',
  method: 'POST',
  path: '/v1/operator-users/unlink',
  tags: ['operators'],
  summary: 'A user is no longer an operator: their operator sessions are revoked at once (operators)',
  description: 'Operator tokens are separate credentials: revoke them with `DELETE /v1/operator-tokens/{id}`.',
  auth: 'operator',
  body: OperatorUserBody,
  status: 200,
  response: OperatorUser,
  resource: 'user',
});

export const resetUserTotp = defineOperation({
  operationId: 'resetUserTotp',
  method: 'POST',
  path: '/v1/users/:id/reset-totp',
  tags: ['operators'],
  summary:
    "Reset a user's second factor: TOTP off, recovery codes and passkeys deleted, sessions revoked, a one-time link (operators)",
  description:
    "For a person who lost their TOTP device and has no recovery code left. In one transaction: TOTP turned off (its secret and any pending one deleted), their recovery codes deleted, their passkeys deleted (a passkey signs in without TOTP, and the lost device may hold one; they register new ones once back in), every session of theirs revoked (project and operator), and a one-time link issued (earlier unused links stop working) with which they set a new password and enrol TOTP again (`POST /v1/auth/links/redeem`, or for operators `POST /v1/auth/links/totp` then `POST /v1/auth/links/operator-redeem`). Event `user.totp_reset`. Operator tokens they hold are separate credentials and stay. 404 for an unknown user; 409 `own_account` for the caller's own account (another operator resets it); a refusal changes nothing.",
  auth: 'operator',
  params: UserRefParams,
  status: 201,
  response: TotpReset,
  resource: 'user',
});

export const operatorSessionOperations = {
  operatorLogin,
  operatorLogout,
  getOperatorSession,
  listOperatorSessions,
  revokeOperatorSession,
  beginLinkTotpEnrolment,
  redeemOperatorLink,
  listOperatorUsers,
  linkOperatorUser,
  unlinkOperatorUser,
  resetUserTotp,
};
