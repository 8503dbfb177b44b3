/**
 * Money: integer micro-euros inside rating (sub-cent unit prices), integer cents on lines and invoices.
 * Rounding happens once per line, half up (away from zero for credits), as ADR 0008 states.
 */
export const microsPerCent = 10_000;

/** Micro-euros → cents, half away from zero (1.5 cents → 2, −1.5 → −2). Exact on integers. */
export function centsOfMicros(micros: number): number {
  const sign = micros < 0 ? -1 : 1;
  const abs = Math.abs(micros);
  return sign * Math.floor((abs + microsPerCent / 2) / microsPerCent);
}

/** a × b / c rounded half up, for non-negative integers (VAT, shares) without floats drifting. */
export function mulDivRound(a: number, b: number, c: number): number {
  const product = BigInt(a) * BigInt(b);
  const divisor = BigInt(c);
  return Number((product * 2n + divisor) / (divisor * 2n));
}

/** `12345` cents → `123.45` (no currency symbol; negative amounts keep their sign). */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
