/**
 * Standard VAT rates of the 27 member states, in basis points (2400 = 24 %), each with the date it holds
 * from (the date of supply decides, not the invoice date). Source: ibericode/vat-rates with the changes
 * of /work/shared/research/billing-eu.md §2 (EE 24 % from 2025-07-01, FI 25.5 % from 2024-09-01, SK 23 %
 * from 2025-01-01, RO 21 % from 2025-08-01, LU 16 % during 2023). Keys are ISO country codes (GR, not EL).
 */
export interface VatRateVersion {
  from: string;
  rateBp: number;
}

const since = (rateBp: number): VatRateVersion[] => [{ from: '2000-01-01', rateBp }];

export const euVatRates: Readonly<Record<string, readonly VatRateVersion[]>> = {
  AT: since(2000),
  BE: since(2100),
  BG: since(2000),
  CY: since(1900),
  CZ: since(2100),
  DE: since(1900),
  DK: since(2500),
  EE: [
    { from: '2000-01-01', rateBp: 2000 },
    { from: '2024-01-01', rateBp: 2200 },
    { from: '2025-07-01', rateBp: 2400 },
  ],
  ES: since(2100),
  FI: [
    { from: '2013-01-01', rateBp: 2400 },
    { from: '2024-09-01', rateBp: 2550 },
  ],
  FR: since(2000),
  GR: since(2400),
  HR: since(2500),
  HU: since(2700),
  IE: since(2300),
  IT: since(2200),
  LT: since(2100),
  LU: [
    { from: '2015-01-01', rateBp: 1700 },
    { from: '2023-01-01', rateBp: 1600 },
    { from: '2024-01-01', rateBp: 1700 },
  ],
  LV: since(2100),
  MT: since(1800),
  NL: since(2100),
  PL: since(2300),
  PT: since(2300),
  RO: [
    { from: '2017-01-01', rateBp: 1900 },
    { from: '2025-08-01', rateBp: 2100 },
  ],
  SE: since(2500),
  SI: since(2200),
  SK: [
    { from: '2011-01-01', rateBp: 2000 },
    { from: '2025-01-01', rateBp: 2300 },
  ],
};

export const euCountries = Object.keys(euVatRates);

/** The VAT ID prefix of a member state (Greece uses EL). */
export const vatPrefixOf = (country: string) => (country === 'GR' ? 'EL' : country);

/** Formats after the prefix (ibericode/vat Validator). */
export const vatIdPatterns: Readonly<Record<string, RegExp>> = {
  AT: /^U[A-Z\d]{8}$/,
  BE: /^[01]\d{9}$/,
  BG: /^\d{9,10}$/,
  CY: /^\d{8}[A-Z]$/,
  CZ: /^\d{8,10}$/,
  DE: /^\d{9}$/,
  DK: /^(\d{2} ?){3}\d{2}$/,
  EE: /^\d{9}$/,
  EL: /^\d{9}$/,
  ES: /^([A-Z]\d{7}[A-Z]|\d{8}[A-Z]|[A-Z]\d{8})$/,
  FI: /^\d{8}$/,
  FR: /^[A-Z\d]{2}\d{9}$/,
  HR: /^\d{11}$/,
  HU: /^\d{8}$/,
  IE: /^(\d{7}[A-Z]{1,2}|\d[A-Z]\d{5}[A-Z])$/,
  IT: /^\d{11}$/,
  LT: /^(\d{9}|\d{12})$/,
  LU: /^\d{8}$/,
  LV: /^\d{11}$/,
  MT: /^\d{8}$/,
  NL: /^\d{9}B\d{2}$/,
  PL: /^\d{10}$/,
  PT: /^\d{9}$/,
  RO: /^\d{2,10}$/,
  SE: /^\d{12}$/,
  SI: /^\d{8}$/,
  SK: /^\d{10}$/,
};
