/** The server list: live status from the event stream (no reload), filters by region, status and labels. */
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { listServers, type CurrentPrincipal, type Server } from '../../../src/contract/index.ts';
import { api } from '../api.ts';
import { useT } from '../i18n.tsx';
import { ErrorNotice, Link, StatusBadge } from '../components.tsx';
import { useLiveEvents } from '../live.ts';

export function ServerList({ me }: { me: CurrentPrincipal }) {
  const { t, lang } = useT();
  const [servers, setServers] = useState<Server[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [region, setRegion] = useState('');
  const [status, setStatus] = useState('');
  const [labelInput, setLabelInput] = useState('');
  const [labelSelector, setLabelSelector] = useState('');
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);

  const load = useCallback(async () => {
    try {
      const all: Server[] = [];
      let cursor: string | null = null;
      do {
        const page: { servers: Server[]; next_cursor: string | null } = await api.call(listServers, {
          query: {
            limit: '200',
            ...(cursor ? { cursor } : {}),
            ...(labelSelector ? { label_selector: labelSelector } : {}),
          },
        });
        all.push(...page.servers);
        cursor = page.next_cursor;
      } while (cursor);
      setServers(all);
      setError(null);
    } catch (failure) {
      setError(failure);
    }
  }, [labelSelector]);
  useEffect(() => {
    void load();
  }, [load]);

  const live = useLiveEvents((event) => {
    if (event.resource.type !== 'server') return;
    // Bursts of events (a create, its start) are one reload.
    if (pending.current) clearTimeout(pending.current);
    pending.current = setTimeout(() => void load(), 150);
  });

  const shown = (servers ?? []).filter((s) => (!region || s.region === region) && (!status || s.status === status));
  const regions = [...new Set((servers ?? []).map((s) => s.region))].sort();
  const statuses = [...new Set((servers ?? []).map((s) => s.status))].sort();
  const applyLabels = (event: FormEvent) => {
    event.preventDefault();
    setLabelSelector(labelInput.trim());
  };

  return (
    <section aria-labelledby="servers-title">
      <div className="row between">
        <h1 id="servers-title">{t('servers')}</h1>
        {me.project.role !== 'viewer' && (
          <Link href="/servers/new" className="button primary">
            {t('createServer')}
          </Link>
        )}
      </div>
      <p className="muted" aria-live="polite" data-live={live}>
        {live === 'live' ? `● ${t('live')}` : t('reconnecting')}
      </p>
      <form className="filters row" onSubmit={applyLabels} aria-label={t('filter')}>
        <label>
          {t('region')}
          <select value={region} onChange={(e) => setRegion(e.target.value)}>
            <option value="">{t('allRegions')}</option>
            {regions.map((r) => (
              <option key={r} value={r}>
                {r.toUpperCase()}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('status')}
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">{t('allStatuses')}</option>
            {statuses.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('labelSelector')}
          <input value={labelInput} onChange={(e) => setLabelInput(e.target.value)} placeholder="env=prod" />
        </label>
        <button type="submit">{t('filter')}</button>
      </form>
      <ErrorNotice error={error} />
      {servers === null ? (
        <p>{t('loading')}</p>
      ) : shown.length === 0 ? (
        <p>{t('noServers')}</p>
      ) : (
        <table className="list">
          <thead>
            <tr>
              <th scope="col">{t('name')}</th>
              <th scope="col">{t('status')}</th>
              <th scope="col">{t('region')}</th>
              <th scope="col">{t('product')}</th>
              <th scope="col">{t('address')}</th>
              <th scope="col">{t('created')}</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((server) => (
              <tr key={server.id} data-server={server.name}>
                <td>
                  <Link href={`/servers/${server.id}`}>{server.name}</Link>
                </td>
                <td>
                  <StatusBadge status={server.status} />
                </td>
                <td>{server.region.toUpperCase()}</td>
                <td>{server.product}</td>
                <td>{server.ipv4 ?? '—'}</td>
                <td>{new Date(server.created_at).toLocaleString(lang === 'fr' ? 'fr-FR' : 'en-GB')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
