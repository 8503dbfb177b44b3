/** Shared pieces: links, the error notice (plain words + the API's code), confirmations, status badges. */
import { useEffect, useRef, type AnchorHTMLAttributes, type ReactNode } from 'react';
import { navigate } from './router.ts';
import { messages, useT, type MessageKey } from './i18n.tsx';
import { VmcError } from './api.ts';

export function Link(props: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  return (
    <a
      {...props}
      onClick={(event) => {
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        navigate(props.href);
      }}
    />
  );
}

export function ErrorNotice({ error }: { error: unknown }) {
  const { t, lang } = useT();
  if (!error) return null;
  const vmc = error instanceof VmcError ? error : null;
  // A refusal with a known reason (e.g. 409 not_stopped) says so in plain words; else the code's words.
  const reasonKey = vmc?.reason ? (`reason_${vmc.reason}` as MessageKey) : null;
  const plain = vmc
    ? reasonKey && reasonKey in messages[lang]
      ? t(reasonKey)
      : t(`err_${vmc.code}` as MessageKey)
    : t('err_internal');
  return (
    <div className="notice error" role="alert">
      <strong>{plain}</strong>
      {vmc && (
        <>
          {' '}
          <span className="detail">{vmc.message}</span>{' '}
          <code className="code">
            ({t('code')}: {vmc.code}
            {vmc.reason ? ` / ${vmc.reason}` : ''})
          </code>
          {vmc.fields.length > 0 && (
            <ul>
              {vmc.fields.map((f) => (
                <li key={f.field}>
                  {f.field}: {f.message}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
      {!vmc && <span className="detail"> {String((error as Error)?.message ?? error)}</span>}
    </div>
  );
}

/** A modal confirmation (native <dialog>: focus moves in, Escape cancels). */
export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const { t } = useT();
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) dialog.showModal();
    if (!props.open && dialog.open) dialog.close();
  }, [props.open]);
  return (
    <dialog ref={ref} aria-labelledby="confirm-title" onCancel={props.onCancel} onClose={props.onCancel}>
      <h2 id="confirm-title">{props.title}</h2>
      <p>{props.children}</p>
      <div className="row end">
        <button type="button" onClick={props.onCancel} autoFocus>
          {t('cancel')}
        </button>
        <button type="button" className={props.danger ? 'danger' : 'primary'} onClick={props.onConfirm}>
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge status-${status}`} data-status={status}>
      {status}
    </span>
  );
}

export function Field(props: { id: string; label: string; help?: string; children: ReactNode }) {
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      {props.children}
      {props.help && (
        <small id={`${props.id}-help`} className="help">
          {props.help}
        </small>
      )}
    </div>
  );
}

/** A column of a resource table: its header and what a row shows in it. */
export interface TableColumn<T> {
  header: MessageKey | { text: string };
  cell: (row: T) => ReactNode;
}

/**
 * The list of a resource page: "loading" until the rows arrive, "none yet" when there are none, else a
 * table with a header per column and, when `actions` is given (the role may change things), a last column
 * of buttons per row. `rowData` names the row for tests and styles (`data-…` attributes).
 */
export function ResourceTable<T>(props: {
  rows: readonly T[] | null;
  columns: ReadonlyArray<TableColumn<T>>;
  rowKey: (row: T) => string;
  rowData?: (row: T) => Record<`data-${string}`, string>;
  actions?: (row: T) => ReactNode;
  testId?: string;
}) {
  const { t } = useT();
  if (props.rows === null) return <p>{t('loading')}</p>;
  if (props.rows.length === 0) return <p>{t('noneYet')}</p>;
  const headerOf = (column: TableColumn<T>) =>
    typeof column.header === 'string' ? t(column.header) : column.header.text;
  return (
    <table className="list" data-testid={props.testId}>
      <thead>
        <tr>
          {props.columns.map((column) => (
            <th scope="col" key={headerOf(column)}>
              {headerOf(column)}
            </th>
          ))}
          {props.actions && <th scope="col">{t('actions')}</th>}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((row) => (
          <tr key={props.rowKey(row)} {...props.rowData?.(row)}>
            {props.columns.map((column) => (
              <td key={headerOf(column)}>{column.cell(row)}</td>
            ))}
            {props.actions && <td>{props.actions(row)}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The buttons under a rows editor: add a row (when `onAdd`), save the whole set, discard the edits. */
export function DraftButtons(props: {
  addLabel: string;
  saveLabel: string;
  discardLabel: string;
  unsavedLabel: string;
  onAdd: (() => void) | null;
  onDiscard: () => void;
  dirty: boolean;
  busy: boolean;
}) {
  return (
    <div className="row">
      {props.onAdd && (
        <button type="button" onClick={props.onAdd}>
          {props.addLabel}
        </button>
      )}
      <button type="submit" className="primary" disabled={!props.dirty || props.busy}>
        {props.saveLabel}
      </button>
      {props.dirty && (
        <>
          <button type="button" onClick={props.onDiscard}>
            {props.discardLabel}
          </button>
          <span className="muted">{props.unsavedLabel}</span>
        </>
      )}
    </div>
  );
}
