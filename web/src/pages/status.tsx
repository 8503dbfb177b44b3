/** The platform's status: components per region (with 90-day uptime), active incidents, maintenances. */
import { listComponents, listIncidents, listMaintenances } from '../../../src/contract/index.ts';
import { api } from '../api.ts';
import { ErrorNotice, StatusBadge } from '../components.tsx';
import { PageHeader, useFormat, useLoad } from '../hooks.tsx';

export function PlatformStatus() {
  const { t, when, number } = useFormat();
  const components = useLoad(async () => (await api.call(listComponents)).components, []);
  const incidents = useLoad(async () => (await api.call(listIncidents, { query: { limit: '20' } })).incidents, []);
  const maintenances = useLoad(
    async () => (await api.call(listMaintenances, { query: { state: 'upcoming', limit: '20' } })).maintenances,
    [],
  );
  const groups = new Map<string, NonNullable<typeof components.data>>();
  for (const c of components.data ?? []) groups.set(c.group, [...(groups.get(c.group) ?? []), c]);
  return (
    <section aria-labelledby="status-title">
      <PageHeader id="status-title" title="platformStatus" />
      <ErrorNotice error={components.error ?? incidents.error ?? maintenances.error} />
      <h2>{t('incidents')}</h2>
      {(incidents.data ?? []).length === 0 ? (
        <p className="muted">{t('noIncidents')}</p>
      ) : (
        <ul className="incidents">
          {(incidents.data ?? []).map((incident) => (
            <li key={incident.id} data-incident={incident.id}>
              <strong>{incident.title}</strong> <StatusBadge status={incident.status} /> · {t('impact')}:{' '}
              {incident.impact} · {when(incident.created_at)}
              {incident.updates[0] && <p className="muted">{incident.updates[incident.updates.length - 1].body}</p>}
            </li>
          ))}
        </ul>
      )}
      <h2>{t('maintenances')}</h2>
      {(maintenances.data ?? []).length === 0 ? (
        <p className="muted">{t('noMaintenances')}</p>
      ) : (
        <ul>
          {(maintenances.data ?? []).map((m) => (
            <li key={m.id}>
              <strong>{m.title}</strong> <StatusBadge status={m.status} /> · {when(m.starts_at)} → {when(m.ends_at)} ·{' '}
              {m.components.join(', ')}
            </li>
          ))}
        </ul>
      )}
      <h2>{t('components')}</h2>
      {[...groups.entries()].map(([group, list]) => (
        <table className="list" key={group}>
          <caption>{group}</caption>
          <thead>
            <tr>
              <th scope="col">{t('component')}</th>
              <th scope="col">{t('status')}</th>
              <th scope="col" className="num">
                {t('uptime90')}
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((c) => (
              <tr key={c.id} data-component={c.id}>
                <td>{c.name}</td>
                <td>
                  <StatusBadge status={c.status} />
                  {c.reason && <span className="muted"> {c.reason}</span>}
                </td>
                <td className="num">{c.uptime_90d_percent === null ? '—' : `${number(c.uptime_90d_percent, 3)} %`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
    </section>
  );
}
