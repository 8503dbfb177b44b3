/**
 * Request rate limits per token (and per client address for routes without one): RateLimit-Limit,
 * -Remaining and -Reset on every answer, 429 with Retry-After past the limit.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { VmcError } from '../../../core/index.ts';
import { createRateLimiter, decisionFor, windowStartOf, type RateLimitDecision } from '../rate-limit.ts';
import '../context.ts';

export interface RateLimitOptions {
  /** Requests per minute per token (0 disables). */
  limitPerMinute: number;
  nowMs: () => number;
  /**
   * Counters shared by the replicas (PostgreSQL): `increment` returns the caller's count in the window.
   * When it fails (database unreachable) this replica counts alone until it answers again.
   */
  sharedCounter?: { increment(key: string, windowStartMs: number): Promise<number> };
  onSharedCounterError?: (error: unknown) => void;
}

async function rateLimit(app: FastifyInstance, options: RateLimitOptions) {
  const limiter = createRateLimiter({ limitPerWindow: options.limitPerMinute, windowMs: 60_000, nowMs: options.nowMs });
  if (!limiter.enabled) return;
  const windowMs = 60_000;
  /** Callers known (by this replica) to have used up the current window: refused without a database write. */
  const exhausted = new Map<string, number>();
  const take = async (key: string): Promise<RateLimitDecision> => {
    if (!options.sharedCounter) return limiter.take(key);
    const nowMs = options.nowMs();
    const windowStartMs = windowStartOf(nowMs, windowMs);
    const limitPerWindow = options.limitPerMinute;
    if (exhausted.get(key) === windowStartMs)
      return decisionFor({ count: limitPerWindow + 1, limitPerWindow, windowStartMs, windowMs, nowMs });
    try {
      const count = await options.sharedCounter.increment(key, windowStartMs);
      if (count > limitPerWindow) {
        if (exhausted.size >= 100_000) exhausted.clear();
        exhausted.set(key, windowStartMs);
      }
      return decisionFor({ count, limitPerWindow, windowStartMs, windowMs, nowMs });
    } catch (error) {
      options.onSharedCounterError?.(error);
      return limiter.take(key);
    }
  };
  app.addHook('onRequest', async (request, reply) => {
    const auth = request.routeOptions.config?.operation?.auth ?? request.routeOptions.config?.auth;
    if (auth === 'public' && !request.principal) return;
    const decision = await take(request.principal?.tokenId ?? `ip:${request.ip}`);
    reply.header('RateLimit-Limit', decision.limit);
    reply.header('RateLimit-Remaining', decision.remaining);
    reply.header('RateLimit-Reset', decision.resetEpochS);
    if (!decision.allowed) {
      reply.header('Retry-After', decision.retryAfterS);
      throw new VmcError(
        'rate_limited',
        `rate limit of ${decision.limit} requests per minute reached; retry after ${decision.retryAfterS} s`,
      );
    }
  });
}

export const rateLimitPlugin = fp(rateLimit, { name: 'vmcloud-rate-limit', dependencies: ['vmcloud-authentication'] });
