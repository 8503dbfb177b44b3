/**
 * The operator area: hosts (state, health, utilisation; drain and back to active, confirmed), capacity per
 * product and region as a heat map, the placement audit, regions (status, confirmed), incidents and
 * maintenances (open, resolve, schedule, cancel), revenue, the SLA credits of every project (a month's, with
 * their invoicing state), the operator's own operator sessions (revoke, confirmed), and the people linked as
 * operators with the reset of another's two-factor authentication (operator-people.tsx).
 *
 * Operators sign this area in with an operator session (issue #16): email, password and the TOTP code of a
 * user linked as an operator (`vmcloud operator-user link`). The session lives in its own cookies
 * (vmc_operator_session, HttpOnly; vmc_operator_csrf), beside the project session: the API takes it for the
 * operator routes, and its mutations carry the operator CSRF token. "Leave" signs the operator session out.
 */
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { createClient } from '../../../src/client/http.ts';
import {
  auditPlacement,
  cancelMaintenance,
  createIncident,
  createMaintenance,
  getCapacity,
  getOperatorSession,
  getRevenue,
  incidentImpacts,
  listComponents,
  listHosts,
  listIncidents,
  listMaintenances,
  listOperatorSessions,
  listRegions,
  listSlaCredits,
  listProjects,
  operatorLogin,
  operatorLogout,
  regionStatuses,
  resolveIncident,
  revokeOperatorSession,
  setHostState,
  setRegionStatus,
  type Host,
  type HostState,
  type Incident,
  type Maintenance,
  type OperatorSession,
  type Region,
  type RegionCapacity,
  type RegionStatus,
  type SlaCredit,
} from '../../../src/contract/index.ts';
import { VmcError } from '../api.ts';
import { ErrorNotice, Field, Link, ResourceTable, StatusBadge } from '../components.tsx';
import { useAction, useConfirm, useFormat, useLoad } from '../hooks.tsx';
import type { MessageKey } from '../i18n.tsx';
import { OperatorPeople } from './operator-people.tsx';
import { OperatorProjects } from './operator-projects.tsx';

/** The CSRF token of the operator session (its cookie is readable; the session cookie is not). */
function operatorCsrfToken(): string | null {
  for (const part of document.cookie.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === 'vmc_operator_csrf' || name === '__Host-vmc_operator_csrf') return rest.join('=');
  }
  return null;
}

/** Every call names the operator session: routes both kinds may call (capacity) then answer as to an operator. */
const operatorFetch: typeof fetch = (input, init) => {
  const headers = new Headers(init?.headers);
  headers.set('x-vmcloud-session', 'operator');
  return fetch(input, { ...init, headers });
};

const operatorClient = createClient({
  baseUrl: window.location.origin,
  token: undefined,
  session: { csrfToken: operatorCsrfToken },
  fetch: operatorFetch,
});
type OperatorClient = typeof operatorClient;

export function OperatorArea({ path }: { path: string }) {
  const { t } = useFormat();
  // undefined: checking; null: signed out; else the operator's email.
  const [operator, setOperator] = useState<string | null | undefined>(undefined);
  const [leaveError, setLeaveError] = useState<unknown>(null);
  useEffect(() => {
    if (!operatorCsrfToken()) {
      setOperator(null);
      return;
    }
    operatorClient
      .call(getOperatorSession)
      .then((me) => setOperator(me.via === 'session' ? (me.user?.email ?? '') : null))
      .catch(() => setOperator(null));
  }, []);
  const leave = async () => {
    setLeaveError(null);
    try {
      await operatorClient.call(operatorLogout);
      setOperator(null);
    } catch (failure) {
      // A session that ended already is signed out as far as this page goes.
      if (failure instanceof VmcError && failure.code === 'unauthenticated') setOperator(null);
      else setLeaveError(failure);
    }
  };
  if (operator === undefined) return <p>{t('loading')}</p>;
  if (operator === null) return <OperatorSignIn onSignedIn={setOperator} />;
  const client = operatorClient;
  const tabs: [string, MessageKey][] = [
    ['/operator', 'hosts'],
    ['/operator/capacity', 'capacity'],
    ['/operator/placement', 'placementAudit'],
    ['/operator/regions', 'regionsTab'],
    ['/operator/projects', 'operatorProjectsTab'],
    ['/operator/incidents', 'incidentsAndMaintenances'],
    ['/operator/revenue', 'revenue'],
    ['/operator/sla-credits', 'slaCreditsTab'],
    ['/operator/sessions', 'operatorSessionsTab'],
    ['/operator/people', 'operatorPeopleTab'],
  ];
  let body: ReactNode;
  if (path === '/operator/capacity') body = <CapacityHeatMap client={client} />;
  else if (path === '/operator/placement') body = <PlacementAudit client={client} />;
  else if (path === '/operator/regions') body = <Regions client={client} />;
  else if (path === '/operator/projects') body = <OperatorProjects client={client} />;
  else if (path === '/operator/incidents') body = <Incidents client={client} />;
  else if (path === '/operator/revenue') body = <Revenue client={client} />;
  else if (path === '/operator/sla-credits') body = <SlaCredits client={client} />;
  else if (path === '/operator/sessions') body = <OperatorSessions client={client} />;
  else if (path === '/operator/people') body = <OperatorPeople client={client} me={operator} />;
  else body = <Hosts client={client} />;
  return (
    <section aria-labelledby="operator-title">
      <div className="row between">
        <h1 id="operator-title">{t('operatorArea')}</h1>
        <span className="muted" data-testid="operator-email">
          {operator}
        </span>
        <button type="button" onClick={() => void leave()}>
          {t('leaveOperator')}
        </button>
      </div>
      <ErrorNotice error={leaveError} />
      <nav aria-label={t('operatorArea')}>
        <ul className="tabs">
          {tabs.map(([href, label]) => (
            <li key={href}>
              <Link href={href} aria-current={path === href ? 'page' : undefined}>
                {t(label)}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      {body}
    </section>
  );
}

/** Email, password and the TOTP code: all three at once (an operator session always needs the code). */
function OperatorSignIn({ onSignedIn }: { onSignedIn: (email: string) => void }) {
  const { t } = useFormat();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const action = useAction();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      const signedIn = await operatorClient.call(operatorLogin, {
        body: { email: email.trim(), password, totp_code: code.trim() },
      });
      onSignedIn(signedIn.user.email);
    });
  };
  return (
    <section aria-labelledby="operator-title" className="narrow card">
      <h1 id="operator-title">{t('operatorArea')}</h1>
      <p>{t('operatorSignInIntro')}</p>
      <form onSubmit={submit}>
        <Field id="operator-email" label={t('email')}>
          <input
            id="operator-email"
            type="email"
            autoComplete="username"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </Field>
        <Field id="operator-password" label={t('password')}>
          <input
            id="operator-password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </Field>
        <Field id="operator-code" label={t('totpCode')} help={t('totpHelp')}>
          <input
            id="operator-code"
            inputMode="numeric"
            autoComplete="one-time-code"
            pattern="[0-9]{6}"
            required
            value={code}
            onChange={(e) => setCode(e.target.value)}
            aria-describedby="operator-code-help"
          />
        </Field>
        {action.view}
        <button type="submit" className="primary" disabled={action.busy}>
          {t('signIn')}
        </button>
      </form>
    </section>
  );
}

/** Regions and their status; an operator changes one (confirmed): maintenance takes no new servers. */
function Regions({ client }: { client: OperatorClient }) {
  const { t } = useFormat();
  const regions = useLoad(async () => (await client.call(listRegions)).regions, [client]);
  const action = useAction();
  const { ask, dialog } = useConfirm();
  const change = (region: Region, status: RegionStatus) =>
    ask(
      t('setRegionStatus'),
      t('confirmRegionStatus', { region: region.code.toUpperCase(), status }),
      () =>
        void action.run(async () => {
          await client.call(setRegionStatus, { params: { code: region.code }, body: { status } });
          await regions.reload();
          return t('regionNowStatus', { region: region.code.toUpperCase(), status });
        }),
      { label: t('setRegionStatus'), danger: status !== 'operational' },
    );
  return (
    <>
      <h2>{t('regionsTab')}</h2>
      <ErrorNotice error={regions.error} />
      {action.view}
      {!(regions.data === null && regions.error) && (
        <ResourceTable
          testId="regions"
          rows={regions.data}
          rowKey={(region) => region.code}
          rowData={(region) => ({ 'data-region': region.code })}
          columns={[
            { header: 'region', cell: (region) => region.code.toUpperCase() },
            {
              header: 'name',
              cell: (region) => (
                <>
                  {region.name}
                  <div className="muted">
                    {region.city}, {region.country}
                  </div>
                </>
              ),
            },
            { header: 'status', cell: (region) => <StatusBadge status={region.status} /> },
          ]}
          actions={(region) => (
            <>
              <label className="sr-only" htmlFor={`region-status-${region.code}`}>
                {t('setRegionStatus')} {region.code.toUpperCase()}
              </label>
              <select
                id={`region-status-${region.code}`}
                value={region.status}
                disabled={action.busy}
                onChange={(e) => change(region, e.target.value as RegionStatus)}
              >
                {regionStatuses.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </>
          )}
        />
      )}
      {dialog}
    </>
  );
}

const pct = (used: number, total: number) => (total > 0 ? Math.round((used / total) * 100) : 0);

function Meter({ used, total, label }: { used: number; total: number; label: string }) {
  const p = pct(used, total);
  return (
    <span className="meter-cell">
      <meter min={0} max={100} value={p} aria-label={label} low={70} high={90} optimum={0} /> {p} %
    </span>
  );
}

function Hosts({ client }: { client: OperatorClient }) {
  const { t, when } = useFormat();
  const hosts = useLoad(async () => (await client.call(listHosts)).hosts, [client]);
  const action = useAction();
  const { ask, dialog } = useConfirm();
  const change = (host: Host, state: HostState) => {
    const run = () =>
      void action.run(async () => {
        const answer = await client.call(setHostState, { params: { id: host.id }, body: { state } });
        await hosts.reload();
        return answer.drain
          ? t('drained', { name: host.name, moved: answer.drain.moved.length, stuck: answer.drain.stuck.length })
          : t('hostNowState', { name: host.name, state });
      });
    if (state === 'active') run();
    else
      ask(
        t(state === 'draining' ? 'drain' : 'maintenance'),
        t('confirmDrain', { name: host.name, n: host.usage.servers }),
        run,
        {
          label: t(state === 'draining' ? 'drain' : 'maintenance'),
        },
      );
  };
  return (
    <>
      <h2>{t('hosts')}</h2>
      <ErrorNotice error={hosts.error} />
      {action.view}
      {hosts.data === null ? (
        !hosts.error && <p>{t('loading')}</p>
      ) : (
        <table className="list" data-testid="hosts">
          <thead>
            <tr>
              <th scope="col">{t('name')}</th>
              <th scope="col">{t('region')}</th>
              <th scope="col">{t('state')}</th>
              <th scope="col">{t('health')}</th>
              <th scope="col">{t('servers')}</th>
              <th scope="col">vCPU</th>
              <th scope="col">RAM</th>
              <th scope="col">{t('disk_')}</th>
              <th scope="col">{t('lastHeartbeat')}</th>
              <th scope="col">{t('actions')}</th>
            </tr>
          </thead>
          <tbody>
            {hosts.data.map((host) => (
              <tr key={host.id} data-host={host.name}>
                <td>
                  {host.name}
                  <div className="muted">
                    {host.kind} · {host.driver}
                  </div>
                </td>
                <td>{host.region.toUpperCase()}</td>
                <td>
                  <StatusBadge status={host.state} />
                </td>
                <td>
                  <StatusBadge status={host.health} />
                  {host.health_reason && <div className="muted">{host.health_reason}</div>}
                </td>
                <td>{host.usage.servers}</td>
                <td>
                  <Meter used={host.usage.vcpus} total={host.capacity.vcpus} label={`${host.name} vCPU`} />
                </td>
                <td>
                  <Meter used={host.usage.memory_mib} total={host.capacity.memory_mib} label={`${host.name} RAM`} />
                </td>
                <td>
                  <Meter
                    used={host.usage.disk_gib}
                    total={host.capacity.disk_gib}
                    label={`${host.name} ${t('disk_')}`}
                  />
                </td>
                <td>{when(host.last_heartbeat_at)}</td>
                <td>
                  <div className="row">
                    {host.state === 'active' ? (
                      <>
                        <button type="button" className="danger" onClick={() => change(host, 'draining')}>
                          {t('drain')}
                        </button>
                        <button type="button" onClick={() => change(host, 'maintenance')}>
                          {t('maintenance')}
                        </button>
                      </>
                    ) : (
                      <button type="button" onClick={() => change(host, 'active')}>
                        {t('activate')}
                      </button>
                    )}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {dialog}
    </>
  );
}

/** Products × regions: how many more servers fit now, coloured by the share of the empty capacity left. */
function CapacityHeatMap({ client }: { client: OperatorClient }) {
  const { t } = useFormat();
  const capacity = useLoad(async () => (await client.call(getCapacity)).capacity as RegionCapacity[], [client]);
  const regions = capacity.data ?? [];
  const products = [...new Set(regions.flatMap((r) => r.products.map((p) => p.product)))].sort();
  const heat = (left: number, whenEmpty: number) => {
    if (whenEmpty === 0) return 'na';
    const share = left / whenEmpty;
    return share === 0 ? '4' : share < 0.2 ? '3' : share < 0.5 ? '2' : share < 0.8 ? '1' : '0';
  };
  return (
    <>
      <h2>{t('capacity')}</h2>
      <p className="help">{t('heatMapHelp')}</p>
      <ErrorNotice error={capacity.error} />
      {regions.length > 0 && (
        <table className="list heatmap" data-testid="heatmap">
          <thead>
            <tr>
              <th scope="col">{t('product')}</th>
              {regions.map((r) => (
                <th scope="col" key={r.region} className="num">
                  {r.region.toUpperCase()}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            <tr>
              <th scope="row">{t('vcpuUsed')}</th>
              {regions.map((r) => (
                <td key={r.region} className="num">
                  {r.compute.used_vcpus}/{r.compute.sellable_vcpus} ({Math.round(r.compute.pct)} %)
                </td>
              ))}
            </tr>
            {products.map((product) => (
              <tr key={product}>
                <th scope="row">{product}</th>
                {regions.map((r) => {
                  const cell = r.products.find((p) => p.product === product);
                  return cell ? (
                    <td
                      key={r.region}
                      className={`num heat heat-${heat(cell.servers, cell.servers_when_empty)}`}
                      data-cell={`${product}@${r.region}`}
                      title={t(`availability_${cell.availability}` as MessageKey)}
                    >
                      {cell.servers}
                      <span className="muted"> / {cell.servers_when_empty}</span>
                    </td>
                  ) : (
                    <td key={r.region} className="num muted">
                      —
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function PlacementAudit({ client }: { client: OperatorClient }) {
  const { t } = useFormat();
  const audit = useLoad(() => client.call(auditPlacement), [client]);
  const a = audit.data;
  return (
    <>
      <h2>{t('placementAudit')}</h2>
      <ErrorNotice error={audit.error} />
      {a && (
        <>
          <p data-testid="placement-audit">
            {t('auditSummary', { hosts: a.hosts, allocations: a.allocations, violations: a.violations.length })}
          </p>
          {a.violations.length > 0 && (
            <ul className="notice error">
              {a.violations.map((v, i) => (
                <li key={i}>
                  <code>{JSON.stringify(v)}</code>
                </li>
              ))}
            </ul>
          )}
          <button type="button" onClick={() => void audit.reload()}>
            {t('runAgain')}
          </button>
        </>
      )}
    </>
  );
}

/** A required multiple choice of status components (an incident's or a maintenance's). */
function ComponentsField(props: {
  id: string;
  ids: { id: string }[] | null | undefined;
  value: string[];
  onChange: (chosen: string[]) => void;
}) {
  const { t } = useFormat();
  return (
    <Field id={props.id} label={t('components')}>
      <select
        id={props.id}
        multiple
        required
        size={6}
        value={props.value}
        onChange={(e) => props.onChange([...e.target.selectedOptions].map((o) => o.value))}
      >
        {(props.ids ?? []).map((c) => (
          <option key={c.id} value={c.id}>
            {c.id}
          </option>
        ))}
      </select>
    </Field>
  );
}

function Incidents({ client }: { client: OperatorClient }) {
  const { t, when } = useFormat();
  const incidents = useLoad(
    async () => (await client.call(listIncidents, { query: { limit: '50' } })).incidents,
    [client],
  );
  const maintenances = useLoad(
    async () => (await client.call(listMaintenances, { query: { state: 'upcoming', limit: '50' } })).maintenances,
    [client],
  );
  const components = useLoad(async () => (await client.call(listComponents)).components, [client]);
  const action = useAction();
  const { ask, dialog } = useConfirm();
  const [title, setTitle] = useState('');
  const [impact, setImpact] = useState<Incident['impact']>('minor');
  const [chosen, setChosen] = useState<string[]>([]);
  const [message, setMessage] = useState('');
  const [mTitle, setMTitle] = useState('');
  const [mChosen, setMChosen] = useState<string[]>([]);
  const [mStarts, setMStarts] = useState('');
  const [mEnds, setMEnds] = useState('');
  const [mMessage, setMMessage] = useState('');

  /** A maintenance window, typed in local time (datetime-local) and sent in UTC. */
  const schedule = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      const { maintenance } = await client.call(createMaintenance, {
        body: {
          title: mTitle.trim(),
          components: mChosen,
          starts_at: new Date(mStarts).toISOString(),
          ends_at: new Date(mEnds).toISOString(),
          ...(mMessage.trim() ? { body: mMessage.trim() } : {}),
        },
      });
      setMTitle('');
      setMMessage('');
      setMChosen([]);
      await maintenances.reload();
      return t('createdThing', { name: maintenance.title });
    });
  };

  const open = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      const { incident } = await client.call(createIncident, {
        body: { title: title.trim(), impact, components: chosen, body: message.trim() },
      });
      setTitle('');
      setMessage('');
      setChosen([]);
      await incidents.reload();
      return t('createdThing', { name: incident.title });
    });
  };
  const resolve = (incident: Incident) =>
    ask(
      t('resolve'),
      t('confirmResolve', { title: incident.title }),
      () =>
        void action.run(async () => {
          await client.call(resolveIncident, { params: { id: incident.id }, body: {} });
          await incidents.reload();
          return t('saved');
        }),
      { danger: false },
    );
  const cancel = (m: Maintenance) =>
    ask(
      t('cancelMaintenance'),
      t('confirmCancelMaintenance', { title: m.title }),
      () =>
        void action.run(async () => {
          await client.call(cancelMaintenance, { params: { id: m.id } });
          await maintenances.reload();
          return t('saved');
        }),
    );
  return (
    <>
      <h2>{t('incidents')}</h2>
      <ErrorNotice error={incidents.error ?? maintenances.error} />
      {action.view}
      {(incidents.data ?? []).length === 0 ? (
        <p className="muted">{t('noIncidents')}</p>
      ) : (
        <table className="list" data-testid="incidents">
          <thead>
            <tr>
              <th scope="col">{t('title')}</th>
              <th scope="col">{t('impact')}</th>
              <th scope="col">{t('status')}</th>
              <th scope="col">{t('components')}</th>
              <th scope="col">{t('created')}</th>
              <th scope="col">{t('actions')}</th>
            </tr>
          </thead>
          <tbody>
            {(incidents.data ?? []).map((incident) => (
              <tr key={incident.id} data-incident={incident.title}>
                <td>{incident.title}</td>
                <td>{incident.impact}</td>
                <td>
                  <StatusBadge status={incident.status} />
                </td>
                <td>{incident.components.join(', ')}</td>
                <td>{when(incident.created_at)}</td>
                <td>
                  {incident.status !== 'resolved' && (
                    <button type="button" onClick={() => resolve(incident)}>
                      {t('resolve')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form className="card" onSubmit={open} aria-labelledby="new-incident">
        <h3 id="new-incident">{t('openIncident')}</h3>
        <Field id="incident-title" label={t('title')}>
          <input id="incident-title" required value={title} onChange={(e) => setTitle(e.target.value)} />
        </Field>
        <Field id="incident-impact" label={t('impact')}>
          <select id="incident-impact" value={impact} onChange={(e) => setImpact(e.target.value as Incident['impact'])}>
            {incidentImpacts.map((i) => (
              <option key={i} value={i}>
                {i}
              </option>
            ))}
          </select>
        </Field>
        <ComponentsField id="incident-components" ids={components.data} value={chosen} onChange={setChosen} />
        <Field id="incident-body" label={t('message')}>
          <textarea id="incident-body" required rows={3} value={message} onChange={(e) => setMessage(e.target.value)} />
        </Field>
        <button type="submit" className="primary" disabled={action.busy}>
          {t('openIncident')}
        </button>
      </form>
      <h2>{t('maintenances')}</h2>
      <form className="card" onSubmit={schedule} aria-labelledby="new-maintenance">
        <h3 id="new-maintenance">{t('scheduleMaintenance')}</h3>
        <Field id="maintenance-title" label={t('title')}>
          <input id="maintenance-title" required value={mTitle} onChange={(e) => setMTitle(e.target.value)} />
        </Field>
        <ComponentsField id="maintenance-components" ids={components.data} value={mChosen} onChange={setMChosen} />
        <Field id="maintenance-starts" label={t('startsAt')}>
          <input
            id="maintenance-starts"
            type="datetime-local"
            required
            value={mStarts}
            onChange={(e) => setMStarts(e.target.value)}
          />
        </Field>
        <Field id="maintenance-ends" label={t('endsAt')}>
          <input
            id="maintenance-ends"
            type="datetime-local"
            required
            value={mEnds}
            onChange={(e) => setMEnds(e.target.value)}
          />
        </Field>
        <Field id="maintenance-body" label={t('message')}>
          <textarea id="maintenance-body" rows={2} value={mMessage} onChange={(e) => setMMessage(e.target.value)} />
        </Field>
        <button type="submit" className="primary" disabled={action.busy}>
          {t('scheduleMaintenance')}
        </button>
      </form>
      {(maintenances.data ?? []).length === 0 ? (
        <p className="muted">{t('noMaintenances')}</p>
      ) : (
        <ul>
          {(maintenances.data ?? []).map((m) => (
            <li key={m.id}>
              <strong>{m.title}</strong> <StatusBadge status={m.status} /> · {when(m.starts_at)} → {when(m.ends_at)}{' '}
              <button type="button" className="danger" onClick={() => cancel(m)}>
                {t('cancelMaintenance')}
              </button>
            </li>
          ))}
        </ul>
      )}
      {dialog}
    </>
  );
}

function Revenue({ client }: { client: OperatorClient }) {
  const { t, euros } = useFormat();
  const revenue = useLoad(() => client.call(getRevenue), [client]);
  const r = revenue.data;
  return (
    <>
      <h2>{t('revenue')}</h2>
      <ErrorNotice error={revenue.error} />
      {r && (
        <>
          <dl className="facts" data-testid="revenue">
            <dt>{t('month')}</dt>
            <dd>{r.month}</dd>
            <dt>{t('netRevenue')}</dt>
            <dd>{euros(r.net_cents)}</dd>
            <dt>{t('vat')}</dt>
            <dd>{euros(r.vat_cents)}</dd>
            <dt>{t('creditsGiven')}</dt>
            <dd>{euros(r.credits_given_cents)}</dd>
            <dt>{t('unpaid')}</dt>
            <dd>
              {r.unpaid.invoices} · {euros(r.unpaid.total_cents)}
            </dd>
          </dl>
          {r.lines.length > 0 && (
            <table className="list">
              <thead>
                <tr>
                  <th scope="col">{t('region')}</th>
                  <th scope="col">{t('item')}</th>
                  <th scope="col" className="num">
                    {t('amount')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {r.lines.map((line) => (
                  <tr key={`${line.region}-${line.item}`}>
                    <td>{line.region.toUpperCase()}</td>
                    <td>{line.item}</td>
                    <td className="num">{euros(line.amount_cents)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </>
  );
}

/** The SLA credits of a month (this one by default) across every project, largest first. */
function SlaCredits({ client }: { client: OperatorClient }) {
  const { t, euros, number } = useFormat();
  const [month, setMonth] = useState('');
  const [draft, setDraft] = useState('');
  const credits = useLoad(() => client.call(listSlaCredits, { query: month ? { month } : {} }), [client, month]);
  // The projects' names, for the customer column (a project beyond the first page shows its id alone).
  const projectNames = useLoad(
    async () =>
      new Map(
        (await client.call(listProjects, { query: { limit: '500' } })).projects.map((p) => [p.id, p.name] as const),
      ),
    [client],
  );
  const data = credits.data;
  const show = (event: FormEvent) => {
    event.preventDefault();
    setMonth(draft);
  };
  return (
    <>
      <h2>{t('slaCreditsTab')}</h2>
      <p className="help">{t('slaCreditsHelp')}</p>
      <form className="row" onSubmit={show} aria-label={t('slaCreditsTab')}>
        <Field id="credits-month" label={t('month')}>
          <input
            id="credits-month"
            type="month"
            value={draft || data?.month || ''}
            onChange={(e) => setDraft(e.target.value)}
          />
        </Field>
        <button type="submit">{t('showMonth')}</button>
      </form>
      <ErrorNotice error={credits.error} />
      {data && (
        <p data-testid="sla-credits-total">
          {data.credits.length === 0
            ? t('noSlaCredits')
            : t('creditsTotal', { amount: euros(data.total_cents), n: data.credits.length })}
        </p>
      )}
      {!(data === null && credits.error) && (data === null || data.credits.length > 0) && (
        <ResourceTable<SlaCredit>
          testId="sla-credits"
          rows={data?.credits ?? null}
          rowKey={(c) => `${c.project_id}/${c.server_id}`}
          rowData={(c) => ({ 'data-server': c.server_id, 'data-project': c.project_id })}
          columns={[
            {
              header: 'creditCustomer',
              cell: (c) => (
                <>
                  {c.customer ?? <span className="muted">{t('noBillingDetails')}</span>}
                  <div className="muted" data-testid="credit-project">
                    {projectNames.data?.get(c.project_id) ?? c.project_id} · {c.tier}
                  </div>
                </>
              ),
            },
            { header: 'month', cell: (c) => c.month },
            {
              header: 'server',
              cell: (c) => (
                <>
                  <code>{c.server_id}</code>
                  <div className="muted">{c.region.toUpperCase()}</div>
                </>
              ),
            },
            { header: 'creditDowntime', cell: (c) => t('minutesShort', { n: c.downtime_minutes }) },
            {
              header: 'creditAvailability',
              cell: (c) => `${number(c.availability_percent, 3)} % < ${number(Number(c.target_percent), 3)} %`,
            },
            { header: 'creditAmount', cell: (c) => <span className="num">{euros(c.credit_cents)}</span> },
            {
              header: 'status',
              cell: (c) => (
                <>
                  <span className={`badge status-${c.status}`} data-status={c.status}>
                    {t(`creditStatus_${c.status}` as MessageKey)}
                  </span>
                  {c.invoice && <div className="muted">{c.invoice.number ?? c.invoice.id}</div>}
                </>
              ),
            },
          ]}
        />
      )}
    </>
  );
}

/** The signed-in operator's operator sessions; revoking one (confirmed) signs it out at once. */
function OperatorSessions({ client }: { client: OperatorClient }) {
  const { t, when } = useFormat();
  const sessions = useLoad(async () => (await client.call(listOperatorSessions)).sessions, [client]);
  const action = useAction();
  const { ask, dialog } = useConfirm();
  const revoke = (session: OperatorSession) =>
    ask(
      t('revokeOperatorSession'),
      t('confirmRevokeOperatorSession', { created: when(session.created_at), from: session.source_ip ?? '—' }),
      () =>
        void action.run(async () => {
          await client.call(revokeOperatorSession, { params: { id: session.id } });
          await sessions.reload();
          return t('operatorSessionRevoked');
        }),
      { label: t('revoke') },
    );
  return (
    <>
      <h2>{t('operatorSessionsTab')}</h2>
      <p className="help">{t('operatorSessionsHelp')}</p>
      <ErrorNotice error={sessions.error} />
      {action.view}
      {!(sessions.data === null && sessions.error) && (
        <ResourceTable<OperatorSession>
          testId="operator-sessions"
          rows={sessions.data}
          rowKey={(s) => s.id}
          rowData={(s) => ({ 'data-session': s.id, 'data-current': String(s.current) })}
          columns={[
            {
              header: 'created',
              cell: (s) => (
                <>
                  {when(s.created_at)} {s.current && <strong>({t('thisSession')})</strong>}
                </>
              ),
            },
            { header: 'lastSeen', cell: (s) => when(s.last_seen_at) },
            {
              header: 'from',
              cell: (s) => (
                <>
                  {s.source_ip ?? '—'} <span className="muted">{s.user_agent?.slice(0, 40)}</span>
                </>
              ),
            },
            { header: 'secondFactor', cell: (s) => s.second_factor },
            { header: 'expires', cell: (s) => when(s.expires_at) },
          ]}
          actions={(s) =>
            s.current ? null : (
              <button type="button" className="danger" disabled={action.busy} onClick={() => revoke(s)}>
                {t('revoke')}
              </button>
            )
          }
        />
      )}
      {dialog}
    </>
  );
}
