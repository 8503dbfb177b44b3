/** Volumes: create, attach to a server of the region, detach (confirmed), grow (confirmed), delete (confirmed). */
import { useState, type FormEvent } from 'react';
import {
  attachVolume,
  createVolume,
  deleteVolume,
  detachVolume,
  listVolumes,
  resizeVolume,
  type CurrentPrincipal,
  type Volume,
} from '../../../src/contract/index.ts';
import { api } from '../api.ts';
import { ErrorNotice, ResourceTable, Field, StatusBadge } from '../components.tsx';
import { PageHeader, canChange, useAction, useConfirm, useFormat, useLoad, useReloadOn } from '../hooks.tsx';
import { RegionSelect, ServerSelect, useRegions, useServers } from '../pickers.tsx';

/** The volumes of the project, or of one server (`serverId`: the server detail page's section). */
export function VolumeTable({ me, serverId }: { me: CurrentPrincipal; serverId?: string }) {
  const { t, when } = useFormat();
  const list = useLoad(
    async () =>
      (await api.call(listVolumes, { query: { limit: '200', ...(serverId ? { server_id: serverId } : {}) } })).volumes,
    [serverId],
  );
  const servers = useServers();
  useReloadOn(['volume'], list.reload);
  const action = useAction();
  const { ask, dialog } = useConfirm();
  const [target, setTarget] = useState<Record<string, string>>({});
  const [size, setSize] = useState<Record<string, string>>({});
  const may = canChange(me);
  const serverName = (id: string | null) => (id ? (servers.data?.find((s) => s.id === id)?.name ?? id) : '—');

  const attach = (volume: Volume) =>
    void action.run(async () => {
      await api.call(attachVolume, { params: { id: volume.id }, body: { server: target[volume.id] } });
      await list.reload();
      return t('requestAccepted');
    });
  const detach = (volume: Volume) =>
    ask(
      t('detach'),
      t('confirmDetach', { name: volume.name, server: serverName(volume.server_id) }),
      () =>
        void action.run(async () => {
          await api.call(detachVolume, { params: { id: volume.id } });
          await list.reload();
          return t('requestAccepted');
        }),
    );
  const resize = (volume: Volume) => {
    const gib = Number(size[volume.id]);
    ask(
      t('resize'),
      t('confirmResizeVolume', { name: volume.name, from: volume.size_gib, to: gib }),
      () =>
        void action.run(async () => {
          await api.call(resizeVolume, { params: { id: volume.id }, body: { size_gib: gib } });
          setSize({ ...size, [volume.id]: '' });
          await list.reload();
          return t('requestAccepted');
        }),
      { danger: false },
    );
  };
  const remove = (volume: Volume) =>
    ask(
      t('deleteVolume'),
      t('confirmDeleteVolume', { name: volume.name }),
      () =>
        void action.run(async () => {
          await api.call(deleteVolume, { params: { id: volume.id } });
          await list.reload();
          return t('requestAccepted');
        }),
    );

  return (
    <>
      <ErrorNotice error={list.error} />
      {action.view}
      <ResourceTable
        rows={list.data}
        rowKey={(volume) => volume.id}
        rowData={(volume) => ({ 'data-volume': volume.name })}
        columns={[
          { header: 'name', cell: (volume) => volume.name },
          {
            header: 'status',
            cell: (volume) => <StatusBadge status={volume.status} />,
          },
          { header: 'size', cell: (volume) => <>{volume.size_gib} GiB</> },
          { header: 'region', cell: (volume) => volume.region.toUpperCase() },
          { header: 'server', cell: (volume) => serverName(volume.server_id) },
          { header: 'created', cell: (volume) => when(volume.created_at) },
        ]}
        actions={
          may
            ? (volume) => (
                <div className="row">
                  {volume.server_id ? (
                    <button type="button" onClick={() => detach(volume)}>
                      {t('detach')}
                    </button>
                  ) : (
                    <>
                      <ServerSelect
                        label={t('attachVolumeTo', { name: volume.name })}
                        value={target[volume.id] ?? ''}
                        onChange={(id) => setTarget({ ...target, [volume.id]: id })}
                        servers={servers.data}
                        region={volume.region}
                      />
                      <button type="button" onClick={() => attach(volume)} disabled={!target[volume.id]}>
                        {t('attach')}
                      </button>
                    </>
                  )}
                  <label className="inline">
                    <span className="sr-only">{t('newSizeOf', { name: volume.name })}</span>
                    <input
                      type="number"
                      min={volume.size_gib + 1}
                      size={6}
                      placeholder="GiB"
                      value={size[volume.id] ?? ''}
                      onChange={(e) => setSize({ ...size, [volume.id]: e.target.value })}
                    />
                  </label>
                  <button type="button" onClick={() => resize(volume)} disabled={!size[volume.id]}>
                    {t('resize')}
                  </button>
                  <button type="button" className="danger" onClick={() => remove(volume)}>
                    {t('delete')}
                  </button>
                </div>
              )
            : undefined
        }
      />
      {dialog}
    </>
  );
}

export function Volumes({ me }: { me: CurrentPrincipal }) {
  const { t } = useFormat();
  const regions = useRegions();
  const action = useAction();
  const [name, setName] = useState('');
  const [gib, setGib] = useState('10');
  const [region, setRegion] = useState('');
  const [version, setVersion] = useState(0);

  const create = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      const { volume } = await api.call(createVolume, { body: { name: name.trim(), size_gib: Number(gib), region } });
      setName('');
      setVersion(version + 1);
      return t('createdThing', { name: volume.name });
    });
  };
  return (
    <section aria-labelledby="volumes-title">
      <PageHeader id="volumes-title" title="volumes" />
      <VolumeTable key={version} me={me} />
      {canChange(me) && (
        <form className="card" onSubmit={create} aria-labelledby="new-volume">
          <h2 id="new-volume">{t('createVolume')}</h2>
          {action.view}
          <Field id="volume-name" label={t('name')}>
            <input id="volume-name" required value={name} onChange={(e) => setName(e.target.value)} />
          </Field>
          <Field id="volume-size" label={t('sizeGib')}>
            <input
              id="volume-size"
              type="number"
              min={1}
              required
              value={gib}
              onChange={(e) => setGib(e.target.value)}
            />
          </Field>
          <Field id="volume-region" label={t('region')}>
            <RegionSelect id="volume-region" value={region} onChange={setRegion} regions={regions.data} />
          </Field>
          <button type="submit" className="primary" disabled={action.busy || !region}>
            {t('create')}
          </button>
        </form>
      )}
    </section>
  );
}
