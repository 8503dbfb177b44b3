/**
 * The typed HTTP client of the REST API v1, used by the CLI, the agent's link and the end-to-end tests:
 * `client.call(createServer, { body })` sends what the contract says and returns its typed answer.
 * Base URL + bearer token, an Idempotency-Key on every POST, problem+json answers turned into `VmcError`,
 * network failures into `unavailable`.
 */
import { parseSse, type SseMessage } from './sse.ts';
import { VmcError, type ErrorCode, type FieldProblem } from '../core/errors.ts';
import {
  fillPath,
  type AnyOperation,
  type BodyOf,
  type HttpMethod,
  type ParamsOf,
  type QueryOf,
  type ResponseOf,
} from '../contract/operation.ts';

export type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Overrides the generated Idempotency-Key of a POST (a retry of the same request). */
  idempotencyKey?: string;
  headers?: Record<string, string>;
}

/** What a call of an operation sends: path parameters, query, body, only where the operation has them. */
export type CallInput<Op extends AnyOperation> = (ParamsOf<Op> extends undefined
  ? { params?: undefined }
  : { params: ParamsOf<Op> }) &
  (QueryOf<Op> extends undefined ? { query?: undefined } : { query?: QueryOf<Op> }) &
  (BodyOf<Op> extends undefined ? { body?: undefined } : { body: BodyOf<Op> }) & {
    /** Overrides the generated Idempotency-Key of a POST (a retry of the same request). */
    idempotencyKey?: string;
    headers?: Record<string, string>;
  };

/** The answer of a call with its headers (ETag, RateLimit-…). */
export interface CallResult<T> {
  status: number;
  headers: Headers;
  body: T;
}

export interface ApiClient {
  readonly baseUrl: string;
  /** Calls one operation of the contract; the answer is typed by the operation. */
  call<Op extends AnyOperation>(operation: Op, input?: CallInput<Op>): Promise<ResponseOf<Op>>;
  /** Like `call`, with the status and headers of the answer. */
  callWithHeaders<Op extends AnyOperation>(operation: Op, input?: CallInput<Op>): Promise<CallResult<ResponseOf<Op>>>;
  request<T>(method: HttpMethod, path: string, options?: RequestOptions): Promise<T>;
  /**
   * Opens a `text/event-stream` operation (`streamEvents`) and yields its messages until the server ends
   * it or `signal` aborts. `lastEventId` resumes after that message.
   */
  stream<Op extends AnyOperation>(
    operation: Op,
    input?: CallInput<Op> & { signal?: AbortSignal; lastEventId?: string | null },
  ): AsyncGenerator<SseMessage>;
}

export interface ClientOptions {
  baseUrl: string;
  token: string | undefined;
  fetch?: typeof fetch;
  timeoutMs?: number;
  userAgent?: string;
  /**
   * The web console: no bearer token, the browser's session cookie (same origin), and the CSRF token sent
   * in X-CSRF-Token on every mutation (docs/adr/0010-console-auth.md).
   */
  session?: { csrfToken(): string | null };
}

const errorCodes: readonly ErrorCode[] = [
  'invalid',
  'not_found',
  'conflict',
  'forbidden',
  'unauthenticated',
  'unavailable',
  'rate_limited',
  'precondition_failed',
  'internal',
];

export const isErrorCode = (value: unknown): value is ErrorCode =>
  typeof value === 'string' && (errorCodes as readonly string[]).includes(value);

/** The code for an HTTP status when the body is not problem+json (a proxy's HTML page, say). */
export function codeOfStatus(status: number): ErrorCode {
  if (status === 400 || status === 422) return 'invalid';
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 412 || status === 428) return 'precondition_failed';
  if (status === 429) return 'rate_limited';
  if (status === 502 || status === 503 || status === 504) return 'unavailable';
  return 'internal';
}

const problemKeys = new Set(['type', 'title', 'status', 'detail', 'code', 'reason', 'errors', 'instance']);

/** An error answer as a `VmcError`: code/reason/fields from problem+json; extension members go to details. */
export function errorFromResponse(
  status: number,
  body: unknown,
  headers: { get(name: string): string | null },
): VmcError {
  const problem =
    body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : null;
  const code = problem && isErrorCode(problem.code) ? problem.code : codeOfStatus(status);
  const message =
    (problem && typeof problem.detail === 'string' && problem.detail) ||
    (problem && typeof problem.title === 'string' && problem.title) ||
    (typeof body === 'string' && body.trim() && body.trim().length < 200 ? body.trim() : `HTTP ${status}`);
  const fields: FieldProblem[] = [];
  if (problem && Array.isArray(problem.errors)) {
    for (const entry of problem.errors as unknown[]) {
      if (entry && typeof entry === 'object') {
        const e = entry as { field?: unknown; message?: unknown };
        fields.push({
          field: typeof e.field === 'string' ? e.field : '',
          message: typeof e.message === 'string' ? e.message : String(e.message),
        });
      }
    }
  }
  const details: Record<string, unknown> = { status };
  if (problem) for (const [key, value] of Object.entries(problem)) if (!problemKeys.has(key)) details[key] = value;
  const retryAfter = headers.get('retry-after');
  if (retryAfter !== null && details.retry_after === undefined) details.retry_after = retryAfter;
  return new VmcError(code, message, {
    reason: problem && typeof problem.reason === 'string' ? problem.reason : undefined,
    fields,
    details,
  });
}

/** A fetch that did not get an answer: refused, unresolvable, reset, timed out. */
export function networkError(baseUrl: string, error: unknown): VmcError {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const name = (error as { name?: unknown } | null)?.name;
  const what =
    name === 'TimeoutError'
      ? 'timed out'
      : typeof cause?.code === 'string'
        ? cause.code
        : typeof cause?.message === 'string'
          ? cause.message
          : error instanceof Error
            ? error.message
            : String(error);
  return new VmcError(
    'unavailable',
    `cannot reach the control plane (${what}): is the control plane running at ${baseUrl}?`,
    {
      reason: 'unreachable',
      cause: error,
      details: { url: baseUrl },
    },
  );
}

export function buildUrl(baseUrl: string, path: string, query: Query = {}): string {
  const url = new URL(baseUrl.replace(/\/+$/, '') + path);
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, String(value));
  }
  return url.toString();
}

export function createClient(options: ClientOptions): ApiClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;

  try {
    const parsed = new URL(baseUrl);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new VmcError('invalid', `"${options.baseUrl}" is not an http(s) URL`, {
      reason: 'bad_url',
      fields: [{ field: 'url', message: 'expected e.g. http://localhost:8080' }],
    });
  }

  /** A bearer token (CLI, agents), or the session's CSRF token on mutations (the console's cookie goes by itself). */
  function credentialHeaders(method: HttpMethod): Record<string, string> {
    if (options.token)
      return { authorization: `Bearer ${options.token}`, 'user-agent': options.userAgent ?? 'vmcloud-cli' };
    const csrf = options.session?.csrfToken();
    return method !== 'GET' && csrf ? { 'x-csrf-token': csrf } : {};
  }

  async function send<T>(
    method: HttpMethod,
    path: string,
    requestOptions: RequestOptions = {},
  ): Promise<CallResult<T>> {
    if (!options.token && !options.session) {
      throw new VmcError('unauthenticated', 'no API token: run `vmcloud login --token vmc_…` or set VMCLOUD_TOKEN', {
        reason: 'no_token',
      });
    }
    const headers: Record<string, string> = {
      accept: 'application/json, application/problem+json',
      ...credentialHeaders(method),
      ...requestOptions.headers,
    };
    if (method === 'POST') headers['idempotency-key'] = requestOptions.idempotencyKey ?? globalThis.crypto.randomUUID();
    let body: string | undefined;
    if (requestOptions.body !== undefined || method === 'POST' || method === 'PATCH' || method === 'PUT') {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(requestOptions.body ?? {});
    }
    let response: Response;
    try {
      response = await doFetch(buildUrl(baseUrl, path, requestOptions.query), {
        method,
        headers,
        body,
        signal: AbortSignal.timeout(timeoutMs),
        ...(options.session ? { credentials: 'same-origin' as const } : {}),
      });
    } catch (error) {
      throw networkError(baseUrl, error);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw networkError(baseUrl, error);
    }
    let parsed: unknown = undefined;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (!response.ok) throw errorFromResponse(response.status, parsed, response.headers);
    const textual = (response.headers.get('content-type') ?? '').startsWith('text/');
    if (typeof parsed === 'string' && !textual) {
      throw new VmcError(
        'internal',
        `the control plane at ${baseUrl} answered ${method} ${path} with non-JSON content`,
        { reason: 'bad_response' },
      );
    }
    return { status: response.status, headers: response.headers, body: (textual ? text : (parsed ?? {})) as T };
  }

  function callOptions<Op extends AnyOperation>(operation: Op, input: CallInput<Op> | undefined) {
    const { params, query, body, idempotencyKey, headers } = (input ?? {}) as {
      params?: Record<string, string | number>;
      query?: Query;
      body?: unknown;
      idempotencyKey?: string;
      headers?: Record<string, string>;
    };
    return { path: fillPath(operation.path, params), options: { query, body, idempotencyKey, headers } };
  }

  return {
    baseUrl,
    request: async (method, path, requestOptions) => (await send(method, path, requestOptions)).body as never,
    async call(operation, input) {
      const { path, options: requestOptions } = callOptions(operation, input);
      const result = await send<never>(operation.method, path, requestOptions);
      return (operation.status === 204 ? undefined : result.body) as never;
    },
    async callWithHeaders(operation, input) {
      const { path, options: requestOptions } = callOptions(operation, input);
      return send(operation.method, path, requestOptions);
    },
    async *stream(operation, input) {
      if (!options.token)
        throw new VmcError('unauthenticated', 'no API token: run `vmcloud login --token vmc_…` or set VMCLOUD_TOKEN', {
          reason: 'no_token',
        });
      const { path, options: requestOptions } = callOptions(operation, input);
      const headers: Record<string, string> = {
        accept: 'text/event-stream, application/problem+json',
        authorization: `Bearer ${options.token}`,
        'user-agent': options.userAgent ?? 'vmcloud-cli',
        ...requestOptions.headers,
      };
      if (input?.lastEventId) headers['last-event-id'] = input.lastEventId;
      let response: Response;
      try {
        response = await doFetch(buildUrl(baseUrl, path, requestOptions.query), {
          method: operation.method,
          headers,
          signal: input?.signal,
        });
      } catch (error) {
        if (input?.signal?.aborted) return;
        throw networkError(baseUrl, error);
      }
      if (!response.ok || !response.body) {
        const text = await response.text();
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON
        }
        throw errorFromResponse(response.status, parsed, response.headers);
      }
      try {
        yield* parseSse(response.body as unknown as AsyncIterable<Uint8Array>);
      } catch (error) {
        if (input?.signal?.aborted) return;
        throw networkError(baseUrl, error);
      }
    },
  };
}
