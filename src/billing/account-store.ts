/** Billing accounts (customer details, SLA tier, budget) and the versioned price list. */
import type { Db, Tx } from '../db/index.ts';
import type { BillingAccountsTable, BillingPricesTable } from './tables.ts';
import type { PriceVersion } from './prices.ts';

type Q = Db | Tx;

export const priceOfRow = (r: BillingPricesTable): PriceVersion => ({
  item: r.item,
  region: r.region,
  currency: r.currency,
  unitMicros: Number(r.unit_micros),
  monthlyCapMicros: r.monthly_cap_micros === null ? null : Number(r.monthly_cap_micros),
  validFromMs: Date.parse(r.valid_from),
});

export function createAccountStore() {
  return {
    async account(q: Q, projectId: string): Promise<BillingAccountsTable | null> {
      return (
        (await q.selectFrom('billing_accounts').selectAll().where('project_id', '=', projectId).executeTakeFirst()) ??
        null
      );
    },

    async accounts(q: Q, projectIds: readonly string[]): Promise<Map<string, BillingAccountsTable>> {
      const out = new Map<string, BillingAccountsTable>();
      for (let i = 0; i < projectIds.length; i += 500) {
        const chunk = projectIds.slice(i, i + 500);
        if (chunk.length === 0) continue;
        for (const row of await q.selectFrom('billing_accounts').selectAll().where('project_id', 'in', chunk).execute())
          out.set(row.project_id, row);
      }
      return out;
    },

    async accountsWithBudget(q: Q): Promise<BillingAccountsTable[]> {
      return q.selectFrom('billing_accounts').selectAll().where('budget_cents', 'is not', null).execute();
    },

    async putAccount(tx: Tx, row: BillingAccountsTable): Promise<void> {
      const { project_id: _id, ...rest } = row;
      await tx
        .insertInto('billing_accounts')
        .values(row)
        .onConflict((oc) => oc.column('project_id').doUpdateSet(rest))
        .execute();
    },

    async setBudgetNotified(tx: Tx, projectId: string, month: string, percent: number): Promise<void> {
      await tx
        .updateTable('billing_accounts')
        .set({ budget_notified_month: month, budget_notified_percent: percent })
        .where('project_id', '=', projectId)
        .execute();
    },

    async prices(q: Q): Promise<PriceVersion[]> {
      return (
        await q
          .selectFrom('billing_prices')
          .selectAll()
          .orderBy('item')
          .orderBy('region')
          .orderBy('valid_from')
          .execute()
      ).map(priceOfRow);
    },

    async priceRows(q: Q, item?: string): Promise<BillingPricesTable[]> {
      let query = q.selectFrom('billing_prices').selectAll();
      if (item) query = query.where('item', '=', item);
      return query.orderBy('item').orderBy('region').orderBy('valid_from').execute();
    },

    /** Inserts a version; false when that item, region, currency and date already has one. */
    async insertPrice(tx: Tx, row: BillingPricesTable): Promise<boolean> {
      const existing = await tx
        .selectFrom('billing_prices')
        .select('id')
        .where('item', '=', row.item)
        .where('region', '=', row.region)
        .where('currency', '=', row.currency)
        .where('valid_from', '=', row.valid_from)
        .executeTakeFirst();
      if (existing) return false;
      await tx.insertInto('billing_prices').values(row).execute();
      return true;
    },
  };
}

export type AccountStore = ReturnType<typeof createAccountStore>;
