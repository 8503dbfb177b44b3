/**
 * Billing from the CLI: `vmcloud billing usage|account|revenue|run`, `vmcloud invoice
 * list|show|download|issue|mark-paid|void|credit-note`, `vmcloud sla report|overview`, `vmcloud price list|set`.
 * Operator commands run with an operator profile (`vmcloud --profile operator …`).
 */
import { writeFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import {
  createCreditNote,
  getBillingAccount,
  getInvoice,
  getRevenue,
  getSlaOverview,
  listSlaCredits,
  getSlaReport,
  getUsage,
  issueInvoice,
  listInvoices,
  listPrices,
  markInvoicePaid,
  runInvoicing,
  setBillingAccount,
  setPrice,
  voidInvoice,
  type Invoice,
  type Price,
  type UsageLine,
} from '../../contract/index.ts';
import { UsageError, choiceOf, integerOf, stringOf, type Command, type Group, type Values } from '../command.ts';
import { renderData, renderList, type Column } from '../output.ts';
import { rawRequest } from './raw-http.ts';

const euros = (cents: number) =>
  `${cents < 0 ? '-' : ''}${Math.floor(Math.abs(cents) / 100)}.${String(Math.abs(cents) % 100).padStart(2, '0')}`;
const monthOption = {
  month: { type: 'string' as const, arg: 'YYYY-MM', help: 'the month (default: this month, UTC)' },
};
const monthOf = (values: Values) => {
  const month = stringOf(values, 'month');
  if (month !== undefined && !/^\d{4}-(0[1-9]|1[0-2])$/.test(month))
    throw new UsageError(`--month ${month} is not YYYY-MM`);
  return month;
};

const lineColumns: Column<UsageLine>[] = [
  { header: 'kind', value: (l) => l.kind },
  { header: 'description', value: (l) => l.description },
  { header: 'hours', value: (l) => l.hours ?? '-', align: 'right' },
  { header: 'EUR', value: (l) => euros(l.amount_cents), align: 'right' },
];

const usageCommand: Command = {
  name: 'usage',
  summary: "the month's usage so far and projected to its end, per resource",
  usage: '[--month YYYY-MM] [--projected]',
  options: { ...monthOption, projected: { type: 'boolean', help: 'the lines projected to the month end' } },
  examples: ['vmcloud billing usage', 'vmcloud billing usage --month 2026-03 -o json'],
  async run(ctx, { values }) {
    const month = monthOf(values);
    const usage = await (await ctx.client()).call(getUsage, { query: month ? { month } : {} });
    if (ctx.output !== 'table') {
      ctx.out(renderData(ctx.output, usage));
      return 0;
    }
    const part = values.projected ? usage.projected : usage.so_far;
    ctx.out(renderList('table', lineColumns, part.lines, 'No usage.'));
    ctx.out(
      `so far (${usage.as_of}): ${euros(usage.so_far.subtotal_cents)} EUR   projected month end: ${euros(usage.projected.subtotal_cents)} EUR (before VAT)\n`,
    );
    return 0;
  },
};

const accountCommand: Command = {
  name: 'account',
  summary: "show or set the project's billing details, SLA tier, budget and traffic plan",
  usage:
    'show | set --name N --address A --country CC [--vat-id ID|none] [--sla-tier T] [--budget EUR|none] [--traffic-billing volume|percentile95]',
  args: [{ name: 'show|set', required: true }],
  options: {
    name: { type: 'string', arg: 'NAME', help: 'company or person named on invoices' },
    address: { type: 'string', arg: 'ADDRESS', help: 'postal address (\\n between lines)' },
    country: { type: 'string', arg: 'CC', help: 'ISO country code (GR for Greece)' },
    'vat-id': { type: 'string', arg: 'ID', help: 'EU VAT ID (reverse charge outside Estonia), or none' },
    'sla-tier': { type: 'string', arg: 'TIER', help: 'standard, business or enterprise' },
    budget: { type: 'string', arg: 'EUR', help: 'monthly budget in euros (alerts at 50/80/100 %), or none' },
    'traffic-billing': {
      type: 'string',
      arg: 'PLAN',
      help: 'volume (included TiB, then per TiB) or percentile95 (per Mbps of the 95th percentile)',
    },
  },
  examples: [
    'vmcloud billing account set --name "ACME GmbH" --address "Str. 1\\nBerlin" --country DE --vat-id DE123456789 --sla-tier business',
  ],
  async run(ctx, { values, positionals }) {
    const action = choiceOf(positionals[0], ['show', 'set'] as const, 'the account action');
    const client = await ctx.client();
    if (action === 'show') {
      ctx.out(renderData(ctx.output === 'table' ? 'yaml' : ctx.output, await client.call(getBillingAccount, {})));
      return 0;
    }
    const name = stringOf(values, 'name');
    const address = stringOf(values, 'address');
    const country = stringOf(values, 'country');
    if (!name || !address || !country) throw new UsageError('set needs --name, --address and --country');
    const vatId = stringOf(values, 'vat-id');
    const tier = stringOf(values, 'sla-tier');
    const budget = stringOf(values, 'budget');
    const trafficBilling = stringOf(values, 'traffic-billing');
    if (budget !== undefined && budget !== 'none' && !/^\d+(\.\d{1,2})?$/.test(budget))
      throw new UsageError(`--budget ${budget} is not an amount in euros`);
    const { account } = await client.call(setBillingAccount, {
      body: {
        name,
        address: address.replace(/\\n/g, '\n'),
        country,
        ...(vatId !== undefined && { vat_id: vatId === 'none' ? null : vatId }),
        ...(tier !== undefined && {
          sla_tier: choiceOf(tier, ['standard', 'business', 'enterprise'] as const, '--sla-tier'),
        }),
        ...(budget !== undefined && { budget_cents: budget === 'none' ? null : Math.round(Number(budget) * 100) }),
        ...(trafficBilling !== undefined && {
          traffic_billing: choiceOf(trafficBilling, ['volume', 'percentile95'] as const, '--traffic-billing'),
        }),
      },
    });
    ctx.out(renderData(ctx.output === 'table' ? 'yaml' : ctx.output, { account }));
    return 0;
  },
};

const revenueCommand: Command = {
  name: 'revenue',
  summary: 'revenue of a month per region and item, credits given, unpaid invoices (operators)',
  usage: '[--month YYYY-MM]',
  options: { month: { type: 'string', arg: 'YYYY-MM', help: 'the month (default: last month)' } },
  examples: ['vmcloud --profile operator billing revenue --month 2026-03'],
  async run(ctx, { values }) {
    const month = monthOf(values);
    const revenue = await (await ctx.client()).call(getRevenue, { query: month ? { month } : {} });
    if (ctx.output !== 'table') {
      ctx.out(renderData(ctx.output, revenue));
      return 0;
    }
    ctx.out(
      renderList(
        'table',
        [
          { header: 'region', value: (l) => l.region },
          { header: 'item', value: (l) => l.item },
          { header: 'EUR', value: (l) => euros(l.amount_cents), align: 'right' },
        ],
        revenue.lines,
        'No revenue.',
      ),
    );
    ctx.out(
      `net ${euros(revenue.net_cents)} EUR, VAT ${euros(revenue.vat_cents)} EUR, SLA credits given ${euros(revenue.credits_given_cents)} EUR; unpaid: ${revenue.unpaid.invoices} invoices, ${euros(revenue.unpaid.total_cents)} EUR\n`,
    );
    return 0;
  },
};

const runCommand: Command = {
  name: 'run',
  summary: 'invoice a finished month now (operators; the monthly loop does it on the 1st)',
  usage: '--month YYYY-MM',
  options: { month: { type: 'string', arg: 'YYYY-MM', help: 'the month to invoice' } },
  async run(ctx, { values }) {
    const month = monthOf(values);
    if (!month) throw new UsageError('missing --month');
    const result = await (await ctx.client()).call(runInvoicing, { body: { month } });
    ctx.out(
      ctx.output === 'table'
        ? `${month}: ${result.invoices} invoices issued, ${result.skipped} already invoiced\n`
        : renderData(ctx.output, result),
    );
    return 0;
  },
};

export const billingGroup: Group = {
  name: 'billing',
  summary: 'usage, billing details, revenue and invoicing runs',
  commands: [usageCommand, accountCommand, revenueCommand, runCommand],
};

const invoiceColumns: Column<Invoice>[] = [
  { header: 'id', value: (i) => i.id },
  { header: 'number', value: (i) => i.number ?? '(draft)' },
  { header: 'kind', value: (i) => i.kind },
  { header: 'period', value: (i) => i.period },
  { header: 'status', value: (i) => i.status },
  { header: 'total EUR', value: (i) => euros(i.total_cents), align: 'right' },
  { header: 'issued', value: (i) => i.issued_at?.slice(0, 10) ?? '-' },
];

const invoiceList: Command = {
  name: 'list',
  summary: 'list invoices and credit notes (operators: every project; --status issued: unpaid)',
  usage: '[--status draft|issued|paid|void] [--period YYYY-MM] [--project PRJ]',
  options: {
    status: { type: 'string', arg: 'STATUS', help: 'draft, issued (unpaid), paid or void' },
    period: { type: 'string', arg: 'YYYY-MM', help: 'service month' },
    project: { type: 'string', arg: 'PRJ', help: 'operators: one project' },
  },
  async run(ctx, { values }) {
    const status = stringOf(values, 'status');
    const period = stringOf(values, 'period');
    const project = stringOf(values, 'project');
    const { invoices } = await (
      await ctx.client()
    ).call(listInvoices, {
      query: {
        limit: '500',
        ...(status && { status: choiceOf(status, ['draft', 'issued', 'paid', 'void'] as const, '--status') }),
        ...(period && { period }),
        ...(project && { project_id: project }),
      },
    });
    ctx.out(renderList(ctx.output, invoiceColumns, invoices, 'No invoices.'));
    return 0;
  },
};

const invoiceShow: Command = {
  name: 'show',
  summary: 'show an invoice or credit note',
  usage: 'ID',
  args: [{ name: 'ID', required: true }],
  async run(ctx, { positionals }) {
    const { invoice } = await (await ctx.client()).call(getInvoice, { params: { id: positionals[0] } });
    if (ctx.output !== 'table') {
      ctx.out(renderData(ctx.output, { invoice }));
      return 0;
    }
    ctx.out(
      `${invoice.kind === 'credit_note' ? 'Credit note' : 'Invoice'} ${invoice.number ?? '(draft)'}  ${invoice.status}  period ${invoice.period}\n` +
        `customer ${invoice.customer.name} (${invoice.customer.country}${invoice.customer.vat_id ? `, ${invoice.customer.vat_id}` : ''})\n`,
    );
    ctx.out(renderList('table', lineColumns, invoice.lines, 'No lines.'));
    ctx.out(
      `subtotal ${euros(invoice.subtotal_cents)}  VAT ${invoice.vat.rate_percent} % ${euros(invoice.vat_cents)}  total ${euros(invoice.total_cents)} EUR\n` +
        (invoice.vat.mention ? `${invoice.vat.mention}\n` : '') +
        `${invoice.payment.instructions}\n`,
    );
    return 0;
  },
};

const invoiceDownload: Command = {
  name: 'download',
  summary: 'save an invoice or credit note as PDF',
  usage: 'ID [FILE]',
  args: [
    { name: 'ID', required: true },
    { name: 'FILE', required: false },
  ],
  examples: ['vmcloud invoice download inv_… invoice.pdf'],
  async run(ctx, { positionals }) {
    const id = positionals[0]!;
    const response = await rawRequest(ctx, 'GET', `/v1/invoices/${encodeURIComponent(id)}/pdf`);
    const bytes = Buffer.from(await response.arrayBuffer());
    const file = resolvePath(ctx.cwd, positionals[1] ?? `${id}.pdf`);
    await writeFile(file, bytes);
    ctx.out(
      ctx.output === 'table'
        ? `saved ${file} (${bytes.length} bytes)\n`
        : renderData(ctx.output, { file, bytes: bytes.length }),
    );
    return 0;
  },
};

const stateCommand = (name: 'issue' | 'mark-paid', summary: string): Command => ({
  name,
  summary,
  usage: 'ID',
  args: [{ name: 'ID', required: true }],
  async run(ctx, { positionals }) {
    const client = await ctx.client();
    const params = { id: positionals[0]! };
    const { invoice } =
      name === 'issue' ? await client.call(issueInvoice, { params }) : await client.call(markInvoicePaid, { params });
    ctx.out(
      ctx.output === 'table'
        ? `${invoice.number ?? invoice.id}: ${invoice.status}\n`
        : renderData(ctx.output, { invoice }),
    );
    return 0;
  },
});

const invoiceVoid: Command = {
  name: 'void',
  summary: 'void a draft, or an unpaid invoice by a credit note of its full amount (operators)',
  usage: 'ID --reason TEXT',
  args: [{ name: 'ID', required: true }],
  options: { reason: { type: 'string', arg: 'TEXT', help: 'why (printed on the credit note)' } },
  async run(ctx, { values, positionals }) {
    const reason = stringOf(values, 'reason');
    if (!reason) throw new UsageError('missing --reason');
    const result = await (await ctx.client()).call(voidInvoice, { params: { id: positionals[0]! }, body: { reason } });
    ctx.out(
      ctx.output === 'table'
        ? `${result.invoice.number ?? result.invoice.id}: void${result.credit_note ? `, credit note ${result.credit_note.number}` : ''}\n`
        : renderData(ctx.output, result),
    );
    return 0;
  },
};

const invoiceCredit: Command = {
  name: 'credit-note',
  summary: 'correct an issued invoice with a credit note (operators)',
  usage: 'ID --amount EUR --reason TEXT [--description TEXT]',
  args: [{ name: 'ID', required: true }],
  options: {
    amount: { type: 'string', arg: 'EUR', help: 'amount credited before VAT' },
    reason: { type: 'string', arg: 'TEXT', help: 'why' },
    description: { type: 'string', arg: 'TEXT', help: 'the line (default: the reason)' },
  },
  async run(ctx, { values, positionals }) {
    const amount = stringOf(values, 'amount');
    const reason = stringOf(values, 'reason');
    if (!amount || !/^\d+(\.\d{1,2})?$/.test(amount) || !reason)
      throw new UsageError('needs --amount EUR (e.g. 12.50) and --reason');
    const { credit_note } = await (
      await ctx.client()
    ).call(createCreditNote, {
      params: { id: positionals[0]! },
      body: {
        reason,
        lines: [
          { description: stringOf(values, 'description') ?? reason, amount_cents: Math.round(Number(amount) * 100) },
        ],
      },
    });
    ctx.out(
      ctx.output === 'table'
        ? `credit note ${credit_note.number}: ${euros(credit_note.total_cents)} EUR\n`
        : renderData(ctx.output, { credit_note }),
    );
    return 0;
  },
};

export const invoiceGroup: Group = {
  name: 'invoice',
  summary: 'invoices and credit notes: list, show, download (PDF); operators issue, mark paid, void, credit',
  commands: [
    invoiceList,
    invoiceShow,
    invoiceDownload,
    stateCommand('issue', 'issue a draft invoice (operators)'),
    stateCommand('mark-paid', 'record the payment of an issued invoice (operators)'),
    invoiceVoid,
    invoiceCredit,
  ],
};

const slaReport: Command = {
  name: 'report',
  summary: "the project's availability per server, breaches and credits",
  usage: '[--month YYYY-MM]',
  options: monthOption,
  async run(ctx, { values }) {
    const month = monthOf(values);
    const report = await (await ctx.client()).call(getSlaReport, { query: month ? { month } : {} });
    if (ctx.output !== 'table') {
      ctx.out(renderData(ctx.output, report));
      return 0;
    }
    ctx.out(`${report.month}: SLA ${report.tier} (${report.target_percent} %, credits ${report.credit_multiplier}x)\n`);
    ctx.out(
      renderList(
        'table',
        [
          { header: 'server', value: (s) => s.server_id },
          { header: 'availability %', value: (s) => s.availability_percent, align: 'right' },
          { header: 'down min', value: (s) => s.downtime_minutes, align: 'right' },
          { header: 'breach', value: (s) => (s.breached ? 'yes' : 'no') },
          { header: 'credit EUR', value: (s) => euros(s.credit_cents), align: 'right' },
        ],
        report.servers,
        'No servers this month.',
      ),
    );
    return 0;
  },
};

const slaOverview: Command = {
  name: 'overview',
  summary: 'availability per region and tier, credits, MTTR against the targets (operators)',
  usage: '[--month YYYY-MM]',
  options: monthOption,
  async run(ctx, { values }) {
    const month = monthOf(values);
    const overview = await (await ctx.client()).call(getSlaOverview, { query: month ? { month } : {} });
    if (ctx.output !== 'table') {
      ctx.out(renderData(ctx.output, overview));
      return 0;
    }
    ctx.out(
      renderList(
        'table',
        [
          { header: 'region', value: (r) => r.region },
          { header: 'tier', value: (r) => r.tier },
          { header: 'servers', value: (r) => r.servers, align: 'right' },
          { header: 'availability %', value: (r) => r.availability_percent, align: 'right' },
          { header: 'breaches', value: (r) => r.breaches, align: 'right' },
          { header: 'credits EUR', value: (r) => euros(r.credits_cents), align: 'right' },
        ],
        overview.regions,
        'No servers this month.',
      ),
    );
    for (const m of overview.mttr)
      ctx.out(
        `MTTR ${m.tier}: ${m.mttr_minutes ?? '-'} min over ${m.incidents} incidents (target < ${m.target_minutes} min)\n`,
      );
    return 0;
  },
};

const slaCredits: Command = {
  name: 'credits',
  summary: "the month's SLA credits across every project, largest first, and whether they are invoiced (operators)",
  usage: '[--month YYYY-MM]',
  options: monthOption,
  examples: ['vmcloud --profile operator sla credits --month 2026-04'],
  async run(ctx, { values }) {
    const month = monthOf(values);
    const listed = await (await ctx.client()).call(listSlaCredits, { query: month ? { month } : {} });
    if (ctx.output !== 'table') {
      ctx.out(renderData(ctx.output, listed));
      return 0;
    }
    ctx.out(
      renderList(
        'table',
        [
          { header: 'project', value: (c) => c.project_id },
          { header: 'customer', value: (c) => c.customer ?? '-' },
          { header: 'server', value: (c) => c.server_id },
          { header: 'region', value: (c) => c.region },
          { header: 'down min', value: (c) => c.downtime_minutes, align: 'right' },
          { header: 'availability %', value: (c) => c.availability_percent, align: 'right' },
          { header: 'credit EUR', value: (c) => euros(c.credit_cents), align: 'right' },
          { header: 'status', value: (c) => c.status },
          { header: 'invoice', value: (c) => c.invoice?.number ?? c.invoice?.id ?? '-' },
        ],
        listed.credits,
        `No SLA credit in ${listed.month}.`,
      ),
    );
    ctx.out(`Total ${listed.month}: ${euros(listed.total_cents)} EUR\n`);
    return 0;
  },
};

export const slaGroup: Group = {
  name: 'sla',
  summary: 'SLA reports: availability, breaches, automatic credits',
  commands: [slaReport, slaOverview, slaCredits],
};

const priceColumns: Column<Price>[] = [
  { header: 'item', value: (p) => p.item },
  { header: 'region', value: (p) => p.region },
  { header: 'unit µ€', value: (p) => p.unit_micros, align: 'right' },
  { header: 'monthly cap µ€', value: (p) => p.monthly_cap_micros ?? '-', align: 'right' },
  { header: 'valid from', value: (p) => p.valid_from },
];

const priceList: Command = {
  name: 'list',
  summary: 'every price version',
  usage: '[--item ITEM]',
  options: { item: { type: 'string', arg: 'ITEM', help: 'e.g. product:vps-starter, volume_gib' } },
  async run(ctx, { values }) {
    const item = stringOf(values, 'item');
    const { prices } = await (await ctx.client()).call(listPrices, { query: item ? { item } : {} });
    ctx.out(renderList(ctx.output, priceColumns, prices, 'No prices.'));
    return 0;
  },
};

const priceSet: Command = {
  name: 'set',
  summary: 'add a price version from a date (operators; never rewrites the past)',
  usage: 'ITEM --unit-micros N [--monthly-cap-micros N] --from DATE [--region R]',
  args: [{ name: 'ITEM', required: true }],
  options: {
    'unit-micros': {
      type: 'string',
      arg: 'N',
      help: 'price per unit (per hour for servers, volumes, addresses) in micro-euros',
    },
    'monthly-cap-micros': { type: 'string', arg: 'N', help: 'cap per resource and month in micro-euros' },
    from: { type: 'string', arg: 'DATE', help: 'ISO date-time it holds from (not in the past)' },
    region: { type: 'string', arg: 'REGION', help: 'one region (default: every region)' },
  },
  examples: [
    'vmcloud --profile operator price set product:vps-starter --unit-micros 30000 --monthly-cap-micros 14990000 --from 2027-01-01T00:00:00Z',
  ],
  async run(ctx, { values, positionals }) {
    const unit = integerOf(values, 'unit-micros', { min: 0, max: 1_000_000_000_000 });
    const cap = integerOf(values, 'monthly-cap-micros', { min: 0, max: 1_000_000_000_000 });
    const from = stringOf(values, 'from');
    if (unit === undefined || !from) throw new UsageError('needs --unit-micros and --from');
    if (Number.isNaN(Date.parse(from))) throw new UsageError(`--from ${from} is not a date`);
    const region = stringOf(values, 'region');
    const { price } = await (
      await ctx.client()
    ).call(setPrice, {
      body: {
        item: positionals[0]!,
        unit_micros: unit,
        valid_from: new Date(from).toISOString(),
        ...(cap !== undefined && { monthly_cap_micros: cap }),
        ...(region && { region: region.toLowerCase() }),
      },
    });
    ctx.out(renderList(ctx.output, priceColumns, [price], ''));
    return 0;
  },
};

export const priceGroup: Group = {
  name: 'price',
  summary: 'versioned prices (operators set them)',
  commands: [priceList, priceSet],
};
