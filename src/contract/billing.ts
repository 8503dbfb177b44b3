/**
 * Billing and SLAs: the project's billing account (customer details, SLA tier, budget), usage of the month
 * so far and projected, invoices and credit notes (JSON and PDF), SLA reports, and the operators' prices,
 * revenue and invoice states. Money is integer cents (unit prices in micro-euros); months are `YYYY-MM` (UTC).
 */
import { Type, type Static } from 'typebox';
import {
  CursorQuery,
  IdParams,
  LimitQuery,
  Literals,
  NextCursor,
  Nullable,
  NullableTimestamp,
  Timestamp,
  plainTextPattern,
} from './common.ts';
import { defineOperation } from './operation.ts';

export const slaTierValues = ['standard', 'business', 'enterprise'] as const;
/** `volume`: the products' included TiB, then overage per TiB; `percentile95`: per Mbps of the month's p95. */
export const trafficBillingValues = ['volume', 'percentile95'] as const;
export const invoiceStatuses = ['draft', 'issued', 'paid', 'void'] as const;
export type InvoiceStatus = (typeof invoiceStatuses)[number];

const Month = Type.String({ pattern: '^[0-9]{4}-(0[1-9]|1[0-2])$', description: 'YYYY-MM (UTC)' });
const Cents = (description: string) => Type.Integer({ description: `${description}, in cents` });
const Text = (max: number) => Type.String({ minLength: 1, maxLength: max, pattern: plainTextPattern });

export const BillingAccount = Type.Object({
  project_id: Type.String(),
  name: Type.String(),
  address: Type.String(),
  country: Type.String({ description: 'ISO 3166-1 alpha-2' }),
  vat_id: Nullable(Type.String()),
  sla_tier: Literals(slaTierValues),
  budget_cents: Nullable(Type.Integer()),
  traffic_billing: Literals(trafficBillingValues),
  vat: Type.Object({
    treatment: Literals(['domestic', 'eu_b2c', 'reverse_charge', 'outside_eu'] as const),
    rate_percent: Type.Number(),
    mention: Nullable(Type.String()),
  }),
  updated_at: Timestamp,
});
export type BillingAccount = Static<typeof BillingAccount>;

export const SetBillingAccountBody = Type.Object(
  {
    name: Text(200),
    address: Type.String({ minLength: 1, maxLength: 500, description: 'postal address; lines separated by newlines' }),
    country: Type.String({ pattern: '^[A-Za-z]{2}$', description: 'ISO 3166-1 alpha-2 (GR for Greece)' }),
    vat_id: Type.Optional(Nullable(Type.String({ maxLength: 20, pattern: plainTextPattern }))),
    sla_tier: Type.Optional(Literals(slaTierValues)),
    budget_cents: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 1_000_000_000_00 }))),
    traffic_billing: Type.Optional(Literals(trafficBillingValues)),
  },
  { additionalProperties: false },
);
export type SetBillingAccountBody = Static<typeof SetBillingAccountBody>;

export const UsageLine = Type.Object({
  kind: Type.String({
    description: 'server | volume | backup | ip | traffic | ddos | sla_surcharge | sla_credit | adjustment',
  }),
  resource_id: Nullable(Type.String()),
  item: Type.String(),
  region: Nullable(Type.String()),
  description: Type.String(),
  quantity: Type.Number(),
  hours: Nullable(Type.Integer({ description: 'started hours billed' })),
  gpu_hours: Nullable(Type.Integer()),
  unit_micros: Type.Integer({ description: 'unit price in micro-euros (per hour for time-based items)' }),
  capped: Type.Boolean({ description: 'the monthly cap set the amount' }),
  amount_cents: Type.Integer(),
  from: NullableTimestamp,
  to: NullableTimestamp,
  downtime: Type.Optional(
    Type.Array(Type.Object({ cause: Type.String(), from: Timestamp, to: Timestamp, minutes: Type.Integer() })),
  ),
});
export type UsageLine = Static<typeof UsageLine>;

const LinesAndTotal = Type.Object({ lines: Type.Array(UsageLine), subtotal_cents: Cents('before VAT') });

export const Usage = Type.Object({
  month: Month,
  currency: Type.Literal('EUR'),
  as_of: Timestamp,
  so_far: LinesAndTotal,
  projected: Type.Object({ ...LinesAndTotal.properties, note: Type.String() }),
});
export type Usage = Static<typeof Usage>;

const Party = Type.Object({
  name: Type.String(),
  address: Type.String(),
  country: Type.String(),
  vat_id: Nullable(Type.String()),
});

export const Invoice = Type.Object({
  id: Type.String({ description: 'inv_…' }),
  kind: Literals(['invoice', 'credit_note'] as const),
  number: Nullable(Type.String({ description: 'gapless per issuer, series and year; null while draft' })),
  status: Literals(invoiceStatuses),
  project_id: Type.String(),
  period: Month,
  refers_to: Nullable(Type.String({ description: 'a credit note: the invoice it corrects' })),
  currency: Type.Literal('EUR'),
  supplier: Party,
  customer: Party,
  vat: Type.Object({
    treatment: Type.String(),
    rate_percent: Type.Number(),
    country: Nullable(Type.String()),
    mention: Nullable(Type.String()),
  }),
  lines: Type.Array(UsageLine),
  subtotal_cents: Type.Integer(),
  vat_cents: Type.Integer(),
  total_cents: Type.Integer(),
  credits_cents: Type.Integer({ description: 'SLA credits applied (negative lines), as a positive number' }),
  payment: Type.Object({ provider: Type.String(), reference: Type.String(), instructions: Type.String() }),
  issued_at: NullableTimestamp,
  paid_at: NullableTimestamp,
  voided_at: NullableTimestamp,
  created_at: Timestamp,
});
export type Invoice = Static<typeof Invoice>;

export const ListInvoicesQuery = Type.Object(
  {
    status: Type.Optional(Literals(invoiceStatuses)),
    period: Type.Optional(Month),
    project_id: Type.Optional(Type.String({ maxLength: 100, description: 'operators: one project' })),
    limit: Type.Optional(LimitQuery),
    cursor: Type.Optional(CursorQuery),
  },
  { additionalProperties: false },
);
export type ListInvoicesQuery = Static<typeof ListInvoicesQuery>;

export const MonthQuery = Type.Object({ month: Type.Optional(Month) }, { additionalProperties: false });

export const ServerAvailability = Type.Object({
  server_id: Type.String(),
  region: Type.String(),
  existed_minutes: Type.Integer(),
  downtime_minutes: Type.Integer(),
  availability_percent: Type.Number(),
  target_percent: Type.String(),
  breached: Type.Boolean(),
  credit_cents: Type.Integer(),
  downtime: Type.Array(Type.Object({ cause: Type.String(), from: Timestamp, to: Timestamp, minutes: Type.Integer() })),
});

export const SlaReport = Type.Object({
  month: Month,
  tier: Literals(slaTierValues),
  target_percent: Type.String(),
  credit_multiplier: Type.Integer(),
  servers: Type.Array(ServerAvailability),
  breaches: Type.Integer(),
  credits_cents: Type.Integer(),
});
export type SlaReport = Static<typeof SlaReport>;

export const SlaOverview = Type.Object({
  month: Month,
  regions: Type.Array(
    Type.Object({
      region: Type.String(),
      tier: Literals(slaTierValues),
      servers: Type.Integer(),
      availability_percent: Type.Number({ description: 'over the servers’ minutes in the month' }),
      breaches: Type.Integer(),
      credits_cents: Type.Integer(),
    }),
  ),
  total_credits_cents: Type.Integer(),
  mttr: Type.Array(
    Type.Object({
      tier: Literals(slaTierValues),
      incidents: Type.Integer(),
      mttr_minutes: Nullable(Type.Integer()),
      target_minutes: Type.Integer(),
      met: Nullable(Type.Boolean()),
    }),
  ),
});
export type SlaOverview = Static<typeof SlaOverview>;

export const slaCreditStatuses = ['accruing', 'pending', 'invoiced', 'voided'] as const;
export type SlaCreditStatus = (typeof slaCreditStatuses)[number];

export const SlaCredit = Type.Object({
  project_id: Type.String(),
  customer: Nullable(Type.String({ description: 'the name on the billing details; null when the project has none' })),
  month: Month,
  tier: Literals(slaTierValues),
  server_id: Type.String(),
  region: Type.String(),
  downtime_minutes: Type.Integer(),
  availability_percent: Type.Number(),
  target_percent: Type.String(),
  credit_cents: Type.Integer({ description: 'before VAT, a positive number; the invoice line’s once invoiced' }),
  status: Literals(slaCreditStatuses, {
    description:
      '`accruing`: the month is running, the figure can still grow; `pending`: the month is over, not invoiced yet; `invoiced`: on the month’s invoice (draft, issued or paid); `voided`: that invoice was voided',
  }),
  invoice: Nullable(
    Type.Object({ id: Type.String(), number: Nullable(Type.String()), status: Literals(invoiceStatuses) }),
  ),
});
export type SlaCredit = Static<typeof SlaCredit>;

export const Price = Type.Object({
  item: Type.String(),
  region: Type.String({ description: 'a region, or * for every region' }),
  currency: Type.Literal('EUR'),
  unit_micros: Type.Integer(),
  monthly_cap_micros: Nullable(Type.Integer()),
  valid_from: Timestamp,
});
export type Price = Static<typeof Price>;

export const SetPriceBody = Type.Object(
  {
    item: Type.String({ minLength: 1, maxLength: 100, pattern: '^[a-z0-9_:-]+$' }),
    region: Type.Optional(Type.String({ minLength: 1, maxLength: 16, pattern: '^([a-z0-9-]+|\\*)$' })),
    unit_micros: Type.Integer({ minimum: 0, maximum: 1_000_000_000_000 }),
    monthly_cap_micros: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 1_000_000_000_000 }))),
    valid_from: Type.String({
      format: 'date-time',
      description: 'not in the past: prices already used are never rewritten',
    }),
  },
  { additionalProperties: false },
);
export type SetPriceBody = Static<typeof SetPriceBody>;

export const Revenue = Type.Object({
  month: Month,
  currency: Type.Literal('EUR'),
  lines: Type.Array(Type.Object({ region: Type.String(), item: Type.String(), amount_cents: Type.Integer() })),
  net_cents: Cents('issued invoices before VAT, less credit notes'),
  vat_cents: Type.Integer(),
  credits_given_cents: Type.Integer({ description: 'SLA credits on the month’s invoices' }),
  unpaid: Type.Object({ invoices: Type.Integer(), total_cents: Type.Integer() }),
});
export type Revenue = Static<typeof Revenue>;

export const CreateCreditNoteBody = Type.Object(
  {
    reason: Text(500),
    lines: Type.Array(
      Type.Object(
        { description: Text(200), amount_cents: Type.Integer({ minimum: 1, maximum: 1_000_000_000_00 }) },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 100, description: 'amounts credited, before VAT (positive numbers)' },
    ),
  },
  { additionalProperties: false },
);
export type CreateCreditNoteBody = Static<typeof CreateCreditNoteBody>;

const InvoiceResult = Type.Object({ invoice: Invoice });

export const getBillingAccount = defineOperation({
  operationId: 'getBillingAccount',
  method: 'GET',
  path: '/v1/billing/account',
  tags: ['billing'],
  summary: "The project's billing details, SLA tier and budget",
  description: '404 `billing_account_missing` until the owner sets one.',
  auth: 'project',
  status: 200,
  response: Type.Object({ account: BillingAccount }),
});

export const setBillingAccount = defineOperation({
  operationId: 'setBillingAccount',
  method: 'PUT',
  path: '/v1/billing/account',
  tags: ['billing'],
  summary: "Set the project's billing details, SLA tier and budget",
  description:
    'Name, address, country and VAT ID print on invoices and decide the VAT (docs/billing.md). A VAT ID must have the valid format of its country (400 `invalid_vat_id`). Owners only.',
  auth: 'project',
  body: SetBillingAccountBody,
  status: 200,
  response: Type.Object({ account: BillingAccount }),
  resource: 'project',
});

export const getUsage = defineOperation({
  operationId: 'getUsage',
  method: 'GET',
  path: '/v1/usage',
  tags: ['billing'],
  summary: 'Usage of a month: so far and projected to the month end',
  auth: 'project',
  query: MonthQuery,
  status: 200,
  response: Usage,
});

export const listInvoices = defineOperation({
  operationId: 'listInvoices',
  method: 'GET',
  path: '/v1/invoices',
  tags: ['billing'],
  summary: 'List invoices and credit notes, newest first',
  description: 'A project token sees its own; an operator sees every project’s (`status=issued`: the unpaid ones).',
  auth: 'project_or_operator',
  query: ListInvoicesQuery,
  status: 200,
  response: Type.Object({ invoices: Type.Array(Invoice), next_cursor: NextCursor }),
});

export const getInvoice = defineOperation({
  operationId: 'getInvoice',
  method: 'GET',
  path: '/v1/invoices/:id',
  tags: ['billing'],
  summary: 'Show an invoice or credit note',
  auth: 'project_or_operator',
  params: IdParams,
  status: 200,
  response: InvoiceResult,
});

export const getInvoicePdf = defineOperation({
  operationId: 'getInvoicePdf',
  method: 'GET',
  path: '/v1/invoices/:id/pdf',
  tags: ['billing'],
  summary: 'An invoice or credit note as PDF',
  auth: 'project_or_operator',
  params: IdParams,
  status: 200,
  produces: 'application/pdf',
});

export const issueInvoice = defineOperation({
  operationId: 'issueInvoice',
  method: 'POST',
  path: '/v1/invoices/:id/actions/issue',
  tags: ['billing'],
  summary: 'Issue a draft invoice (operators)',
  description:
    'Gives it the next number of its series; it is immutable from then on (409 `invoice_not_draft` otherwise).',
  auth: 'operator',
  params: IdParams,
  status: 200,
  response: InvoiceResult,
  resource: 'invoice',
});

export const markInvoicePaid = defineOperation({
  operationId: 'markInvoicePaid',
  method: 'POST',
  path: '/v1/invoices/:id/actions/mark-paid',
  tags: ['billing'],
  summary: 'Record the payment of an issued invoice (operators)',
  auth: 'operator',
  params: IdParams,
  status: 200,
  response: InvoiceResult,
  resource: 'invoice',
});

export const voidInvoice = defineOperation({
  operationId: 'voidInvoice',
  method: 'POST',
  path: '/v1/invoices/:id/actions/void',
  tags: ['billing'],
  summary: 'Void an invoice (operators)',
  description:
    'A draft is simply voided; an issued, unpaid invoice is voided by a credit note of its full amount (returned as `credit_note`).',
  auth: 'operator',
  params: IdParams,
  body: Type.Object({ reason: Text(500) }, { additionalProperties: false }),
  status: 200,
  response: Type.Object({ invoice: Invoice, credit_note: Nullable(Invoice) }),
  resource: 'invoice',
});

export const createCreditNote = defineOperation({
  operationId: 'createCreditNote',
  method: 'POST',
  path: '/v1/invoices/:id/credit-notes',
  tags: ['billing'],
  summary: 'Correct an issued invoice with a credit note (operators)',
  description:
    'Issued at once with the next number of the credit-note series; its total cannot exceed what remains of the invoice (409 `credit_exceeds_invoice`).',
  auth: 'operator',
  params: IdParams,
  body: CreateCreditNoteBody,
  status: 201,
  response: Type.Object({ credit_note: Invoice }),
  resource: 'invoice',
});

export const runInvoicing = defineOperation({
  operationId: 'runInvoicing',
  method: 'POST',
  path: '/v1/billing/runs',
  tags: ['billing'],
  summary: 'Invoice a finished month now (operators)',
  description:
    'What the monthly loop does on the 1st: one invoice per project with usage, skipping those already invoiced. 409 `month_not_over` for the running month.',
  auth: 'operator',
  body: Type.Object({ month: Month }, { additionalProperties: false }),
  status: 200,
  response: Type.Object({ month: Month, invoices: Type.Integer(), skipped: Type.Integer() }),
});

export const getSlaReport = defineOperation({
  operationId: 'getSlaReport',
  method: 'GET',
  path: '/v1/sla/report',
  tags: ['billing'],
  summary: "The project's SLA report: availability per server, breaches, credits",
  auth: 'project',
  query: MonthQuery,
  status: 200,
  response: SlaReport,
});

export const getSlaOverview = defineOperation({
  operationId: 'getSlaOverview',
  method: 'GET',
  path: '/v1/sla/overview',
  tags: ['billing'],
  summary: 'Availability per region and tier, credits, MTTR against the targets (operators)',
  auth: 'operator',
  query: MonthQuery,
  status: 200,
  response: SlaOverview,
});

export const listSlaCredits = defineOperation({
  operationId: 'listSlaCredits',
  method: 'GET',
  path: '/v1/sla/credits',
  tags: ['billing'],
  summary: 'The SLA credits of a month across every project, largest first (operators)',
  description:
    'One entry per server whose availability fell below its tier’s target in the month (default: this month): who, the server, its downtime, the credit and whether an invoice carries it yet.',
  auth: 'operator',
  query: MonthQuery,
  status: 200,
  response: Type.Object({ month: Month, credits: Type.Array(SlaCredit), total_cents: Type.Integer() }),
});

export const listPrices = defineOperation({
  operationId: 'listPrices',
  method: 'GET',
  path: '/v1/prices',
  tags: ['billing'],
  summary: 'Every price version (products, volumes, backups, addresses, traffic, DDoS tiers)',
  auth: 'project_or_operator',
  query: Type.Object({ item: Type.Optional(Type.String({ maxLength: 100 })) }, { additionalProperties: false }),
  status: 200,
  response: Type.Object({ prices: Type.Array(Price) }),
});

export const setPrice = defineOperation({
  operationId: 'setPrice',
  method: 'POST',
  path: '/v1/prices',
  tags: ['billing'],
  summary: 'Add a price version (operators)',
  description:
    'Versions are never rewritten: `valid_from` must not be in the past (400 `price_in_past`), and one per item, region and date (409 `price_exists`).',
  auth: 'operator',
  body: SetPriceBody,
  status: 201,
  response: Type.Object({ price: Price }),
});

export const getRevenue = defineOperation({
  operationId: 'getRevenue',
  method: 'GET',
  path: '/v1/billing/revenue',
  tags: ['billing'],
  summary: 'Revenue of a month per region and item, credits given, unpaid invoices (operators)',
  auth: 'operator',
  query: MonthQuery,
  status: 200,
  response: Revenue,
});

export const billingOperations = {
  getBillingAccount,
  setBillingAccount,
  getUsage,
  listInvoices,
  getInvoice,
  getInvoicePdf,
  issueInvoice,
  markInvoicePaid,
  voidInvoice,
  createCreditNote,
  runInvoicing,
  getSlaReport,
  getSlaOverview,
  listSlaCredits,
  listPrices,
  setPrice,
  getRevenue,
};
