/** Floating IPs: allocate in a region, assign to a server of that region, unassign and release (confirmed). */
import { useState, type FormEvent } from 'react';
import {
  assignFloatingIp,
  createFloatingIp,
  deleteFloatingIp,
  listFloatingIps,
  unassignFloatingIp,
  type CurrentPrincipal,
  type FloatingIp,
} from '../../../src/contract/index.ts';
import { api } from '../api.ts';
import { ErrorNotice, ResourceTable, Field } from '../components.tsx';
import { PageHeader, canChange, useAction, useConfirm, useFormat, useLoad, useReloadOn } from '../hooks.tsx';
import { RegionSelect, ServerSelect, useRegions, useServers } from '../pickers.tsx';

export function FloatingIps({ me }: { me: CurrentPrincipal }) {
  const { t, when } = useFormat();
  const list = useLoad(async () => (await api.call(listFloatingIps, { query: { limit: '200' } })).floating_ips, []);
  const regions = useRegions();
  const servers = useServers();
  useReloadOn(['floating_ip'], list.reload);
  const action = useAction();
  const { ask, dialog } = useConfirm();
  const [region, setRegion] = useState('');
  const [name, setName] = useState('');
  const [target, setTarget] = useState<Record<string, string>>({});
  const may = canChange(me);
  const serverName = (id: string | null) => (id ? (servers.data?.find((s) => s.id === id)?.name ?? id) : '—');

  const create = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      const { floating_ip } = await api.call(createFloatingIp, {
        body: { region, ...(name.trim() ? { name: name.trim() } : {}) },
      });
      setName('');
      await list.reload();
      return t('createdThing', { name: floating_ip.ip });
    });
  };
  const assign = (ip: FloatingIp) =>
    void action.run(async () => {
      await api.call(assignFloatingIp, { params: { id: ip.id }, body: { server: target[ip.id] } });
      await list.reload();
      return t('assignedTo', { ip: ip.ip, server: serverName(target[ip.id]) });
    });
  const unassign = (ip: FloatingIp) =>
    ask(
      t('unassign'),
      t('confirmUnassign', { ip: ip.ip, server: serverName(ip.server_id) }),
      () =>
        void action.run(async () => {
          await api.call(unassignFloatingIp, { params: { id: ip.id } });
          await list.reload();
          return t('saved');
        }),
    );
  const release = (ip: FloatingIp) =>
    ask(
      t('release'),
      t('confirmRelease', { ip: ip.ip }),
      () =>
        void action.run(async () => {
          await api.call(deleteFloatingIp, { params: { id: ip.id } });
          await list.reload();
          return t('deletedThing', { name: ip.ip });
        }),
    );

  return (
    <section aria-labelledby="fips-title">
      <PageHeader id="fips-title" title="floatingIps" />
      <ErrorNotice error={list.error} />
      {action.view}
      <ResourceTable
        rows={list.data}
        rowKey={(ip) => ip.id}
        rowData={(ip) => ({ 'data-fip': ip.ip })}
        columns={[
          {
            header: 'address',
            cell: (ip) => <code>{ip.ip}</code>,
          },
          { header: 'name', cell: (ip) => ip.name },
          { header: 'region', cell: (ip) => ip.region.toUpperCase() },
          { header: 'server', cell: (ip) => serverName(ip.server_id) },
          { header: 'created', cell: (ip) => when(ip.created_at) },
        ]}
        actions={
          may
            ? (ip) => (
                <div className="row">
                  <ServerSelect
                    label={t('assignIpTo', { ip: ip.ip })}
                    value={target[ip.id] ?? ''}
                    onChange={(id) => setTarget({ ...target, [ip.id]: id })}
                    servers={servers.data}
                    region={ip.region}
                  />
                  <button type="button" onClick={() => assign(ip)} disabled={!target[ip.id]}>
                    {t('assign')}
                  </button>
                  {ip.server_id && (
                    <button type="button" onClick={() => unassign(ip)}>
                      {t('unassign')}
                    </button>
                  )}
                  <button type="button" className="danger" onClick={() => release(ip)}>
                    {t('release')}
                  </button>
                </div>
              )
            : undefined
        }
      />
      {may && (
        <form className="card" onSubmit={create} aria-labelledby="new-fip">
          <h2 id="new-fip">{t('allocateIp')}</h2>
          <Field id="fip-region" label={t('region')}>
            <RegionSelect id="fip-region" value={region} onChange={setRegion} regions={regions.data} />
          </Field>
          <Field id="fip-name" label={t('nameOptional')}>
            <input id="fip-name" value={name} onChange={(e) => setName(e.target.value)} />
          </Field>
          <button type="submit" className="primary" disabled={action.busy || !region}>
            {t('allocate')}
          </button>
        </form>
      )}
      {dialog}
    </section>
  );
}
