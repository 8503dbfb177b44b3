/**
 * The server page's protection flags (delete and rebuild protection, `PATCH /v1/servers/{id}`), its ISO
 * boot (attach an ISO image of the catalog, detach; both confirmed) and its disk export (a download with
 * the session cookie, optionally kept encrypted under a fresh key shown once). A viewer sees the state,
 * no control.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import {
  attachIso,
  detachIso,
  exportServerDisk,
  ExportHeaders,
  listImages,
  updateServer,
  type CurrentPrincipal,
  type Server,
} from '../../../src/contract/index.ts';
import { buildUrl, errorFromResponse } from '../../../src/client/http.ts';
import { api } from '../api.ts';
import { ErrorNotice, Field } from '../components.tsx';
import { canChange, useAction, useConfirm, useFormat, useLoad } from '../hooks.tsx';

type Props = { me: CurrentPrincipal; server: Server; reload: () => Promise<void> };

/** The ISO boot and the disk export (the protection flags sit under the page's actions). */
export function ServerExtras(props: Props) {
  return (
    <>
      <ServerIso {...props} />
      <ServerExport {...props} />
    </>
  );
}

const flags = [
  { key: 'delete_protection', label: 'deleteProtection' },
  { key: 'rebuild_protection', label: 'rebuildProtection' },
] as const;
type Flag = (typeof flags)[number]['key'];

export function ServerProtection({ me, server, reload }: Props) {
  const { t } = useFormat();
  const action = useAction();
  const may = canChange(me);
  // What was just asked shows at once; the server's answer replaces it (a refusal puts the old state back).
  const [asked, setAsked] = useState<Partial<Record<Flag, boolean>>>({});
  const toggle = (key: Flag, label: (typeof flags)[number]['label'], on: boolean) => {
    setAsked((now) => ({ ...now, [key]: on }));
    void action.run(async () => {
      try {
        await api.call(updateServer, { params: { id: server.id }, body: { [key]: on } });
        await reload();
      } finally {
        setAsked((now) => ({ ...now, [key]: undefined }));
      }
      return t('protectionSaved', { what: t(label), state: t(on ? 'on' : 'off') });
    });
  };
  return (
    <section aria-labelledby="protection-title">
      <h2 id="protection-title">{t('protection')}</h2>
      <p className="muted">{t('protectionHelp')}</p>
      <fieldset disabled={!may || action.busy}>
        <legend className="sr-only">{t('protection')}</legend>
        {flags.map(({ key, label }) => (
          <label key={key} className="inline" data-protection={key} data-on={String(server[key])}>
            <input
              type="checkbox"
              checked={asked[key] ?? server[key]}
              onChange={(e) => toggle(key, label, e.target.checked)}
            />{' '}
            {t(label)}
          </label>
        ))}
      </fieldset>
      {action.view}
    </section>
  );
}

function ServerIso({ me, server, reload }: Props) {
  const { t } = useFormat();
  // ISO images of the catalog: an uploaded ISO file is an image of the `iso` family.
  const isos = useLoad(
    async () => (await api.call(listImages)).images.filter((i) => i.os_family === 'iso' && i.status === 'available'),
    [],
  );
  const action = useAction();
  const { ask, dialog } = useConfirm();
  const [iso, setIso] = useState('');
  const may = canChange(me);
  // As the API decides: a server meant to run restarts into the ISO (or its disk) now; else at its next start.
  const running = server.desired_state === 'running';
  const attach = (event: FormEvent) => {
    event.preventDefault();
    ask(
      t('attachIso'),
      t(running ? 'confirmAttachIsoRunning' : 'confirmAttachIsoStopped', { iso, name: server.name }),
      () =>
        void action.run(async () => {
          const { action: accepted } = await api.call(attachIso, { params: { id: server.id }, body: { iso } });
          setIso('');
          await reload();
          return t('actionStarted', { action: `attach-iso → ${iso} (${accepted.id})` });
        }),
      { danger: false },
    );
  };
  const detach = () =>
    ask(
      t('detachIso'),
      t(running ? 'confirmDetachIsoRunning' : 'confirmDetachIsoStopped', { iso: server.iso ?? '', name: server.name }),
      () =>
        void action.run(async () => {
          const { action: accepted } = await api.call(detachIso, { params: { id: server.id } });
          await reload();
          return t('actionStarted', { action: `detach-iso (${accepted.id})` });
        }),
      { danger: false },
    );
  return (
    <section aria-labelledby="iso-title">
      <h2 id="iso-title">{t('isoTitle')}</h2>
      <p className="muted">{t('isoHelp')}</p>
      <p data-testid="attached-iso" data-iso={server.iso ?? ''}>
        {t('attachedIso')}: {server.iso ? <code>{server.iso}</code> : t('noIso')}
      </p>
      <ErrorNotice error={isos.error} />
      {may && server.iso && (
        <button type="button" onClick={detach} disabled={action.busy}>
          {t('detachIso')}
        </button>
      )}
      {may && !server.iso && isos.data?.length === 0 && <p className="muted">{t('noIsoImages')}</p>}
      {may && !server.iso && !!isos.data?.length && (
        <form className="row" onSubmit={attach}>
          <Field id="iso-image" label={t('isoToAttach')}>
            <select id="iso-image" value={iso} onChange={(e) => setIso(e.target.value)} required>
              <option value="" disabled>
                —
              </option>
              {isos.data.map((i) => (
                <option key={i.slug} value={i.slug}>
                  {i.name} ({i.slug})
                </option>
              ))}
            </select>
          </Field>
          <button type="submit" disabled={action.busy || !iso}>
            {t('attachIso')}
          </button>
        </form>
      )}
      {action.view}
      {dialog}
    </section>
  );
}

interface Exported {
  url: string;
  file: string;
  sizeBytes: number;
  key: string | null;
}

/** The file name the API gives in Content-Disposition, else one made of the server's name. */
function fileNameOf(disposition: string | null, fallback: string) {
  return /filename="([^"]+)"/.exec(disposition ?? '')?.[1] ?? fallback;
}

function ServerExport({ me, server }: Props) {
  const { t, bytes } = useFormat();
  const action = useAction();
  const [format, setFormat] = useState<'qcow2' | 'raw'>('qcow2');
  const [encrypted, setEncrypted] = useState(false);
  const [progress, setProgress] = useState<{ done: number; total: number | null } | null>(null);
  const [exported, setExported] = useState<Exported | null>(null);
  const objectUrl = useRef<string | null>(null);
  // The file is held by the page until it is saved: let it go when the page does.
  useEffect(
    () => () => {
      if (objectUrl.current) URL.revokeObjectURL(objectUrl.current);
    },
    [],
  );
  if (!canChange(me)) return null;
  const path = exportServerDisk.path.replace(':id', encodeURIComponent(server.id));
  const directHref = buildUrl(window.location.origin, path, { format });

  const start = (event: FormEvent) => {
    event.preventDefault();
    if (objectUrl.current) URL.revokeObjectURL(objectUrl.current);
    objectUrl.current = null;
    setExported(null);
    void action.run(async () => {
      const query = encrypted ? { format: 'qcow2', encrypted: 'true' } : { format };
      // A GET: the session cookie is enough (no CSRF token); fetch, not a link, to read the key's header.
      const response = await fetch(buildUrl(window.location.origin, path, query), { credentials: 'same-origin' });
      if (!response.ok) {
        const text = await response.text();
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not problem+json: the text is the message
        }
        throw errorFromResponse(response.status, body, response.headers);
      }
      const length = response.headers.get('content-length');
      const total = length === null ? null : Number(length);
      const chunks: Uint8Array<ArrayBuffer>[] = [];
      let done = 0;
      setProgress({ done, total });
      const reader = response.body!.getReader();
      for (;;) {
        const { value, done: finished } = await reader.read();
        if (finished) break;
        chunks.push(value);
        done += value.byteLength;
        setProgress({ done, total });
      }
      setProgress(null);
      const blob = new Blob(chunks, { type: 'application/octet-stream' });
      objectUrl.current = URL.createObjectURL(blob);
      const file = fileNameOf(
        response.headers.get('content-disposition'),
        `${server.name}.${response.headers.get(ExportHeaders.format) ?? format}`,
      );
      setExported({
        url: objectUrl.current,
        file,
        sizeBytes: blob.size,
        key: response.headers.get(ExportHeaders.exportKey),
      });
      return t('exportReady', { size: bytes(blob.size) });
    });
  };

  return (
    <section aria-labelledby="export-title">
      <h2 id="export-title">{t('diskExport')}</h2>
      <p className="muted">{t('diskExportHelp')}</p>
      <form className="row" onSubmit={start}>
        <Field id="export-format" label={t('exportFormat')}>
          <select
            id="export-format"
            value={encrypted ? 'qcow2' : format}
            disabled={encrypted}
            onChange={(e) => setFormat(e.target.value === 'raw' ? 'raw' : 'qcow2')}
          >
            <option value="qcow2">qcow2</option>
            <option value="raw">raw</option>
          </select>
        </Field>
        <label className="inline">
          <input type="checkbox" checked={encrypted} onChange={(e) => setEncrypted(e.target.checked)} />{' '}
          {t('exportEncrypted')}
        </label>
        <button type="submit" disabled={action.busy}>
          {t('startExport')}
        </button>
      </form>
      {progress && (
        <p aria-live="polite" data-testid="export-progress">
          <progress
            max={progress.total ?? undefined}
            value={progress.total === null ? undefined : progress.done}
            aria-label={t('diskExport')}
          />{' '}
          {progress.total === null
            ? t('exporting', { done: bytes(progress.done) })
            : t('exportingOf', { done: bytes(progress.done), total: bytes(progress.total) })}
        </p>
      )}
      {action.view}
      {exported && (
        <div className="card" data-testid="export-ready">
          <p>
            <a href={exported.url} download={exported.file} data-size={exported.sizeBytes}>
              {t('saveExport', { file: exported.file })}
            </a>
          </p>
          {exported.key && (
            <>
              <p>{t('exportKeyOnce')}</p>
              <code data-testid="export-key">{exported.key}</code>
            </>
          )}
        </div>
      )}
      <p className="muted">
        {t('exportInMemory')}{' '}
        <a href={directHref} download data-testid="export-direct">
          {t('directDownload', { format })}
        </a>
      </p>
    </section>
  );
}
