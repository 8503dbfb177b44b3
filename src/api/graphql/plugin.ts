/**
 * GraphQL at `/graphql` (mercurius) over the same services as REST, with the same authentication: a bearer
 * token on HTTP (401 problem+json without one), the same token in the `connection_init` payload
 * (`{ authorization: 'Bearer vmc_…' }`) or the upgrade request's header for subscriptions over WebSocket
 * (graphql-ws protocol); an open socket checks that credential again periodically and closes with 4401 once it
 * is revoked. Roles and tenant isolation are the services'. Depth and cost are bounded; the
 * schema is published at `/graphql/schema.graphql`; GraphiQL at `/graphiql` when enabled (development).
 */
import mercurius from 'mercurius';
import { GraphQLError, printSchema, type GraphQLSchema } from 'graphql';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { VmcError } from '../../core/index.ts';
import { sendProblem } from '../../core/problem.ts';
import type { IdentityService, Principal } from '../../identity/index.ts';
import { graphqlModules } from './modules/index.ts';
import { createLoaders } from './loaders.ts';
import { costLimitRule, maxQueryDepth } from './limits.ts';
import type { GraphqlContext } from './module.ts';
import type { GraphqlServices } from './services.ts';
import '../rest/context.ts';

export interface GraphqlOptions {
  services: GraphqlServices;
  identity: IdentityService;
  /** Serve GraphiQL at /graphiql (development). */
  graphiql: boolean;
  /**
   * How often an open WebSocket checks its credential again (as the SSE stream does at each heartbeat):
   * a revoked token or a member removed from the project closes the socket with 4401.
   */
  credentialCheckMs?: number;
}

/** The close code and reason of a WebSocket whose credential is no longer valid (graphql-ws: 4401). */
export const credentialGoneClose = { code: 4401, reason: 'the credential is no longer valid' } as const;

/** What a principal may see: a check that changes it (another project, role or kind) ends the socket. */
const scopeOf = (p: Principal) =>
  p.kind === 'project' ? `project:${p.projectId}:${p.role}:${p.tokenId}` : `${p.kind}:${p.tokenId}`;

/** The WebSocket and credential a subscription context carries (beside the GraphqlContext). */
interface SocketWatch {
  socket?: { close(code: number, reason: string): void; once(event: 'close', listener: () => void): unknown };
  credentialCheck?: () => Promise<Principal>;
}

const isUpgrade = (request: FastifyRequest) => request.headers.upgrade?.toLowerCase() === 'websocket';

function bearer(value: unknown): string | null {
  const match = typeof value === 'string' ? /^Bearer\s+(\S+)$/i.exec(value) : null;
  return match ? match[1] : null;
}

export async function registerGraphql(app: FastifyInstance, options: GraphqlOptions): Promise<GraphQLSchema> {
  // The REST authentication hook runs for these routes too: HTTP queries need a token like any route; the
  // WebSocket upgrade may carry it in connection_init instead, so these routes are marked public for the
  // hook and checked here.
  app.addHook('onRoute', (route) => {
    if (route.url === '/graphql' || route.url.startsWith('/graphiql')) {
      route.config = { ...(route.config as object), auth: 'public' } as typeof route.config;
      // Not REST operations: kept out of the OpenAPI document (docs/graphql.md describes them).
      route.schema = { ...(route.schema ?? {}), hide: true } as typeof route.schema;
    }
  });
  app.addHook('preHandler', async (request, reply) => {
    if (request.routeOptions.url !== '/graphql' || isUpgrade(request) || request.principal) return;
    // Answered here, as REST answers it (mercurius would wrap a thrown error into a GraphQL response).
    return sendProblem(
      reply,
      request,
      new VmcError('unauthenticated', 'GraphQL needs a token: send "Authorization: Bearer vmc_…"'),
    );
  });

  const credentialCheckMs = options.credentialCheckMs ?? 15_000;
  const watched = new WeakSet<object>();
  /**
   * From the first operation on a socket on, its credential is checked again every credentialCheckMs; once it
   * fails (revoked token, removed member) or says something else, the socket closes with 4401 and every
   * subscription on it ends.
   */
  const watch = (context: GraphqlContext & SocketWatch) => {
    const { socket, credentialCheck } = context;
    if (!socket || !credentialCheck || watched.has(socket)) return;
    watched.add(socket);
    const scope = scopeOf(context.principal);
    let checking = false;
    const timer = setInterval(async () => {
      if (checking) return;
      checking = true;
      try {
        const now = await credentialCheck().catch(() => null);
        if (now && scopeOf(now) === scope) return;
        clearInterval(timer);
        socket.close(credentialGoneClose.code, credentialGoneClose.reason);
      } finally {
        checking = false;
      }
    }, credentialCheckMs);
    timer.unref();
    socket.once('close', () => clearInterval(timer));
  };

  const contextOf = (principal: Principal): GraphqlContext => ({
    principal,
    services: options.services,
    loaders: createLoaders(principal, options.services),
  });

  await app.register(mercurius, {
    schema: graphqlModules.map((m) => m.typeDefs),
    path: '/graphql',
    graphiql: options.graphiql,
    queryDepth: maxQueryDepth,
    validationRules: [costLimitRule],
    context: (request: FastifyRequest) => contextOf(request.principal as Principal) as never,
    subscription: {
      onConnect: async ({ payload }: { payload?: Record<string, unknown> }) => {
        const token = bearer(payload?.authorization ?? payload?.Authorization);
        if (!token) return true;
        try {
          const principal = await options.identity.authenticate(token);
          return {
            principal,
            loaders: createLoaders(principal, options.services),
            credentialCheck: () => options.identity.authenticate(token),
          };
        } catch {
          return false;
        }
      },
      context: async (socket: SocketWatch['socket'], request: FastifyRequest) => {
        const token = bearer(request.headers.authorization);
        const principal = token ? await options.identity.authenticate(token).catch(() => null) : null;
        const credentialCheck = token && principal ? () => options.identity.authenticate(token) : undefined;
        return { ...contextOf(principal as Principal), principal, socket, credentialCheck } as never;
      },
    },
    errorFormatter: (execution, context) => {
      const formatted = mercurius.defaultErrorFormatter(execution, context);
      // A refused query (depth, cost, unknown field) carries its reasons inside one error: show them.
      const flat = (execution.errors ?? []).flatMap((error) => {
        const inner =
          (error as { errors?: unknown }).errors ?? (error as GraphQLError).originalError?.['errors' as never];
        return Array.isArray(inner) && inner.length > 0 ? (inner as GraphQLError[]) : [error];
      });
      const errors = flat.map((error) => {
        const original = (error as GraphQLError).originalError;
        if (!(original instanceof VmcError)) return error;
        return new GraphQLError(original.message, {
          nodes: error.nodes,
          path: error.path,
          originalError: original,
          extensions: {
            ...error.extensions,
            code: original.code,
            ...(original.reason ? { reason: original.reason } : {}),
            ...(original.fields.length > 0 ? { fields: original.fields } : {}),
          },
        });
      });
      return { statusCode: formatted.statusCode, response: { ...formatted.response, errors } };
    },
  });
  // Resolvers are added after registration: mercurius merges them with the schema's types.
  for (const module of graphqlModules) app.graphql.defineResolvers(withContextChecks(module.resolvers, watch) as never);

  const schema = app.graphql.schema;
  const sdl = printSchema(schema);
  app.get(
    '/graphql/schema.graphql',
    { config: { auth: 'public' } as never, schema: { hide: true } },
    async (_request, reply) => reply.type('text/plain; charset=utf-8').send(sdl),
  );
  return schema;
}

/**
 * Every resolver of a subscription context checks there is a principal (a connection without a token), and
 * starts watching the socket's credential (`watch` does nothing over HTTP or for a socket already watched).
 */
function withContextChecks(
  resolvers: Record<string, Record<string, unknown>>,
  watch: (context: GraphqlContext & SocketWatch) => void,
) {
  const checked: Record<string, Record<string, unknown>> = {};
  for (const [type, fields] of Object.entries(resolvers)) {
    checked[type] = {};
    for (const [name, resolver] of Object.entries(fields)) {
      const need = (context: GraphqlContext) => {
        if (!context.principal)
          throw new VmcError('unauthenticated', 'this subscription needs a token: connection_init { authorization }');
        watch(context);
      };
      if (typeof resolver === 'function')
        checked[type][name] = (parent: unknown, args: unknown, context: GraphqlContext, info: unknown) => {
          need(context);
          return (resolver as (...a: unknown[]) => unknown)(parent, args, context, info);
        };
      else {
        const sub = resolver as { subscribe: (...a: unknown[]) => unknown; resolve?: unknown };
        checked[type][name] = {
          ...sub,
          subscribe: (parent: unknown, args: unknown, context: GraphqlContext, info: unknown) => {
            need(context);
            return sub.subscribe(parent, args, context, info);
          },
        };
      }
    }
  }
  return checked;
}
