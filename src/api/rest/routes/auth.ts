/**
 * /v1/auth/…: sign-in, sessions, TOTP, passkeys, passwords, one-time links; /v1/users: operators add people. The
 * edge sets and clears the cookies; everything else is the people service's (src/identity/people.ts).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Route } from '../route.ts';
import type { IdentityService, PasskeyService, PeopleService } from '../../../identity/index.ts';
import { sessionLifetimeMs } from '../../../identity/index.ts';
import { VmcError } from '../../../core/index.ts';
import {
  acceptInvitation,
  createInvitation,
  listInvitations,
  listMembers,
  removeMember,
  revokeInvitation,
  setMemberRole,
  switchSessionProject,
  beginTotpEnrolment,
  changePassword,
  createUser,
  disableTotp,
  getAuthSession,
  issueResetLink,
  listAuthSessions,
  login,
  logout,
  redeemLink,
  revokeAuthSession,
  verifyTotpEnrolment,
  getOperatorSession,
  linkOperatorUser,
  listOperatorSessions,
  listOperatorUsers,
  operatorLogin,
  operatorLogout,
  revokeOperatorSession,
  unlinkOperatorUser,
  beginLinkTotpEnrolment,
  redeemOperatorLink,
  beginPasskeyRegistration,
  registerPasskey,
  listPasskeys,
  deletePasskey,
  beginPasskeyLogin,
  passkeyLogin,
  resetUserTotp,
} from '../../../contract/index.ts';
import { parseCookies, setCookie } from '../cookies.ts';
import { createRateLimiter } from '../rate-limit.ts';

/** Passkey sign-in options per client address per minute (public: each one stores a challenge row). */
export const passkeyOptionsPerMinute = 30;

export interface AuthRouteDeps {
  people: PeopleService;
  identity: IdentityService;
  /** Passkeys (docs/adr/0013-passkeys.md). */
  passkeys: PasskeyService;
  cookieNames: { session: string; csrf: string; operatorSession: string; operatorCsrf: string };
  /** Cookies get Secure (the API is served over TLS). */
  secureCookies: boolean;
}

export function registerAuthRoutes(route: Route, deps: AuthRouteDeps) {
  const { people } = deps;
  const clientOf = (request: FastifyRequest) => ({
    ip: request.ip,
    userAgent: request.headers['user-agent'] ?? null,
  });

  const projectCookies = { session: deps.cookieNames.session, csrf: deps.cookieNames.csrf };
  const operatorCookies = { session: deps.cookieNames.operatorSession, csrf: deps.cookieNames.operatorCsrf };
  const setSessionCookies = <T>(
    reply: FastifyReply,
    issued: { signedIn: T; sessionSecret: string; csrfToken: string },
    names = projectCookies,
  ): T => {
    const maxAgeS = Math.floor(sessionLifetimeMs / 1000);
    reply.header('set-cookie', [
      setCookie(names.session, issued.sessionSecret, { maxAgeS, httpOnly: true, secure: deps.secureCookies }),
      setCookie(names.csrf, issued.csrfToken, { maxAgeS, httpOnly: false, secure: deps.secureCookies }),
    ]);
    reply.header('cache-control', 'no-store');
    return issued.signedIn;
  };
  const clearSessionCookies = (reply: FastifyReply, names = projectCookies) =>
    reply.header('set-cookie', [
      setCookie(names.session, '', { maxAgeS: 0, httpOnly: true, secure: deps.secureCookies }),
      setCookie(names.csrf, '', { maxAgeS: 0, httpOnly: false, secure: deps.secureCookies }),
    ]);

  /** A refused sign-in: audited as a failed authentication; a throttled one says when to retry. */
  const refused = (request: FastifyRequest, reply: FastifyReply, error: unknown): never => {
    if (error instanceof VmcError) {
      if (error.reason === 'login_throttled') reply.header('Retry-After', String(error.details.retry_after));
      if (error.code === 'unauthenticated' && error.reason !== 'totp_required')
        request.server.auditFailedAuthentication(request, error);
    }
    throw error;
  };

  route(login, async ({ body, request, reply }) => {
    try {
      const issued = await people.login({
        email: body.email,
        password: body.password,
        totpCode: body.totp_code,
        recoveryCode: body.recovery_code,
        projectId: body.project_id,
        client: clientOf(request),
      });
      return setSessionCookies(reply, issued);
    } catch (error) {
      return refused(request, reply, error);
    }
  });

  // Passkeys: the relying party is the console's host and origin unless configured (PasskeyConfig).
  const originOf = (request: FastifyRequest) => ({
    hostname: request.hostname,
    origin: `${request.protocol}://${request.headers.host ?? request.hostname}`,
  });
  const passkeyOptions = createRateLimiter({
    limitPerWindow: passkeyOptionsPerMinute,
    windowMs: 60_000,
    nowMs: () => Date.now(),
  });
  route(beginPasskeyLogin, async ({ request, reply }) => {
    reply.header('cache-control', 'no-store');
    const decision = passkeyOptions.take(`ip:${request.ip}`);
    if (!decision.allowed) {
      reply.header('Retry-After', String(decision.retryAfterS));
      throw new VmcError('rate_limited', `too many passkey sign-ins from ${request.ip}; retry later`, {
        reason: 'passkey_options_throttled',
      });
    }
    return deps.passkeys.beginLogin(originOf(request));
  });
  route(passkeyLogin, async ({ body, request, reply }) => {
    try {
      const issued = await deps.passkeys.login(body, { client: clientOf(request), from: originOf(request) });
      return setSessionCookies(reply, issued);
    } catch (error) {
      return refused(request, reply, error);
    }
  });
  route(beginPasskeyRegistration, async ({ principal, request, reply }) => {
    reply.header('cache-control', 'no-store');
    return deps.passkeys.beginRegistration(principal, originOf(request));
  });
  route(registerPasskey, async ({ principal, body, request }) => ({
    passkey: await deps.passkeys.register(principal, body, originOf(request)),
  }));
  route(listPasskeys, async ({ principal }) => ({ passkeys: await deps.passkeys.list(principal) }));
  route(deletePasskey, ({ principal, params }) => deps.passkeys.delete(principal, params.id));

  route(redeemLink, async ({ body, request, reply }) => {
    try {
      const issued = await people.redeemLink({
        token: body.token,
        password: body.password,
        totpCode: body.totp_code,
        recoveryCode: body.recovery_code,
        client: clientOf(request),
      });
      return setSessionCookies(reply, issued);
    } catch (error) {
      return refused(request, reply, error);
    }
  });

  /**
   * Accepting an invitation is public (the link is the credential), but a signed-in user of the invited
   * e-mail needs no password: the session cookie counts only with its CSRF token (as on every mutation).
   */
  const signedInAs = async (request: FastifyRequest) => {
    const cookie = parseCookies(request.headers.cookie).get(deps.cookieNames.session);
    const csrf = request.headers['x-csrf-token'];
    if (!cookie || typeof csrf !== 'string') return null;
    try {
      const session = await people.authenticateSession(cookie);
      if (!people.csrfMatches(csrf, session.csrfHash) || !session.principal.userId) return null;
      return { userId: session.principal.userId, secondFactor: await people.secondFactorOf(session.principal.tokenId) };
    } catch {
      return null;
    }
  };

  route(acceptInvitation, async ({ body, request, reply }) => {
    try {
      const issued = await people.acceptInvitation({
        token: body.token,
        password: body.password,
        totpCode: body.totp_code,
        recoveryCode: body.recovery_code,
        client: clientOf(request),
        signedInAs: await signedInAs(request),
      });
      return setSessionCookies(reply, issued);
    } catch (error) {
      return refused(request, reply, error);
    }
  });
  route(listMembers, async ({ principal, params }) => ({ members: await people.listMembers(principal, params.id) }));
  route(setMemberRole, async ({ principal, params, body }) => ({
    member: await people.setMemberRole(principal, params.id, params.user_id, body.role),
  }));
  route(removeMember, ({ principal, params }) => people.removeMember(principal, params.id, params.user_id));
  route(createInvitation, ({ principal, params, body }) =>
    people.createInvitation(principal, params.id, { email: body.email, role: body.role }),
  );
  route(listInvitations, async ({ principal, params }) => ({
    invitations: await people.listInvitations(principal, params.id),
  }));
  route(revokeInvitation, ({ principal, params }) =>
    people.revokeInvitation(principal, params.id, params.invitation_id),
  );

  route(logout, async ({ principal, reply }) => {
    await people.logout(principal);
    clearSessionCookies(reply);
  });

  route(getAuthSession, ({ principal }) =>
    people.current(principal, async () => (await deps.identity.getProject(principal)).name),
  );
  route(switchSessionProject, ({ principal, body }) => people.switchProject(principal, body.project_id));
  route(listAuthSessions, async ({ principal }) => ({ sessions: await people.listSessions(principal) }));
  route(revokeAuthSession, ({ principal, params }) => people.revokeSession(principal, params.id));

  route(beginTotpEnrolment, async ({ principal, reply }) => {
    reply.header('cache-control', 'no-store');
    return people.beginTotp(principal);
  });
  route(verifyTotpEnrolment, async ({ principal, body, reply }) => {
    reply.header('cache-control', 'no-store');
    return people.verifyTotp(principal, body.code);
  });
  route(disableTotp, ({ principal, body }) => people.disableTotp(principal, body.password));
  route(changePassword, ({ principal, body }) =>
    people.changePassword(principal, { current: body.current_password, next: body.new_password }),
  );

  // The operator area (issue #16): operator sessions in their own cookies, operators linked by email.
  route(operatorLogin, async ({ body, request, reply }) => {
    try {
      const issued = await people.operatorLogin({
        email: body.email,
        password: body.password,
        totpCode: body.totp_code,
        client: clientOf(request),
      });
      return setSessionCookies(reply, issued, operatorCookies);
    } catch (error) {
      return refused(request, reply, error);
    }
  });
  // A one-time link used by an operator (one of no project, too): TOTP enrolment, then an operator session.
  route(beginLinkTotpEnrolment, async ({ body, request, reply }) => {
    reply.header('cache-control', 'no-store');
    try {
      return await people.beginLinkTotp({ token: body.token, client: clientOf(request) });
    } catch (error) {
      return refused(request, reply, error);
    }
  });
  route(redeemOperatorLink, async ({ body, request, reply }) => {
    try {
      const issued = await people.redeemOperatorLink({
        token: body.token,
        password: body.password,
        totpCode: body.totp_code,
        newTotpCode: body.new_totp_code,
        client: clientOf(request),
      });
      return setSessionCookies(reply, issued, operatorCookies);
    } catch (error) {
      return refused(request, reply, error);
    }
  });
  route(operatorLogout, async ({ principal, reply }) => {
    await people.operatorLogout(principal);
    clearSessionCookies(reply, operatorCookies);
  });
  route(getOperatorSession, ({ principal }) => people.currentOperator(principal));
  route(listOperatorSessions, async ({ principal }) => ({ sessions: await people.listOperatorSessions(principal) }));
  route(revokeOperatorSession, ({ principal, params }) => people.revokeOperatorSession(principal, params.id));
  route(listOperatorUsers, async ({ principal }) => ({ users: await people.listOperators(principal) }));
  route(linkOperatorUser, ({ principal, body }) => people.linkOperator(principal, body.email));
  route(unlinkOperatorUser, ({ principal, body }) => people.unlinkOperator(principal, body.email));

  route(createUser, ({ principal, body }) =>
    people.createUser(principal, { email: body.email, name: body.name, projectId: body.project_id, role: body.role }),
  );
  route(issueResetLink, ({ principal, body }) => people.issueResetLink(principal, body.email));
  route(resetUserTotp, ({ principal, params }) => people.resetTotp(principal, params.id));
}
