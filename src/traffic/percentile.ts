/**
 * The 95th percentile of a month's 5-minute rates, the standard way (docs/traffic.md): every slot of the
 * calendar month counts (a slot with no sample is 0 — dropping it would raise the bill), the rates are
 * sorted high to low, the top 5 % (`floor(0.05 × N)` slots) are dropped, and the highest remaining rate is
 * the 95th percentile. In and out are computed separately; the billed figure is the higher of the two.
 */

/** Seconds in one sample slot. */
export const slotSeconds = 300;

/** Number of 5-minute slots in a calendar month `YYYY-MM` (UTC): 8 064, 8 352, 8 640 or 8 928. */
export function slotsInMonth(month: string): number {
  const { startMs, endMs } = monthRange(month);
  return (endMs - startMs) / (slotSeconds * 1000);
}

/** `2026-11` → [start, end) in epoch ms (UTC). Throws on a malformed month. */
export function monthRange(month: string): { startMs: number; endMs: number } {
  const match = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!match) throw new RangeError(`not a month (YYYY-MM): ${month}`);
  const year = Number(match[1]);
  const index = Number(match[2]) - 1;
  return { startMs: Date.UTC(year, index, 1), endMs: Date.UTC(year, index + 1, 1) };
}

/** The month `YYYY-MM` (UTC) holding an instant. */
export function monthOf(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 7);
}

/**
 * The 95th percentile of `rates` over `slotCount` slots: rates of the slots that have a sample (any order);
 * the missing `slotCount - rates.length` slots count as 0. Returns 0 for an empty month.
 */
export function percentile95(rates: readonly number[], slotCount: number = rates.length): number {
  if (rates.length > slotCount) throw new RangeError(`${rates.length} rates for ${slotCount} slots`);
  if (slotCount === 0) return 0;
  const dropped = Math.floor(slotCount * 0.05);
  // The (dropped + 1)-th highest of the month; the missing slots are zeros at the bottom.
  const sorted = [...rates].sort((a, b) => b - a);
  return sorted[dropped] ?? 0;
}

/** Bytes in one 5-minute slot → the slot's average rate in bit/s. */
export const bitsPerSecond = (bytes: number) => (bytes * 8) / slotSeconds;

/** bit/s → Mbit/s, rounded to 0.001 (what the API shows). */
export const toMbps = (bps: number) => Math.round(bps / 1000) / 1000;

/**
 * The billed 95th percentile: per direction over the month's slots, then the higher direction. Inputs are
 * the bytes of each slot that has a sample (metered bytes: unmetered traffic is subtracted before).
 */
export function billedPercentile95(
  slotBytes: ReadonlyArray<{ inBytes: number; outBytes: number }>,
  slotCount: number,
): { inBps: number; outBps: number; billedBps: number } {
  const inBps = percentile95(
    slotBytes.map((s) => bitsPerSecond(s.inBytes)),
    slotCount,
  );
  const outBps = percentile95(
    slotBytes.map((s) => bitsPerSecond(s.outBytes)),
    slotCount,
  );
  return { inBps, outBps, billedBps: Math.max(inBps, outBps) };
}
