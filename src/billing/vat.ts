/**
 * Which VAT an invoice carries (the supplier is established in Estonia; cloud hosting is an electronically
 * supplied service). Pure; table-tested in vat.test.ts.
 * - Estonian customer (business or not): Estonian VAT.
 * - Customer in another member state with a VAT ID of valid format for that state: reverse charge, 0 %,
 *   with the legal mention (Art. 196 and 226(11a) of Directive 2006/112/EC).
 * - Customer in another member state without one: that state's rate (Art. 58; declared through OSS).
 * - Customer outside the EU: no EU VAT.
 * The rate is the one in force on the date of supply (for a month of usage: its last day).
 */
import { euVatRates, vatIdPatterns, vatPrefixOf } from './vat-rates.ts';

export type VatTreatment = 'domestic' | 'eu_b2c' | 'reverse_charge' | 'outside_eu';

export interface VatDecision {
  treatment: VatTreatment;
  /** Basis points: 2400 = 24 %. */
  rateBp: number;
  /** The country whose VAT applies (null outside the EU). */
  country: string | null;
  /** What the invoice must say, when something. */
  mention: string | null;
}

export const reverseChargeMention =
  'Reverse charge: VAT to be accounted for by the recipient (Art. 196 and 226(11a) of Directive 2006/112/EC).';
export const outsideEuMention =
  'VAT not applicable: service supplied outside the EU (Art. 44 and 59 of Directive 2006/112/EC).';

/** The standard rate of a member state on a date (`YYYY-MM-DD`), or null outside the EU / before the table. */
export function vatRateOn(country: string, date: string): number | null {
  const versions = euVatRates[country];
  if (!versions) return null;
  let rate: number | null = null;
  for (const v of versions) if (v.from <= date) rate = v.rateBp;
  return rate;
}

/** `DE123456789` (or `de 123 456 789`) → normalized, when its format is valid for `country`; else null. */
export function normalizeVatId(vatId: string, country: string): string | null {
  const prefix = vatPrefixOf(country);
  const compact = vatId.toUpperCase().replace(/[\s.-]/g, '');
  if (!compact.startsWith(prefix)) return null;
  const pattern = vatIdPatterns[prefix];
  return pattern && pattern.test(compact.slice(prefix.length)) ? compact : null;
}

export function decideVat(input: {
  supplierCountry: string;
  customerCountry: string;
  customerVatId: string | null;
  supplyDate: string;
}): VatDecision {
  const country = input.customerCountry.toUpperCase();
  if (!euVatRates[country]) return { treatment: 'outside_eu', rateBp: 0, country: null, mention: outsideEuMention };
  const rate = vatRateOn(country, input.supplyDate);
  if (rate === null) throw new Error(`no VAT rate for ${country} on ${input.supplyDate}`);
  if (country === input.supplierCountry) return { treatment: 'domestic', rateBp: rate, country, mention: null };
  if (input.customerVatId && normalizeVatId(input.customerVatId, country))
    return { treatment: 'reverse_charge', rateBp: 0, country, mention: reverseChargeMention };
  return { treatment: 'eu_b2c', rateBp: rate, country, mention: null };
}
