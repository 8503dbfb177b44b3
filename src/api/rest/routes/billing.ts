import type { Route } from '../route.ts';
import type { BillingService } from '../../../billing/index.ts';
import {
  createCreditNote,
  getBillingAccount,
  getInvoice,
  getInvoicePdf,
  getRevenue,
  getSlaOverview,
  getSlaReport,
  getUsage,
  issueInvoice,
  listInvoices,
  listPrices,
  listSlaCredits,
  markInvoicePaid,
  runInvoicing,
  setBillingAccount,
  setPrice,
  voidInvoice,
} from '../../../contract/index.ts';

export function registerBillingRoutes(route: Route, deps: { billing: BillingService }) {
  const { billing } = deps;
  route(getBillingAccount, async ({ principal }) => ({ account: await billing.getAccount(principal) }));
  route(setBillingAccount, async ({ principal, body }) => ({ account: await billing.setAccount(principal, body) }));
  route(getUsage, ({ principal, query }) => billing.usage(principal, query.month));
  route(listInvoices, ({ principal, query }) => billing.listInvoices(principal, query));
  route(getInvoice, async ({ principal, params }) => ({ invoice: await billing.getInvoice(principal, params.id) }));
  route(getInvoicePdf, async ({ principal, params, reply }) => {
    const { invoice, pdf } = await billing.invoicePdf(principal, params.id);
    return reply
      .code(200)
      .type('application/pdf')
      .header('content-disposition', `attachment; filename="${invoice.number ?? invoice.id}.pdf"`)
      .send(Buffer.from(pdf));
  });
  route(issueInvoice, async ({ principal, params }) => ({ invoice: await billing.issueInvoice(principal, params.id) }));
  route(markInvoicePaid, async ({ principal, params }) => ({
    invoice: await billing.markInvoicePaid(principal, params.id),
  }));
  route(voidInvoice, ({ principal, params, body }) => billing.voidInvoice(principal, params.id, body.reason));
  route(createCreditNote, async ({ principal, params, body }) => ({
    credit_note: await billing.createCreditNote(principal, params.id, body),
  }));
  route(runInvoicing, ({ principal, body }) => billing.runInvoicing(principal, body.month));
  route(getSlaReport, ({ principal, query }) => billing.slaReport(principal, query.month));
  route(getSlaOverview, ({ principal, query }) => billing.slaOverview(principal, query.month));
  route(listSlaCredits, ({ principal, query }) => billing.slaCredits(principal, query.month));
  route(listPrices, ({ principal, query }) => billing.listPrices(principal, query.item));
  route(setPrice, ({ principal, body }) => billing.setPrice(principal, body));
  route(getRevenue, ({ principal, query }) => billing.revenue(principal, query.month));
}
