/**
 * The pages' common plumbing: load something (with reload), run a mutation (busy, notice, error), ask for
 * a confirmation before a destructive one, format dates, sizes and money in the page's language.
 */
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { useT, type MessageKey } from './i18n.tsx';
import { ConfirmDialog, ErrorNotice } from './components.tsx';
import { useLiveEvents } from './live.ts';
import type { CurrentPrincipal } from '../../src/contract/index.ts';

export interface Loaded<T> {
  data: T | null;
  error: unknown;
  reload: () => Promise<void>;
}

/** Loads on mount and when `deps` change; `reload()` again after a mutation. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const current = useRef(load);
  current.current = load;
  const reload = useCallback(async () => {
    try {
      setData(await current.current());
      setError(null);
    } catch (failure) {
      setError(failure);
    }
  }, deps);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, reload };
}

/** Reloads (debounced) when an event about one of these resource types arrives on the event stream. */
export function useReloadOn(types: readonly string[], reload: () => Promise<void>) {
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  useLiveEvents((event) => {
    if (!types.includes(event.resource.type)) return;
    if (pending.current) clearTimeout(pending.current);
    pending.current = setTimeout(() => void reload(), 150);
  });
}

/** Runs mutations: one at a time, an error notice or a success notice (announced politely). */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const run = useCallback(async (work: () => Promise<string | void>) => {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      const message = await work();
      if (message) setNotice(message);
      return true;
    } catch (failure) {
      setError(failure);
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  const view = (
    <>
      <div aria-live="polite">
        {notice && (
          <p className="notice" data-testid="notice">
            {notice}
          </p>
        )}
      </div>
      <ErrorNotice error={error} />
    </>
  );
  return { busy, run, view, setError };
}

interface Question {
  title: string;
  body: ReactNode;
  label: string;
  danger: boolean;
  then: () => void;
}

/** `ask(...)` opens a confirmation dialog; the action runs only on confirm. Render `dialog` once. */
export function useConfirm() {
  const { t } = useT();
  const [question, setQuestion] = useState<Question | null>(null);
  const ask = useCallback(
    (title: string, body: ReactNode, then: () => void, options: { label?: string; danger?: boolean } = {}) =>
      setQuestion({ title, body, then, label: options.label ?? title, danger: options.danger ?? true }),
    [],
  );
  const dialog = (
    <ConfirmDialog
      open={question !== null}
      title={question?.title ?? ''}
      confirmLabel={question?.label ?? t('confirm')}
      danger={question?.danger}
      onConfirm={() => {
        const then = question?.then;
        setQuestion(null);
        then?.();
      }}
      onCancel={() => setQuestion(null)}
    >
      {question?.body}
    </ConfirmDialog>
  );
  return { ask, dialog };
}

export const canChange = (me: CurrentPrincipal) => me.project.role !== 'viewer';
export const isOwner = (me: CurrentPrincipal) => me.project.role === 'owner';

export function useFormat() {
  const { lang, t } = useT();
  const locale = lang === 'fr' ? 'fr-FR' : 'en-GB';
  return {
    when: (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString(locale) : '—'),
    day: (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleDateString(locale) : '—'),
    bytes: (n: number | null | undefined) => {
      if (n === null || n === undefined) return '—';
      const units = ['B', 'KB', 'MB', 'GB', 'TB'];
      let value = n;
      let unit = 0;
      while (value >= 1000 && unit < units.length - 1) {
        value /= 1000;
        unit += 1;
      }
      return `${new Intl.NumberFormat(locale, { maximumFractionDigits: unit ? 1 : 0 }).format(value)} ${units[unit]}`;
    },
    number: (n: number, digits = 2) => new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(n),
    euros: (cents: number) => new Intl.NumberFormat(locale, { style: 'currency', currency: 'EUR' }).format(cents / 100),
    t,
    locale,
  };
}

/** A page's title and, for those who may change things, its main button. */
export function PageHeader(props: { id: string; title: MessageKey; children?: ReactNode }) {
  const { t } = useT();
  return (
    <div className="row between">
      <h1 id={props.id}>{t(props.title)}</h1>
      {props.children}
    </div>
  );
}

/**
 * An editable copy of a set of rows (a rule set, thresholds): it follows `source` until the first edit, then
 * holds the edits until `saved` (the next `source` shows again) or `discard`.
 */
export function useRowsDraft<Row extends { key: number }>(source: () => Row[], deps: readonly unknown[]) {
  const [rows, setRows] = useState<Row[]>([]);
  const [dirty, setDirty] = useState(false);
  useEffect(() => {
    if (!dirty) setRows(source());
  }, [...deps, dirty]);
  const edit = (next: Row[]) => {
    setRows(next);
    setDirty(true);
  };
  return {
    rows,
    dirty,
    change: (key: number, patch: Partial<Row>) =>
      edit(rows.map((row) => (row.key === key ? { ...row, ...patch } : row))),
    add: (row: Row) => edit([...rows, row]),
    remove: (key: number) => edit(rows.filter((row) => row.key !== key)),
    saved: () => setDirty(false),
    discard: () => {
      setDirty(false);
      setRows(source());
    },
  };
}
