import type { TransactionParticipant } from '../../core/index.ts';
import type { Principal } from '../../identity/index.ts';
import type { AnyOperation } from '../../contract/index.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
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
