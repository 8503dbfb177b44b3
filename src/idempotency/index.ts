export {
  createIdempotencyService,
  IdempotentReplay,
  idempotencyTtlMs,
  parseIdempotencyKey,
  requestFingerprint,
  type IdempotencyLookup,
  type IdempotencyService,
  type IdempotentRequest,
} from './service.ts';
