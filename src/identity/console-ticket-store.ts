/** The only code that names `console_tickets`. */
import type { Kysely } from 'kysely';
import type { ConsoleTicketsTable } from './tables.ts';

type Q = Kysely<{ console_tickets: ConsoleTicketsTable }>;

export function createConsoleTicketStore(db: unknown) {
  const q = () => db as Q;
  return {
    async insert(row: ConsoleTicketsTable): Promise<void> {
      await q().insertInto('console_tickets').values(row).execute();
    },
    /** Deletes and returns the ticket: of two replicas taking it at once, one gets it. */
    async take(ticketHash: string): Promise<ConsoleTicketsTable | null> {
      const row = await q()
        .deleteFrom('console_tickets')
        .where('ticket_hash', '=', ticketHash)
        .returningAll()
        .executeTakeFirst();
      return row ? { ...row, expires_at_ms: Number(row.expires_at_ms) } : null;
    },
    async deleteExpired(nowMs: number): Promise<number> {
      const result = await q().deleteFrom('console_tickets').where('expires_at_ms', '<=', nowMs).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
