import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { newId, VmcError, type Clock } from '../../core/index.ts';
import type { IdentityService, AuditLog } from '../../identity/index.ts';
import type { Db } from '../../db/index.ts';
import './context.ts';
import { problemOf, sendProblem, toVmcError } from './problem.ts';
import { createRateLimiter } from './rate-limit.ts';
import { createIdempotencyStore, parseIdempotencyKey, requestFingerprint } from './idempotency.ts';
import { parseJsonBody } from './json-body.ts';

export interface ApiOptions {
  db: Db;
  clock: Clock;
  identity: IdentityService;
  audit: AuditLog;
  /** Requests per minute per token (0 disables). */
  rateLimitPerMinute: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  version: string;
}

export type Api = FastifyInstance<any, any, any, any, TypeBoxTypeProvider>; // eslint-disable-line @typescript-eslint/no-explicit-any

const mutatingMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The Fastify instance with VMCloud's API conventions: request ids, JSON logs, bearer auth, rate-limit
 * headers, Idempotency-Key on POST, problem+json errors, an audit entry for every mutation, OpenAPI 3.1.
 * Routes are registered by the caller.
 */
export async function createApi(options: ApiOptions): Promise<Api> {
  const app = Fastify({
    logger: options.logLevel === 'silent' ? false : { level: options.logLevel },
    genReqId: () => newId('request', options.clock.nowMs()),
    requestIdHeader: false,
    bodyLimit: 1024 * 1024,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: true } },
    trustProxy: false,
    // Errors the router raises before any route runs (bad URL encoding, over-long ids) are problems too.
    frameworkErrors: (error, request, reply) => sendProblem(reply, request, toVmcError(error)),
    // Requests the HTTP parser itself refuses (bad header bytes, oversized headers) get a problem document.
    clientErrorHandler: (error: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) return socket.destroy();
      const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      const body = JSON.stringify({ type: 'https://docs.vmcloud.dev/errors/invalid', title: 'Invalid request', status, detail: `the HTTP request could not be parsed (${error.code ?? 'client error'})`, code: 'invalid', request_id: null });
      socket.end(`HTTP/1.1 ${status} Bad Request\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  const limiter = createRateLimiter({ limitPerWindow: options.rateLimitPerMinute, windowMs: 60_000, nowMs: options.clock.nowMs });
  const idempotency = createIdempotencyStore({ db: options.db, clock: options.clock });

  app.decorateRequest('principal', null);
  app.decorateRequest('idempotency', null);
  app.decorateRequest('auditResource', null);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'VMCloud API', version: options.version, description: 'Servers, catalog, identity and operations of a VMCloud region set. Errors are RFC 9457 problem documents with a stable `code`.' },
      servers: [{ url: '/' }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A vmc_… API token' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  await app.register(websocket);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (/%00/.test(request.url) || request.url.includes('\0')) throw new VmcError('invalid', 'the URL contains a NUL character', { reason: 'nul_in_url' });
    const routeAuth = request.url.startsWith('/docs') ? 'public' : (request.routeOptions.config?.auth ?? 'required');
    const header = request.headers.authorization;
    if (header) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) throw new VmcError('unauthenticated', 'the Authorization header must be "Bearer vmc_…"');
      request.principal = await options.identity.authenticate(match[1]);
    } else if (routeAuth === 'required') {
      throw new VmcError('unauthenticated', 'this route needs a token: send "Authorization: Bearer vmc_…"');
    }
    if (limiter.enabled && routeAuth === 'required') {
      const decision = limiter.take(request.principal?.tokenId ?? `ip:${request.ip}`);
      reply.header('RateLimit-Limit', decision.limit);
      reply.header('RateLimit-Remaining', decision.remaining);
      reply.header('RateLimit-Reset', decision.resetEpochS);
      if (!decision.allowed) {
        reply.header('Retry-After', decision.retryAfterS);
        throw new VmcError('rate_limited', `rate limit of ${decision.limit} requests per minute reached; retry after ${decision.retryAfterS} s`);
      }
    }
  });

  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST' || !request.principal) return;
    const key = parseIdempotencyKey(request.headers['idempotency-key']);
    if (!key) return;
    const scope = request.principal.tokenId;
    const path = request.url.split('?')[0];
    const claim = await idempotency.claim({ scope, key, method: request.method, path, fingerprint: requestFingerprint(request.method, path, request.body) });
    if (claim.kind === 'replay') {
      reply.header('Idempotent-Replayed', 'true');
      const isProblem = claim.statusCode >= 400;
      return reply.code(claim.statusCode).type(isProblem ? 'application/problem+json' : 'application/json').send(claim.body);
    }
    request.idempotency = { scope, key };
  });

  app.addHook('onSend', async (request, reply, payload) => {
    if (request.idempotency && !reply.getHeader('Idempotent-Replayed')) {
      const { scope, key } = request.idempotency;
      if (reply.statusCode >= 500) await idempotency.release(scope, key);
      else await idempotency.complete(scope, key, reply.statusCode, typeof payload === 'string' ? payload : JSON.stringify(payload ?? null));
    }
    // Agent reports and heartbeats are telemetry, not mutations by a person: they are not audited.
    const telemetry = request.url.startsWith('/v1/agent/hosts/');
    if (mutatingMethods.has(request.method) && request.principal && !telemetry && !reply.getHeader('Idempotent-Replayed')) {
      const p = request.principal;
      await auditSafely(request, {
        projectId: p.kind === 'project' ? p.projectId : null,
        actorUserId: p.kind === 'host' ? null : p.userId,
        actorTokenId: p.tokenId,
        action: `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`,
        resourceType: request.auditResource?.type ?? null,
        resourceId: request.auditResource?.id ?? ((request.params as Record<string, string> | undefined)?.id ?? null),
        outcome: reply.statusCode < 400 ? 'success' : 'failure',
        statusCode: reply.statusCode,
        requestId: request.id,
        sourceIp: request.ip,
        userAgent: request.headers['user-agent'] ?? null,
      });
    }
    return payload;
  });

  /** An audit row that cannot be written is logged loudly; it never replaces the answer already decided. */
  async function auditSafely(request: { log: { error(o: object, m: string): void } }, entry: Parameters<AuditLog['append']>[0]) {
    try {
      await options.audit.append(entry);
    } catch (error) {
      request.log.error({ err: error, audit: entry }, 'audit entry could not be written');
    }
  }

  app.setErrorHandler((error, request, reply) => {
    const vmcError = toVmcError(error);
    if (vmcError.code === 'internal') request.log.error({ err: error }, 'internal error');
    return sendProblem(reply, request, vmcError);
  });

  app.setNotFoundHandler((request, reply) => sendProblem(reply, request, new VmcError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`)));

  app.get('/healthz', { config: { auth: 'public' }, schema: { hide: true } }, async () => {
    await options.db.selectFrom('regions').select('code').limit(1).execute();
    return { status: 'ok', version: options.version };
  });
  app.get('/v1/openapi.json', { config: { auth: 'public' }, schema: { hide: true } }, async () => app.swagger());

  return app as Api;
}

export { problemOf };
