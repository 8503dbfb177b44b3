import type { Principal } from '../../identity/index.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    idempotency: { scope: string; key: string } | null;
    /** Resource a mutation touched, for the audit log (set by routes). */
    auditResource: { type: string; id: string } | null;
  }
  interface FastifyContextConfig {
    /** `public`: no token. Default: a token is required. */
    auth?: 'public' | 'required';
  }
}

export function principalOf(principal: Principal | null): Principal {
  if (!principal) throw new Error('route reached without authentication');
  return principal;
}
