/**
 * Console tickets: a short-lived, single-use grant to open one server's serial console over a WebSocket
 * (browsers cannot send a bearer token on an upgrade). They live in the database, so the WebSocket may land
 * on any replica; only the ticket's SHA-256 is stored. Bound to the server and to the token that asked,
 * whose validity is checked again when the ticket is used.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../core/index.ts';
import type { Principal } from './roles.ts';
import { createConsoleTicketStore } from './console-ticket-store.ts';

export interface ConsoleTicketGrant {
  serverId: string;
  tokenId: string;
  principal: Principal;
  readOnly: boolean;
  expiresAtMs: number;
}

export interface ConsoleTickets {
  issue(input: Omit<ConsoleTicketGrant, 'expiresAtMs'>): Promise<{ ticket: string; expiresAtMs: number }>;
  /** The ticket's grant, consumed; null when unknown, used, expired or for another server. */
  take(ticket: string | undefined, serverId: string): Promise<ConsoleTicketGrant | null>;
  /** Housekeeping: forgets expired tickets. */
  purgeExpired(): Promise<number>;
}

const hashOf = (ticket: string) => createHash('sha256').update(ticket).digest('hex');

export function createConsoleTickets(deps: { db: unknown; clock: Clock; ttlMs?: number }): ConsoleTickets {
  const store = createConsoleTicketStore(deps.db);
  const ttlMs = deps.ttlMs ?? 60_000;
  return {
    async issue(input) {
      const ticket = `ct_${randomBytes(24).toString('base64url')}`;
      const expiresAtMs = deps.clock.nowMs() + ttlMs;
      await store.insert({
        ticket_hash: hashOf(ticket),
        server_id: input.serverId,
        token_id: input.tokenId,
        principal: JSON.stringify(input.principal),
        read_only: input.readOnly ? 1 : 0,
        expires_at_ms: expiresAtMs,
      });
      return { ticket, expiresAtMs };
    },
    async take(ticket, serverId) {
      if (!ticket || ticket.length > 200) return null;
      const row = await store.take(hashOf(ticket));
      if (!row || row.expires_at_ms <= deps.clock.nowMs() || row.server_id !== serverId) return null;
      return {
        serverId: row.server_id,
        tokenId: row.token_id,
        principal: JSON.parse(row.principal) as Principal,
        readOnly: row.read_only === 1,
        expiresAtMs: row.expires_at_ms,
      };
    },
    purgeExpired: () => store.deleteExpired(deps.clock.nowMs()),
  };
}
