/**
 * How invoices get paid. Providers plug in behind this interface (a card processor, SEPA direct debit);
 * the default is a bank transfer whose reference string identifies the invoice on the statement.
 * Operators mark invoices paid (`vmcloud --profile operator invoice mark-paid`).
 */
export interface PaymentProvider {
  readonly name: string;
  /** The reference the customer quotes (or the provider's payment id), fixed when the invoice is created. */
  referenceFor(invoice: { id: string; projectId: string; period: string }): string;
  /** What the invoice tells the customer to do. */
  instructions(reference: string): string;
}

export interface BankAccount {
  holder: string;
  iban: string;
  bic: string;
}

/** Bank transfer: a structured reference `VMC-<period>-<last 8 of the invoice id>` and the supplier's IBAN. */
export function createBankTransferProvider(account: BankAccount): PaymentProvider {
  return {
    name: 'bank_transfer',
    referenceFor: (invoice) => `VMC-${invoice.period.replace('-', '')}-${invoice.id.slice(-8).toUpperCase()}`,
    instructions: (reference) =>
      `Bank transfer to ${account.holder}, IBAN ${account.iban}, BIC ${account.bic}, reference ${reference}, within 14 days.`,
  };
}
