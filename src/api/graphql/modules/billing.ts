import type { GraphqlModule } from '../module.ts';

export const billingModule: GraphqlModule = {
  typeDefs: /* GraphQL */ `
    type UsageLine {
      kind: String!
      resource_id: String
      item: String!
      region: String
      description: String!
      quantity: Float!
      hours: Int
      gpu_hours: Int
      unit_micros: Float!
      capped: Boolean!
      amount_cents: Int!
      from: String
      to: String
    }
    type UsageLines {
      lines: [UsageLine!]!
      subtotal_cents: Int!
    }
    type Usage {
      month: String!
      currency: String!
      as_of: String!
      so_far: UsageLines!
      projected: UsageLines!
    }
    type Invoice {
      id: ID!
      kind: String!
      number: String
      status: String!
      project_id: String!
      period: String!
      refers_to: String
      currency: String!
      supplier: JSON!
      customer: JSON!
      vat: JSON!
      lines: [UsageLine!]!
      subtotal_cents: Int!
      vat_cents: Int!
      total_cents: Int!
      credits_cents: Int!
      issued_at: String
      paid_at: String
      voided_at: String
    }
    type InvoicePage {
      invoices: [Invoice!]!
      next_cursor: String
    }
    extend type Query {
      "The month's usage so far and projected to its end (default: this month)."
      usage(month: String): Usage!
      invoices(status: String, period: String, limit: Int, cursor: String): InvoicePage!
      invoice(id: ID!): Invoice
    }
  `,
  resolvers: {
    Query: {
      usage: (_p, { month }, { principal, services }) => services.billing.usage(principal, month ?? undefined),
      invoices: (_p, args, { principal, services }) =>
        services.billing.listInvoices(principal, {
          status: args.status ?? undefined,
          period: args.period ?? undefined,
          limit: args.limit == null ? undefined : String(args.limit),
          cursor: args.cursor ?? undefined,
        }),
      invoice: (_p, { id }, { principal, services }) => services.billing.getInvoice(principal, id),
    },
  },
};
