/**
 * The Fastify instance with VMCloud's API conventions: request ids, pino logs, problem+json errors,
 * OpenAPI 3.1 from the contract, and the cross-cutting plugins (authentication, rate limits,
 * idempotency, audit). Routes are registered by the caller through `route` (src/api/rest/route.ts).
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { newId, VmcError, type Clock } from '../../core/index.ts';
import type { Logger as PinoLogger } from 'pino';
import type { IdentityService } from '../../identity/index.ts';
import type { AuditLog, FailedAuthRecorder } from '../../audit/index.ts';
import type { IdempotencyService } from '../../idempotency/index.ts';
import type { TransactionParticipant } from '../../core/index.ts';
import { Problem } from '../../contract/index.ts';
import './context.ts';
import { sendProblem, toVmcError } from '../../core/index.ts';
import { authenticationPlugin, type AuthenticationOptions } from './plugins/authentication.ts';
import { rateLimitPlugin } from './plugins/rate-limit.ts';
import { idempotencyPlugin } from './plugins/idempotency.ts';
import { auditPlugin } from './plugins/audit.ts';
import { createRouter, type Route } from './route.ts';
import { requestValidatorOptions } from '../input-check.ts';

export interface ApiOptions {
  clock: Clock;
  log: PinoLogger;
  identity: IdentityService;
  audit: AuditLog;
  /** Records refused tokens in the audit log, a bounded number per client address. */
  failedAuth: FailedAuthRecorder;
  idempotency: IdempotencyService;
  /** Requests per minute per token (0 disables). */
  rateLimitPerMinute: number;
  /** Rate-limit counters shared by the replicas (PostgreSQL); this process counts alone without. */
  sharedRateCounter?: { increment(key: string, windowStartMs: number): Promise<number> };
  /** Failed authentications per minute per client address before 429 (0 disables). */
  failedAuthPerMinute?: number;
  version: string;
  /** HTTPS with this certificate and key, TLS 1.3 only, HSTS on every answer; plain HTTP when absent. */
  https?: { certPem: string; keyPem: string };
  /** Console sessions: the session cookie authenticates as a project principal (docs/adr/0010-console-auth.md). */
  sessions?: AuthenticationOptions['sessions'];
  /** Answers /healthz: throws when the database cannot be reached. */
  checkHealth: () => Promise<void>;
  /** Told of every answer (metrics): the route pattern (`/v1/servers/:id`, `unmatched`), never the URL. */
  onResponse?: (route: string, method: string, status: number, seconds: number) => void;
}

export type Api = FastifyInstance<any, any, any, any, TypeBoxTypeProvider>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface ApiWithRoutes {
  app: Api;
  route: Route;
}

/** The fields a request's log lines gain once it is authenticated and routed (docs/observability.md). */
export function requestContextFields(request: FastifyRequest): Record<string, string> {
  // The id under the name problem documents answer with (Fastify's own binding says `reqId`).
  const fields: Record<string, string> = { request_id: String(request.id) };
  if (request.routeOptions.url) fields.route = request.routeOptions.url;
  const principal = request.principal;
  if (principal) {
    fields.principal = principal.kind;
    if (principal.kind === 'project') fields.project_id = principal.projectId;
  }
  const operation = (request.routeOptions.config as { operation?: { resource?: string } } | undefined)?.operation;
  const params = request.params as Record<string, unknown> | undefined;
  if (operation?.resource) fields.resource = operation.resource;
  if (typeof params?.id === 'string') fields.resource_id = params.id;
  return fields;
}

/** Whether a parsed JSON value holds a NUL character in any string, key included. */
export function containsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (value === null || typeof value !== 'object' || depth > 64) return false;
  const prototype = Object.getPrototypeOf(value);
  // Only parsed JSON: plain objects and arrays (an upload's stream body is not looked into).
  if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null) return false;
  for (const [key, item] of Object.entries(value)) {
    if (key.includes('\u0000') || containsNul(item, depth + 1)) return true;
  }
  return false;
}

export async function createApi(options: ApiOptions): Promise<ApiWithRoutes> {
  const app = Fastify({
    ...(options.https
      ? {
          https: {
            cert: options.https.certPem,
            key: options.https.keyPem,
            minVersion: 'TLSv1.3' as const,
            maxVersion: 'TLSv1.3' as const,
          },
        }
      : {}),
    loggerInstance: options.log,
    genReqId: () => newId('request', options.clock.nowMs()),
    requestIdHeader: false,
    bodyLimit: 1024 * 1024,
    // The options GraphQL checks its inputs with too (input-check.ts).
    ajv: { customOptions: { ...requestValidatorOptions } },
    trustProxy: false,
    // Errors the router raises before any route runs (bad URL encoding, over-long ids) are problems too.
    frameworkErrors: (error, request, reply) => sendProblem(reply, request, toVmcError(error)),
    // Requests the HTTP parser itself refuses (bad header bytes, oversized headers) get a problem document.
    clientErrorHandler: (error: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) return socket.destroy();
      const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      const body = JSON.stringify({
        type: 'https://docs.vmcloud.dev/errors/invalid',
        title: 'Invalid request',
        status,
        detail: `the HTTP request could not be parsed (${error.code ?? 'client error'})`,
        code: 'invalid',
        request_id: null,
      });
      socket.end(
        `HTTP/1.1 ${status} Bad Request\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorateRequest('transactionParticipants', null as unknown as TransactionParticipant[]);
  app.addHook('onRequest', async (request, reply) => {
    request.transactionParticipants = [];
    reply.header('x-request-id', request.id);
    if (options.https) reply.header('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    if (/%00/.test(request.url) || request.url.includes('\0'))
      throw new VmcError('invalid', 'the URL contains a NUL character', { reason: 'nul_in_url' });
  });

  // NUL cannot be stored in a PostgreSQL text column and has no business in an API field: refused anywhere.
  app.addHook('preValidation', async (request) => {
    if (containsNul(request.body) || containsNul(request.query))
      throw new VmcError('invalid', 'the request contains a NUL character', { reason: 'nul_in_request' });
  });

  await app.register(swagger, {
    // Shared schemas keep their $id as their component name (#/components/schemas/Problem).
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'VMCloud API',
        version: options.version,
        description:
          'Servers, catalog, identity and operations of a VMCloud region set. Errors are RFC 9457 problem documents with a stable `code`.',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      servers: [{ url: '/', description: 'this control plane' }],
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A vmc_… API token' } },
      },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  // One Problem schema, referenced by every operation's error answers.
  app.addSchema({ $id: 'Problem', title: 'Problem', ...Problem });
  await app.register(websocket);

  await app.register(auditPlugin, { audit: options.audit, failedAuth: options.failedAuth, nowMs: options.clock.nowMs });
  await app.register(authenticationPlugin, {
    identity: options.identity,
    nowMs: options.clock.nowMs,
    failedAuthPerMinute: options.failedAuthPerMinute ?? 60,
    onAuthenticationFailed: (request, error) => app.auditFailedAuthentication(request, error),
    sessions: options.sessions,
  });
  await app.register(rateLimitPlugin, {
    limitPerMinute: options.rateLimitPerMinute,
    nowMs: options.clock.nowMs,
    sharedCounter: options.sharedRateCounter,
    onSharedCounterError: (error) =>
      options.log.warn({ err: String(error) }, 'shared rate-limit counters unreachable: counting in this replica'),
  });
  await app.register(idempotencyPlugin, { idempotency: options.idempotency });

  // Log lines of a request carry what ELK/Loki index on: the route pattern, the project, the resource.
  app.addHook('preHandler', async (request, reply) => {
    const log = request.log.child(requestContextFields(request));
    request.log = log;
    reply.log = log;
  });
  if (options.onResponse) {
    const onResponse = options.onResponse;
    app.addHook('onResponse', async (request, reply) => {
      onResponse(request.routeOptions.url ?? 'unmatched', request.method, reply.statusCode, reply.elapsedTime / 1000);
    });
  }

  app.setErrorHandler((error, request, reply) => {
    const vmcError = toVmcError(error);
    if (vmcError.code === 'internal') request.log.error({ err: error }, 'internal error');
    return sendProblem(reply, request, vmcError);
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, request, new VmcError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );

  app.get('/healthz', { config: { auth: 'public' }, schema: { hide: true } }, async () => {
    await options.checkHealth();
    return { status: 'ok', version: options.version };
  });
  app.get('/v1/openapi.json', { config: { auth: 'public' }, schema: { hide: true } }, async () => app.swagger());

  return { app: app as Api, route: createRouter(app as Api, { idempotency: options.idempotency }) };
}
