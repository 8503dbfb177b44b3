/**
 * An invoice's content, built once and frozen when it is issued (Art. 226 of Directive 2006/112/EC: both
 * parties, the service period, lines, taxable amount, rate, VAT, the mention where one applies). Pure.
 * VAT is computed once per invoice on the subtotal (one rate per invoice), half up to the cent.
 */
import type { Invoice, UsageLine } from '../contract/index.ts';
import { mulDivRound } from './money.ts';
import type { VatDecision } from './vat.ts';

export interface Party {
  name: string;
  address: string;
  country: string;
  vat_id: string | null;
}

export interface SupplierConfig extends Party {
  /** The issuer id of the number series (one company may run several). */
  issuer: string;
  /** Prefix of invoice numbers: `VMC` → `VMC-2026-000001`, credit notes `VMC-CN-2026-000001`. */
  numberPrefix: string;
}

export const defaultSupplier: SupplierConfig = {
  issuer: 'vmcloud-ou',
  numberPrefix: 'VMC',
  name: 'VMCloud OÜ',
  address: 'Narva mnt 5\n10117 Tallinn\nEstonia',
  country: 'EE',
  vat_id: 'EE102345678',
};

export interface InvoiceDocument {
  supplier: Party;
  customer: Party;
  vat: Invoice['vat'];
  lines: UsageLine[];
  subtotal_cents: number;
  vat_cents: number;
  total_cents: number;
  credits_cents: number;
  payment: Invoice['payment'];
  /** Credit notes: why. */
  reason?: string;
}

export function buildDocument(input: {
  supplier: Party;
  customer: Party;
  vat: VatDecision;
  lines: UsageLine[];
  payment: Invoice['payment'];
  reason?: string;
}): InvoiceDocument {
  const subtotal = input.lines.reduce((sum, line) => sum + line.amount_cents, 0);
  const vatCents = vatOf(subtotal, input.vat.rateBp);
  const credits = -input.lines.filter((l) => l.kind === 'sla_credit').reduce((sum, l) => sum + l.amount_cents, 0);
  return {
    supplier: input.supplier,
    customer: input.customer,
    vat: {
      treatment: input.vat.treatment,
      rate_percent: input.vat.rateBp / 100,
      country: input.vat.country,
      mention: input.vat.mention,
    },
    lines: input.lines,
    subtotal_cents: subtotal,
    vat_cents: vatCents,
    total_cents: subtotal + vatCents,
    credits_cents: credits,
    payment: input.payment,
    ...(input.reason ? { reason: input.reason } : {}),
  };
}

/** VAT on an amount (negative for credit notes), half away from zero. */
export function vatOf(cents: number, rateBp: number): number {
  const sign = cents < 0 ? -1 : 1;
  return sign * mulDivRound(Math.abs(cents), rateBp, 10_000);
}

export function formatNumber(prefix: string, kind: 'invoice' | 'credit_note', year: number, n: number): string {
  return `${prefix}-${kind === 'credit_note' ? 'CN-' : ''}${year}-${String(n).padStart(6, '0')}`;
}
