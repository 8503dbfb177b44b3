/**
 * Invoices: the monthly run (one invoice per project with usage, SLA credits as lines), issuing with a
 * gapless number in the issuing transaction, payment, voiding, credit notes. Issued documents are never
 * changed again except for their status (paid, void); a correction is a credit note referring to them.
 */
import { inTransaction, type Db, type Tx, type TxHooks } from '../db/index.ts';
import { conflict, newId, notFound, type Clock } from '../core/index.ts';
import type { EventRecorder } from '../events/index.ts';
import type { Invoice, UsageLine } from '../contract/index.ts';
import type { AccountStore } from './account-store.ts';
import type { InvoiceStore } from './invoice-store.ts';
import type { BillingAccountsTable, InvoicesTable } from './tables.ts';
import { buildDocument, formatNumber, vatOf, type InvoiceDocument, type SupplierConfig } from './invoice-document.ts';
import { decideVat } from './vat.ts';
import { computeProject, loadMonth, type LoaderDeps } from './loader.ts';
import { monthRange } from './months.ts';
import type { PaymentProvider } from './payments.ts';

export interface InvoicingDeps extends LoaderDeps {
  db: Db;
  clock: Clock;
  events: EventRecorder;
  invoices: InvoiceStore;
  accounts: AccountStore;
  supplier: SupplierConfig;
  payments: PaymentProvider;
}

export function invoiceView(row: InvoicesTable): Invoice {
  const doc = JSON.parse(row.document_json) as InvoiceDocument;
  return {
    id: row.id,
    kind: row.kind as Invoice['kind'],
    number: row.number,
    status: row.status as Invoice['status'],
    project_id: row.project_id,
    period: row.period,
    refers_to: row.refers_to,
    currency: 'EUR',
    supplier: doc.supplier,
    customer: doc.customer,
    vat: doc.vat,
    lines: doc.lines,
    subtotal_cents: Number(row.subtotal_cents),
    vat_cents: Number(row.vat_cents),
    total_cents: Number(row.total_cents),
    credits_cents: doc.credits_cents,
    payment: doc.payment,
    issued_at: row.issued_at,
    paid_at: row.paid_at,
    voided_at: row.voided_at,
    created_at: row.created_at,
  };
}

/** The customer as the invoice names it; without billing details, the project id and the supplier's country. */
export function customerOf(account: BillingAccountsTable | null, projectId: string, supplierCountry: string) {
  return account
    ? { name: account.name, address: account.address, country: account.country, vat_id: account.vat_id }
    : { name: `Project ${projectId}`, address: '(no billing details set)', country: supplierCountry, vat_id: null };
}

export function createInvoicing(deps: InvoicingDeps) {
  const { db, clock, events, invoices, supplier } = deps;

  async function assignNumber(tx: Tx, hooks: TxHooks, row: InvoicesTable, nowIso: string): Promise<InvoicesTable> {
    const year = Number(nowIso.slice(0, 4));
    const kind = row.kind as 'invoice' | 'credit_note';
    const n = await invoices.nextNumber(tx, supplier.issuer, kind, year);
    const number = formatNumber(supplier.numberPrefix, kind, year, n);
    const change = { number, status: 'issued', issued_at: nowIso, updated_at: nowIso };
    await invoices.update(tx, row.id, change);
    await events.record(tx, hooks, {
      type: 'invoice.issued',
      projectId: row.project_id,
      resourceType: 'invoice',
      resourceId: row.id,
      data: { kind, number, period: row.period, total_cents: Number(row.total_cents), refers_to: row.refers_to },
    });
    return { ...row, ...change };
  }

  async function insertDraft(
    tx: Tx,
    hooks: TxHooks,
    input: {
      projectId: string;
      kind: 'invoice' | 'credit_note';
      period: string;
      runKey: string | null;
      refersTo: string | null;
      doc: Omit<InvoiceDocument, 'payment'>;
    },
    nowIso: string,
  ): Promise<InvoicesTable> {
    const id = newId('invoice', clock.nowMs());
    const reference = deps.payments.referenceFor({ id, projectId: input.projectId, period: input.period });
    const doc: InvoiceDocument = {
      ...input.doc,
      payment: { provider: deps.payments.name, reference, instructions: deps.payments.instructions(reference) },
    };
    const row: InvoicesTable = {
      id,
      project_id: input.projectId,
      kind: input.kind,
      number: null,
      status: 'draft',
      period: input.period,
      run_key: input.runKey,
      refers_to: input.refersTo,
      currency: 'EUR',
      subtotal_cents: doc.subtotal_cents,
      vat_cents: doc.vat_cents,
      total_cents: doc.total_cents,
      document_json: JSON.stringify(doc),
      payment_reference: reference,
      issued_at: null,
      paid_at: null,
      voided_at: null,
      created_at: nowIso,
      updated_at: nowIso,
    };
    await invoices.insert(tx, row);
    await events.record(tx, hooks, {
      type: 'invoice.created',
      projectId: input.projectId,
      resourceType: 'invoice',
      resourceId: id,
      data: { kind: input.kind, period: input.period },
    });
    return row;
  }

  async function creditedSoFar(tx: Tx, row: InvoicesTable): Promise<number> {
    return (await invoices.creditNotesOf(tx, row.id)).reduce((sum, r) => sum - Number(r.subtotal_cents), 0);
  }

  async function requireRow(tx: Tx, id: string): Promise<InvoicesTable> {
    const row = await invoices.byId(tx, id);
    if (!row) throw notFound('invoice', id);
    return row;
  }

  return {
    /**
     * Invoices a finished month: every project with usage in it gets one invoice (issued at once when
     * `issue`), skipping projects already invoiced for it. Projects go 100 to a transaction; each invoice's
     * number is taken in that transaction.
     */
    async runMonth(
      month: string,
      options: { issue?: boolean; chunk?: number } = {},
    ): Promise<{ invoices: number; skipped: number }> {
      const range = monthRange(month);
      if (clock.nowMs() < range.endMs) throw conflict(`${month} is not over yet`, { reason: 'month_not_over' });
      const loaded = await loadMonth(deps, db, range, range.endMs);
      const done = await invoices.runKeysOf(db, month);
      const projectIds = [...loaded.usageByProject.keys()].sort();
      const accounts = await deps.accounts.accounts(db, projectIds);
      const supplyDate = new Date(range.endMs - 1).toISOString().slice(0, 10);
      let made = 0;
      let skipped = 0;
      const chunk = options.chunk ?? 100;
      for (let i = 0; i < projectIds.length; i += chunk) {
        const batch: Array<{ projectId: string; lines: UsageLine[] }> = [];
        for (const projectId of projectIds.slice(i, i + chunk)) {
          if (done.has(`${projectId}:${month}`)) {
            skipped++;
            continue;
          }
          const computed = await computeProject(deps, loaded, projectId, accounts.get(projectId));
          if (computed.lines.length === 0) continue;
          batch.push({ projectId, lines: computed.lines });
        }
        if (batch.length === 0) continue;
        await inTransaction(db, async (tx, hooks) => {
          const nowIso = clock.nowIso();
          const year = Number(nowIso.slice(0, 4));
          const issue = options.issue !== false;
          // Numbers for the whole batch in this transaction: consecutive, and given back if it rolls back.
          let next = issue ? await invoices.reserveNumbers(tx, supplier.issuer, 'invoice', year, batch.length) : 0;
          const rows: InvoicesTable[] = [];
          for (const { projectId, lines } of batch) {
            const account = accounts.get(projectId) ?? null;
            const customer = customerOf(account, projectId, supplier.country);
            const vat = decideVat({
              supplierCountry: supplier.country,
              customerCountry: customer.country,
              customerVatId: customer.vat_id,
              supplyDate,
            });
            const id = newId('invoice', clock.nowMs());
            const reference = deps.payments.referenceFor({ id, projectId, period: month });
            const payment = {
              provider: deps.payments.name,
              reference,
              instructions: deps.payments.instructions(reference),
            };
            const doc = buildDocument({ supplier, customer, vat, lines, payment });
            const number = issue ? formatNumber(supplier.numberPrefix, 'invoice', year, next++) : null;
            rows.push({
              id,
              project_id: projectId,
              kind: 'invoice',
              number,
              status: issue ? 'issued' : 'draft',
              period: month,
              run_key: `${projectId}:${month}`,
              refers_to: null,
              currency: 'EUR',
              subtotal_cents: doc.subtotal_cents,
              vat_cents: doc.vat_cents,
              total_cents: doc.total_cents,
              document_json: JSON.stringify(doc),
              payment_reference: reference,
              issued_at: issue ? nowIso : null,
              paid_at: null,
              voided_at: null,
              created_at: nowIso,
              updated_at: nowIso,
            });
          }
          await invoices.insertMany(tx, rows);
          // One event per invoice: issued at once (or created, as a draft), written in one statement.
          const issued = rows.filter((row) => row.number !== null);
          const drafts = rows.filter((row) => row.number === null);
          await events.recordMany(
            tx,
            hooks,
            issued.map((row) => ({
              type: 'invoice.issued' as const,
              projectId: row.project_id,
              resourceType: 'invoice',
              resourceId: row.id,
              data: {
                kind: 'invoice',
                number: row.number!,
                period: month,
                total_cents: row.total_cents,
                refers_to: null,
              },
            })),
          );
          await events.recordMany(
            tx,
            hooks,
            drafts.map((row) => ({
              type: 'invoice.created' as const,
              projectId: row.project_id,
              resourceType: 'invoice',
              resourceId: row.id,
              data: { kind: 'invoice', period: month },
            })),
          );
        });
        made += batch.length;
      }
      await inTransaction(db, (tx) => invoices.finishRun(tx, month, made, clock.nowIso()));
      return { invoices: made, skipped };
    },

    async issue(id: string): Promise<Invoice> {
      return inTransaction(db, async (tx, hooks) => {
        const row = await requireRow(tx, id);
        if (row.status !== 'draft')
          throw conflict(`invoice ${id} is ${row.status}, not a draft`, { reason: 'invoice_not_draft' });
        return invoiceView(await assignNumber(tx, hooks, row, clock.nowIso()));
      });
    },

    async markPaid(id: string): Promise<Invoice> {
      return inTransaction(db, async (tx, hooks) => {
        const row = await requireRow(tx, id);
        if (row.status !== 'issued' || row.kind !== 'invoice')
          throw conflict(`only an issued invoice can be paid; ${id} is ${row.status}`, {
            reason: 'invoice_not_issued',
          });
        const nowIso = clock.nowIso();
        await invoices.update(tx, id, { status: 'paid', paid_at: nowIso, updated_at: nowIso });
        await events.record(tx, hooks, {
          type: 'invoice.paid',
          projectId: row.project_id,
          resourceType: 'invoice',
          resourceId: id,
          data: { number: row.number!, total_cents: Number(row.total_cents) },
        });
        return invoiceView({ ...row, status: 'paid', paid_at: nowIso, updated_at: nowIso });
      });
    },

    async void(id: string, reason: string): Promise<{ invoice: Invoice; credit_note: Invoice | null }> {
      return inTransaction(db, async (tx, hooks) => {
        const row = await requireRow(tx, id);
        if (row.kind !== 'invoice' || (row.status !== 'draft' && row.status !== 'issued'))
          throw conflict(`invoice ${id} is ${row.status}; only drafts and unpaid invoices can be voided`, {
            reason: 'invoice_not_voidable',
          });
        const nowIso = clock.nowIso();
        let creditNote: InvoicesTable | null = null;
        if (row.status === 'issued') {
          const doc = JSON.parse(row.document_json) as InvoiceDocument;
          // What earlier credit notes have not credited yet.
          const remaining = Number(row.subtotal_cents) - (await creditedSoFar(tx, row));
          const lines: UsageLine[] = [creditLine(`Cancels invoice ${row.number}: ${reason}`, -remaining)];
          creditNote = await insertDraft(
            tx,
            hooks,
            {
              projectId: row.project_id,
              kind: 'credit_note',
              period: row.period,
              runKey: null,
              refersTo: row.id,
              doc: creditDoc(doc, lines, reason),
            },
            nowIso,
          );
          creditNote = await assignNumber(tx, hooks, creditNote, nowIso);
        }
        // The run key is released so that the month can be invoiced again for this project.
        await invoices.update(tx, id, { status: 'void', voided_at: nowIso, updated_at: nowIso, run_key: null });
        await events.record(tx, hooks, {
          type: 'invoice.voided',
          projectId: row.project_id,
          resourceType: 'invoice',
          resourceId: id,
          data: { number: row.number, reason, credit_note_id: creditNote?.id ?? null },
        });
        return {
          invoice: invoiceView({ ...row, status: 'void', voided_at: nowIso, updated_at: nowIso, run_key: null }),
          credit_note: creditNote ? invoiceView(creditNote) : null,
        };
      });
    },

    async creditNote(
      id: string,
      input: { reason: string; lines: Array<{ description: string; amount_cents: number }> },
    ): Promise<Invoice> {
      return inTransaction(db, async (tx, hooks) => {
        const row = await requireRow(tx, id);
        if (row.kind !== 'invoice' || (row.status !== 'issued' && row.status !== 'paid'))
          throw conflict(`only an issued or paid invoice can be corrected; ${id} is ${row.status}`, {
            reason: 'invoice_not_issued',
          });
        const credited = await creditedSoFar(tx, row);
        const asked = input.lines.reduce((sum, l) => sum + l.amount_cents, 0);
        if (credited + asked > Number(row.subtotal_cents))
          throw conflict(`credit notes would exceed the invoice's ${row.subtotal_cents} cents before VAT`, {
            reason: 'credit_exceeds_invoice',
          });
        const doc = JSON.parse(row.document_json) as InvoiceDocument;
        const lines = input.lines.map((l) => creditLine(l.description, -l.amount_cents));
        const draft = await insertDraft(
          tx,
          hooks,
          {
            projectId: row.project_id,
            kind: 'credit_note',
            period: row.period,
            runKey: null,
            refersTo: row.id,
            doc: creditDoc(doc, lines, input.reason),
          },
          clock.nowIso(),
        );
        return invoiceView(await assignNumber(tx, hooks, draft, clock.nowIso()));
      });
    },
  };
}

function creditLine(description: string, cents: number): UsageLine {
  return {
    kind: 'adjustment',
    resource_id: null,
    item: 'credit_note',
    region: null,
    description,
    quantity: 1,
    hours: null,
    gpu_hours: null,
    unit_micros: cents * 10_000,
    capped: false,
    amount_cents: cents,
    from: null,
    to: null,
  };
}

/** A credit note keeps the invoice's parties and VAT treatment (same rate): it reverses part of it. */
function creditDoc(original: InvoiceDocument, lines: UsageLine[], reason: string): Omit<InvoiceDocument, 'payment'> {
  const subtotal = lines.reduce((sum, l) => sum + l.amount_cents, 0);
  const vatCents = vatOf(subtotal, Math.round(original.vat.rate_percent * 100));
  return {
    supplier: original.supplier,
    customer: original.customer,
    vat: original.vat,
    lines,
    subtotal_cents: subtotal,
    vat_cents: vatCents,
    total_cents: subtotal + vatCents,
    credits_cents: 0,
    reason,
  };
}

export type Invoicing = ReturnType<typeof createInvoicing>;
