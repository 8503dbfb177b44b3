/**
 * People, not only tokens (docs/adr/0010-console-auth.md): users sign in with email + password and a TOTP
 * code; a session is a cookie whose SHA-256 is stored, and authenticates as a project principal with the
 * member's current role — the same principal a project token gives, so authorization stays in one place.
 * Recovery codes and one-time links (set/reset a password) are single-use and stored hashed; the TOTP secret
 * is sealed in the key store. Failed sign-ins are throttled per account and per client address.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db, Tx, TxHooks } from '../db/index.ts';
import { inTransaction } from '../db/index.ts';
import { VmcError, forbidden, invalid, newId, notFound, type Clock } from '../core/index.ts';
import type { EventRecorder } from '../events/index.ts';
import type {
  Invitation,
  InvitationCreated,
  Member,
  AuthSession,
  AuthUser,
  CurrentPrincipal,
  CurrentOperator,
  IssuedLink,
  OperatorLinkRedeemed,
  OperatorSession,
  OperatorSignedIn,
  OperatorUser,
  LinkPurpose,
  ProjectMembership,
  SecondFactor,
  SignedIn,
  TotpReset,
} from '../contract/index.ts';
import type { KeyStore } from '../keystore/index.ts';
import { createPasswordHasher, passwordProblem, type PasswordHasher } from './password-hash.ts';
import { matchStep, newTotpSecret, base32Encode, otpauthUri } from './totp.ts';
import {
  defaultLoginThrottle,
  recordFailure,
  recordSuccess,
  throttled,
  type LoginThrottleLimit,
  type ThrottleState,
} from './login-throttle.ts';
import { isProjectRole, type Principal, type ProjectRole } from './roles.ts';
import { createPeopleStore, type SessionRecord } from './people-store.ts';
import { createInvitationStore, type InvitationRecord } from './invitation-store.ts';
import { createPasskeyStore } from './passkey-store.ts';
import { requireProject, type IdentityService } from './service.ts';

export const sessionLifetimeMs = 7 * 86_400_000;
export const sessionIdleMs = 12 * 3_600_000;
export const linkLifetimeMs = 24 * 3_600_000;
export const invitationLifetimeMs = 7 * 86_400_000;
const touchIntervalMs = 60_000;
const recoveryCodeCount = 10;
const totpSecretPurpose = 'identity.totp-secret';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const randomSecret = (prefix: string) => prefix + randomBytes(32).toString('base64url');
/** A recovery code as people copy it: xxxxx-xxxxx from an unambiguous alphabet. */
function newRecoveryCode(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  const bytes = randomBytes(10);
  let out = '';
  for (let i = 0; i < 10; i++) out += (i === 5 ? '-' : '') + alphabet[bytes[i] % alphabet.length];
  return out;
}
const normalizeRecoveryCode = (code: string) =>
  code
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/** Where a sign-in comes from (recorded on the session, keyed for throttling). */
export interface ClientInfo {
  ip: string;
  userAgent: string | null;
}

/** What a successful sign-in hands the edge: the answer, and the two cookie values. */
export interface SessionIssued {
  signedIn: SignedIn;
  sessionSecret: string;
  csrfToken: string;
}

/** Sends a one-time link to its user (mail, in production); the default logs it. */
export interface LinkMailer {
  send(message: { to: string; purpose: LinkPurpose | 'invitation'; path: string; expiresAt: string }): Promise<void>;
}

export interface SessionAuthentication {
  principal: Extract<Principal, { kind: 'project' | 'operator' }>;
  csrfHash: string;
}

const unauthenticated = (message: string, reason: string) => new VmcError('unauthenticated', message, { reason });

export function createPeopleService(deps: {
  db: Db;
  clock: Clock;
  events: EventRecorder;
  keyStore: Pick<KeyStore, 'seal' | 'open' | 'remove'>;
  hasher?: PasswordHasher;
  throttle?: LoginThrottleLimit;
  mailer?: LinkMailer;
  issuer?: string;
  /** Members demoted or removed: the project row lock, and their project tokens revoked (identity's). */
  memberTokens: Pick<IdentityService, 'lockProject' | 'revokeTokensOfMember'>;
}) {
  const { db, clock } = deps;
  const store = createPeopleStore(db);
  const invitations = createInvitationStore();
  const passkeys = createPasskeyStore();
  const hasher = deps.hasher ?? createPasswordHasher();
  const limit = deps.throttle ?? defaultLoginThrottle;
  let throttleState: ThrottleState = new Map();
  const touchedAtMs = new Map<string, number>();
  const issuer = deps.issuer ?? 'VMCloud';

  const sessionView = (s: SessionRecord, currentId: string | null): AuthSession => ({
    ...operatorSessionView(s, currentId),
    project_id: s.projectId,
  });

  async function userView(q: Db | Tx, userId: string): Promise<AuthUser> {
    const user = await store.userById(q, userId);
    if (!user) throw notFound('user', userId);
    const credentials = await store.credentials(q, userId);
    return {
      id: user.id,
      email: user.email,
      name: user.name,
      totp_enabled: credentials?.totpSecretId != null,
      has_password: credentials?.passwordHash != null,
      recovery_codes_left: await store.recoveryCodesLeft(q, userId),
      passkeys: await passkeys.countOfUser(q, userId),
    };
  }

  const membershipView = (m: { projectId: string; name: string; role: ProjectRole }): ProjectMembership => ({
    id: m.projectId,
    name: m.name,
    role: m.role,
  });

  /** The live session of `kind` behind a principal; tokens are refused (`session_required`). */
  async function liveSessionOf(principal: Principal, kind: 'project' | 'operator'): Promise<SessionRecord> {
    if (principal.kind !== kind || !principal.tokenId.startsWith('ses_'))
      throw new VmcError(
        'forbidden',
        kind === 'project'
          ? 'this needs a signed-in session (the console), not an API token'
          : 'this needs an operator session (the operator area), not an API token',
        { reason: 'session_required' },
      );
    const session = await store.sessionById(db, principal.tokenId);
    if (!session || session.revokedAt || session.kind !== kind)
      throw unauthenticated('the session was revoked', 'session_expired');
    return session;
  }
  /** The signed-in user's session behind a principal. */
  const sessionOf = (principal: Principal) => liveSessionOf(principal, 'project');
  /** The operator behind an operator session. */
  const operatorSessionOf = (principal: Principal) => liveSessionOf(principal, 'operator');

  const operatorSessionView = (s: SessionRecord, currentId: string | null): OperatorSession => ({
    id: s.id,
    second_factor: s.secondFactor as SecondFactor,
    source_ip: s.sourceIp,
    user_agent: s.userAgent,
    created_at: s.createdAt,
    last_seen_at: s.lastSeenAt,
    expires_at: s.expiresAt,
    current: s.id === currentId,
  });

  async function operatorUserView(q: Db | Tx, userId: string): Promise<OperatorUser> {
    const user = await store.userById(q, userId);
    if (!user) throw notFound('user', userId);
    const credentials = await store.credentials(q, userId);
    return {
      id: user.id,
      email: user.email,
      name: user.name,
      operator: user.isOperator,
      totp_enabled: credentials?.totpSecretId != null,
    };
  }

  /**
   * Checks the second factor of a user with TOTP: a code of a step never used before, or an unused recovery
   * code. Throws `totp_required` when neither was sent (not a failure), `totp_invalid` otherwise.
   */
  async function checkSecondFactor(
    tx: Tx,
    userId: string,
    totpSecretId: string,
    input: { totpCode?: string; recoveryCode?: string },
  ): Promise<SecondFactor> {
    if (input.totpCode) {
      const secret = await deps.keyStore.open(totpSecretId, { purpose: totpSecretPurpose, q: tx });
      const step = matchStep(secret, input.totpCode, clock.nowMs());
      if (step === null) throw unauthenticated('the authentication code is wrong or expired', 'totp_invalid');
      if (!(await store.claimTotpStep(tx, userId, step)))
        throw unauthenticated('this authentication code was used already: wait for the next one', 'totp_replayed');
      return 'totp';
    }
    if (input.recoveryCode) {
      const used = await store.useRecoveryCode(
        tx,
        userId,
        sha256(normalizeRecoveryCode(input.recoveryCode)),
        clock.nowIso(),
      );
      if (!used) throw unauthenticated('the recovery code is wrong or was used already', 'totp_invalid');
      return 'recovery_code';
    }
    throw unauthenticated('this account has two-factor authentication: send the code of the app', 'totp_required');
  }

  async function openSession(
    tx: Tx,
    hooks: TxHooks,
    input: {
      userId: string;
      projectId: string;
      secondFactor: SecondFactor;
      client: ClientInfo;
      kind?: SessionRecord['kind'];
    },
  ): Promise<{ record: SessionRecord; secret: string; csrfToken: string }> {
    const kind = input.kind ?? 'project';
    const secret = randomSecret('vms_');
    const csrfToken = randomBytes(32).toString('base64url');
    const nowMs = clock.nowMs();
    const record: SessionRecord = {
      id: newId('session', nowMs),
      kind,
      userId: input.userId,
      projectId: input.projectId,
      csrfHash: sha256(csrfToken),
      secondFactor: input.secondFactor,
      sourceIp: input.client.ip,
      userAgent: input.client.userAgent?.slice(0, 300) ?? null,
      createdAt: clock.nowIso(),
      lastSeenAt: clock.nowIso(),
      expiresAt: new Date(nowMs + sessionLifetimeMs).toISOString(),
      revokedAt: null,
    };
    await store.insertSession(tx, { ...record, secretHash: sha256(secret) });
    await deps.events.record(tx, hooks, {
      type: 'session.created',
      projectId: kind === 'operator' ? null : input.projectId,
      resourceType: 'session',
      resourceId: record.id,
      data: {
        user_id: input.userId,
        second_factor: input.secondFactor,
        ...(kind === 'operator' ? { kind } : {}),
      },
    });
    return { record, secret, csrfToken };
  }

  async function revokeSessions(
    tx: Tx,
    hooks: TxHooks,
    filter: { userId: string; id?: string; except?: string; projectId?: string; kind?: SessionRecord['kind'] },
    reason: string,
  ): Promise<string[]> {
    const ids = await store.revokeSessions(tx, filter, clock.nowIso());
    for (const id of ids) {
      const session = await store.sessionById(tx, id);
      await deps.events.record(tx, hooks, {
        type: 'session.revoked',
        projectId: session?.projectId || null,
        resourceType: 'session',
        resourceId: id,
        data: { user_id: filter.userId, reason },
      });
    }
    return ids;
  }

  async function issued(
    tx: Tx,
    opened: { record: SessionRecord; secret: string; csrfToken: string },
    membership: { projectId: string; name: string; role: ProjectRole },
  ): Promise<SessionIssued> {
    return {
      signedIn: {
        user: await userView(tx, opened.record.userId),
        session: sessionView(opened.record, opened.record.id),
        project: membershipView(membership),
        csrf_token: opened.csrfToken,
      },
      sessionSecret: opened.secret,
      csrfToken: opened.csrfToken,
    };
  }

  async function chooseMembership(tx: Tx, user: { id: string; isOperator: boolean }, projectId: string | undefined) {
    const memberships = await store.memberships(tx, user.id);
    const membership = projectId ? memberships.find((m) => m.projectId === projectId) : memberships[0];
    if (!membership)
      throw new VmcError(
        'forbidden',
        projectId
          ? `you are not a member of project ${projectId}`
          : user.isOperator
            ? 'this account belongs to no project: it is an operator’s, for the operator area'
            : 'this account belongs to no project yet: ask an operator to add it to one',
        { reason: 'no_project' },
      );
    return membership;
  }

  async function issueLink(
    tx: Tx,
    hooks: TxHooks,
    input: { userId: string; email: string; purpose: LinkPurpose; createdBy: string | null },
  ): Promise<IssuedLink> {
    const secret = randomSecret('vml_');
    const nowMs = clock.nowMs();
    const expiresAt = new Date(nowMs + linkLifetimeMs).toISOString();
    const id = newId('userLink', nowMs);
    await store.insertLink(tx, {
      id,
      userId: input.userId,
      purpose: input.purpose,
      secretHash: sha256(secret),
      createdBy: input.createdBy,
      createdAt: clock.nowIso(),
      expiresAt,
    });
    await deps.events.record(tx, hooks, {
      type: 'user.link_issued',
      projectId: null,
      resourceType: 'user',
      resourceId: input.userId,
      data: { purpose: input.purpose, expires_at: expiresAt, created_by: input.createdBy },
    });
    const link: IssuedLink = { purpose: input.purpose, path: `/reset#token=${secret}`, expires_at: expiresAt };
    hooks.afterCommit(() => {
      deps.mailer?.send({ to: input.email, purpose: input.purpose, path: link.path, expiresAt }).catch(() => undefined);
    });
    return link;
  }

  function throttleKeys(email: string, client: ClientInfo) {
    return [`email:${email}`, `ip:${client.ip}`];
  }

  /**
   * The password step of the sign-ins: throttled per e-mail and per address, one answer for an unknown
   * e-mail and a wrong password. `then` runs with the verified user; a refusal of its that is
   * `unauthenticated` (a wrong second factor, not a missing one) counts as a failed sign-in, its success
   * clears the e-mail's failures.
   */
  async function withPassword<T>(
    input: { email: string; password: string; client: ClientInfo },
    then: (verified: {
      user: NonNullable<Awaited<ReturnType<typeof store.userByEmail>>>;
      credentials: Awaited<ReturnType<typeof store.credentials>>;
      verdict: Awaited<ReturnType<typeof hasher.verify>>;
    }) => Promise<T>,
  ): Promise<T> {
    const email = normalizeEmail(input.email);
    const keys = throttleKeys(email, input.client);
    refuseIfThrottled(keys);
    const user = await store.userByEmail(db, email);
    const credentials = user ? await store.credentials(db, user.id) : null;
    const verdict = await hasher.verify(input.password, credentials?.passwordHash ?? null);
    const fail = (error: VmcError): never => {
      throttleState = recordFailure(throttleState, keys, clock.nowMs(), limit);
      throw error;
    };
    if (!user || !verdict.ok) return fail(unauthenticated('the email or the password is wrong', 'bad_credentials'));
    try {
      const result = await then({ user, credentials, verdict });
      throttleState = recordSuccess(throttleState, keys[0]);
      return result;
    } catch (error) {
      if (error instanceof VmcError && error.reason !== 'totp_required' && error.code === 'unauthenticated')
        return fail(error);
      throw error;
    }
  }

  function refuseIfThrottled(keys: string[]) {
    const blocked = throttled(throttleState, keys, clock.nowMs(), limit);
    if (blocked)
      throw new VmcError('rate_limited', `too many failed sign-ins; try again in ${blocked.retryAfterS} s`, {
        reason: 'login_throttled',
        details: { retry_after: blocked.retryAfterS },
      });
  }

  const invitationView = (i: InvitationRecord): Invitation => ({
    id: i.id,
    project_id: i.projectId,
    email: i.email,
    role: i.role,
    invited_by: i.invitedBy,
    created_at: i.createdAt,
    expires_at: i.expiresAt,
  });

  /** An owner of the project the path names: another project answers 404 (never 403). */
  function ownerOf(principal: Principal, projectId: string) {
    const owner = requireProject(principal, 'owner');
    if (owner.projectId !== projectId) throw notFound('project', projectId);
    return owner;
  }

  const memberView = (m: { userId: string; email: string; name: string; role: ProjectRole; joinedAt: string }) => ({
    user_id: m.userId,
    email: m.email,
    name: m.name,
    role: m.role,
    joined_at: m.joinedAt,
  });

  /** Refuses to leave the project without an owner (the project row is locked: PostgreSQL serializes). */
  async function keepAnOwner(tx: Tx, projectId: string, memberRole: ProjectRole, change: string): Promise<void> {
    if (memberRole !== 'owner' || (await store.ownerCount(tx, projectId)) > 1) return;
    throw new VmcError(
      'conflict',
      `this is the last owner of the project: make another member owner before ${change}`,
      {
        reason: 'last_owner',
      },
    );
  }

  /**
   * A one-time link that can still be used, and its user. Unknown, used or expired links answer alike
   * (`link_invalid`) and count against the client address, as bad sign-ins do.
   */
  async function usableLink(token: string, client: ClientInfo) {
    const keys = [`ip:${client.ip}`];
    refuseIfThrottled(keys);
    const link = /^vml_[A-Za-z0-9_-]{43}$/.test(token) ? await store.linkByHash(db, sha256(token)) : null;
    if (!link || link.usedAt || link.expiresAt <= clock.nowIso()) {
      throttleState = recordFailure(throttleState, keys, clock.nowMs(), limit);
      throw unauthenticated('this link is unknown, expired or used already: ask for a new one', 'link_invalid');
    }
    const user = await store.userById(db, link.userId);
    if (!user) throw unauthenticated('this link is unknown, expired or used already', 'link_invalid');
    return { link, user, keys };
  }

  /** A new TOTP secret, pending until a code of it is verified (refused when TOTP is on already). */
  async function beginEnrolment(user: { id: string; email: string }): Promise<{ secret: string; otpauth_uri: string }> {
    const secret = newTotpSecret();
    await inTransaction(db, async (tx) => {
      await store.ensureCredentials(tx, user.id, clock.nowIso());
      const credentials = await store.credentials(tx, user.id);
      if (credentials?.totpSecretId)
        throw new VmcError('conflict', 'two-factor authentication is on already; turn it off first', {
          reason: 'totp_enabled',
        });
      if (credentials?.totpPendingSecretId) await deps.keyStore.remove(credentials.totpPendingSecretId, tx);
      const pendingId = await deps.keyStore.seal(totpSecretPurpose, secret, tx);
      await store.setTotp(tx, user.id, { pendingSecretId: pendingId }, clock.nowIso());
    });
    return { secret: base32Encode(secret), otpauth_uri: otpauthUri({ secret, issuer, account: user.email }) };
  }

  /**
   * Verifies a code of the pending secret and turns TOTP on with ten new recovery codes, in `tx` (the
   * caller's transaction: nothing stays on a later refusal).
   */
  async function finishEnrolment(tx: Tx, hooks: TxHooks, userId: string, code: string): Promise<string[]> {
    const credentials = await store.credentials(tx, userId);
    if (!credentials?.totpPendingSecretId)
      throw new VmcError('conflict', 'no enrolment in progress: begin with POST /v1/auth/totp', {
        reason: 'totp_not_pending',
      });
    const secret = await deps.keyStore.open(credentials.totpPendingSecretId, { purpose: totpSecretPurpose, q: tx });
    const step = matchStep(secret, code, clock.nowMs());
    if (step === null)
      throw invalid('the code does not match: check the time of the device and type the current code', {
        reason: 'totp_invalid',
        fields: [{ field: 'code', message: 'does not match the new secret' }],
      });
    const nowIso = clock.nowIso();
    await store.setTotp(
      tx,
      userId,
      { secretId: credentials.totpPendingSecretId, pendingSecretId: null, enabledAt: nowIso },
      nowIso,
    );
    await store.claimTotpStep(tx, userId, step);
    const codes = Array.from({ length: recoveryCodeCount }, newRecoveryCode);
    await store.replaceRecoveryCodes(
      tx,
      userId,
      codes.map((c) => sha256(normalizeRecoveryCode(c))),
      nowIso,
    );
    await deps.events.record(tx, hooks, {
      type: 'user.totp_enabled',
      projectId: null,
      resourceType: 'user',
      resourceId: userId,
      data: {},
    });
    return codes;
  }

  return {
    /** The cookie of a session → the principal it acts as, and its CSRF token's hash. */
    async authenticateSession(secret: string): Promise<SessionAuthentication> {
      if (!/^vms_[A-Za-z0-9_-]{43}$/.test(secret))
        throw unauthenticated('the session cookie is malformed', 'session_expired');
      const session = await store.sessionByHash(sha256(secret));
      const nowIso = clock.nowIso();
      const nowMs = clock.nowMs();
      if (!session || session.revokedAt) throw unauthenticated('the session ended: sign in again', 'session_expired');
      if (session.expiresAt <= nowIso || Date.parse(session.lastSeenAt) + sessionIdleMs <= nowMs)
        throw unauthenticated('the session expired: sign in again', 'session_expired');
      if (session.kind === 'operator' && !session.isOperator)
        throw unauthenticated('you are no longer an operator: sign in again', 'session_expired');
      if (session.kind === 'project' && (!session.role || !isProjectRole(session.role)))
        throw unauthenticated('you are no longer a member of this project: sign in again', 'session_expired');
      if (nowMs - (touchedAtMs.get(session.id) ?? Date.parse(session.lastSeenAt)) >= touchIntervalMs) {
        touchedAtMs.set(session.id, nowMs);
        if (touchedAtMs.size > 10_000) touchedAtMs.clear();
        await store.touchSession(session.id, nowIso);
      }
      if (session.kind === 'operator')
        return {
          principal: { kind: 'operator', tokenId: session.id, userId: session.userId },
          csrfHash: session.csrfHash,
        };
      return {
        principal: {
          kind: 'project',
          tokenId: session.id,
          userId: session.userId,
          projectId: session.projectId,
          role: session.role as ProjectRole,
        },
        csrfHash: session.csrfHash,
      };
    },

    /** How the session `sessionId` was signed in (accepting an invitation while signed in keeps it). */
    async secondFactorOf(sessionId: string): Promise<SecondFactor> {
      const session = await store.sessionById(db, sessionId);
      return (session?.secondFactor ?? 'none') as SecondFactor;
    },

    /** Console tickets: throws when the session was revoked or expired since it was checked. */
    async recheckSession(sessionId: string): Promise<void> {
      const session = await store.sessionById(db, sessionId);
      if (!session || session.revokedAt || session.expiresAt <= clock.nowIso())
        throw unauthenticated('the session ended', 'session_expired');
    },

    async login(input: {
      email: string;
      password: string;
      totpCode?: string;
      recoveryCode?: string;
      projectId?: string;
      client: ClientInfo;
    }): Promise<SessionIssued> {
      return withPassword(input, ({ user, credentials, verdict }) =>
        inTransaction(db, async (tx, hooks) => {
          const secondFactor: SecondFactor = credentials?.totpSecretId
            ? await checkSecondFactor(tx, user.id, credentials.totpSecretId, input)
            : 'none';
          const membership = await chooseMembership(tx, user, input.projectId);
          if (verdict.needsRehash)
            await store.setPassword(tx, user.id, await hasher.hash(input.password), clock.nowIso());
          const opened = await openSession(tx, hooks, {
            userId: user.id,
            projectId: membership.projectId,
            secondFactor,
            client: input.client,
          });
          return issued(tx, opened, membership);
        }),
      );
    },

    /**
     * A sign-in proven by something other than the password (a passkey, docs/adr/0013-passkeys.md):
     * throttled per client address as password sign-ins are. `verify` proves the user (a refusal of its that
     * is `unauthenticated` counts as a failed sign-in); `record` runs in the transaction that opens the session.
     */
    async signInVerified(input: {
      client: ClientInfo;
      projectId?: string;
      secondFactor: SecondFactor;
      verify: () => Promise<{ userId: string; record: (tx: Tx, hooks: TxHooks) => Promise<void> }>;
    }): Promise<SessionIssued> {
      const keys = [`ip:${input.client.ip}`];
      refuseIfThrottled(keys);
      try {
        const verified = await input.verify();
        return await inTransaction(db, async (tx, hooks) => {
          await verified.record(tx, hooks);
          const user = await store.userById(tx, verified.userId);
          const membership = await chooseMembership(
            tx,
            { id: verified.userId, isOperator: user?.isOperator ?? false },
            input.projectId,
          );
          const opened = await openSession(tx, hooks, {
            userId: verified.userId,
            projectId: membership.projectId,
            secondFactor: input.secondFactor,
            client: input.client,
          });
          return issued(tx, opened, membership);
        });
      } catch (error) {
        if (error instanceof VmcError && error.code === 'unauthenticated')
          throttleState = recordFailure(throttleState, keys, clock.nowMs(), limit);
        throw error;
      }
    },

    /** The signed-in user behind a console session (passkey registration): tokens are refused. */
    async sessionUser(principal: Principal): Promise<{ id: string; email: string; name: string }> {
      const session = await sessionOf(principal);
      const user = await store.userById(db, session.userId);
      if (!user) throw unauthenticated('the session ended: sign in again', 'session_expired');
      return { id: user.id, email: user.email, name: user.name };
    },

    async logout(principal: Principal): Promise<void> {
      const session = await sessionOf(principal);
      await inTransaction(db, (tx, hooks) =>
        revokeSessions(tx, hooks, { userId: session.userId, id: session.id }, 'signed_out'),
      );
    },

    async current(principal: Principal, projectName: (id: string) => Promise<string>): Promise<CurrentPrincipal> {
      if (principal.kind !== 'project') throw forbidden('this route needs a project token or session');
      if (!principal.tokenId.startsWith('ses_'))
        return {
          via: 'token',
          user: null,
          session: null,
          project: { id: principal.projectId, name: await projectName(principal.projectId), role: principal.role },
          projects: [],
        };
      const session = await sessionOf(principal);
      const memberships = await store.memberships(db, session.userId);
      return {
        via: 'session',
        user: await userView(db, session.userId),
        session: sessionView(session, session.id),
        project: { id: principal.projectId, name: await projectName(principal.projectId), role: principal.role },
        projects: memberships.map(membershipView),
      };
    },

    /**
     * Moves the signed-in session to another project of the user: it acts there with the user's role at
     * once (the role is read with the session on every request). 404 when the user is not a member.
     */
    async switchProject(principal: Principal, projectId: string): Promise<CurrentPrincipal> {
      const session = await sessionOf(principal);
      return inTransaction(db, async (tx, hooks) => {
        const memberships = await store.memberships(tx, session.userId);
        const membership = memberships.find((m) => m.projectId === projectId);
        if (!membership) throw notFound('project', projectId);
        if (session.projectId !== projectId) {
          if (!(await store.setSessionProject(tx, session.id, projectId)))
            throw unauthenticated('the session ended: sign in again', 'session_expired');
          await deps.events.record(tx, hooks, {
            type: 'session.project_changed',
            projectId,
            resourceType: 'session',
            resourceId: session.id,
            data: { user_id: session.userId, from_project_id: session.projectId },
          });
        }
        return {
          via: 'session',
          user: await userView(tx, session.userId),
          session: sessionView({ ...session, projectId }, session.id),
          project: membershipView(membership),
          projects: memberships.map(membershipView),
        };
      });
    },

    async listSessions(principal: Principal): Promise<AuthSession[]> {
      const session = await sessionOf(principal);
      return (await store.liveSessions(session.userId, clock.nowIso(), 'project')).map((s) =>
        sessionView(s, session.id),
      );
    },

    async revokeSession(principal: Principal, sessionId: string): Promise<void> {
      const session = await sessionOf(principal);
      const revoked = await inTransaction(db, (tx, hooks) =>
        revokeSessions(tx, hooks, { userId: session.userId, id: sessionId, kind: 'project' }, 'revoked'),
      );
      if (revoked.length === 0) throw notFound('session', sessionId);
    },

    /**
     * The operator area's sign-in: email, password and a TOTP code (required; recovery codes do not open
     * operator sessions). Throttled with the sign-in. An unknown email and a wrong password answer alike
     * (`bad_credentials`); only the right password learns `not_operator` or `operator_totp_required`.
     */
    async operatorLogin(input: {
      email: string;
      password: string;
      totpCode?: string;
      client: ClientInfo;
    }): Promise<{ signedIn: OperatorSignedIn; sessionSecret: string; csrfToken: string }> {
      return withPassword(input, async ({ user, credentials, verdict }) => {
        if (!user.isOperator)
          throw new VmcError('forbidden', 'this account is not an operator', { reason: 'not_operator' });
        if (!credentials?.totpSecretId)
          throw new VmcError(
            'forbidden',
            'operator sessions need two-factor authentication: turn TOTP on in the console (Account) first',
            { reason: 'operator_totp_required' },
          );
        const totpSecretId = credentials.totpSecretId;
        return inTransaction(db, async (tx, hooks) => {
          const secondFactor = await checkSecondFactor(tx, user.id, totpSecretId, { totpCode: input.totpCode });
          if (verdict.needsRehash)
            await store.setPassword(tx, user.id, await hasher.hash(input.password), clock.nowIso());
          const opened = await openSession(tx, hooks, {
            userId: user.id,
            projectId: '',
            secondFactor,
            client: input.client,
            kind: 'operator',
          });
          const signedIn: OperatorSignedIn = {
            user: await userView(tx, user.id),
            session: operatorSessionView(opened.record, opened.record.id),
            csrf_token: opened.csrfToken,
          };
          return { signedIn, sessionSecret: opened.secret, csrfToken: opened.csrfToken };
        });
      });
    },

    async operatorLogout(principal: Principal): Promise<void> {
      const session = await operatorSessionOf(principal);
      await inTransaction(db, (tx, hooks) =>
        revokeSessions(tx, hooks, { userId: session.userId, id: session.id, kind: 'operator' }, 'signed_out'),
      );
    },

    async currentOperator(principal: Principal): Promise<CurrentOperator> {
      if (principal.kind !== 'operator') throw forbidden('this route needs an operator token or session');
      if (!principal.tokenId.startsWith('ses_'))
        return {
          via: 'token',
          user: principal.userId ? await userView(db, principal.userId) : null,
          session: null,
        };
      const session = await operatorSessionOf(principal);
      return {
        via: 'session',
        user: await userView(db, session.userId),
        session: operatorSessionView(session, session.id),
      };
    },

    async listOperatorSessions(principal: Principal): Promise<OperatorSession[]> {
      const session = await operatorSessionOf(principal);
      return (await store.liveSessions(session.userId, clock.nowIso(), 'operator')).map((s) =>
        operatorSessionView(s, session.id),
      );
    },

    async revokeOperatorSession(principal: Principal, sessionId: string): Promise<void> {
      const session = await operatorSessionOf(principal);
      const revoked = await inTransaction(db, (tx, hooks) =>
        revokeSessions(tx, hooks, { userId: session.userId, id: sessionId, kind: 'operator' }, 'revoked'),
      );
      if (revoked.length === 0) throw notFound('session', sessionId);
    },

    /** Operators: the users linked as operators. */
    async listOperators(principal: Principal): Promise<OperatorUser[]> {
      if (principal.kind !== 'operator') throw forbidden('this route needs an operator token or session');
      return (await store.operators(db)).map((u) => ({
        id: u.id,
        email: u.email,
        name: u.name,
        operator: true,
        totp_enabled: u.totpEnabled,
      }));
    },

    /** Operators: an existing user becomes an operator (a no-op, without event, when they are one). */
    async linkOperator(principal: Principal, emailInput: string): Promise<OperatorUser> {
      if (principal.kind !== 'operator') throw forbidden('this route needs an operator token or session');
      const email = normalizeEmail(emailInput);
      return inTransaction(db, async (tx, hooks) => {
        const user = await store.userByEmail(tx, email);
        if (!user) throw notFound('user', email);
        if (await store.setOperator(tx, user.id, true))
          await deps.events.record(tx, hooks, {
            type: 'user.operator_linked',
            projectId: null,
            resourceType: 'user',
            resourceId: user.id,
            data: { email, by: principal.userId ?? principal.tokenId },
          });
        return operatorUserView(tx, user.id);
      });
    },

    /** Operators: a user is no longer an operator; their operator sessions are revoked in the same transaction. */
    async unlinkOperator(principal: Principal, emailInput: string): Promise<OperatorUser> {
      if (principal.kind !== 'operator') throw forbidden('this route needs an operator token or session');
      const email = normalizeEmail(emailInput);
      return inTransaction(db, async (tx, hooks) => {
        const user = await store.userByEmail(tx, email);
        if (!user) throw notFound('user', email);
        if (await store.setOperator(tx, user.id, false)) {
          const revoked = await revokeSessions(tx, hooks, { userId: user.id, kind: 'operator' }, 'operator_unlinked');
          await deps.events.record(tx, hooks, {
            type: 'user.operator_unlinked',
            projectId: null,
            resourceType: 'user',
            resourceId: user.id,
            data: { email, by: principal.userId ?? principal.tokenId, sessions_revoked: revoked.length },
          });
        }
        return operatorUserView(tx, user.id);
      });
    },

    /**
     * Operators: the recovery of a person who lost their TOTP device (and their recovery codes). In one
     * transaction: TOTP off (its secret and any pending one deleted from the key store), recovery codes
     * deleted, every session of theirs revoked (both kinds), and a one-time link to set a new password and
     * enrol again. An operator cannot reset their own second factor (409 `own_account`): another one must.
     * `idOrEmail` is `usr_…` or an e-mail; a refusal changes nothing.
     */
    async resetTotp(principal: Principal, idOrEmail: string): Promise<TotpReset> {
      if (principal.kind !== 'operator') throw forbidden('this route needs an operator token or session');
      const by = principal.userId ?? principal.tokenId;
      return inTransaction(db, async (tx, hooks) => {
        const ref = idOrEmail.trim();
        const user = ref.includes('@')
          ? await store.userByEmail(tx, normalizeEmail(ref))
          : await store.userById(tx, ref);
        if (!user) throw notFound('user', ref);
        if (principal.userId === user.id)
          throw new VmcError(
            'conflict',
            'this is your own account: another operator resets your second factor (or use a recovery code)',
            { reason: 'own_account' },
          );
        const nowIso = clock.nowIso();
        await store.ensureCredentials(tx, user.id, nowIso);
        const credentials = await store.credentials(tx, user.id);
        const hadTotp = credentials?.totpSecretId != null;
        const recoveryCodesDeleted = await store.recoveryCodesLeft(tx, user.id);
        if (credentials?.totpSecretId) await deps.keyStore.remove(credentials.totpSecretId, tx);
        if (credentials?.totpPendingSecretId) await deps.keyStore.remove(credentials.totpPendingSecretId, tx);
        await store.setTotp(tx, user.id, { secretId: null, pendingSecretId: null, enabledAt: null }, nowIso);
        await store.replaceRecoveryCodes(tx, user.id, [], nowIso);
        // A passkey signs in alone (both factors, ADR 0013), and the lost device may hold one: all go.
        const passkeysDeleted = await passkeys.deleteAllOfUser(tx, user.id);
        const revoked = await revokeSessions(tx, hooks, { userId: user.id }, 'totp_reset');
        await deps.events.record(tx, hooks, {
          type: 'user.totp_reset',
          projectId: null,
          resourceType: 'user',
          resourceId: user.id,
          data: {
            email: user.email,
            by,
            had_totp: hadTotp,
            recovery_codes_deleted: recoveryCodesDeleted,
            passkeys_deleted: passkeysDeleted,
            sessions_revoked: revoked.length,
          },
        });
        const link = await issueLink(tx, hooks, {
          userId: user.id,
          email: user.email,
          purpose: credentials?.passwordHash ? 'reset_password' : 'set_password',
          createdBy: principal.userId,
        });
        return {
          user: { id: user.id, email: user.email, name: user.name },
          link,
          had_totp: hadTotp,
          passkeys_deleted: passkeysDeleted,
          sessions_revoked: revoked.length,
        };
      });
    },

    async beginTotp(principal: Principal): Promise<{ secret: string; otpauth_uri: string }> {
      const session = await sessionOf(principal);
      const user = await store.userById(db, session.userId);
      if (!user) throw notFound('user', session.userId);
      return beginEnrolment(user);
    },

    async verifyTotp(principal: Principal, code: string): Promise<{ recovery_codes: string[] }> {
      const session = await sessionOf(principal);
      return inTransaction(db, async (tx, hooks) => ({
        recovery_codes: await finishEnrolment(tx, hooks, session.userId, code),
      }));
    },

    async disableTotp(principal: Principal, password: string): Promise<void> {
      const session = await sessionOf(principal);
      const credentials = await store.credentials(db, session.userId);
      if (!(await hasher.verify(password, credentials?.passwordHash ?? null)).ok)
        throw new VmcError('forbidden', 'the password is wrong', { reason: 'bad_credentials' });
      if (!credentials?.totpSecretId) return;
      await inTransaction(db, async (tx, hooks) => {
        await deps.keyStore.remove(credentials.totpSecretId!, tx);
        await store.setTotp(tx, session.userId, { secretId: null, enabledAt: null }, clock.nowIso());
        await store.replaceRecoveryCodes(tx, session.userId, [], clock.nowIso());
        await deps.events.record(tx, hooks, {
          type: 'user.totp_disabled',
          projectId: null,
          resourceType: 'user',
          resourceId: session.userId,
          data: {},
        });
      });
    },

    async changePassword(principal: Principal, input: { current: string; next: string }): Promise<void> {
      const session = await sessionOf(principal);
      const user = await store.userById(db, session.userId);
      const credentials = await store.credentials(db, session.userId);
      if (!user || !(await hasher.verify(input.current, credentials?.passwordHash ?? null)).ok)
        throw new VmcError('forbidden', 'the current password is wrong', { reason: 'bad_credentials' });
      const problem = passwordProblem(input.next, user.email);
      if (problem)
        throw invalid(`the new password ${problem}`, {
          reason: 'weak_password',
          fields: [{ field: 'new_password', message: problem }],
        });
      const hash = await hasher.hash(input.next);
      await inTransaction(db, async (tx, hooks) => {
        await store.setPassword(tx, user.id, hash, clock.nowIso());
        await revokeSessions(tx, hooks, { userId: user.id, except: session.id }, 'password_changed');
        await deps.events.record(tx, hooks, {
          type: 'user.password_changed',
          projectId: null,
          resourceType: 'user',
          resourceId: user.id,
          data: { via: 'password' },
        });
      });
    },

    /** A one-time link: sets the password, signs in, revokes the user's other sessions. */
    async redeemLink(input: {
      token: string;
      password: string;
      totpCode?: string;
      recoveryCode?: string;
      client: ClientInfo;
    }): Promise<SessionIssued> {
      const { link, user } = await usableLink(input.token, input.client);
      const problem = passwordProblem(input.password, user.email);
      if (problem)
        throw invalid(`the password ${problem}`, {
          reason: 'weak_password',
          fields: [{ field: 'password', message: problem }],
        });
      const hash = await hasher.hash(input.password);
      return inTransaction(db, async (tx, hooks) => {
        await store.ensureCredentials(tx, user.id, clock.nowIso());
        const credentials = await store.credentials(tx, user.id);
        const secondFactor: SecondFactor = credentials?.totpSecretId
          ? await checkSecondFactor(tx, user.id, credentials.totpSecretId, input)
          : 'link';
        const membership = await chooseMembership(tx, user, undefined);
        if (!(await store.useLink(tx, link.id, clock.nowIso())))
          throw unauthenticated('this link was used already', 'link_invalid');
        await store.setPassword(tx, user.id, hash, clock.nowIso());
        await revokeSessions(tx, hooks, { userId: user.id }, 'password_reset');
        await deps.events.record(tx, hooks, {
          type: 'user.password_changed',
          projectId: null,
          resourceType: 'user',
          resourceId: user.id,
          data: { via: link.purpose },
        });
        const opened = await openSession(tx, hooks, {
          userId: user.id,
          projectId: membership.projectId,
          secondFactor,
          client: input.client,
        });
        return issued(tx, opened, membership);
      });
    },

    /**
     * TOTP enrolment through a one-time link, for an operator who has no TOTP yet (an operator of no project
     * has no Account page to do it in): the pending secret that `redeemOperatorLink` turns on. The link
     * stays unused.
     */
    async beginLinkTotp(input: {
      token: string;
      client: ClientInfo;
    }): Promise<{ secret: string; otpauth_uri: string }> {
      const { user } = await usableLink(input.token, input.client);
      if (!user.isOperator)
        throw new VmcError(
          'forbidden',
          'this account is not an operator: set the password, then turn two-factor on in Account',
          { reason: 'not_operator' },
        );
      return beginEnrolment(user);
    },

    /**
     * A one-time link used by an operator: the password set, TOTP checked (or turned on with a code of the
     * secret `beginLinkTotp` gave), the user's other sessions revoked and an operator session opened — all
     * in one transaction, so a refusal changes nothing. Works for operators of no project.
     */
    async redeemOperatorLink(input: {
      token: string;
      password: string;
      totpCode?: string;
      newTotpCode?: string;
      client: ClientInfo;
    }): Promise<{ signedIn: OperatorLinkRedeemed; sessionSecret: string; csrfToken: string }> {
      const { link, user, keys } = await usableLink(input.token, input.client);
      if (!user.isOperator)
        throw new VmcError('forbidden', 'this account is not an operator: use the link to sign in to its project', {
          reason: 'not_operator',
        });
      const problem = passwordProblem(input.password, user.email);
      if (problem)
        throw invalid(`the password ${problem}`, {
          reason: 'weak_password',
          fields: [{ field: 'password', message: problem }],
        });
      const hash = await hasher.hash(input.password);
      try {
        return await inTransaction(db, async (tx, hooks) => {
          await store.ensureCredentials(tx, user.id, clock.nowIso());
          const credentials = await store.credentials(tx, user.id);
          let recoveryCodes: string[] | null = null;
          let secondFactor: SecondFactor;
          if (credentials?.totpSecretId) {
            // A link never replaces the second factor the user has; recovery codes do not open operator sessions.
            secondFactor = await checkSecondFactor(tx, user.id, credentials.totpSecretId, { totpCode: input.totpCode });
          } else if (input.newTotpCode) {
            recoveryCodes = await finishEnrolment(tx, hooks, user.id, input.newTotpCode);
            secondFactor = 'totp';
          } else
            throw new VmcError(
              'forbidden',
              'operator sessions need two-factor authentication: begin it with this link (POST /v1/auth/links/totp) and send a code of it',
              { reason: 'operator_totp_required' },
            );
          if (!(await store.useLink(tx, link.id, clock.nowIso())))
            throw unauthenticated('this link was used already', 'link_invalid');
          await store.setPassword(tx, user.id, hash, clock.nowIso());
          await revokeSessions(tx, hooks, { userId: user.id }, 'password_reset');
          await deps.events.record(tx, hooks, {
            type: 'user.password_changed',
            projectId: null,
            resourceType: 'user',
            resourceId: user.id,
            data: { via: link.purpose },
          });
          const opened = await openSession(tx, hooks, {
            userId: user.id,
            projectId: '',
            secondFactor,
            client: input.client,
            kind: 'operator',
          });
          const signedIn: OperatorLinkRedeemed = {
            user: await userView(tx, user.id),
            session: operatorSessionView(opened.record, opened.record.id),
            csrf_token: opened.csrfToken,
            recovery_codes: recoveryCodes,
          };
          return { signedIn, sessionSecret: opened.secret, csrfToken: opened.csrfToken };
        });
      } catch (error) {
        // A wrong code counts against the address, as a wrong sign-in does.
        if (error instanceof VmcError && (error.reason === 'totp_invalid' || error.reason === 'totp_replayed'))
          throttleState = recordFailure(throttleState, keys, clock.nowMs(), limit);
        throw error;
      }
    },

    /** Operators: a user in a project with a role, and a link to set their password. */
    async createUser(
      principal: Principal,
      input: { email: string; name?: string; projectId: string; role: ProjectRole },
    ): Promise<{ user: { id: string; email: string; name: string }; link: IssuedLink }> {
      const createdBy = principal.kind === 'operator' ? principal.userId : null;
      const email = normalizeEmail(input.email);
      return inTransaction(db, async (tx, hooks) => {
        if (!(await store.projectExists(tx, input.projectId))) throw notFound('project', input.projectId);
        const nowIso = clock.nowIso();
        let user = await store.userByEmail(tx, email);
        if (!user) {
          user = { id: newId('user', clock.nowMs()), email, name: input.name ?? email, isOperator: false };
          await store.insertUser(tx, { ...user, nowIso });
          await deps.events.record(tx, hooks, {
            type: 'user.created',
            projectId: input.projectId,
            resourceType: 'user',
            resourceId: user.id,
            data: { role: input.role, created_by: createdBy },
          });
        }
        await store.upsertMembership(tx, { projectId: input.projectId, userId: user.id, role: input.role, nowIso });
        await store.ensureCredentials(tx, user.id, nowIso);
        const credentials = await store.credentials(tx, user.id);
        const link = await issueLink(tx, hooks, {
          userId: user.id,
          email,
          purpose: credentials?.passwordHash ? 'reset_password' : 'set_password',
          createdBy,
        });
        return { user: { id: user.id, email: user.email, name: user.name }, link };
      });
    },

    /** Operators (and the first start): a one-time link for an existing user. */
    async issueResetLink(
      principal: Principal | null,
      emailInput: string,
    ): Promise<{ user: { id: string; email: string; name: string }; link: IssuedLink }> {
      const createdBy = principal?.kind === 'operator' ? principal.userId : null;
      const email = normalizeEmail(emailInput);
      return inTransaction(db, async (tx, hooks) => {
        const user = await store.userByEmail(tx, email);
        if (!user) throw notFound('user', email);
        await store.ensureCredentials(tx, user.id, clock.nowIso());
        const credentials = await store.credentials(tx, user.id);
        const link = await issueLink(tx, hooks, {
          userId: user.id,
          email,
          purpose: credentials?.passwordHash ? 'reset_password' : 'set_password',
          createdBy,
        });
        return { user: { id: user.id, email: user.email, name: user.name }, link };
      });
    },

    /** Owners: the project's members. */
    async listMembers(principal: Principal, projectId: string): Promise<Member[]> {
      ownerOf(principal, projectId);
      return (await invitations.members(db, projectId)).map(memberView);
    },

    /**
     * Owners: a member's new role. Their sessions act with it on their next request; their project tokens
     * with a role above it are revoked. The last owner cannot be demoted (409 `last_owner`).
     */
    async setMemberRole(principal: Principal, projectId: string, userId: string, role: ProjectRole): Promise<Member> {
      ownerOf(principal, projectId);
      return inTransaction(db, async (tx, hooks) => {
        await deps.memberTokens.lockProject(tx, projectId);
        const member = await invitations.member(tx, projectId, userId);
        if (!member) throw notFound('member', userId);
        if (member.role === role) return memberView(member);
        if (role !== 'owner') await keepAnOwner(tx, projectId, member.role, 'changing this role');
        await store.setMembershipRole(tx, { projectId, userId, role });
        await deps.memberTokens.revokeTokensOfMember(tx, hooks, { projectId, userId, aboveRole: role });
        await deps.events.record(tx, hooks, {
          type: 'member.role_changed',
          projectId,
          resourceType: 'member',
          resourceId: userId,
          data: { user_id: userId, email: member.email, from: member.role, to: role },
        });
        return memberView({ ...member, role });
      });
    },

    /**
     * Owners: a member leaves the project; their sessions in it and the project tokens they made are
     * revoked in the same transaction. The last owner cannot be removed (409 `last_owner`).
     */
    async removeMember(principal: Principal, projectId: string, userId: string): Promise<void> {
      ownerOf(principal, projectId);
      await inTransaction(db, async (tx, hooks) => {
        await deps.memberTokens.lockProject(tx, projectId);
        const member = await invitations.member(tx, projectId, userId);
        if (!member) throw notFound('member', userId);
        await keepAnOwner(tx, projectId, member.role, 'removing this one');
        await store.deleteMembership(tx, { projectId, userId });
        await revokeSessions(tx, hooks, { userId, projectId }, 'member_removed');
        await deps.memberTokens.revokeTokensOfMember(tx, hooks, { projectId, userId });
        await deps.events.record(tx, hooks, {
          type: 'member.removed',
          projectId,
          resourceType: 'member',
          resourceId: userId,
          data: { user_id: userId, email: member.email, role: member.role },
        });
      });
    },

    /** Owners: invite an e-mail with a role; the link (`/invite#token=vmi_…`) is answered once. */
    async createInvitation(
      principal: Principal,
      projectId: string,
      input: { email: string; role: ProjectRole },
    ): Promise<InvitationCreated> {
      const owner = ownerOf(principal, projectId);
      const email = normalizeEmail(input.email);
      const secret = randomSecret('vmi_');
      const nowMs = clock.nowMs();
      const record: InvitationRecord = {
        id: newId('invitation', nowMs),
        projectId,
        email,
        role: input.role,
        invitedBy: owner.userId ?? owner.tokenId,
        createdAt: clock.nowIso(),
        expiresAt: new Date(nowMs + invitationLifetimeMs).toISOString(),
        acceptedAt: null,
        revokedAt: null,
      };
      const path = `/invite#token=${secret}`;
      await inTransaction(db, async (tx, hooks) => {
        const user = await store.userByEmail(tx, email);
        if (user && (await invitations.memberRole(tx, projectId, user.id)))
          throw new VmcError('conflict', `${email} is a member of this project already`, { reason: 'already_member' });
        if ((await invitations.pending(tx, projectId, record.createdAt, email)).length > 0)
          throw new VmcError('conflict', `${email} has a pending invitation: revoke it to invite again`, {
            reason: 'already_invited',
          });
        await invitations.insert(tx, { ...record, secretHash: sha256(secret) });
        await deps.events.record(tx, hooks, {
          type: 'invitation.created',
          projectId,
          resourceType: 'invitation',
          resourceId: record.id,
          data: { email, role: record.role, expires_at: record.expiresAt, invited_by: record.invitedBy },
        });
        hooks.afterCommit(() => {
          deps.mailer
            ?.send({ to: email, purpose: 'invitation', path, expiresAt: record.expiresAt })
            .catch(() => undefined);
        });
      });
      return { invitation: invitationView(record), path };
    },

    /** Owners: invitations neither accepted, revoked nor expired. */
    async listInvitations(principal: Principal, projectId: string): Promise<Invitation[]> {
      ownerOf(principal, projectId);
      return (await invitations.pending(db, projectId, clock.nowIso())).map(invitationView);
    },

    /** Owners: a pending invitation's link stops working. */
    async revokeInvitation(principal: Principal, projectId: string, invitationId: string): Promise<void> {
      ownerOf(principal, projectId);
      await inTransaction(db, async (tx, hooks) => {
        const invitation = await invitations.byId(tx, projectId, invitationId);
        if (!invitation) throw notFound('invitation', invitationId);
        if (!(await invitations.revoke(tx, projectId, invitationId, clock.nowIso())))
          throw new VmcError(
            'conflict',
            `invitation ${invitationId} was ${invitation.acceptedAt ? 'accepted' : 'revoked'} already`,
            { reason: invitation.acceptedAt ? 'invitation_used' : 'invitation_revoked' },
          );
        await deps.events.record(tx, hooks, {
          type: 'invitation.revoked',
          projectId,
          resourceType: 'invitation',
          resourceId: invitationId,
          data: { email: invitation.email, role: invitation.role },
        });
      });
    },

    /**
     * Accepting an invitation: a new e-mail becomes a user with the password sent (the rules of one-time
     * links); a known user proves their password (and second factor), or is signed in as that user
     * (`signedInAs`: the session the edge checked, cookie and CSRF token). Then a membership with the
     * invitation's role and a session in the project. Any refusal changes nothing.
     */
    async acceptInvitation(input: {
      token: string;
      password?: string;
      totpCode?: string;
      recoveryCode?: string;
      client: ClientInfo;
      signedInAs?: { userId: string; secondFactor: SecondFactor } | null;
    }): Promise<SessionIssued> {
      const ipKey = [`ip:${input.client.ip}`];
      refuseIfThrottled(ipKey);
      const refuse = (reason: string, message: string): never => {
        throttleState = recordFailure(throttleState, ipKey, clock.nowMs(), limit);
        throw unauthenticated(message, reason);
      };
      const invitation = /^vmi_[A-Za-z0-9_-]{43}$/.test(input.token)
        ? await invitations.byHash(db, sha256(input.token))
        : null;
      if (!invitation) return refuse('invitation_invalid', 'this invitation link is unknown');
      if (invitation.revokedAt)
        throw unauthenticated('this invitation was revoked: ask the project owner for a new one', 'invitation_revoked');
      if (invitation.acceptedAt)
        throw unauthenticated('this invitation was accepted already: sign in instead', 'invitation_used');
      if (invitation.expiresAt <= clock.nowIso())
        throw unauthenticated('this invitation expired: ask the project owner for a new one', 'invitation_expired');
      const user = await store.userByEmail(db, invitation.email);
      const credentials = user ? await store.credentials(db, user.id) : null;
      const signedIn = user && input.signedInAs?.userId === user.id ? input.signedInAs : null;
      // Who sets a password now: a new person, or a user who never set one (the link proves the address).
      const settingPassword = !signedIn && !credentials?.passwordHash;
      let newHash: string | null = null;
      if (settingPassword) {
        if (!input.password)
          throw invalid('choose a password to accept this invitation', {
            reason: 'password_required',
            fields: [{ field: 'password', message: 'required for a new account' }],
          });
        const problem = passwordProblem(input.password, invitation.email);
        if (problem)
          throw invalid(`the password ${problem}`, {
            reason: 'weak_password',
            fields: [{ field: 'password', message: problem }],
          });
        newHash = await hasher.hash(input.password);
      } else if (!signedIn) {
        if (!input.password)
          throw invalid(`${invitation.email} has an account: send its password (or accept while signed in)`, {
            reason: 'account_password_required',
            fields: [{ field: 'password', message: 'the password of the account' }],
          });
        const keys = throttleKeys(invitation.email, input.client);
        refuseIfThrottled(keys);
        const verdict = await hasher.verify(input.password, credentials?.passwordHash ?? null);
        if (!verdict.ok) {
          throttleState = recordFailure(throttleState, keys, clock.nowMs(), limit);
          throw unauthenticated('the password is wrong', 'bad_credentials');
        }
      }
      return inTransaction(db, async (tx, hooks) => {
        const nowIso = clock.nowIso();
        let userId = user?.id ?? null;
        let secondFactor: SecondFactor = signedIn ? signedIn.secondFactor : settingPassword ? 'link' : 'none';
        if (!userId) {
          userId = newId('user', clock.nowMs());
          await store.insertUser(tx, {
            id: userId,
            email: invitation.email,
            name: invitation.email,
            isOperator: false,
            nowIso,
          });
          await deps.events.record(tx, hooks, {
            type: 'user.created',
            projectId: invitation.projectId,
            resourceType: 'user',
            resourceId: userId,
            data: { role: invitation.role, created_by: invitation.invitedBy },
          });
        } else if (!signedIn && credentials?.totpSecretId) {
          secondFactor = await checkSecondFactor(tx, userId, credentials.totpSecretId, input);
        }
        if (await invitations.memberRole(tx, invitation.projectId, userId))
          throw new VmcError('conflict', 'you are a member of this project already: sign in to it', {
            reason: 'already_member',
          });
        if (!(await invitations.markAccepted(tx, invitation.id, userId, nowIso)))
          throw unauthenticated('this invitation was accepted or revoked meanwhile', 'invitation_used');
        await store.ensureCredentials(tx, userId, nowIso);
        if (newHash) {
          await store.setPassword(tx, userId, newHash, nowIso);
          await deps.events.record(tx, hooks, {
            type: 'user.password_changed',
            projectId: null,
            resourceType: 'user',
            resourceId: userId,
            data: { via: 'invitation' },
          });
        }
        await store.upsertMembership(tx, { projectId: invitation.projectId, userId, role: invitation.role, nowIso });
        await deps.events.record(tx, hooks, {
          type: 'invitation.accepted',
          projectId: invitation.projectId,
          resourceType: 'invitation',
          resourceId: invitation.id,
          data: { email: invitation.email, role: invitation.role, user_id: userId, new_user: !user },
        });
        const membership = (await store.memberships(tx, userId)).find((m) => m.projectId === invitation.projectId);
        if (!membership) throw new VmcError('internal', 'the membership just written is missing');
        const opened = await openSession(tx, hooks, {
          userId,
          projectId: invitation.projectId,
          secondFactor,
          client: input.client,
        });
        return issued(tx, opened, membership);
      });
    },

    /** Housekeeping: sessions and links past their expiry are deleted. */
    async purgeExpired(): Promise<void> {
      const nowIso = clock.nowIso();
      await store.deleteSessionsBefore(nowIso);
      await store.deleteLinksBefore(nowIso);
    },

    /** Whether a CSRF token matches a session's hash (constant time). */
    csrfMatches(token: string, csrfHash: string): boolean {
      const presented = Buffer.from(sha256(token));
      const expected = Buffer.from(csrfHash);
      return presented.length === expected.length && timingSafeEqual(presented, expected);
    },
  };
}

export type PeopleService = ReturnType<typeof createPeopleService>;
