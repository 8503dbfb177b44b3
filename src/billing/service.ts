/**
 * The billing service: what the routes call (roles checked here), the metering consumer's handler, the
 * monthly invoicing pass and the budget alerts. Wired in src/app.ts.
 */
import { inTransaction, type Db, type DialectName, type Tx } from '../db/index.ts';
import { conflict, invalid, newId, notFound, VmcError, type Clock, type Logger } from '../core/index.ts';
import type { EventRecorder } from '../events/index.ts';
import { requireOperator, requireProject, type Principal } from '../identity/index.ts';
import type {
  BillingAccount,
  CreateCreditNoteBody,
  Event,
  Invoice,
  ListInvoicesQuery,
  Price,
  Revenue,
  SetBillingAccountBody,
  SetPriceBody,
  SlaCredit,
  SlaOverview,
  SlaReport,
  Usage,
} from '../contract/index.ts';
import { createAccountStore } from './account-store.ts';
import { createInvoiceStore } from './invoice-store.ts';
import { createMeteringStore } from './metering-store.ts';
import { applyMeteringEvents } from './metering.ts';
import { computeProject, loadMonth } from './loader.ts';
import { createInvoicing, invoiceView } from './invoicing.ts';
import { defaultSupplier, type SupplierConfig } from './invoice-document.ts';
import { createBankTransferProvider, type PaymentProvider } from './payments.ts';
import { nullBillingPorts, type BillingPorts } from './ports.ts';
import { defaultPriceList, defaultPricesValidFrom, productItem } from './prices.ts';
import { productPriceVersion, sumCents, type ProductFacts } from './rating.ts';
import { decideVat, normalizeVatId } from './vat.ts';
import { monthOf, monthRange, previousMonth } from './months.ts';
import { mttrMinutes } from './sla.ts';
import { slaTierNames, slaTiers, type SlaTier } from './sla-tiers.ts';
import { renderInvoicePdf } from './invoice-pdf.ts';

export interface CatalogProduct {
  code: string;
  name: string;
  traffic_tib: number;
  gpu: { count: number } | null;
  price: { hourly_cents: number; monthly_cents: number };
}

export interface BillingDeps {
  db: Db;
  dialect: DialectName;
  clock: Clock;
  log: Logger;
  events: EventRecorder;
  /** Every product, retired ones too (their servers still bill). */
  products: () => Promise<CatalogProduct[]>;
  ports?: Partial<BillingPorts>;
  supplier?: SupplierConfig;
  payments?: PaymentProvider;
}

const budgetThresholds = [50, 80, 100];

export function createBillingService(deps: BillingDeps) {
  const { db, clock } = deps;
  const metering = createMeteringStore();
  const accounts = createAccountStore();
  const invoices = createInvoiceStore();
  const supplier = deps.supplier ?? defaultSupplier;
  const ports: BillingPorts = { ...nullBillingPorts, ...deps.ports };
  const payments =
    deps.payments ??
    createBankTransferProvider({ holder: supplier.name, iban: 'EE38 2200 2210 2014 5685', bic: 'HABAEE2X' });

  const productFacts = async () => {
    const facts = new Map<string, ProductFacts>();
    for (const p of await deps.products())
      facts.set(p.code, { name: p.name.toUpperCase(), trafficTiB: p.traffic_tib, gpuCount: p.gpu?.count ?? 0 });
    return facts;
  };
  const loaderDeps = { metering, accounts, ports, products: productFacts };
  const invoicing = createInvoicing({ ...loaderDeps, db, clock, events: deps.events, invoices, supplier, payments });

  const currentMonth = () => monthOf(clock.nowMs());
  const accountView = (row: NonNullable<Awaited<ReturnType<typeof accounts.account>>>): BillingAccount => {
    const vat = decideVat({
      supplierCountry: supplier.country,
      customerCountry: row.country,
      customerVatId: row.vat_id,
      supplyDate: clock.nowIso().slice(0, 10),
    });
    return {
      project_id: row.project_id,
      name: row.name,
      address: row.address,
      country: row.country,
      vat_id: row.vat_id,
      sla_tier: row.sla_tier as SlaTier,
      budget_cents: row.budget_cents === null ? null : Number(row.budget_cents),
      traffic_billing: row.traffic_billing === 'percentile95' ? 'percentile95' : 'volume',
      vat: { treatment: vat.treatment, rate_percent: vat.rateBp / 100, mention: vat.mention },
      updated_at: row.updated_at,
    };
  };

  async function projectMonthOf(projectId: string, month: string, untilMs: number) {
    const range = monthRange(month);
    const loaded = await loadMonth(loaderDeps, db, range, untilMs, projectId);
    const account = await accounts.account(db, projectId);
    return computeProject(loaderDeps, loaded, projectId, account ?? undefined);
  }

  async function visibleInvoice(principal: Principal, id: string) {
    const row = await invoices.byId(db, id);
    const projectId = principal.kind === 'operator' ? null : requireProject(principal, 'viewer').projectId;
    if (!row || (projectId !== null && row.project_id !== projectId)) throw notFound('invoice', id);
    return invoiceView(row);
  }

  return {
    /** The metering consumer's handler (src/events consumer `metering`). */
    onEvents: (batch: Event[], tx: Tx) => applyMeteringEvents(metering, batch, tx),

    /** Price versions for every catalog product and the defaults of everything else, when missing. */
    async ensureDefaultPrices(): Promise<number> {
      const validFromMs = Date.parse(defaultPricesValidFrom);
      const nowIso = clock.nowIso();
      const existing = new Set((await accounts.priceRows(db)).map((r) => r.item));
      let added = 0;
      await inTransaction(db, async (tx) => {
        const versions = [
          ...(await deps.products()).map((p) =>
            productPriceVersion(p.code, p.price.hourly_cents, p.price.monthly_cents, validFromMs),
          ),
          ...defaultPriceList.map((p) => ({ ...p, region: '*', currency: 'EUR', validFromMs })),
        ];
        for (const v of versions) {
          if (existing.has(v.item)) continue;
          await accounts.insertPrice(tx, {
            id: newId('price', clock.nowMs()),
            item: v.item,
            region: v.region,
            currency: v.currency,
            unit_micros: v.unitMicros,
            monthly_cap_micros: v.monthlyCapMicros,
            valid_from: defaultPricesValidFrom,
            created_at: nowIso,
          });
          added++;
        }
      });
      return added;
    },

    async getAccount(principal: Principal): Promise<BillingAccount> {
      const { projectId } = requireProject(principal, 'viewer');
      const row = await accounts.account(db, projectId);
      if (!row)
        throw new VmcError('not_found', 'this project has no billing details yet', {
          reason: 'billing_account_missing',
        });
      return accountView(row);
    },

    async setAccount(principal: Principal, body: SetBillingAccountBody): Promise<BillingAccount> {
      const { projectId } = requireProject(principal, 'owner');
      const country = body.country.toUpperCase();
      let vatId: string | null = null;
      if (body.vat_id) {
        vatId = normalizeVatId(body.vat_id, country);
        if (!vatId)
          throw invalid(`${body.vat_id} is not a VAT ID of valid format for ${country}`, {
            reason: 'invalid_vat_id',
            fields: [{ field: 'vat_id', message: `not a valid ${country} VAT ID format` }],
          });
      }
      return inTransaction(db, async (tx, hooks) => {
        const before = await accounts.account(tx, projectId);
        const row = {
          project_id: projectId,
          name: body.name.trim(),
          address: body.address.trim(),
          country,
          vat_id: vatId,
          sla_tier: body.sla_tier ?? before?.sla_tier ?? 'standard',
          budget_cents: body.budget_cents === undefined ? (before?.budget_cents ?? null) : body.budget_cents,
          budget_notified_month: before?.budget_notified_month ?? null,
          budget_notified_percent: before?.budget_notified_percent ?? 0,
          traffic_billing: body.traffic_billing ?? before?.traffic_billing ?? 'volume',
          updated_at: clock.nowIso(),
        };
        await accounts.putAccount(tx, row);
        const view = accountView(row);
        await deps.events.record(tx, hooks, {
          type: 'billing.account_updated',
          projectId,
          resourceType: 'project',
          resourceId: projectId,
          data: { country, sla_tier: row.sla_tier, vat_treatment: view.vat.treatment },
        });
        return view;
      });
    },

    async usage(principal: Principal, month?: string): Promise<Usage> {
      const { projectId } = requireProject(principal, 'viewer');
      const m = month ?? currentMonth();
      const range = monthRange(m);
      const nowMs = clock.nowMs();
      const soFar = await projectMonthOf(projectId, m, Math.min(nowMs, range.endMs));
      const projected = nowMs >= range.endMs ? soFar : await projectMonthOf(projectId, m, range.endMs);
      return {
        month: m,
        currency: 'EUR',
        as_of: new Date(Math.min(nowMs, range.endMs)).toISOString(),
        so_far: { lines: soFar.lines, subtotal_cents: sumCents(soFar.lines) },
        projected: {
          lines: projected.lines,
          subtotal_cents: sumCents(projected.lines),
          note: 'what the month comes to if every resource that exists now lives to the month end (before VAT)',
        },
      };
    },

    async slaReport(principal: Principal, month?: string): Promise<SlaReport> {
      const { projectId } = requireProject(principal, 'viewer');
      const m = month ?? currentMonth();
      return (await projectMonthOf(projectId, m, clock.nowMs())).sla;
    },

    async slaOverview(principal: Principal, month?: string): Promise<SlaOverview> {
      requireOperator(principal);
      const m = month ?? currentMonth();
      const range = monthRange(m);
      const loaded = await loadMonth(loaderDeps, db, range, clock.nowMs());
      const projectIds = [...loaded.usageByProject.keys()];
      const accountsOf = await accounts.accounts(db, projectIds);
      const regions = new Map<string, SlaOverview['regions'][number] & { existed: number; down: number }>();
      const downtimeByTier = new Map<SlaTier, Parameters<typeof mttrMinutes>[0][number][]>();
      let total = 0;
      for (const projectId of projectIds) {
        const account = accountsOf.get(projectId);
        const tier = (account?.sla_tier ?? 'standard') as SlaTier;
        const { sla } = await computeProject(loaderDeps, loaded, projectId, account);
        for (const s of sla.servers) {
          const key = `${s.region}|${tier}`;
          const r = regions.get(key) ?? {
            region: s.region,
            tier,
            servers: 0,
            availability_percent: 100,
            breaches: 0,
            credits_cents: 0,
            existed: 0,
            down: 0,
          };
          r.servers++;
          r.existed += s.existed_minutes;
          r.down += s.downtime_minutes;
          if (s.breached) r.breaches++;
          r.credits_cents += s.credit_cents;
          regions.set(key, r);
        }
        total += sla.credits_cents;
        downtimeByTier.set(tier, [
          ...(downtimeByTier.get(tier) ?? []),
          ...(loaded.downtimeByProject.get(projectId) ?? []),
        ]);
      }
      return {
        month: m,
        regions: [...regions.values()]
          .map(({ existed, down, ...r }) => ({
            ...r,
            availability_percent: existed === 0 ? 100 : Math.floor(((existed - down) * 100_000) / existed) / 1000,
          }))
          .sort((a, b) => a.region.localeCompare(b.region) || a.tier.localeCompare(b.tier)),
        total_credits_cents: total,
        mttr: slaTierNames.map((tier) => {
          const downtime = downtimeByTier.get(tier) ?? [];
          const mttr = mttrMinutes(downtime);
          return {
            tier,
            incidents: downtime.length,
            mttr_minutes: mttr,
            target_minutes: slaTiers[tier].mttrTargetMinutes,
            met: mttr === null ? null : mttr < slaTiers[tier].mttrTargetMinutes,
          };
        }),
      };
    },

    /**
     * Operators: every server's SLA credit of a month, across projects. The figure is computed as the SLA
     * report does; once the month's invoice of the project carries it, that invoice line's amount is the
     * truth (and its status says whether it was voided). Largest first.
     */
    async slaCredits(
      principal: Principal,
      month?: string,
    ): Promise<{ month: string; credits: SlaCredit[]; total_cents: number }> {
      requireOperator(principal);
      const m = month ?? currentMonth();
      const range = monthRange(m);
      const nowMs = clock.nowMs();
      const loaded = await loadMonth(loaderDeps, db, range, nowMs);
      const projectIds = [...loaded.usageByProject.keys()];
      const accountsOf = await accounts.accounts(db, projectIds);
      // The month's invoice of each project (not its credit notes): a live one over a voided one.
      const invoiceOf = new Map<string, Invoice>();
      for (const row of await invoices.list(db, { period: m, limit: 100_000 })) {
        if (row.kind !== 'invoice') continue;
        const seen = invoiceOf.get(row.project_id);
        if (!seen || (seen.status === 'void' && row.status !== 'void')) invoiceOf.set(row.project_id, invoiceView(row));
      }
      const credits: SlaCredit[] = [];
      for (const projectId of projectIds) {
        const account = accountsOf.get(projectId);
        const { sla } = await computeProject(loaderDeps, loaded, projectId, account);
        const invoice = invoiceOf.get(projectId) ?? null;
        const invoiced = new Map<string, number>();
        for (const line of invoice?.lines ?? [])
          if (line.kind === 'sla_credit' && line.resource_id) invoiced.set(line.resource_id, -line.amount_cents);
        for (const server of sla.servers) {
          const onInvoice = invoiced.get(server.server_id);
          if (server.credit_cents <= 0 && onInvoice === undefined) continue;
          const status: SlaCredit['status'] =
            onInvoice !== undefined
              ? invoice!.status === 'void'
                ? 'voided'
                : 'invoiced'
              : nowMs < range.endMs
                ? 'accruing'
                : 'pending';
          credits.push({
            project_id: projectId,
            customer: account?.name ?? null,
            month: m,
            tier: sla.tier,
            server_id: server.server_id,
            region: server.region,
            downtime_minutes: server.downtime_minutes,
            availability_percent: server.availability_percent,
            target_percent: server.target_percent,
            credit_cents: onInvoice ?? server.credit_cents,
            status,
            invoice:
              onInvoice !== undefined ? { id: invoice!.id, number: invoice!.number, status: invoice!.status } : null,
          });
        }
      }
      credits.sort((a, b) => b.credit_cents - a.credit_cents || a.server_id.localeCompare(b.server_id));
      return { month: m, credits, total_cents: credits.reduce((sum, c) => sum + c.credit_cents, 0) };
    },

    async listInvoices(
      principal: Principal,
      query: ListInvoicesQuery,
    ): Promise<{ invoices: Invoice[]; next_cursor: string | null }> {
      const projectId =
        principal.kind === 'operator' ? query.project_id : requireProject(principal, 'viewer').projectId;
      const limit = Math.min(Math.max(Number(query.limit ?? 50), 1), 500);
      const rows = await invoices.list(db, {
        projectId,
        status: query.status,
        period: query.period,
        afterId: query.cursor,
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      return { invoices: page.map(invoiceView), next_cursor: rows.length > limit ? page.at(-1)!.id : null };
    },

    getInvoice: visibleInvoice,

    async invoicePdf(principal: Principal, id: string): Promise<{ invoice: Invoice; pdf: Uint8Array }> {
      const invoice = await visibleInvoice(principal, id);
      return { invoice, pdf: await renderInvoicePdf(invoice) };
    },

    async issueInvoice(principal: Principal, id: string) {
      requireOperator(principal);
      return invoicing.issue(id);
    },
    async markInvoicePaid(principal: Principal, id: string) {
      requireOperator(principal);
      return invoicing.markPaid(id);
    },
    async voidInvoice(principal: Principal, id: string, reason: string) {
      requireOperator(principal);
      return invoicing.void(id, reason);
    },
    async createCreditNote(principal: Principal, id: string, body: CreateCreditNoteBody) {
      requireOperator(principal);
      return invoicing.creditNote(id, body);
    },

    async runInvoicing(principal: Principal, month: string) {
      requireOperator(principal);
      return { month, ...(await invoicing.runMonth(month)) };
    },

    /** Invoices a finished month (issued at once); the monthly loop calls this for last month. */
    runMonth: (month: string, options?: { chunk?: number }) => invoicing.runMonth(month, options),

    /**
     * One pass of the monthly loop (under the `billing-invoicer` lease in app.ts): invoices last month
     * once, then announces budget thresholds crossed this month.
     */
    /**
     * The invoicing run of the month just finished (once), budget alerts, and the pruning of the metering
     * consumer's applied-event ids older than 62 days: a replay can only bring events after its cursor, and
     * both months an invoice can still be computed for are kept.
     */
    async loopOnce(): Promise<{ invoiced: number | null; budgetAlerts: number; prunedEventIds: number }> {
      const last = previousMonth(currentMonth());
      let invoiced: number | null = null;
      if (!(await invoices.runFinished(db, last))) invoiced = (await invoicing.runMonth(last)).invoices;
      const prunedEventIds = await metering.pruneApplied(db, clock.nowMs() - 62 * 86_400_000);
      return { invoiced, budgetAlerts: await this.checkBudgets(), prunedEventIds };
    },

    /** `budget.threshold_reached` at 50, 80 and 100 % of a project's monthly budget (each once a month). */
    async checkBudgets(): Promise<number> {
      const month = currentMonth();
      let alerts = 0;
      for (const account of await accounts.accountsWithBudget(db)) {
        const budget = Number(account.budget_cents);
        const already = account.budget_notified_month === month ? account.budget_notified_percent : 0;
        if (already >= 100) continue;
        const { lines } = await projectMonthOf(account.project_id, month, clock.nowMs());
        const used = sumCents(lines);
        const reached = budgetThresholds.filter((t) => used * 100 >= budget * t && t > already).at(-1);
        if (!reached) continue;
        await inTransaction(db, async (tx, hooks) => {
          await accounts.setBudgetNotified(tx, account.project_id, month, reached);
          await deps.events.record(tx, hooks, {
            type: 'budget.threshold_reached',
            projectId: account.project_id,
            resourceType: 'project',
            resourceId: account.project_id,
            data: { month, percent: reached, budget_cents: budget, usage_cents: used },
          });
        });
        alerts++;
      }
      return alerts;
    },

    async listPrices(principal: Principal, item?: string): Promise<{ prices: Price[] }> {
      if (principal.kind !== 'operator') requireProject(principal, 'viewer');
      return { prices: (await accounts.priceRows(db, item)).map(priceView) };
    },

    async setPrice(principal: Principal, body: SetPriceBody): Promise<{ price: Price }> {
      requireOperator(principal);
      const validFromMs = Date.parse(body.valid_from);
      if (!Number.isFinite(validFromMs)) throw invalid('valid_from must be a date-time', { reason: 'invalid_date' });
      if (validFromMs < clock.nowMs())
        throw invalid('a price cannot start in the past: prices already used are never rewritten', {
          reason: 'price_in_past',
        });
      const knownItems = new Set((await accounts.priceRows(db)).map((r) => r.item));
      for (const p of await deps.products()) knownItems.add(productItem(p.code));
      if (!knownItems.has(body.item))
        throw invalid(`unknown price item ${body.item}`, { reason: 'unknown_price_item' });
      const row = {
        id: newId('price', clock.nowMs()),
        item: body.item,
        region: body.region ?? '*',
        currency: 'EUR',
        unit_micros: body.unit_micros,
        monthly_cap_micros: body.monthly_cap_micros ?? null,
        valid_from: new Date(validFromMs).toISOString(),
        created_at: clock.nowIso(),
      };
      return inTransaction(db, async (tx, hooks) => {
        if (!(await accounts.insertPrice(tx, row)))
          throw conflict(`${row.item} in ${row.region} already has a price from ${row.valid_from}`, {
            reason: 'price_exists',
          });
        await deps.events.record(tx, hooks, {
          type: 'price.set',
          projectId: null,
          resourceType: 'price',
          resourceId: row.id,
          data: { item: row.item, region: row.region, unit_micros: row.unit_micros, valid_from: row.valid_from },
        });
        return { price: priceView(row) };
      });
    },

    async revenue(principal: Principal, month?: string): Promise<Revenue> {
      requireOperator(principal);
      const m = month ?? previousMonth(currentMonth());
      monthRange(m);
      const byKey = new Map<string, { region: string; item: string; amount_cents: number }>();
      let net = 0;
      let vat = 0;
      let credits = 0;
      for (const invoice of (await invoices.ofPeriod(db, m)).map(invoiceView)) {
        net += invoice.subtotal_cents;
        vat += invoice.vat_cents;
        if (invoice.kind === 'invoice') credits += invoice.credits_cents;
        for (const line of invoice.lines) {
          const region = line.region ?? '-';
          const item = line.kind === 'server' ? line.item : line.kind === 'sla_credit' ? 'sla_credit' : line.item;
          const key = `${region}|${item}`;
          const entry = byKey.get(key) ?? { region, item, amount_cents: 0 };
          entry.amount_cents += line.amount_cents;
          byKey.set(key, entry);
        }
      }
      const unpaid = await invoices.list(db, { status: 'issued', limit: 100_000 });
      return {
        month: m,
        currency: 'EUR',
        lines: [...byKey.values()].sort((a, b) => a.region.localeCompare(b.region) || a.item.localeCompare(b.item)),
        net_cents: net,
        vat_cents: vat,
        credits_given_cents: credits,
        unpaid: {
          invoices: unpaid.filter((r) => r.kind === 'invoice').length,
          total_cents: unpaid.filter((r) => r.kind === 'invoice').reduce((sum, r) => sum + Number(r.total_cents), 0),
        },
      };
    },
  };
}

const priceView = (r: {
  item: string;
  region: string;
  unit_micros: number;
  monthly_cap_micros: number | null;
  valid_from: string;
}): Price => ({
  item: r.item,
  region: r.region,
  currency: 'EUR',
  unit_micros: Number(r.unit_micros),
  monthly_cap_micros: r.monthly_cap_micros === null ? null : Number(r.monthly_cap_micros),
  valid_from: r.valid_from,
});

export type BillingService = ReturnType<typeof createBillingService>;
