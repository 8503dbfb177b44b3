/**
 * DDoS protection: the project's tier and what it includes (owners change it, confirmed), the **custom
 * rules** editor (business and enterprise: rows of allow/deny by source, protocol, port and packet length,
 * saved as a whole set or discarded), the **per-address thresholds** editor (enterprise: an address and its
 * own detection floors), the attacks seen, and one attack's page (its figures, the mitigation's steps and
 * its events). The tier is for owners; custom rules and thresholds for owners and members (the API's
 * roles); viewers read them.
 */
import { useState, type FormEvent } from 'react';
import {
  ddosTierNames,
  getDdosAttack,
  getDdosSettings,
  listDdosAttacks,
  listEvents,
  setDdosRules,
  setDdosThresholds,
  setDdosTier,
  type CurrentPrincipal,
  type DdosRule,
  type DdosSettings,
  type DdosThreshold,
  type StreamEvent,
} from '../../../src/contract/index.ts';
import { api } from '../api.ts';
import { DraftButtons, ErrorNotice, Field, Link, ResourceTable, StatusBadge } from '../components.tsx';
import {
  PageHeader,
  canChange,
  isOwner,
  useAction,
  useRowsDraft,
  useConfirm,
  useFormat,
  useLoad,
  useReloadOn,
} from '../hooks.tsx';
import { useServers } from '../pickers.tsx';

export function DdosPage({ me }: { me: CurrentPrincipal }) {
  const { t, when, number } = useFormat();
  const settings = useLoad(async () => (await api.call(getDdosSettings)).ddos, []);
  const attacks = useLoad(async () => (await api.call(listDdosAttacks, { query: { limit: '100' } })).attacks, []);
  useReloadOn(['ddos_attack'], attacks.reload);
  const action = useAction();
  const { ask, dialog } = useConfirm();
  const [tier, setTier] = useState('');
  const may = isOwner(me);
  const change = (event: FormEvent) => {
    event.preventDefault();
    ask(
      t('changeTier'),
      t('confirmChangeTier', { tier }),
      () =>
        void action.run(async () => {
          const { ddos } = await api.call(setDdosTier, { body: { tier: tier as (typeof ddosTierNames)[number] } });
          await settings.reload();
          setTier('');
          return t('tierChanged', { tier: ddos.tier });
        }),
      { danger: false, label: t('changeTier') },
    );
  };
  const s = settings.data;
  return (
    <section aria-labelledby="ddos-title">
      <PageHeader id="ddos-title" title="ddosProtection" />
      <ErrorNotice error={settings.error} />
      {s && (
        <dl className="facts" data-testid="ddos-tier" data-tier={s.tier}>
          <dt>{t('tier')}</dt>
          <dd>{s.tier}</dd>
          <dt>{t('scrubbingCapacity')}</dt>
          <dd>{s.policy.scrubbing_capacity_gbps} Gbit/s</dd>
          <dt>{t('detectionThresholds')}</dt>
          <dd>
            {number(s.policy.min_pps, 0)} pps · {number(s.policy.min_bps / 1e6, 1)} Mbit/s
          </dd>
          <dt>{t('ddosFeatures')}</dt>
          <dd>
            {[
              s.policy.custom_rules && t('customRules'),
              s.policy.per_address_thresholds && t('perAddressThresholds'),
              s.policy.soc && 'SOC',
            ]
              .filter(Boolean)
              .join(', ') || '—'}
          </dd>
          <dt>{t('customRules')}</dt>
          <dd>{s.rules.length}</dd>
          <dt>{t('perAddressThresholds')}</dt>
          <dd>{s.thresholds.length}</dd>
        </dl>
      )}
      {!may && <p className="muted">{t('ownersOnlyChange')}</p>}
      {may && s && (
        <form className="row" onSubmit={change}>
          <Field id="ddos-new-tier" label={t('newTier')}>
            <select id="ddos-new-tier" value={tier} onChange={(e) => setTier(e.target.value)} required>
              <option value="" disabled>
                —
              </option>
              {ddosTierNames
                .filter((n) => n !== s.tier)
                .map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
            </select>
          </Field>
          <button type="submit" disabled={action.busy || !tier}>
            {t('changeTier')}
          </button>
        </form>
      )}
      {action.view}
      {/* The API lets members change rules and thresholds (the tier is the owners'): so does the console. */}
      {s && <DdosRulesEditor settings={s} may={canChange(me)} onSaved={settings.reload} />}
      {s && <DdosThresholdsEditor settings={s} may={canChange(me)} onSaved={settings.reload} />}
      <h2>{t('attacks')}</h2>
      <ErrorNotice error={attacks.error} />
      <ResourceTable
        rows={attacks.data}
        rowKey={(a) => a.id}
        rowData={(a) => ({ 'data-attack': a.id })}
        testId="attacks"
        columns={[
          {
            header: 'attack',
            cell: (a) => (
              <Link href={`/ddos/attacks/${a.id}`}>
                <code>{a.id}</code>
              </Link>
            ),
          },
          { header: 'status', cell: (a) => <StatusBadge status={a.status} /> },
          { header: 'address', cell: (a) => <code>{a.address}</code> },
          { header: 'attackVector', cell: (a) => a.vector },
          { header: 'attackStarted', cell: (a) => when(a.started_at) },
          { header: 'attackEnded', cell: (a) => when(a.ended_at) },
          {
            header: 'attackPeak',
            cell: (a) => `${number(a.peak_pps, 0)} pps · ${number(a.peak_bps / 1e6, 1)} Mbit/s`,
          },
          { header: 'droppedPackets', cell: (a) => number(a.dropped_packets, 0) },
        ]}
      />
      {dialog}
    </section>
  );
}

// ---------------- custom rules ----------------

const ruleProtocols = ['tcp', 'udp', 'icmp'] as const;
type RuleProtocol = (typeof ruleProtocols)[number];

interface RuleRow {
  key: number;
  action: DdosRule['action'];
  source: string;
  protocol: RuleProtocol | '';
  port: string;
  length_min: string;
  length_max: string;
}

let nextKey = 1;
const withPorts = (protocol: RuleRow['protocol']) => protocol === 'tcp' || protocol === 'udp';
/** A filled number field as a number; typed nonsense is NaN, which the API refuses (`invalid`). */
const numberOf = (value: string) => Number(value.trim());
const textOf = (n: number | undefined) => (n === undefined ? '' : String(n));

const ruleRowsOf = (settings: DdosSettings): RuleRow[] =>
  settings.rules.map((r) => ({
    key: nextKey++,
    action: r.action,
    source: r.source ?? '',
    protocol: r.protocol ?? '',
    port: textOf(r.port),
    length_min: textOf(r.length_min),
    length_max: textOf(r.length_max),
  }));

function ruleOf(row: RuleRow): DdosRule {
  return {
    action: row.action,
    ...(row.source.trim() ? { source: row.source.trim() } : {}),
    ...(row.protocol ? { protocol: row.protocol } : {}),
    ...(withPorts(row.protocol) && row.port.trim() ? { port: numberOf(row.port) } : {}),
    ...(row.length_min.trim() ? { length_min: numberOf(row.length_min) } : {}),
    ...(row.length_max.trim() ? { length_max: numberOf(row.length_max) } : {}),
  };
}

function DdosRulesEditor(props: { settings: DdosSettings; may: boolean; onSaved: () => Promise<void> }) {
  const { t } = useFormat();
  const action = useAction();
  const draft = useRowsDraft(() => ruleRowsOf(props.settings), [props.settings]);
  const { rows, dirty, change } = draft;
  const allowed = props.settings.policy.custom_rules;
  const save = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      const { ddos } = await api.call(setDdosRules, { body: { rules: rows.map(ruleOf) } });
      draft.saved();
      await props.onSaved();
      return t('ddosRulesSaved', { n: ddos.rules.length });
    });
  };
  const field = (name: string, n: number) => t('ruleField', { field: name, n });
  return (
    <form onSubmit={save} aria-labelledby="ddos-rules-title">
      <h2 id="ddos-rules-title">{t('customRules')}</h2>
      <p className="help">{t('ddosRulesHelp')}</p>
      {!allowed && (
        <p className="muted" data-testid="rules-not-in-tier">
          {t('customRulesNotInTier', { tier: props.settings.tier })}
        </p>
      )}
      {allowed && rows.length === 0 && <p className="muted">{t('noDdosRules')}</p>}
      {rows.length > 0 && (
        <table className="list rules" data-testid="ddos-rule-editor">
          <thead>
            <tr>
              <th scope="col">{t('ruleAction')}</th>
              <th scope="col">{t('ruleSource')}</th>
              <th scope="col">{t('protocol')}</th>
              <th scope="col">{t('port')}</th>
              <th scope="col">{t('lengthMin')}</th>
              <th scope="col">{t('lengthMax')}</th>
              {props.may && <th scope="col">{t('actions')}</th>}
            </tr>
          </thead>
          <tbody>
            {rows.map((row, index) => {
              const n = index + 1;
              return (
                <tr key={row.key} data-rule={n}>
                  <td>
                    <select
                      aria-label={field(t('ruleAction'), n)}
                      value={row.action}
                      disabled={!props.may}
                      onChange={(e) => change(row.key, { action: e.target.value as DdosRule['action'] })}
                    >
                      <option value="deny">{t('ruleDeny')}</option>
                      <option value="allow">{t('ruleAllow')}</option>
                    </select>
                  </td>
                  <td>
                    <input
                      aria-label={field(t('ruleSource'), n)}
                      size={18}
                      placeholder={t('anySource')}
                      value={row.source}
                      disabled={!props.may}
                      onChange={(e) => change(row.key, { source: e.target.value })}
                    />
                  </td>
                  <td>
                    <select
                      aria-label={field(t('protocol'), n)}
                      value={row.protocol}
                      disabled={!props.may}
                      onChange={(e) => change(row.key, { protocol: e.target.value as RuleRow['protocol'] })}
                    >
                      <option value="">{t('anyProtocol')}</option>
                      {ruleProtocols.map((p) => (
                        <option key={p} value={p}>
                          {p.toUpperCase()}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>
                    <input
                      aria-label={field(t('port'), n)}
                      type="number"
                      min={1}
                      max={65535}
                      size={6}
                      placeholder={withPorts(row.protocol) ? t('anyPort') : '—'}
                      value={withPorts(row.protocol) ? row.port : ''}
                      disabled={!props.may || !withPorts(row.protocol)}
                      onChange={(e) => change(row.key, { port: e.target.value })}
                    />
                  </td>
                  <td>
                    <input
                      aria-label={field(t('lengthMin'), n)}
                      type="number"
                      min={20}
                      max={65535}
                      size={6}
                      value={row.length_min}
                      disabled={!props.may}
                      onChange={(e) => change(row.key, { length_min: e.target.value })}
                    />
                  </td>
                  <td>
                    <input
                      aria-label={field(t('lengthMax'), n)}
                      type="number"
                      min={20}
                      max={65535}
                      size={6}
                      value={row.length_max}
                      disabled={!props.may}
                      onChange={(e) => change(row.key, { length_max: e.target.value })}
                    />
                  </td>
                  {props.may && (
                    <td>
                      <button type="button" aria-label={t('removeRule', { n })} onClick={() => draft.remove(row.key)}>
                        ✕
                      </button>
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {props.may && (allowed || rows.length > 0 || dirty) && (
        <DraftButtons
          addLabel={t('addRule')}
          saveLabel={t('saveRules')}
          discardLabel={t('discard')}
          unsavedLabel={t('unsaved')}
          onAdd={
            allowed && rows.length < 64
              ? () =>
                  draft.add({
                    key: nextKey++,
                    action: 'deny',
                    source: '',
                    protocol: 'udp',
                    port: '',
                    length_min: '',
                    length_max: '',
                  })
              : null
          }
          onDiscard={draft.discard}
          dirty={dirty}
          busy={action.busy}
        />
      )}
      {action.view}
    </form>
  );
}

// ---------------- per-address thresholds ----------------

interface ThresholdRow {
  key: number;
  address: string;
  min_pps: string;
  min_bps: string;
}

const thresholdRowsOf = (settings: DdosSettings): ThresholdRow[] =>
  settings.thresholds.map((th) => ({
    key: nextKey++,
    address: th.address,
    min_pps: String(th.min_pps),
    min_bps: String(th.min_bps),
  }));

const thresholdOf = (row: ThresholdRow): DdosThreshold => ({
  address: row.address.trim(),
  min_pps: numberOf(row.min_pps),
  min_bps: numberOf(row.min_bps),
});

function DdosThresholdsEditor(props: { settings: DdosSettings; may: boolean; onSaved: () => Promise<void> }) {
  const { t, number } = useFormat();
  const servers = useServers();
  const action = useAction();
  const draft = useRowsDraft(() => thresholdRowsOf(props.settings), [props.settings]);
  const { rows, dirty, change } = draft;
  const allowed = props.settings.policy.per_address_thresholds;
  const policy = props.settings.policy;
  const save = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      const { ddos } = await api.call(setDdosThresholds, { body: { thresholds: rows.map(thresholdOf) } });
      draft.saved();
      await props.onSaved();
      return t('thresholdsSaved', { n: ddos.thresholds.length });
    });
  };
  const field = (name: string, n: number) => t('thresholdField', { field: name, n });
  return (
    <form onSubmit={save} aria-labelledby="ddos-thresholds-title">
      <h2 id="ddos-thresholds-title">{t('perAddressThresholds')}</h2>
      <p className="help">
        {t('thresholdsHelp', { pps: number(policy.min_pps, 0), mbps: number(policy.min_bps / 1e6, 1) })}
      </p>
      {!allowed && (
        <p className="muted" data-testid="thresholds-not-in-tier">
          {t('thresholdsNotInTier', { tier: props.settings.tier })}
        </p>
      )}
      {allowed && rows.length === 0 && <p className="muted">{t('noThresholds')}</p>}
      <datalist id="ddos-addresses">
        {(servers.data ?? [])
          .filter((s) => s.ipv4)
          .map((s) => (
            <option key={s.id} value={s.ipv4 ?? ''}>
              {s.name}
            </option>
          ))}
      </datalist>
      {rows.length > 0 && (
        <table className="list rules" data-testid="ddos-threshold-editor">
          <thead>
            <tr>
              <th scope="col">{t('thresholdAddress')}</th>
              <th scope="col">{t('minPps')}</th>
              <th scope="col">{t('minBps')}</th>
              {props.may && <th scope="col">{t('actions')}</th>}
            </tr>
          </thead>
          <tbody>
            {rows.map((row, index) => {
              const n = index + 1;
              return (
                <tr key={row.key} data-threshold={n}>
                  <td>
                    <input
                      aria-label={field(t('thresholdAddress'), n)}
                      list="ddos-addresses"
                      size={24}
                      required
                      value={row.address}
                      disabled={!props.may}
                      onChange={(e) => change(row.key, { address: e.target.value })}
                    />
                  </td>
                  <td>
                    <input
                      aria-label={field(t('minPps'), n)}
                      type="number"
                      min={100}
                      required
                      size={10}
                      value={row.min_pps}
                      disabled={!props.may}
                      onChange={(e) => change(row.key, { min_pps: e.target.value })}
                    />
                  </td>
                  <td>
                    <input
                      aria-label={field(t('minBps'), n)}
                      type="number"
                      min={100000}
                      required
                      size={14}
                      value={row.min_bps}
                      disabled={!props.may}
                      onChange={(e) => change(row.key, { min_bps: e.target.value })}
                    />
                  </td>
                  {props.may && (
                    <td>
                      <button
                        type="button"
                        aria-label={t('removeThreshold', { n })}
                        onClick={() => draft.remove(row.key)}
                      >
                        ✕
                      </button>
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {props.may && (allowed || rows.length > 0 || dirty) && (
        <DraftButtons
          addLabel={t('addThreshold')}
          saveLabel={t('saveThresholds')}
          discardLabel={t('discard')}
          unsavedLabel={t('unsaved')}
          onAdd={
            allowed && rows.length < 256
              ? () =>
                  draft.add({
                    key: nextKey++,
                    address: '',
                    min_pps: String(policy.min_pps),
                    min_bps: String(policy.min_bps),
                  })
              : null
          }
          onDiscard={draft.discard}
          dirty={dirty}
          busy={action.busy}
        />
      )}
      {action.view}
    </form>
  );
}

// ---------------- one attack ----------------

const attackEventTypes = 'ddos.attack_started,ddos.attack_ended';

export function AttackDetail({ id }: { id: string }) {
  const { t, when, number } = useFormat();
  const attack = useLoad(async () => (await api.call(getDdosAttack, { params: { id } })).attack, [id]);
  // The attack's own events: the stream filtered by the attack (`GET /v1/events?resource_id=`).
  const events = useLoad(async () => {
    const mine: StreamEvent[] = [];
    let after = '0';
    for (let page = 0; page < 20; page += 1) {
      const answer = await api.call(listEvents, {
        query: { after, limit: '1000', type: attackEventTypes, resource_type: 'ddos_attack', resource_id: id },
      });
      mine.push(...answer.events);
      if (answer.events.length < 1000) break;
      after = String(answer.last);
    }
    return mine;
  }, [id]);
  const servers = useServers();
  useReloadOn(['ddos_attack'], async () => {
    await attack.reload();
    await events.reload();
  });

  if (!attack.data)
    return (
      <section>
        <p>
          <Link href="/ddos">← {t('ddosProtection')}</Link>
        </p>
        {attack.error ? <ErrorNotice error={attack.error} /> : <p>{t('loading')}</p>}
      </section>
    );
  const a = attack.data;
  const serverName = a.server_id ? (servers.data?.find((s) => s.id === a.server_id)?.name ?? a.server_id) : null;
  const endMs = a.ended_at ? Date.parse(a.ended_at) : null;
  const minutes = endMs === null ? null : Math.round((endMs - Date.parse(a.started_at)) / 60_000);
  return (
    <section aria-labelledby="attack-title">
      <p>
        <Link href="/ddos">← {t('ddosProtection')}</Link>
      </p>
      <h1 id="attack-title">{t('attackOn', { address: a.address })}</h1>
      <p className="muted">
        <code>{a.id}</code>
      </p>
      <dl className="facts" data-testid="attack" data-status={a.status}>
        <dt>{t('status')}</dt>
        <dd>
          <StatusBadge status={a.status} />
        </dd>
        <dt>{t('address')}</dt>
        <dd>
          <code>{a.address}</code>
        </dd>
        <dt>{t('server')}</dt>
        <dd>{a.server_id ? <Link href={`/servers/${a.server_id}`}>{serverName}</Link> : '—'}</dd>
        <dt>{t('attackVector')}</dt>
        <dd>{a.vector}</dd>
        <dt>{t('detectedBy')}</dt>
        <dd>{t(`detectedBy_${a.detected_by}`)}</dd>
        <dt>{t('tierAtStart')}</dt>
        <dd>{a.tier}</dd>
        <dt>{t('attackStarted')}</dt>
        <dd>{when(a.started_at)}</dd>
        <dt>{t('attackEnded')}</dt>
        <dd>{a.ended_at ? when(a.ended_at) : t('ongoing')}</dd>
        <dt>{t('attackDuration')}</dt>
        <dd>{minutes === null ? '—' : t('minutesN', { n: number(minutes, 0) })}</dd>
        <dt>{t('peakPps')}</dt>
        <dd data-testid="peak-pps">{number(a.peak_pps, 0)} pps</dd>
        <dt>{t('peakBps')}</dt>
        <dd>{number(a.peak_bps / 1e6, 1)} Mbit/s</dd>
        <dt>{t('droppedPackets')}</dt>
        <dd data-testid="dropped">{number(a.dropped_packets, 0)}</dd>
      </dl>
      <h2 id="mitigation-title">{t('mitigation')}</h2>
      {a.actions.length === 0 ? (
        <p className="muted">{t('noneYet')}</p>
      ) : (
        <ol aria-labelledby="mitigation-title" data-testid="mitigation">
          {a.actions.map((step, i) => (
            <li key={`${i}-${step}`}>{step}</li>
          ))}
        </ol>
      )}
      <h2>{t('events')}</h2>
      <ErrorNotice error={events.error} />
      {events.data && events.data.length === 0 && <p className="muted">{t('noneYet')}</p>}
      {events.data && events.data.length > 0 && (
        <table className="list" data-testid="attack-events">
          <thead>
            <tr>
              <th scope="col">{t('when')}</th>
              <th scope="col">{t('eventType')}</th>
              <th scope="col">{t('details')}</th>
            </tr>
          </thead>
          <tbody>
            {events.data.map((event) => (
              <tr key={event.id}>
                <td>{when(event.at)}</td>
                <td>
                  <code>{event.type}</code>
                </td>
                <td className="muted">
                  {Object.entries(event.data)
                    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
                    .join(' · ')}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
