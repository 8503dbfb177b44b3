/** Private networks: list with their subnets and attached servers, create, add a subnet, delete (confirmed). */
import { useState, type FormEvent } from 'react';
import {
  addNetworkSubnet,
  createNetwork,
  deleteNetwork,
  listNetworks,
  type CurrentPrincipal,
  type Network,
} from '../../../src/contract/index.ts';
import { api } from '../api.ts';
import { ErrorNotice, ResourceTable, Field } from '../components.tsx';
import { PageHeader, canChange, useAction, useConfirm, useFormat, useLoad, useReloadOn } from '../hooks.tsx';
import { RegionSelect, useRegions } from '../pickers.tsx';

export function Networks({ me }: { me: CurrentPrincipal }) {
  const { t, when } = useFormat();
  const list = useLoad(async () => (await api.call(listNetworks, { query: { limit: '200' } })).networks, []);
  const regions = useRegions();
  useReloadOn(['network', 'server'], list.reload);
  const action = useAction();
  const { ask, dialog } = useConfirm();
  const [name, setName] = useState('');
  const [region, setRegion] = useState('');
  const [range, setRange] = useState('10.20.0.0/16');
  const [subnet, setSubnet] = useState<Record<string, string>>({});
  const may = canChange(me);

  const create = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      const { network } = await api.call(createNetwork, {
        body: { name: name.trim(), region, ip_range: range.trim() },
      });
      setName('');
      await list.reload();
      return t('createdThing', { name: network.name });
    });
  };
  const remove = (network: Network) =>
    ask(
      t('deleteNetwork'),
      t('confirmDeleteNetwork', { name: network.name }),
      () =>
        void action.run(async () => {
          await api.call(deleteNetwork, { params: { id: network.id } });
          await list.reload();
          return t('deletedThing', { name: network.name });
        }),
    );
  const addSubnet = (network: Network) =>
    void action.run(async () => {
      await api.call(addNetworkSubnet, { params: { id: network.id }, body: { ip_range: subnet[network.id] ?? '' } });
      setSubnet({ ...subnet, [network.id]: '' });
      await list.reload();
      return t('saved');
    });

  return (
    <section aria-labelledby="networks-title">
      <PageHeader id="networks-title" title="networks" />
      <ErrorNotice error={list.error} />
      {action.view}
      <ResourceTable
        rows={list.data}
        rowKey={(network) => network.id}
        rowData={(network) => ({ 'data-network': network.name })}
        columns={[
          { header: 'name', cell: (network) => network.name },
          { header: 'region', cell: (network) => network.region.toUpperCase() },
          {
            header: 'ipRange',
            cell: (network) => <code>{network.ip_range}</code>,
          },
          { header: 'subnets', cell: (network) => network.subnets.map((s) => s.ip_range).join(', ') },
          {
            header: 'attachedServers',
            cell: (network) => (
              <>{network.attachments.map((a) => `${a.server_id} (${a.ip}, ${a.status})`).join(', ') || '—'}</>
            ),
          },
          { header: 'created', cell: (network) => when(network.created_at) },
        ]}
        actions={
          may
            ? (network) => (
                <div className="row">
                  <label className="inline">
                    <span className="sr-only">{t('newSubnetOf', { name: network.name })}</span>
                    <input
                      size={14}
                      placeholder="10.20.1.0/24"
                      value={subnet[network.id] ?? ''}
                      onChange={(e) => setSubnet({ ...subnet, [network.id]: e.target.value })}
                    />
                  </label>
                  <button type="button" onClick={() => addSubnet(network)} disabled={!subnet[network.id]}>
                    {t('addSubnet')}
                  </button>
                  <button type="button" className="danger" onClick={() => remove(network)}>
                    {t('delete')}
                  </button>
                </div>
              )
            : undefined
        }
      />
      {may && (
        <form className="card" onSubmit={create} aria-labelledby="new-network">
          <h2 id="new-network">{t('createNetwork')}</h2>
          <Field id="network-name" label={t('name')}>
            <input id="network-name" required value={name} onChange={(e) => setName(e.target.value)} />
          </Field>
          <Field id="network-region" label={t('region')}>
            <RegionSelect id="network-region" value={region} onChange={setRegion} regions={regions.data} />
          </Field>
          <Field id="network-range" label={t('ipRange')} help={t('ipRangeHelp')}>
            <input id="network-range" required value={range} onChange={(e) => setRange(e.target.value)} />
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
