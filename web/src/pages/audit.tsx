/** The project's audit log (owners): who did what, when, from where, with what outcome; paged. */
import { useState } from 'react';
import { listAuditLog, type AuditEntry, type CurrentPrincipal } from '../../../src/contract/index.ts';
import { api } from '../api.ts';
import { ErrorNotice } from '../components.tsx';
import { PageHeader, isOwner, useAction, useFormat, useLoad } from '../hooks.tsx';

export function AuditLog({ me }: { me: CurrentPrincipal }) {
  const { t, when } = useFormat();
  const owner = isOwner(me);
  const [more, setMore] = useState<AuditEntry[]>([]);
  const first = useLoad(
    async () => (owner ? await api.call(listAuditLog, { query: { limit: '50' } }) : { entries: [], next_cursor: null }),
    [owner],
  );
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const action = useAction();
  if (!owner)
    return (
      <section aria-labelledby="audit-title">
        <PageHeader id="audit-title" title="auditLog" />
        <p className="muted">{t('ownersOnly')}</p>
      </section>
    );
  const next = cursor === undefined ? (first.data?.next_cursor ?? null) : cursor;
  const entries = [...(first.data?.entries ?? []), ...more];
  const loadMore = () =>
    void action.run(async () => {
      const page = await api.call(listAuditLog, { query: { limit: '50', cursor: next! } });
      setMore([...more, ...page.entries]);
      setCursor(page.next_cursor);
    });
  return (
    <section aria-labelledby="audit-title">
      <PageHeader id="audit-title" title="auditLog" />
      <ErrorNotice error={first.error} />
      {action.view}
      {first.data === null ? (
        <p>{t('loading')}</p>
      ) : (
        <table className="list" data-testid="audit-log">
          <thead>
            <tr>
              <th scope="col">{t('when')}</th>
              <th scope="col">{t('actor')}</th>
              <th scope="col">{t('auditAction')}</th>
              <th scope="col">{t('resource')}</th>
              <th scope="col">{t('outcome')}</th>
              <th scope="col">{t('from')}</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => (
              <tr key={entry.id}>
                <td>{when(entry.at)}</td>
                <td>{entry.actor.user_id ?? entry.actor.token_id ?? '—'}</td>
                <td>
                  <code>{entry.action}</code>
                </td>
                <td>{entry.resource.id ? `${entry.resource.type} ${entry.resource.id}` : '—'}</td>
                <td>
                  {entry.outcome === 'success' ? t('success') : t('failure')}
                  {entry.status_code ? ` (${entry.status_code})` : ''}
                </td>
                <td>{entry.source_ip ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next && (
        <button type="button" onClick={loadMore} disabled={action.busy}>
          {t('loadMore')}
        </button>
      )}
    </section>
  );
}
