/** Calendar months in UTC: `2026-03` ↔ its first and last millisecond. Pure. */
import { invalid } from '../core/index.ts';

export interface MonthRange {
  month: string;
  startMs: number;
  /** The first millisecond of the next month (exclusive end). */
  endMs: number;
}

const monthPattern = /^(\d{4})-(0[1-9]|1[0-2])$/;

export function isMonth(text: string): boolean {
  return monthPattern.test(text);
}

export function monthRange(month: string): MonthRange {
  const match = monthPattern.exec(month);
  if (!match) throw invalid(`month must be YYYY-MM, got ${JSON.stringify(month)}`, { reason: 'invalid_month' });
  const year = Number(match[1]);
  const index = Number(match[2]) - 1;
  return { month, startMs: Date.UTC(year, index, 1), endMs: Date.UTC(year, index + 1, 1) };
}

export function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

export function previousMonth(month: string): string {
  return monthOf(monthRange(month).startMs - 1);
}

export function nextMonth(month: string): string {
  return monthOf(monthRange(month).endMs);
}

export const minutesIn = (range: MonthRange) => (range.endMs - range.startMs) / 60_000;
export const hoursIn = (range: MonthRange) => (range.endMs - range.startMs) / 3_600_000;
