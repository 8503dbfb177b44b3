/** The one error type of VMCloud. Every edge maps `code` once: HTTP problem+json, CLI exit code. */
export type ErrorCode =
  | 'invalid'
  | 'not_found'
  | 'conflict'
  | 'forbidden'
  | 'unauthenticated'
  | 'unavailable'
  | 'rate_limited'
  | 'precondition_failed'
  | 'internal';

export interface FieldProblem {
  field: string;
  message: string;
}

export interface VmcErrorOptions {
  /** A finer, stable reason inside the code, e.g. `quota_exceeded`, `no_capacity`, `region_not_orderable`. */
  reason?: string;
  fields?: FieldProblem[];
  /** Extra machine-readable detail rendered into the problem document. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class VmcError extends Error {
  readonly code: ErrorCode;
  readonly reason: string | undefined;
  readonly fields: FieldProblem[];
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: VmcErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VmcError';
    this.code = code;
    this.reason = options.reason;
    this.fields = options.fields ?? [];
    this.details = options.details ?? {};
  }
}

export const invalid = (message: string, options?: VmcErrorOptions) => new VmcError('invalid', message, options);
export const notFound = (what: string, id: string) =>
  new VmcError('not_found', `${what} ${id} was not found`, { details: { resource: what, id } });
export const conflict = (message: string, options?: VmcErrorOptions) => new VmcError('conflict', message, options);
export const forbidden = (message: string) => new VmcError('forbidden', message);
export const unavailable = (message: string, options?: VmcErrorOptions) =>
  new VmcError('unavailable', message, options);

export const isVmcError = (value: unknown): value is VmcError => value instanceof VmcError;

/** The RFC 9457 `title` of each code, for every HTTP edge (the REST API, the agent's host API). */
export const problemTitleOf: Record<ErrorCode, string> = {
  invalid: 'Invalid request',
  unauthenticated: 'Authentication required',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  conflict: 'Conflict',
  precondition_failed: 'Precondition failed',
  rate_limited: 'Too many requests',
  internal: 'Internal error',
  unavailable: 'Unavailable',
};

/** HTTP status per error code: the single mapping for the REST edge. */
export const httpStatusOf: Record<ErrorCode, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
};

/** CLI exit code per error code: the single mapping for the CLI edge. */
export const exitCodeOf: Record<ErrorCode, number> = {
  invalid: 2,
  unauthenticated: 3,
  forbidden: 4,
  not_found: 5,
  conflict: 6,
  precondition_failed: 6,
  rate_limited: 7,
  unavailable: 8,
  internal: 1,
};
