import type { TransactionParticipant } from '../../core/index.ts';
import type { Principal } from '../../identity/index.ts';
import type { AnyOperation } from '../../contract/index.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    /**
     * Authenticates the request's credential (token or session) again: a long-lived answer (an event
     * stream) asks while it lasts, so a revoked token, a closed session or a removed member ends it.
     */
    credentialCheck: (() => Promise<Principal>) | null;
    /** Work that commits with the request's mutation (its Idempotency-Key outcome, its audit row). */
    transactionParticipants: TransactionParticipant[];
  }
  interface FastifyContextConfig {
    /** The contract operation this route serves (absent on routes outside the contract: docs, health). */
    operation?: AnyOperation;
    /** Routes outside the contract: `public` needs no token. */
    auth?: 'public' | 'required';
  }
}

export function principalOf(principal: Principal | null): Principal {
  if (!principal) throw new Error('route reached without authentication');
  return principal;
}
