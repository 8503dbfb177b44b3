/**
 * Registers a route from a contract operation: method, path, schemas (validation and OpenAPI: operationId,
 * tags, summary, concrete response), who may call it, and a handler typed by the operation. The handler
 * runs with the request's transaction participants, so its mutation commits together with its
 * Idempotency-Key outcome and its audit entry.
 */
import type { FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import { Type, type TSchema } from 'typebox';
import { withTransactionParticipants } from '../../core/index.ts';
import { IdempotentReplay, type IdempotencyService } from '../../idempotency/index.ts';
import type { Principal } from '../../identity/index.ts';
import type { AnyOperation, BodyOf, ParamsOf, QueryOf, ResponseOf } from '../../contract/index.ts';
import type { Api } from './server.ts';
import { replayIdempotent } from './plugins/idempotency.ts';
import './context.ts';

export interface RouteContext<Op extends AnyOperation> {
  params: ParamsOf<Op>;
  query: QueryOf<Op>;
  body: BodyOf<Op>;
  /** The authenticated caller; operations with `auth: 'public'` may have none. */
  principal: Op['auth'] extends 'public' ? Principal | null : Principal;
  request: FastifyRequest;
  reply: FastifyReply;
}

const problemStatuses = [400, 401, 403, 404, 409, 412, 422, 429, 503] as const;

/** The OpenAPI/validation schema of an operation. */
export function routeSchema(operation: AnyOperation): Record<string, unknown> {
  const success: TSchema =
    operation.status === 204
      ? Type.Null({ description: 'No content' })
      : (operation.response ??
        Type.String({ format: 'binary', description: `${operation.produces ?? 'binary'} body` }));
  const response: Record<string, unknown> = { [operation.status]: success };
  for (const status of problemStatuses) response[status] = { $ref: 'Problem#', description: 'Problem (RFC 9457)' };
  return {
    operationId: operation.operationId,
    tags: [...operation.tags],
    summary: operation.summary,
    ...(operation.description ? { description: operation.description } : {}),
    ...(operation.params ? { params: operation.params } : {}),
    ...(operation.query ? { querystring: operation.query } : {}),
    ...(operation.body ? { body: operation.body } : {}),
    ...(operation.consumes ? { consumes: [operation.consumes] } : {}),
    ...(operation.produces ? { produces: [operation.produces] } : {}),
    ...(operation.auth === 'public' ? { security: [] } : {}),
    ...(operation.tags.includes('agents') ? { hide: true } : {}),
    response,
  };
}

export interface RouteDeps {
  idempotency: IdempotencyService;
}

export function createRouter(app: Api, deps: RouteDeps) {
  return function route<Op extends AnyOperation>(
    operation: Op,
    handler: (context: RouteContext<Op>) => Promise<ResponseOf<Op> | FastifyReply>,
    extra: Pick<RouteShorthandOptions, 'preHandler' | 'bodyLimit'> = {},
  ): void {
    app.route({
      method: operation.method,
      url: operation.path,
      schema: routeSchema(operation),
      config: { operation },
      ...extra,
      handler: async (request, reply) => {
        const context = {
          params: request.params,
          query: request.query,
          body: request.body,
          principal: request.principal,
          request,
          reply,
        } as RouteContext<Op>;
        let result: ResponseOf<Op> | FastifyReply;
        try {
          result = await withTransactionParticipants(request.transactionParticipants, () => handler(context));
        } catch (error) {
          if (error instanceof IdempotentReplay) return replayIdempotent(deps.idempotency, request, reply);
          // A concurrent duplicate committed while this one ran into its rows (its name taken): its answer stands.
          const duplicate = request.idempotency
            ? await deps.idempotency.lookup(request.idempotency.request).catch(() => null)
            : null;
          if (duplicate?.kind === 'replay') return replayIdempotent(deps.idempotency, request, reply);
          throw error;
        }
        if (reply.sent || result === reply) return reply;
        reply.code(operation.status);
        return operation.status === 204 ? reply.send() : reply.send(result);
      },
    });
  };
}

export type Route = ReturnType<typeof createRouter>;
