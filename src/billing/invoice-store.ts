/** Invoices and credit notes, and their gapless numbers (one counter row per issuer, series and year). */
import type { Db, Tx } from '../db/index.ts';
import type { InvoicesTable } from './tables.ts';

type Q = Db | Tx;

export function createInvoiceStore() {
  return {
    async insert(tx: Tx, row: InvoicesTable): Promise<void> {
      await tx.insertInto('invoices').values(row).execute();
    },

    async insertMany(tx: Tx, rows: readonly InvoicesTable[]): Promise<void> {
      for (let i = 0; i < rows.length; i += 200)
        await tx
          .insertInto('invoices')
          .values(rows.slice(i, i + 200))
          .execute();
    },

    async byId(q: Q, id: string): Promise<InvoicesTable | null> {
      return (await q.selectFrom('invoices').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
    },

    async byRunKey(q: Q, runKey: string): Promise<InvoicesTable | null> {
      return (await q.selectFrom('invoices').selectAll().where('run_key', '=', runKey).executeTakeFirst()) ?? null;
    },

    /** Run keys already invoiced for a period (the monthly run skips them). */
    async runKeysOf(q: Q, period: string): Promise<Set<string>> {
      const rows = await q
        .selectFrom('invoices')
        .select('run_key')
        .where('period', '=', period)
        .where('run_key', 'is not', null)
        .execute();
      return new Set(rows.map((r) => r.run_key!));
    },

    async list(
      q: Q,
      filter: { projectId?: string; status?: string; period?: string; afterId?: string; limit: number },
    ): Promise<InvoicesTable[]> {
      let query = q.selectFrom('invoices').selectAll();
      if (filter.projectId) query = query.where('project_id', '=', filter.projectId);
      if (filter.status) query = query.where('status', '=', filter.status);
      if (filter.period) query = query.where('period', '=', filter.period);
      if (filter.afterId) query = query.where('id', '<', filter.afterId);
      return query.orderBy('id', 'desc').limit(filter.limit).execute();
    },

    /**
     * Documents of a period that were issued (revenue): issued, paid, and void ones that had a number (their
     * credit note cancels them).
     */
    async ofPeriod(q: Q, period: string): Promise<InvoicesTable[]> {
      return q
        .selectFrom('invoices')
        .selectAll()
        .where('period', '=', period)
        .where('number', 'is not', null)
        .execute();
    },

    async creditNotesOf(q: Q, invoiceId: string): Promise<InvoicesTable[]> {
      return q
        .selectFrom('invoices')
        .selectAll()
        .where('refers_to', '=', invoiceId)
        .where('kind', '=', 'credit_note')
        .execute();
    },

    async runFinished(q: Q, month: string): Promise<boolean> {
      return (
        (await q.selectFrom('billing_runs').select('month').where('month', '=', month).executeTakeFirst()) !== undefined
      );
    },

    async finishRun(tx: Tx, month: string, invoices: number, nowIso: string): Promise<void> {
      await tx
        .insertInto('billing_runs')
        .values({ month, invoices, finished_at: nowIso })
        .onConflict((oc) => oc.column('month').doNothing())
        .execute();
    },

    async update(tx: Tx, id: string, change: Partial<InvoicesTable>): Promise<void> {
      await tx.updateTable('invoices').set(change).where('id', '=', id).execute();
    },

    /**
     * The next number of a series in a year, in the transaction that issues the document: the counter row
     * is created or bumped there (PostgreSQL: the row lock serializes concurrent issuers), so a rollback
     * gives the number back and the series has no gaps.
     */
    async nextNumber(tx: Tx, issuer: string, series: string, year: number): Promise<number> {
      return this.reserveNumbers(tx, issuer, series, year, 1);
    },

    /** Reserves `count` consecutive numbers in the issuing transaction; returns the first. */
    async reserveNumbers(tx: Tx, issuer: string, series: string, year: number, count: number): Promise<number> {
      await tx
        .insertInto('invoice_counters')
        .values({ issuer, series, year, last_number: 0 })
        .onConflict((oc) => oc.columns(['issuer', 'series', 'year']).doNothing())
        .execute();
      await tx
        .updateTable('invoice_counters')
        .set((eb) => ({ last_number: eb('last_number', '+', count) }))
        .where('issuer', '=', issuer)
        .where('series', '=', series)
        .where('year', '=', year)
        .execute();
      const row = await tx
        .selectFrom('invoice_counters')
        .select('last_number')
        .where('issuer', '=', issuer)
        .where('series', '=', series)
        .where('year', '=', year)
        .executeTakeFirstOrThrow();
      return Number(row.last_number) - count + 1;
    },
  };
}

export type InvoiceStore = ReturnType<typeof createInvoiceStore>;
