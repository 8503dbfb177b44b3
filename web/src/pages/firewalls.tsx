/**
 * Firewalls: the list (create, delete confirmed) and one firewall with its **rule editor** (add, change,
 * remove rows, then save the whole set: `set_rules`), its per-rule counters, and where it applies (servers,
 * label selectors).
 */
import { useState, type FormEvent } from 'react';
import {
  applyFirewall,
  createFirewall,
  deleteFirewall,
  firewallProtocols,
  getFirewall,
  listFirewalls,
  removeFirewall,
  setFirewallRules,
  type AppliedTo,
  type CurrentPrincipal,
  type Firewall,
  type FirewallDirection,
  type FirewallProtocol,
  type FirewallRule,
} from '../../../src/contract/index.ts';
import type { CallInput } from '../../../src/client/http.ts';
import { api } from '../api.ts';
import { DraftButtons, ErrorNotice, ResourceTable, Field, Link } from '../components.tsx';
import {
  PageHeader,
  canChange,
  useAction,
  useConfirm,
  useRowsDraft,
  useFormat,
  useLoad,
  useReloadOn,
} from '../hooks.tsx';
import { ServerSelect, useServers } from '../pickers.tsx';
import { navigate } from '../router.ts';

export function Firewalls({ me }: { me: CurrentPrincipal }) {
  const { t, when } = useFormat();
  const list = useLoad(async () => (await api.call(listFirewalls, { query: { limit: '200' } })).firewalls, []);
  useReloadOn(['firewall'], list.reload);
  const action = useAction();
  const { ask, dialog } = useConfirm();
  const [name, setName] = useState('');
  const may = canChange(me);

  const create = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      const { firewall } = await api.call(createFirewall, { body: { name: name.trim() } });
      navigate(`/firewalls/${firewall.id}`);
    });
  };
  const remove = (firewall: Firewall) =>
    ask(
      t('deleteFirewall'),
      t('confirmDeleteFirewall', { name: firewall.name }),
      () =>
        void action.run(async () => {
          await api.call(deleteFirewall, { params: { id: firewall.id } });
          await list.reload();
          return t('deletedThing', { name: firewall.name });
        }),
    );

  return (
    <section aria-labelledby="firewalls-title">
      <PageHeader id="firewalls-title" title="firewalls" />
      <ErrorNotice error={list.error} />
      {action.view}
      <ResourceTable
        rows={list.data}
        rowKey={(firewall) => firewall.id}
        rowData={(firewall) => ({ 'data-firewall': firewall.name })}
        columns={[
          {
            header: 'name',
            cell: (firewall) => <Link href={`/firewalls/${firewall.id}`}>{firewall.name}</Link>,
          },
          { header: 'rules', cell: (firewall) => firewall.rules.length },
          { header: 'appliedTo', cell: (firewall) => firewall.applied_to.map(describeTarget).join(', ') || '—' },
          { header: 'created', cell: (firewall) => when(firewall.created_at) },
        ]}
        actions={
          may
            ? (firewall) => (
                <button type="button" className="danger" onClick={() => remove(firewall)}>
                  {t('delete')}
                </button>
              )
            : undefined
        }
      />
      {may && (
        <form className="card" onSubmit={create} aria-labelledby="new-firewall">
          <h2 id="new-firewall">{t('createFirewall')}</h2>
          <Field id="firewall-name" label={t('name')}>
            <input id="firewall-name" required value={name} onChange={(e) => setName(e.target.value)} />
          </Field>
          <button type="submit" className="primary" disabled={action.busy}>
            {t('create')}
          </button>
        </form>
      )}
      {dialog}
    </section>
  );
}

const describeTarget = (target: AppliedTo) =>
  target.type === 'server' ? (target.server?.id ?? '') : `{${target.label_selector?.selector ?? ''}}`;

interface RuleRow {
  key: number;
  direction: FirewallDirection;
  protocol: FirewallProtocol;
  port: string;
  ips: string;
  description: string;
}

let nextKey = 1;
const withPorts = (protocol: FirewallProtocol) => protocol === 'tcp' || protocol === 'udp';

function rowsOf(firewall: Firewall): RuleRow[] {
  return firewall.rules.map((rule) => ({
    key: nextKey++,
    direction: rule.direction,
    protocol: rule.protocol,
    port: rule.port ?? '',
    ips: (rule.direction === 'in' ? rule.source_ips : rule.destination_ips).join(', '),
    description: rule.description ?? '',
  }));
}

function ruleOf(row: RuleRow): FirewallRule {
  const ips = row.ips
    .split(/[\s,]+/)
    .map((ip) => ip.trim())
    .filter(Boolean);
  return {
    direction: row.direction,
    protocol: row.protocol,
    ...(withPorts(row.protocol) && row.port.trim() ? { port: row.port.trim() } : {}),
    ...(row.direction === 'in' ? { source_ips: ips } : { destination_ips: ips }),
    ...(row.description.trim() ? { description: row.description.trim() } : {}),
  };
}

export function FirewallDetail({ me, id }: { me: CurrentPrincipal; id: string }) {
  const { t, number, when } = useFormat();
  const firewall = useLoad(async () => (await api.call(getFirewall, { params: { id } })).firewall, [id]);
  const servers = useServers();
  const action = useAction();
  const { ask, dialog } = useConfirm();
  const draft = useRowsDraft(() => (firewall.data ? rowsOf(firewall.data) : []), [firewall.data]);
  const { rows, dirty, change } = draft;
  const [server, setServer] = useState('');
  const [selector, setSelector] = useState('');
  const may = canChange(me);

  if (!firewall.data) return firewall.error ? <ErrorNotice error={firewall.error} /> : <p>{t('loading')}</p>;
  const fw = firewall.data;
  const save = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      await api.call(setFirewallRules, { params: { id }, body: { rules: rows.map(ruleOf) } });
      draft.saved();
      await firewall.reload();
      return t('rulesSaved', { n: rows.length });
    });
  };
  const serverName = (sid: string) => servers.data?.find((s) => s.id === sid)?.name ?? sid;
  const applyTo = (input: CallInput<typeof applyFirewall>) =>
    void action.run(async () => {
      await api.call(applyFirewall, input);
      setServer('');
      setSelector('');
      await firewall.reload();
      return t('saved');
    });
  const removeFrom = (target: AppliedTo) =>
    ask(
      t('removeFrom'),
      t('confirmRemoveFirewall', { name: fw.name, target: describeTarget(target) }),
      () =>
        void action.run(async () => {
          await api.call(removeFirewall, {
            params: { id },
            body: {
              remove_from: [
                target.type === 'server'
                  ? { type: 'server', server: { id: target.server!.id } }
                  : { type: 'label_selector', label_selector: { selector: target.label_selector!.selector } },
              ],
            },
          });
          await firewall.reload();
          return t('saved');
        }),
    );

  return (
    <section aria-labelledby="firewall-title">
      <p>
        <Link href="/firewalls">← {t('firewalls')}</Link>
      </p>
      <h1 id="firewall-title">{fw.name}</h1>
      <p className="muted">
        <code>{fw.id}</code> · {t('rulesVersion', { n: fw.rules_version })} · {t('countersAt')}{' '}
        {when(fw.counters_updated_at)}
      </p>
      {action.view}
      <form onSubmit={save} aria-labelledby="rules-title">
        <h2 id="rules-title">{t('rules')}</h2>
        {rows.length === 0 && <p className="muted">{t('noRules')}</p>}
        {rows.length > 0 && (
          <table className="list rules" data-testid="rule-editor">
            <thead>
              <tr>
                <th scope="col">{t('direction')}</th>
                <th scope="col">{t('protocol')}</th>
                <th scope="col">{t('port')}</th>
                <th scope="col">{t('ruleIps')}</th>
                <th scope="col">{t('description')}</th>
                <th scope="col">{t('matched')}</th>
                {may && <th scope="col">{t('actions')}</th>}
              </tr>
            </thead>
            <tbody>
              {rows.map((row, index) => {
                const counters = !dirty ? fw.rules[index]?.counters : undefined;
                const n = index + 1;
                return (
                  <tr key={row.key} data-rule={n}>
                    <td>
                      <select
                        aria-label={t('ruleField', { field: t('direction'), n })}
                        value={row.direction}
                        disabled={!may}
                        onChange={(e) => change(row.key, { direction: e.target.value as FirewallDirection })}
                      >
                        <option value="in">{t('inbound')}</option>
                        <option value="out">{t('outbound')}</option>
                      </select>
                    </td>
                    <td>
                      <select
                        aria-label={t('ruleField', { field: t('protocol'), n })}
                        value={row.protocol}
                        disabled={!may}
                        onChange={(e) => change(row.key, { protocol: e.target.value as FirewallProtocol })}
                      >
                        {firewallProtocols.map((p) => (
                          <option key={p} value={p}>
                            {p.toUpperCase()}
                          </option>
                        ))}
                      </select>
                    </td>
                    <td>
                      <input
                        aria-label={t('ruleField', { field: t('port'), n })}
                        size={9}
                        placeholder={withPorts(row.protocol) ? t('anyPort') : '—'}
                        value={row.port}
                        disabled={!may || !withPorts(row.protocol)}
                        onChange={(e) => change(row.key, { port: e.target.value })}
                      />
                    </td>
                    <td>
                      <input
                        aria-label={t('ruleField', { field: t('ruleIps'), n })}
                        value={row.ips}
                        disabled={!may}
                        onChange={(e) => change(row.key, { ips: e.target.value })}
                      />
                    </td>
                    <td>
                      <input
                        aria-label={t('ruleField', { field: t('description'), n })}
                        value={row.description}
                        disabled={!may}
                        onChange={(e) => change(row.key, { description: e.target.value })}
                      />
                    </td>
                    <td>{counters ? t('packetsN', { n: number(counters.packets, 0) }) : '—'}</td>
                    {may && (
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
        {may && (
          <DraftButtons
            addLabel={t('addRule')}
            saveLabel={t('saveRules')}
            discardLabel={t('discard')}
            unsavedLabel={t('unsaved')}
            onAdd={() =>
              draft.add({
                key: nextKey++,
                direction: 'in',
                protocol: 'tcp',
                port: '',
                ips: '0.0.0.0/0, ::/0',
                description: '',
              })
            }
            onDiscard={draft.discard}
            dirty={dirty}
            busy={action.busy}
          />
        )}
        <p className="help">{t('rulesHelp')}</p>
      </form>

      <h2>{t('appliedTo')}</h2>
      {fw.applied_to.length === 0 ? (
        <p className="muted">{t('notApplied')}</p>
      ) : (
        <ul>
          {fw.applied_to.map((target) => (
            <li key={describeTarget(target)}>
              {target.type === 'server'
                ? t('targetServer', { name: serverName(target.server?.id ?? '') })
                : t('targetSelector', { selector: target.label_selector?.selector ?? '' })}
              {target.applied_to_resources &&
                ` (${target.applied_to_resources.map((r) => serverName(r.server.id)).join(', ') || '—'})`}{' '}
              {may && (
                <button type="button" onClick={() => removeFrom(target)}>
                  {t('removeFrom')}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {may && (
        <div className="row">
          <ServerSelect label={t('applyToServer')} value={server} onChange={setServer} servers={servers.data} />
          <button
            type="button"
            disabled={!server}
            onClick={() =>
              applyTo({ params: { id }, body: { apply_to: [{ type: 'server', server: { id: server } }] } })
            }
          >
            {t('applyToServer')}
          </button>
          <label className="inline">
            <span className="sr-only">{t('labelSelector')}</span>
            <input placeholder="env=prod" value={selector} onChange={(e) => setSelector(e.target.value)} />
          </label>
          <button
            type="button"
            disabled={!selector.trim()}
            onClick={() =>
              applyTo({
                params: { id },
                body: { apply_to: [{ type: 'label_selector', label_selector: { selector: selector.trim() } }] },
              })
            }
          >
            {t('applyToSelector')}
          </button>
        </div>
      )}
      {dialog}
    </section>
  );
}
