/**
 * People and their console sessions (docs/adr/0010-console-auth.md): sign-in with email + password and a
 * TOTP code, sessions in cookies, TOTP enrolment with recovery codes, operator-issued one-time links. A
 * session authenticates the API exactly as a project token with the member's role does.
 */
import { Type, type Static } from 'typebox';
import { IdParams, Nullable, Timestamp, plainTextPattern } from './common.ts';
import { defineOperation } from './operation.ts';

export const Email = Type.String({
  minLength: 3,
  maxLength: 254,
  pattern: '^[^\\s@]+@[^\\s@]+$',
  description: 'e-mail',
});
const Password = Type.String({ minLength: 1, maxLength: 1024 });
export const TotpCode = Type.String({
  pattern: '^[0-9]{6}$',
  description: 'the 6-digit code of the authenticator app',
});
export const RecoveryCode = Type.String({
  minLength: 1,
  maxLength: 32,
  pattern: '^[A-Za-z0-9-]+$',
  description: 'one of the recovery codes shown at TOTP enrolment (each works once)',
});
const Role = Type.Union([Type.Literal('owner'), Type.Literal('member'), Type.Literal('viewer')]);

export const SecondFactor = Type.Union([
  Type.Literal('none'),
  Type.Literal('totp'),
  Type.Literal('recovery_code'),
  Type.Literal('link'),
  Type.Literal('passkey'),
]);
export type SecondFactor = Static<typeof SecondFactor>;

export const AuthUser = Type.Object({
  id: Type.String({ description: 'usr_…' }),
  email: Type.String(),
  name: Type.String(),
  totp_enabled: Type.Boolean(),
  has_password: Type.Boolean(),
  recovery_codes_left: Type.Integer(),
  passkeys: Type.Integer({ description: 'how many passkeys the user has registered' }),
});
export type AuthUser = Static<typeof AuthUser>;

/** What every signed-in session shows its user (operator sessions: contract/operator-sessions.ts). */
export const sessionFields = {
  id: Type.String({ description: 'ses_…' }),
  second_factor: SecondFactor,
  source_ip: Nullable(Type.String()),
  user_agent: Nullable(Type.String()),
  created_at: Timestamp,
  last_seen_at: Timestamp,
  expires_at: Timestamp,
  current: Type.Boolean({ description: 'the session of this request' }),
};

export const AuthSession = Type.Object({ ...sessionFields, project_id: Type.String() });
export type AuthSession = Static<typeof AuthSession>;

export const ProjectMembership = Type.Object({ id: Type.String(), name: Type.String(), role: Role });
export type ProjectMembership = Static<typeof ProjectMembership>;

export const SignedIn = Type.Object({
  user: AuthUser,
  session: AuthSession,
  project: ProjectMembership,
  csrf_token: Type.String({
    description:
      'send it back in X-CSRF-Token on every mutation made with the session cookie (also in the vmc_csrf cookie)',
  }),
});
export type SignedIn = Static<typeof SignedIn>;

export const CurrentPrincipal = Type.Object({
  via: Type.Union([Type.Literal('session'), Type.Literal('token')]),
  user: Nullable(AuthUser),
  project: ProjectMembership,
  session: Nullable(AuthSession),
  projects: Type.Array(ProjectMembership, { description: "the user's projects (sessions)" }),
});
export type CurrentPrincipal = Static<typeof CurrentPrincipal>;

export const LoginBody = Type.Object(
  {
    email: Email,
    password: Password,
    totp_code: Type.Optional(TotpCode),
    recovery_code: Type.Optional(RecoveryCode),
    project_id: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'default: the first' })),
  },
  { additionalProperties: false },
);
export type LoginBody = Static<typeof LoginBody>;

export const RedeemLinkBody = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 200, description: 'the secret of the link (after #token=)' }),
    password: Type.String({ minLength: 12, maxLength: 1024, description: 'the new password (12+ characters)' }),
    totp_code: Type.Optional(TotpCode),
    recovery_code: Type.Optional(RecoveryCode),
  },
  { additionalProperties: false },
);
export type RedeemLinkBody = Static<typeof RedeemLinkBody>;

export const TotpEnrolment = Type.Object({
  secret: Type.String({ description: 'base32, for typing into the app' }),
  otpauth_uri: Type.String({ description: 'otpauth://totp/…: what the app reads (QR code)' }),
});
export type TotpEnrolment = Static<typeof TotpEnrolment>;

export const TotpCodeBody = Type.Object({ code: TotpCode }, { additionalProperties: false });
export const RecoveryCodes = Type.Object({
  recovery_codes: Type.Array(Type.String(), { description: 'shown once; each works once' }),
});
export type RecoveryCodes = Static<typeof RecoveryCodes>;

export const PasswordBody = Type.Object({ password: Password }, { additionalProperties: false });
export const ChangePasswordBody = Type.Object(
  { current_password: Password, new_password: Type.String({ minLength: 12, maxLength: 1024 }) },
  { additionalProperties: false },
);
export type ChangePasswordBody = Static<typeof ChangePasswordBody>;

export const LinkPurpose = Type.Union([Type.Literal('set_password'), Type.Literal('reset_password')]);
export type LinkPurpose = Static<typeof LinkPurpose>;

export const IssuedLink = Type.Object({
  purpose: LinkPurpose,
  path: Type.String({ description: 'append to the console address: /reset#token=…; works once' }),
  expires_at: Timestamp,
});
export type IssuedLink = Static<typeof IssuedLink>;

export const UserSummary = Type.Object({ id: Type.String(), email: Type.String(), name: Type.String() });

export const CreateUserBody = Type.Object(
  {
    email: Email,
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: plainTextPattern })),
    project_id: Type.String({ minLength: 1, maxLength: 100 }),
    role: Role,
  },
  { additionalProperties: false },
);
export type CreateUserBody = Static<typeof CreateUserBody>;

export const UserWithLink = Type.Object({ user: UserSummary, link: IssuedLink });
export type UserWithLink = Static<typeof UserWithLink>;

export const ResetLinkBody = Type.Object({ email: Email }, { additionalProperties: false });

export const login = defineOperation({
  operationId: 'login',
  method: 'POST',
  path: '/v1/auth/login',
  tags: ['auth'],
  summary: 'Sign in with email and password (and a TOTP or recovery code)',
  description:
    'Sets the session cookie (HttpOnly, SameSite=Lax, Secure over TLS) and the CSRF cookie. 401 `totp_required` when the account has TOTP and no code was sent; 401 `bad_credentials`; 429 `login_throttled` past the failures allowed per account or address.',
  auth: 'public',
  body: LoginBody,
  status: 200,
  response: SignedIn,
});

export const logout = defineOperation({
  operationId: 'logout',
  method: 'POST',
  path: '/v1/auth/logout',
  tags: ['auth'],
  summary: 'Sign out: revokes this session and clears its cookies',
  auth: 'project',
  status: 204,
  resource: 'session',
});

export const getAuthSession = defineOperation({
  operationId: 'getAuthSession',
  method: 'GET',
  path: '/v1/auth/session',
  tags: ['auth'],
  summary: 'Who is calling: the user, session, project and role (a token answers too)',
  auth: 'project',
  status: 200,
  response: CurrentPrincipal,
});

export const SwitchProjectBody = Type.Object(
  {
    project_id: Type.String({ minLength: 1, maxLength: 100, description: 'prj_…: a project the user is a member of' }),
  },
  { additionalProperties: false },
);
export type SwitchProjectBody = Static<typeof SwitchProjectBody>;

export const switchSessionProject = defineOperation({
  operationId: 'switchSessionProject',
  method: 'POST',
  path: '/v1/auth/session/project',
  tags: ['auth'],
  summary: "Move this session to another of the user's projects (it acts there with the user's role)",
  description:
    'Sessions only (a token is bound to its project: 403 `session_required`). 404 when the user is not a member of the project. The cookies stay the same.',
  auth: 'project',
  body: SwitchProjectBody,
  status: 200,
  response: CurrentPrincipal,
  resource: 'session',
});

export const listAuthSessions = defineOperation({
  operationId: 'listAuthSessions',
  method: 'GET',
  path: '/v1/auth/sessions',
  tags: ['auth'],
  summary: "The signed-in user's live sessions",
  auth: 'project',
  status: 200,
  response: Type.Object({ sessions: Type.Array(AuthSession) }),
});

export const revokeAuthSession = defineOperation({
  operationId: 'revokeAuthSession',
  method: 'DELETE',
  path: '/v1/auth/sessions/:id',
  tags: ['auth'],
  summary: "Revoke one of the user's sessions (sign it out everywhere)",
  auth: 'project',
  params: IdParams,
  status: 204,
  resource: 'session',
});

export const beginTotpEnrolment = defineOperation({
  operationId: 'beginTotpEnrolment',
  method: 'POST',
  path: '/v1/auth/totp',
  tags: ['auth'],
  summary: 'Begin TOTP enrolment: a new secret, active once a code from it is verified',
  auth: 'project',
  status: 200,
  response: TotpEnrolment,
  resource: 'user',
});

export const verifyTotpEnrolment = defineOperation({
  operationId: 'verifyTotpEnrolment',
  method: 'POST',
  path: '/v1/auth/totp/verify',
  tags: ['auth'],
  summary: 'Verify a code of the new secret: TOTP is on; ten recovery codes are shown once',
  auth: 'project',
  body: TotpCodeBody,
  status: 200,
  response: RecoveryCodes,
  resource: 'user',
});

export const disableTotp = defineOperation({
  operationId: 'disableTotp',
  method: 'POST',
  path: '/v1/auth/totp/disable',
  tags: ['auth'],
  summary: 'Turn TOTP off (the password again is required); recovery codes are dropped',
  auth: 'project',
  body: PasswordBody,
  status: 204,
  resource: 'user',
});

export const changePassword = defineOperation({
  operationId: 'changePassword',
  method: 'POST',
  path: '/v1/auth/password',
  tags: ['auth'],
  summary: 'Change the password; every other session of the user is revoked',
  auth: 'project',
  body: ChangePasswordBody,
  status: 204,
  resource: 'user',
});

export const redeemLink = defineOperation({
  operationId: 'redeemLink',
  method: 'POST',
  path: '/v1/auth/links/redeem',
  tags: ['auth'],
  summary: 'Use a one-time link: set a new password and sign in',
  description:
    'An account with TOTP needs its code (or a recovery code) as well: a link replaces the password, never the second factor. Every other session of the user is revoked.',
  auth: 'public',
  body: RedeemLinkBody,
  status: 200,
  response: SignedIn,
});

export const createUser = defineOperation({
  operationId: 'createUser',
  method: 'POST',
  path: '/v1/users',
  tags: ['operators'],
  summary: 'Create a user in a project with a role, and a one-time link to set their password (operators)',
  auth: 'operator',
  body: CreateUserBody,
  status: 201,
  response: UserWithLink,
  resource: 'user',
});

export const issueResetLink = defineOperation({
  operationId: 'issueResetLink',
  method: 'POST',
  path: '/v1/users/reset-link',
  tags: ['operators'],
  summary: "A one-time link that resets a user's password (operators); earlier unused links stop working",
  auth: 'operator',
  body: ResetLinkBody,
  status: 201,
  response: UserWithLink,
  resource: 'user',
});

export const authOperations = {
  login,
  logout,
  getAuthSession,
  switchSessionProject,
  listAuthSessions,
  revokeAuthSession,
  beginTotpEnrolment,
  verifyTotpEnrolment,
  disableTotp,
  changePassword,
  redeemLink,
  createUser,
  issueResetLink,
};
