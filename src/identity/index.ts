export {
  createIdentityService,
  requireProject,
  requireOperator,
  defaultQuotas,
  maxTokensPerProject,
  tokenCacheTtlMs,
  type IdentityService,
} from './service.ts';
export * from './roles.ts';
export { isWellFormedToken } from './token-format.ts';
export { createConsoleTickets, type ConsoleTickets, type ConsoleTicketGrant } from './console-tickets.ts';
export { createSharedRateCounter, type SharedRateCounter } from './shared-rate-counter.ts';
export type {
  ConsoleTicketsTable,
  RateLimitWindowsTable,
  SessionsTable,
  UserCredentialsTable,
  UserLinksTable,
  UserRecoveryCodesTable,
  ProjectInvitationsTable,
  UserPasskeysTable,
  PasskeyChallengesTable,
} from './tables.ts';
export {
  createPeopleService,
  normalizeEmail,
  sessionIdleMs,
  sessionLifetimeMs,
  type PeopleService,
  type LinkMailer,
  type SessionAuthentication,
  type SessionIssued,
  type ClientInfo,
} from './people.ts';
export { defaultLoginThrottle, type LoginThrottleLimit } from './login-throttle.ts';
export {
  createPasskeyService,
  passkeyChallengeLifetimeMs,
  type PasskeyService,
  type PasskeyConfig,
  type RequestOrigin,
} from './passkeys.ts';
export { createPasswordHasher, type PasswordHasher } from './password-hash.ts';
export { totpAt, base32Decode } from './totp.ts';
