/**
 * Project settings the API already had: the billing account (name, address, country, VAT ID, SLA tier,
 * budget, traffic billing) and flow logs (on/off, which servers, retention; records queried by server and
 * time). Changing any of them is for owners (the API's rule); others see the state. DDoS protection has its
 * own page (ddos.tsx).
 */
import { useEffect, useState, type FormEvent } from 'react';
import {
  getBillingAccount,
  getFlowLogSettings,
  listFlowLogs,
  setBillingAccount,
  setFlowLogSettings,
  slaTierValues,
  trafficBillingValues,
  type BillingAccount,
  type CurrentPrincipal,
  type FlowRecord,
} from '../../../src/contract/index.ts';
import { api, VmcError } from '../api.ts';
import { ErrorNotice, Field, ResourceTable } from '../components.tsx';
import { PageHeader, isOwner, useAction, useFormat, useLoad } from '../hooks.tsx';
import { useServers } from '../pickers.tsx';

type AccountForm = {
  name: string;
  address: string;
  country: string;
  vat_id: string;
  sla_tier: BillingAccount['sla_tier'];
  budget: string;
  traffic_billing: BillingAccount['traffic_billing'];
};
const emptyAccount: AccountForm = {
  name: '',
  address: '',
  country: '',
  vat_id: '',
  sla_tier: 'standard',
  budget: '',
  traffic_billing: 'volume',
};

export function BillingAccountPage({ me }: { me: CurrentPrincipal }) {
  const { t, when } = useFormat();
  // 404 billing_account_missing: none yet; the form starts empty.
  const account = useLoad(async () => {
    try {
      return (await api.call(getBillingAccount)).account;
    } catch (failure) {
      if (failure instanceof VmcError && failure.reason === 'billing_account_missing') return null;
      throw failure;
    }
  }, []);
  const action = useAction();
  const [form, setForm] = useState<AccountForm | null>(null);
  useEffect(() => {
    const a = account.data;
    if (a === null && !account.error) setForm((f) => f ?? emptyAccount);
    if (a)
      setForm({
        name: a.name,
        address: a.address,
        country: a.country,
        vat_id: a.vat_id ?? '',
        sla_tier: a.sla_tier,
        budget: a.budget_cents === null ? '' : String(a.budget_cents / 100),
        traffic_billing: a.traffic_billing,
      });
  }, [account.data, account.error]);
  const may = isOwner(me);
  const set = (key: keyof AccountForm, value: string) => form && setForm({ ...form, [key]: value });
  const save = (event: FormEvent) => {
    event.preventDefault();
    if (!form) return;
    void action.run(async () => {
      await api.call(setBillingAccount, {
        body: {
          name: form.name.trim(),
          address: form.address.trim(),
          country: form.country.trim(),
          vat_id: form.vat_id.trim() || null,
          sla_tier: form.sla_tier,
          budget_cents: form.budget.trim() ? Math.round(Number(form.budget) * 100) : null,
          traffic_billing: form.traffic_billing,
        },
      });
      await account.reload();
      return t('saved');
    });
  };
  return (
    <section aria-labelledby="billing-account-title">
      <PageHeader id="billing-account-title" title="billingAccount" />
      {!may && <p className="muted">{t('ownersOnlyChange')}</p>}
      <ErrorNotice error={account.error} />
      {account.data && (
        <dl className="facts" data-testid="vat">
          <dt>{t('vatTreatment')}</dt>
          <dd>
            {account.data.vat.treatment} · {account.data.vat.rate_percent} %
            {account.data.vat.mention ? ` · ${account.data.vat.mention}` : ''}
          </dd>
          <dt>{t('updated')}</dt>
          <dd>{when(account.data.updated_at)}</dd>
        </dl>
      )}
      {form && (
        <form className="card" onSubmit={save} aria-labelledby="billing-account-title">
          <fieldset disabled={!may}>
            <legend className="sr-only">{t('billingAccount')}</legend>
            <Field id="ba-name" label={t('billingName')}>
              <input id="ba-name" required value={form.name} onChange={(e) => set('name', e.target.value)} />
            </Field>
            <Field id="ba-address" label={t('postalAddress')}>
              <textarea
                id="ba-address"
                required
                rows={3}
                value={form.address}
                onChange={(e) => set('address', e.target.value)}
              />
            </Field>
            <Field id="ba-country" label={t('countryCode')} help={t('countryHelp')}>
              <input
                id="ba-country"
                required
                size={3}
                maxLength={2}
                aria-describedby="ba-country-help"
                value={form.country}
                onChange={(e) => set('country', e.target.value)}
              />
            </Field>
            <Field id="ba-vat" label={t('vatId')}>
              <input id="ba-vat" value={form.vat_id} onChange={(e) => set('vat_id', e.target.value)} />
            </Field>
            <Field id="ba-sla" label={t('slaTier')}>
              <select id="ba-sla" value={form.sla_tier} onChange={(e) => set('sla_tier', e.target.value)}>
                {slaTierValues.map((v) => (
                  <option key={v} value={v}>
                    {v}
                  </option>
                ))}
              </select>
            </Field>
            <Field id="ba-budget" label={t('budgetEuros')}>
              <input
                id="ba-budget"
                type="number"
                min={0.01}
                step={0.01}
                value={form.budget}
                onChange={(e) => set('budget', e.target.value)}
              />
            </Field>
            <Field id="ba-traffic" label={t('trafficBilling')}>
              <select
                id="ba-traffic"
                value={form.traffic_billing}
                onChange={(e) => set('traffic_billing', e.target.value)}
              >
                {trafficBillingValues.map((v) => (
                  <option key={v} value={v}>
                    {t(`trafficBilling_${v}`)}
                  </option>
                ))}
              </select>
            </Field>
            {may && (
              <button type="submit" className="primary" disabled={action.busy}>
                {t('save')}
              </button>
            )}
          </fieldset>
        </form>
      )}
      {action.view}
    </section>
  );
}

const protocols: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp' };
const localInput = (ms: number) => {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
};

export function FlowLogsPage({ me }: { me: CurrentPrincipal }) {
  const { t, when, bytes } = useFormat();
  const settings = useLoad(async () => (await api.call(getFlowLogSettings)).settings, []);
  const servers = useServers();
  const action = useAction();
  const [enabled, setEnabled] = useState(false);
  const [chosen, setChosen] = useState<string[]>([]);
  const [retention, setRetention] = useState('30');
  useEffect(() => {
    if (!settings.data) return;
    setEnabled(settings.data.enabled);
    setChosen(settings.data.servers);
    setRetention(String(settings.data.retention_days));
  }, [settings.data]);
  const may = isOwner(me);
  const save = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      await api.call(setFlowLogSettings, {
        body: { enabled, servers: chosen, retention_days: retention.trim() ? Number(retention) : Number.NaN },
      });
      await settings.reload();
      return t('saved');
    });
  };

  const [server, setServer] = useState('');
  const [from, setFrom] = useState(() => localInput(Date.now() - 3_600_000));
  const [to, setTo] = useState(() => localInput(Date.now()));
  const [records, setRecords] = useState<FlowRecord[] | null>(null);
  const query = useAction();
  const queryWindow = () => {
    const q: Record<string, string> = {};
    if (server) q.server = server;
    if (from) q.from = new Date(from).toISOString();
    if (to) q.to = new Date(to).toISOString();
    return q;
  };
  const search = (event: FormEvent) => {
    event.preventDefault();
    void query.run(async () => {
      setRecords((await api.call(listFlowLogs, { query: { ...queryWindow(), limit: '500' } })).flows);
    });
  };
  // The export is a GET: the session cookie is enough for a plain download link.
  const exportHref = (format: 'csv' | 'jsonl') =>
    `/v1/flow-logs/export?${new URLSearchParams({ ...queryWindow(), format }).toString()}`;
  const serverName = (id: string) => servers.data?.find((s) => s.id === id)?.name ?? id;

  return (
    <section aria-labelledby="flow-logs-title">
      <PageHeader id="flow-logs-title" title="flowLogs" />
      <ErrorNotice error={settings.error} />
      {settings.data && (
        <p className="muted" data-testid="flow-settings" data-enabled={String(settings.data.enabled)}>
          {settings.data.enabled ? t('flowLogsOn') : t('flowLogsOff')} · {settings.data.purpose}
        </p>
      )}
      {!may && <p className="muted">{t('ownersOnlyChange')}</p>}
      {settings.data && (
        <form className="card" onSubmit={save} aria-labelledby="flow-settings-title">
          <h2 id="flow-settings-title">{t('flowLogSettings')}</h2>
          <fieldset disabled={!may}>
            <legend className="sr-only">{t('flowLogSettings')}</legend>
            <label className="inline">
              <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />{' '}
              {t('recordFlows')}
            </label>
            <fieldset>
              <legend>{t('flowServers')}</legend>
              {(servers.data ?? []).map((s) => (
                <label className="inline" key={s.id}>
                  <input
                    type="checkbox"
                    checked={chosen.includes(s.id)}
                    onChange={(e) => setChosen(e.target.checked ? [...chosen, s.id] : chosen.filter((c) => c !== s.id))}
                  />{' '}
                  {s.name}
                </label>
              ))}
            </fieldset>
            <Field id="flow-retention" label={t('retentionDays')}>
              <input
                id="flow-retention"
                type="number"
                min={1}
                max={30}
                value={retention}
                onChange={(e) => setRetention(e.target.value)}
              />
            </Field>
            {may && (
              <button type="submit" className="primary" disabled={action.busy}>
                {t('save')}
              </button>
            )}
          </fieldset>
        </form>
      )}
      {action.view}
      <form className="card" onSubmit={search} aria-labelledby="flow-query-title">
        <h2 id="flow-query-title">{t('flowRecords')}</h2>
        <div className="row">
          <Field id="flow-server" label={t('server')}>
            <select id="flow-server" value={server} onChange={(e) => setServer(e.target.value)}>
              <option value="">{t('allServers')}</option>
              {(servers.data ?? []).map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          </Field>
          <Field id="flow-from" label={t('from')}>
            <input id="flow-from" type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} />
          </Field>
          <Field id="flow-to" label={t('until')}>
            <input id="flow-to" type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} />
          </Field>
          <button type="submit" disabled={query.busy}>
            {t('showRecords')}
          </button>
        </div>
        <p>
          {t('exportRecords')}{' '}
          <a href={exportHref('csv')} download="flow-logs.csv">
            CSV
          </a>{' '}
          ·{' '}
          <a href={exportHref('jsonl')} download="flow-logs.jsonl">
            JSON lines
          </a>
        </p>
      </form>
      {query.view}
      {records !== null && (
        <ResourceTable
          rows={records}
          rowKey={(r) =>
            `${r.server_id}-${r.start}-${r.src_addr}-${r.src_port}-${r.dst_addr}-${r.dst_port}-${r.protocol}`
          }
          testId="flows"
          columns={[
            { header: 'server', cell: (r) => serverName(r.server_id) },
            { header: 'flowDirection', cell: (r) => r.direction },
            { header: 'flowSource', cell: (r) => `${r.src_addr}:${r.src_port}` },
            { header: 'flowDestination', cell: (r) => `${r.dst_addr}:${r.dst_port}` },
            { header: 'flowProtocol', cell: (r) => protocols[r.protocol] ?? String(r.protocol) },
            { header: 'flowBytes', cell: (r) => `${bytes(r.bytes)} · ${r.packets} pkt` },
            { header: 'flowStart', cell: (r) => when(r.start) },
            { header: 'flowAction', cell: (r) => `${r.action}${r.rule ? ` (${r.rule})` : ''}` },
          ]}
        />
      )}
    </section>
  );
}
