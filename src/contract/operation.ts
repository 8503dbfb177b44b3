/**
 * One operation of the REST API, defined once: its method and path, its request schemas and its success
 * response. The REST edge registers routes from these (validation and the OpenAPI document follow), and
 * the typed client calls them — so the server and every client agree by construction.
 */
import type { Static, TSchema } from 'typebox';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Who may call an operation; the service still checks roles (`viewer` < `member` < `owner`). */
export type OperationAuth = 'public' | 'project' | 'operator' | 'project_or_operator' | 'host' | 'any';

export interface Operation<
  Params extends TSchema | undefined = TSchema | undefined,
  Query extends TSchema | undefined = TSchema | undefined,
  Body extends TSchema | undefined = TSchema | undefined,
  Response extends TSchema | undefined = TSchema | undefined,
> {
  /** Unique, camelCase: the OpenAPI operationId and the typed client's name for it. */
  operationId: string;
  method: HttpMethod;
  /** Fastify-style path: `/v1/servers/:id`. */
  path: string;
  tags: readonly string[];
  summary: string;
  description?: string;
  auth: OperationAuth;
  params?: Params;
  query?: Query;
  body?: Body;
  /** The status of a successful answer. */
  status: 200 | 201 | 202 | 204;
  /** The body of a successful answer; undefined for 204 or non-JSON bodies (see `produces`). */
  response?: Response;
  /** A content type other than JSON for the success body (text/plain logs, octet-stream exports). */
  produces?: string;
  /** A content type other than JSON for the request body (octet-stream uploads). */
  consumes?: string;
  /** Audit: the kind of resource a mutation acts on (the id comes from the params or the answer). */
  resource?: string;
}

/** Defines an operation, keeping its literal types. */
export function defineOperation<
  const Params extends TSchema | undefined = undefined,
  const Query extends TSchema | undefined = undefined,
  const Body extends TSchema | undefined = undefined,
  const Response extends TSchema | undefined = undefined,
>(operation: Operation<Params, Query, Body, Response>): Operation<Params, Query, Body, Response> {
  return operation;
}

type StaticOr<T, Fallback> = [NonNullable<T>] extends [never]
  ? Fallback
  : NonNullable<T> extends TSchema
    ? Static<NonNullable<T>>
    : Fallback;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyOperation = Operation<any, any, any, any>;
export type ParamsOf<Op extends AnyOperation> = StaticOr<Op['params'], undefined>;
export type QueryOf<Op extends AnyOperation> = StaticOr<Op['query'], undefined>;
export type BodyOf<Op extends AnyOperation> = StaticOr<Op['body'], undefined>;
export type ResponseOf<Op extends AnyOperation> = StaticOr<Op['response'], void>;

/** `/v1/servers/:id` with `{ id: 'srv_1' }` → `/v1/servers/srv_1` (each value URL-encoded). */
export function fillPath(path: string, params: Record<string, string | number> | undefined): string {
  return path.replace(/:([A-Za-z_]+)/g, (_match, name: string) => {
    const value = params?.[name];
    if (value === undefined) throw new Error(`missing path parameter ${name} for ${path}`);
    return encodeURIComponent(String(value));
  });
}
