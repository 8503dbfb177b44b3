import type { FastifyReply, FastifyRequest } from 'fastify';
import { httpStatusOf, isVmcError, problemTitleOf, VmcError, type FieldProblem } from '../../core/index.ts';
import { snakeCaseKeys } from './snake-case.ts';

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
  validation?: Array<{ instancePath?: string; message?: string; params?: Record<string, unknown>; keyword?: string }>;
  validationContext?: string;
  statusCode?: number;
  code?: string;
  message?: string;
}

/** Turns anything thrown into a VmcError: ours pass through, Fastify's validation and parse errors map to `invalid`. */
export function toVmcError(error: unknown): VmcError {
  if (isVmcError(error)) return error;
  const e = error as FastifyValidationError;
  if (e?.validation) {
    const fields: FieldProblem[] = e.validation.map((v) => {
      const path = (v.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
      const extra = v.keyword === 'additionalProperties' ? String(v.params?.additionalProperty ?? '') : v.keyword === 'required' ? String(v.params?.missingProperty ?? '') : '';
      const field = [path, extra].filter((p) => p !== '').join('.') || e.validationContext || 'body';
      const message = v.keyword === 'additionalProperties' ? 'is not a known field' : v.keyword === 'required' ? 'is required' : (v.message ?? 'is invalid');
      return { field, message };
    });
    return new VmcError('invalid', `the ${e.validationContext ?? 'request'} is invalid: ${fields.map((f) => `${f.field} ${f.message}`).join('; ')}`, { fields });
  }
  const status = e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (status === 404) return new VmcError('not_found', e.message ?? 'not found');
    if (status === 413) return new VmcError('invalid', 'the request body is too large', { reason: 'body_too_large' });
    if (status === 415) return new VmcError('invalid', 'send the body as application/json', { reason: 'unsupported_media_type' });
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

export function problemOf(error: VmcError, request: FastifyRequest): Problem {
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

export function sendProblem(reply: FastifyReply, request: FastifyRequest, error: VmcError) {
  const problem = problemOf(error, request);
  reply.header('x-request-id', request.id);
  return reply.code(problem.status).type('application/problem+json').send(problem);
}
