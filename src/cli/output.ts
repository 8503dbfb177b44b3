/**
 * Output rendering of the CLI: aligned tables, key/value details, JSON and YAML. Pure functions: they take
 * data and return text, so every layout is table-tested without a terminal.
 */
import { createRequire } from 'node:module';

// Loaded on first use (-o yaml): other commands start without it.
let yaml: { stringify(value: unknown): string } | null = null;
const YAML = { stringify: (value: unknown) => (yaml ??= createRequire(import.meta.url)('yaml')).stringify(value) };

export type OutputFormat = 'table' | 'json' | 'yaml';
export const outputFormats: readonly OutputFormat[] = ['table', 'json', 'yaml'];

export const isOutputFormat = (value: string): value is OutputFormat =>
  (outputFormats as readonly string[]).includes(value);

export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
  align?: 'left' | 'right';
}

/** Control characters (C0, DEL, C1) would move the cursor or recolour the terminal: show them escaped. */
export function sanitize(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A cell as text: null/undefined/empty → `-`, arrays joined with commas, objects as `k=v`. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (typeof value === 'string') return sanitize(value);
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.map(cellText).join(',');
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return entries.length === 0 ? '-' : entries.map(([k, v]) => `${sanitize(k)}=${cellText(v)}`).join(',');
  }
  return sanitize(String(value));
}

/** Columns separated by three spaces, headers in capitals, no trailing spaces. */
export function renderTable<T>(columns: Column<T>[], rows: readonly T[]): string {
  const cells = rows.map((row) => columns.map((column) => cellText(column.value(row))));
  const headers = columns.map((column) => column.header.toUpperCase());
  const widths = headers.map((header, i) => Math.max(header.length, ...cells.map((line) => line[i].length)));
  const line = (texts: string[]) =>
    texts
      .map((text, i) => (columns[i].align === 'right' ? text.padStart(widths[i]) : text.padEnd(widths[i])))
      .join('   ')
      .trimEnd();
  return [line(headers), ...cells.map(line)].join('\n') + '\n';
}

/** `Label:  value` lines with the values aligned; nested lists are indented beneath their label. */
export function renderDetail(fields: ReadonlyArray<readonly [string, unknown]>): string {
  const width = Math.max(0, ...fields.map(([label]) => label.length + 1));
  return (
    fields
      .map(([label, value]) => {
        const text = cellText(value);
        return `${(label + ':').padEnd(width)}  ${text}`.trimEnd();
      })
      .join('\n') + '\n'
  );
}

export function renderJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

export function renderYaml(value: unknown): string {
  return YAML.stringify(value);
}

/** JSON and YAML print the data itself; the table form is the caller's. */
export function renderData(format: Exclude<OutputFormat, 'table'>, value: unknown): string {
  return format === 'json' ? renderJson(value) : renderYaml(value);
}

/** A list in the chosen format; an empty table prints `emptyMessage` instead of a lone header. */
export function renderList<T>(
  format: OutputFormat,
  columns: Column<T>[],
  rows: readonly T[],
  emptyMessage: string,
): string {
  if (format !== 'table') return renderData(format, rows);
  if (rows.length === 0) return emptyMessage + '\n';
  return renderTable(columns, rows);
}

// ---- formatters -------------------------------------------------------------------------------------

const currencySymbols: Record<string, string> = { EUR: '€', USD: '$', GBP: '£' };

/** Integer minor units to text: 999 EUR → `€9.99`. Never goes through a float for the cents. */
export function formatCents(cents: number | null | undefined, currency = 'EUR'): string {
  if (cents === null || cents === undefined || !Number.isFinite(cents)) return '-';
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(Math.trunc(cents));
  const text = `${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
  const symbol = currencySymbols[currency];
  return symbol ? `${sign}${symbol}${text}` : `${sign}${text} ${currency}`;
}

/** 512 → `512 MiB`, 4096 → `4 GiB`, 1536 → `1.5 GiB`, 1048576 → `1 TiB`. */
export function formatMiB(mib: number | null | undefined): string {
  if (mib === null || mib === undefined || !Number.isFinite(mib)) return '-';
  const units = ['MiB', 'GiB', 'TiB', 'PiB'];
  let value = mib;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const rounded = Math.round(value * 10) / 10;
  return `${rounded} ${units[unit]}`;
}

export function formatGiB(gib: number | null | undefined): string {
  if (gib === null || gib === undefined) return '-';
  return formatMiB(gib * 1024);
}

export function formatLabels(labels: Record<string, string> | null | undefined): string {
  if (!labels) return '-';
  const entries = Object.entries(labels);
  return entries.length === 0 ? '-' : entries.map(([k, v]) => `${k}=${v}`).join(',');
}

/** Time since `iso` in one unit: `42s`, `7m`, `5h`, `3d`. Future or invalid times read `-`. */
export function formatAge(iso: string | null | undefined, nowMs: number): string {
  if (!iso) return '-';
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return '-';
  const seconds = Math.floor((nowMs - then) / 1000);
  if (seconds < 0) return '0s';
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 48 * 3600) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

/** `3.2s`, `1m05s`: elapsed time of a wait. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
  const totalSeconds = Math.floor(ms / 1000);
  return `${Math.floor(totalSeconds / 60)}m${String(totalSeconds % 60).padStart(2, '0')}s`;
}

/** `used/total`, e.g. `8/128`. */
export function formatUsage(used: number, total: number): string {
  return `${used}/${total}`;
}

/** The token as a hint that never reveals it: `vmc_abcd…wxyz`. */
export function maskToken(token: string | undefined): string {
  if (!token) return '-';
  if (token.length <= 12) return '****';
  return `${token.slice(0, 8)}…${token.slice(-4)}`;
}
