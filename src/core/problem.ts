/**
 * Problem documents (RFC 9457) for every HTTP edge of VMCloud (the REST API, the agent's host API): one
 * shape, the stable `code`, the request id. Framework-neutral: a request is anything with an id and a URL.
 */
import { httpStatusOf, isVmcError, problemTitleOf, VmcError, type FieldProblem } from './errors.ts';
import { snakeCaseKeys } from './snake-case.ts';

interface RequestLike {
  id: string;
  url: string;
}

interface ReplyLike {
  header(name: string, value: string): unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  code(status: number): { type(contentType: string): { send(...body: any[]): unknown } };
}

/** RFC 9457 problem document with VMCloud's stable `code`. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  reason?: string;
  request_id: string;
  instance?: string;
  errors?: FieldProblem[];
  [extra: string]: unknown;
}

interface FastifyValidationError {
  validation?: Array<{
    instancePath?: string;
    message?: string;
    params?: Record<string, unknown>;
    keyword?: string;
    /** The schema that failed (Ajv's `verbose`): its description says what a pattern means in words. */
    parentSchema?: { description?: unknown };
  }>;
  validationContext?: string;
  statusCode?: number;
  code?: string;
  message?: string;
}

/**
 * PostgreSQL SQLSTATEs and socket errors meaning "the database went away" (restart, failover, network):
 * the request did not complete (or its outcome is unknown); a retry, with its Idempotency-Key, is safe.
 */
const databaseGoneCodes = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '25P03', // idle_in_transaction_session_timeout
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
]);

export function isDatabaseUnavailable(error: unknown): boolean {
  for (
    let e = error as { code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 4;
    depth++
  ) {
    if (typeof e.code === 'string' && databaseGoneCodes.has(e.code)) return true;
    if (
      typeof e.message === 'string' &&
      /^Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect/.test(
        e.message,
      )
    )
      return true;
    e = e.cause as typeof e;
  }
  return false;
}

/** Turns anything thrown into a VmcError: ours pass through, Fastify's validation and parse errors map to `invalid`. */
export function toVmcError(error: unknown): VmcError {
  if (isVmcError(error)) return error;
  const e = error as FastifyValidationError;
  if (e?.validation) {
    const fields: FieldProblem[] = e.validation.map((v) => {
      const path = (v.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
      const extra =
        v.keyword === 'additionalProperties'
          ? String(v.params?.additionalProperty ?? '')
          : v.keyword === 'required'
            ? String(v.params?.missingProperty ?? '')
            : '';
      const field = [path, extra].filter((p) => p !== '').join('.') || e.validationContext || 'body';
      const message =
        v.keyword === 'additionalProperties'
          ? 'is not a known field'
          : v.keyword === 'required'
            ? 'is required'
            : v.keyword === 'pattern' && typeof v.parentSchema?.description === 'string'
              ? `must be ${v.parentSchema.description}`
              : (v.message ?? 'is invalid');
      return { field, message };
    });
    return new VmcError(
      'invalid',
      `the ${e.validationContext ?? 'request'} is invalid: ${fields.map((f) => `${f.field} ${f.message}`).join('; ')}`,
      { fields },
    );
  }
  if (isDatabaseUnavailable(error))
    return new VmcError(
      'unavailable',
      'the database is unreachable for the moment; retry with the same Idempotency-Key',
      {
        reason: 'database_unavailable',
        cause: error,
      },
    );
  const status = e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (status === 404) return new VmcError('not_found', e.message ?? 'not found');
    if (status === 413) return new VmcError('invalid', 'the request body is too large', { reason: 'body_too_large' });
    if (status === 415)
      return new VmcError('invalid', 'send the body as application/json', { reason: 'unsupported_media_type' });
    return new VmcError('invalid', e.message ?? 'the request is invalid', { reason: e.code?.toLowerCase() });
  }
  return new VmcError('internal', 'an internal error occurred; it has been logged', { cause: error });
}

/** Reasons whose HTTP status is finer than their code's. */
const statusByReason: Record<string, number> = {
  idempotency_key_reused: 422,
  body_too_large: 413,
  unsupported_media_type: 415,
  precondition_required: 428,
};

export function problemOf(error: VmcError, request: RequestLike): Problem {
  const status = (error.reason && statusByReason[error.reason]) || httpStatusOf[error.code];
  return {
    type: `https://docs.vmcloud.dev/errors/${error.code}${error.reason ? `#${error.reason}` : ''}`,
    title: problemTitleOf[error.code],
    status,
    detail: error.message,
    code: error.code,
    ...(error.reason ? { reason: error.reason } : {}),
    request_id: request.id,
    instance: request.url.split('?')[0],
    ...(error.fields.length > 0 ? { errors: error.fields } : {}),
    ...(snakeCaseKeys(error.details) as Record<string, unknown>),
  };
}

export function sendProblem(reply: ReplyLike, request: RequestLike, error: VmcError) {
  const problem = problemOf(error, request);
  reply.header('x-request-id', request.id);
  if (error.reason === 'database_unavailable') reply.header('retry-after', '1');
  return reply.code(problem.status).type('application/problem+json').send(problem);
}
