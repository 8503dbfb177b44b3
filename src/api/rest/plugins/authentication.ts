/**
 * Authentication and the authorization of principal kinds. Each contract operation says who may call it
 * (`auth`): a request without a valid bearer token gets 401, a token of the wrong kind 403; roles inside a
 * project are the service's to check. Before a token is even looked at, each client address may make a
 * bounded number of attempts with unknown tokens (429 + Retry-After past it): guessing tokens is slow.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { VmcError, forbidden } from '../../../core/index.ts';
import type { IdentityService, Principal, SessionAuthentication } from '../../../identity/index.ts';
import type { OperationAuth } from '../../../contract/index.ts';
import { createRateLimiter } from '../rate-limit.ts';
import { parseCookies } from '../cookies.ts';
import '../context.ts';

export interface AuthenticationOptions {
  identity: IdentityService;
  nowMs: () => number;
  /** Failed authentications per client address per minute before 429 (0 disables). */
  failedAuthPerMinute: number;
  /** Told of every refused token (the audit plugin records it, rate-limited per address). */
  onAuthenticationFailed?: (request: FastifyRequest, error: VmcError) => void;
  /**
   * Console sessions (docs/adr/0010-console-auth.md): without an Authorization header, the session cookie
   * authenticates as the same project principal a token gives. Its mutations must carry the CSRF token in
   * X-CSRF-Token, and an Origin, when sent, of this very API.
   */
  sessions?: {
    cookieName: string;
    /**
     * The operator area's session cookie: used for operator routes (and for others when no project session
     * cookie is sent, or when the request says `X-VMCloud-Session: operator`); a project session cookie
     * stands in for it otherwise (and gets the 403 of its kind).
     */
    operatorCookieName?: string;
    authenticate(secret: string): Promise<SessionAuthentication>;
    csrfMatches(token: string, csrfHash: string): boolean;
  };
}

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Refuses a cookie-authenticated mutation without the session's CSRF token or from another origin. */
function checkCsrf(request: FastifyRequest, csrfHash: string, matches: (token: string, hash: string) => boolean) {
  if (safeMethods.has(request.method)) return;
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== `${request.protocol}://${request.headers.host}`)
    throw new VmcError('forbidden', `a request from ${origin} may not use this session`, { reason: 'csrf' });
  const token = request.headers['x-csrf-token'];
  if (typeof token !== 'string' || !matches(token, csrfHash))
    throw new VmcError('forbidden', 'the X-CSRF-Token header is missing or wrong: reload the console', {
      reason: 'csrf',
    });
}

const kindAllowed: Record<OperationAuth, (p: Principal) => boolean> = {
  public: () => true,
  any: () => true,
  project: (p) => p.kind === 'project',
  operator: (p) => p.kind === 'operator',
  project_or_operator: (p) => p.kind === 'project' || p.kind === 'operator',
  host: (p) => p.kind === 'host',
};

const kindWords: Record<OperationAuth, string> = {
  public: '',
  any: '',
  project: 'a project token',
  operator: 'an operator token',
  project_or_operator: 'a project or operator token',
  host: 'a host token',
};

async function authentication(app: FastifyInstance, options: AuthenticationOptions) {
  const failures = createRateLimiter({
    limitPerWindow: options.failedAuthPerMinute,
    windowMs: 60_000,
    nowMs: options.nowMs,
  });
  app.decorateRequest('principal', null);
  app.decorateRequest('credentialCheck', null);

  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config;
    const auth: OperationAuth =
      config?.operation?.auth ?? (config?.auth === 'public' || request.url.startsWith('/docs') ? 'public' : 'any');
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (header && failures.enabled) {
      // An address past its budget of failures gets no token looked up, except tokens this process has
      // just found valid: the clients that work keep working while a guesser is held off.
      const blocked = failures.exhausted(`ip:${request.ip}`);
      if (blocked && !(match && options.identity.isRecentlyAuthenticated(match[1]))) {
        reply.header('Retry-After', blocked.retryAfterS);
        throw new VmcError(
          'rate_limited',
          `too many failed authentications from ${request.ip}; retry after ${blocked.retryAfterS} s`,
          { reason: 'auth_rate_limited' },
        );
      }
    }
    if (header) {
      try {
        if (!match) throw new VmcError('unauthenticated', 'the Authorization header must be "Bearer vmc_…"');
        const token = match[1];
        request.principal = await options.identity.authenticate(token);
        request.credentialCheck = () => options.identity.authenticate(token);
      } catch (error) {
        if (!(error instanceof VmcError) || error.code !== 'unauthenticated') throw error;
        if (failures.enabled) failures.take(`ip:${request.ip}`);
        options.onAuthenticationFailed?.(request, error);
        throw error;
      }
    }
    const sessions = options.sessions;
    // Public routes (signing in) never look at the cookie: a stale one does not stand in their way.
    const jar = !header && sessions && auth !== 'public' ? parseCookies(request.headers.cookie) : undefined;
    const projectCookie = jar && sessions ? jar.get(sessions.cookieName) : undefined;
    const operatorCookie = jar && sessions?.operatorCookieName ? jar.get(sessions.operatorCookieName) : undefined;
    // `X-VMCloud-Session: operator` (the operator area's client) asks for the operator session whatever the
    // route; routes that both kinds may call otherwise take the project session first.
    const cookie =
      request.headers['x-vmcloud-session'] === 'operator'
        ? operatorCookie
        : auth === 'operator'
          ? (operatorCookie ?? projectCookie)
          : (projectCookie ?? operatorCookie);
    if (cookie && sessions) {
      const session = await sessions.authenticate(cookie);
      checkCsrf(request, session.csrfHash, sessions.csrfMatches);
      request.principal = session.principal;
      request.credentialCheck = async () => (await sessions.authenticate(cookie)).principal;
    }
    if (auth === 'public') return;
    if (!request.principal) {
      throw new VmcError('unauthenticated', 'this route needs a token: send "Authorization: Bearer vmc_…"');
    }
    if (!kindAllowed[auth](request.principal)) throw forbidden(`this route needs ${kindWords[auth]}`);
  });
}

export const authenticationPlugin = fp(authentication, { name: 'vmcloud-authentication' });
