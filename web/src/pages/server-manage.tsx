/**
 * The server detail page's management sections: resize (a product of the same family, the server stopped),
 * rebuild from an image (confirmed: the disk is erased), private networks (attach, detach confirmed) and
 * the server's backup policy (schedule, keep rules, remote copy), and disk snapshots where the server's host
 * has them (QEMU hosts; a simulated host answers 503 host_has_no_api: a note, no button). A viewer sees the
 * state, no button.
 */
import { useState, type FormEvent } from 'react';
import { VmcError } from '../api.ts';
import {
  attachServerToNetwork,
  createSnapshot,
  deleteSnapshot,
  detachServerFromNetwork,
  getServerBackupPolicy,
  getServerResizeOptions,
  listImages,
  listNetworks,
  listServerNetworks,
  listSnapshots,
  rebuildServer,
  resizeServer,
  restoreSnapshot,
  setServerBackupPolicy,
  type CurrentPrincipal,
  type Network,
  type Server,
  type ServerNetwork,
  type SetBackupPolicyBody,
} from '../../../src/contract/index.ts';
import { api } from '../api.ts';
import { ErrorNotice, Field, ResourceTable } from '../components.tsx';
import { canChange, useAction, useConfirm, useFormat, useLoad, useReloadOn } from '../hooks.tsx';
import { BackupPolicyForm } from './backup-policy.tsx';

export function ServerManage({ me, server }: { me: CurrentPrincipal; server: Server }) {
  return (
    <>
      <ServerResize me={me} server={server} />
      <ServerRebuild me={me} server={server} />
      <ServerSnapshots me={me} server={server} />
      <ServerNetworks me={me} server={server} />
      <ServerBackupPolicy me={me} server={server} />
    </>
  );
}

function ServerResize({ me, server }: { me: CurrentPrincipal; server: Server }) {
  const { t, euros } = useFormat();
  // The API's answer: the products of the server's kind sold in its region, priced, checked against its
  // host and the region's capacity now (GET /v1/servers/{id}/resize-options).
  const options = useLoad(
    async () => api.call(getServerResizeOptions, { params: { id: server.id } }),
    [server.id, server.product, server.status],
  );
  const action = useAction();
  const [product, setProduct] = useState('');
  const chosen = options.data?.options.find((o) => o.product === product);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      const { action: accepted } = await api.call(resizeServer, { params: { id: server.id }, body: { product } });
      setProduct('');
      await options.reload();
      return t('actionStarted', { action: `resize → ${product} (${accepted.id})` });
    });
  };
  return (
    <section aria-labelledby="resize-title">
      <h2 id="resize-title">{t('resizeTitle')}</h2>
      <p className="muted">{t('resizeHelp')}</p>
      <ErrorNotice error={options.error} />
      {canChange(me) ? (
        <form className="row" onSubmit={submit}>
          <Field id="resize-product" label={t('resizeTo')}>
            <select
              id="resize-product"
              value={product}
              onChange={(e) => setProduct(e.target.value)}
              required
              aria-describedby="resize-choice"
            >
              <option value="" disabled>
                —
              </option>
              {(options.data?.options ?? []).map((o) => (
                <option key={o.product} value={o.product} disabled={!o.possible} data-possible={String(o.possible)}>
                  {o.name} — {o.vcpus} vCPU, {o.memory_mib / 1024} GiB, {o.disk_gib_after} GiB ·{' '}
                  {t('perHour', { price: euros(o.price.hourly_cents) })} · {t(`resize_${o.direction}`)} ·{' '}
                  {o.possible
                    ? t(`availability_${o.region_availability}`)
                    : t(`resizeReason_${o.reason ?? 'no_capacity'}`)}
                </option>
              ))}
            </select>
          </Field>
          <button type="submit" disabled={action.busy || !product || chosen?.possible === false}>
            {t('resize')}
          </button>
        </form>
      ) : null}
      <p className="help" id="resize-choice" data-testid="resize-choice">
        {chosen
          ? t('resizeChoice', {
              name: chosen.name,
              hourly: euros(chosen.price.hourly_cents),
              monthly: euros(chosen.price.monthly_cents),
              difference: (chosen.monthly_difference_cents > 0 ? '+' : '') + euros(chosen.monthly_difference_cents),
              disk: String(chosen.disk_gib_after),
            }) + (chosen.fits_current_host === false ? ' ' + t('resizeMoves') : '')
          : options.data?.options.some((o) => !o.possible)
            ? t('resizeSomeImpossible')
            : ''}
      </p>
      {action.view}
    </section>
  );
}

function ServerRebuild({ me, server }: { me: CurrentPrincipal; server: Server }) {
  const { t } = useFormat();
  const images = useLoad(async () => (await api.call(listImages)).images, []);
  const action = useAction();
  const { ask, dialog } = useConfirm();
  const [image, setImage] = useState('');
  if (!canChange(me)) return null;
  const usable = (images.data ?? []).filter(
    (i) => i.status === 'available' && (!i.requires_gpu || server.placement?.gpus.length),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    ask(
      t('rebuild'),
      t('confirmRebuild', { name: server.name, image }),
      () =>
        void action.run(async () => {
          const { action: accepted } = await api.call(rebuildServer, { params: { id: server.id }, body: { image } });
          setImage('');
          return t('actionStarted', { action: `rebuild → ${image} (${accepted.id})` });
        }),
    );
  };
  return (
    <section aria-labelledby="rebuild-title">
      <h2 id="rebuild-title">{t('rebuildTitle')}</h2>
      <ErrorNotice error={images.error} />
      <form className="row" onSubmit={submit}>
        <Field id="rebuild-image" label={t('rebuildFrom')}>
          <select id="rebuild-image" value={image} onChange={(e) => setImage(e.target.value)} required>
            <option value="" disabled>
              —
            </option>
            {usable.map((i) => (
              <option key={i.slug} value={i.slug}>
                {i.name} ({i.slug})
              </option>
            ))}
          </select>
        </Field>
        <button
          type="submit"
          className="danger"
          disabled={action.busy || !image}
          aria-describedby={server.rebuild_protection ? 'rebuild-protected-note' : undefined}
        >
          {t('rebuild')}
        </button>
      </form>
      {server.rebuild_protection && (
        <p className="muted" id="rebuild-protected-note">
          {t('rebuildProtectedNote')}
        </p>
      )}
      {action.view}
      {dialog}
    </section>
  );
}

function ServerNetworks({ me, server }: { me: CurrentPrincipal; server: Server }) {
  const { t } = useFormat();
  // The server's attachments (GET /v1/servers/{id}/networks); the project's networks of the region only
  // for the picker of those it can still join.
  const attached = useLoad(
    async () => (await api.call(listServerNetworks, { params: { id: server.id } })).networks,
    [server.id],
  );
  const may = canChange(me);
  const networks = useLoad(
    async () =>
      may
        ? (await api.call(listNetworks, { query: { limit: '200', region: server.region } })).networks
        : ([] as Network[]),
    [server.region, may],
  );
  const reload = async () => {
    await Promise.all([attached.reload(), networks.reload()]);
  };
  useReloadOn(['network', 'server'], reload);
  const action = useAction();
  const { ask, dialog } = useConfirm();
  const [network, setNetwork] = useState('');
  const [ip, setIp] = useState('');
  const mine = new Set((attached.data ?? []).map((a) => a.network_id));
  const free = (networks.data ?? []).filter((n) => !mine.has(n.id));
  const attach = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      const body = ip.trim() ? { network, ip: ip.trim() } : { network };
      const { action: accepted } = await api.call(attachServerToNetwork, { params: { id: server.id }, body });
      setNetwork('');
      setIp('');
      await reload();
      return t('actionStarted', { action: `attach-network (${accepted.id})` });
    });
  };
  const detach = (target: ServerNetwork) =>
    ask(
      t('detachNetwork'),
      t('confirmDetachNetwork', { name: server.name, network: target.network_name }),
      () =>
        void action.run(async () => {
          const { action: accepted } = await api.call(detachServerFromNetwork, {
            params: { id: server.id },
            body: { network: target.network_id },
          });
          await reload();
          return t('actionStarted', { action: `detach-network (${accepted.id})` });
        }),
    );
  return (
    <section aria-labelledby="server-networks-title">
      <h2 id="server-networks-title">{t('privateNetworks')}</h2>
      <ErrorNotice error={attached.error ?? networks.error} />
      <ResourceTable
        rows={attached.data ?? null}
        rowKey={(row) => row.network_id}
        rowData={(row) => ({ 'data-attached-network': row.network_name })}
        columns={[
          { header: 'name', cell: (row) => row.network_name },
          { header: 'privateIp', cell: (row) => <code>{row.ip}</code> },
          { header: 'subnet', cell: (row) => (row.subnet ? <code>{row.subnet.ip_range}</code> : '—') },
          { header: 'status', cell: (row) => row.status },
        ]}
        actions={
          may
            ? (row) => (
                <button type="button" className="danger" onClick={() => detach(row)}>
                  {t('detachNetwork')}
                </button>
              )
            : undefined
        }
      />
      {may && (
        <form className="row" onSubmit={attach} aria-label={t('attachNetwork')}>
          <Field id="attach-network" label={t('network')}>
            <select id="attach-network" value={network} onChange={(e) => setNetwork(e.target.value)} required>
              <option value="" disabled>
                —
              </option>
              {free.map((n) => (
                <option key={n.id} value={n.id}>
                  {n.name} ({n.ip_range})
                </option>
              ))}
            </select>
          </Field>
          <Field id="attach-ip" label={t('privateIpOptional')}>
            <input id="attach-ip" value={ip} onChange={(e) => setIp(e.target.value)} placeholder="10.20.0.10" />
          </Field>
          <button type="submit" disabled={action.busy || !network}>
            {t('attachNetwork')}
          </button>
        </form>
      )}
      {action.view}
      {dialog}
    </section>
  );
}

function ServerBackupPolicy({ me, server }: { me: CurrentPrincipal; server: Server }) {
  const { t, when } = useFormat();
  const policy = useLoad(
    async () => (await api.call(getServerBackupPolicy, { params: { id: server.id } })).policy,
    [server.id],
  );
  const action = useAction();
  const save = (body: SetBackupPolicyBody) =>
    void action.run(async () => {
      const { policy: saved } = await api.call(setServerBackupPolicy, { params: { id: server.id }, body });
      await policy.reload();
      return t('policySaved', { scope: saved.scope });
    });
  return (
    <section aria-labelledby="policy-title">
      <h2 id="policy-title">{t('backupPolicy')}</h2>
      <ErrorNotice error={policy.error} />
      {policy.data && (
        <p className="muted" data-testid="policy-scope" data-scope={policy.data.scope}>
          {t(`policyScope_${policy.data.scope}`)} · {t('nextBackup')}: {when(policy.data.next_run_at)}
        </p>
      )}
      {policy.data && (
        <BackupPolicyForm
          policy={policy.data}
          may={canChange(me)}
          busy={action.busy}
          onSave={save}
          labelledBy="policy-title"
          idPrefix="policy"
          excludeRegion={server.region}
        />
      )}
      {action.view}
    </section>
  );
}

/** Snapshot names: letters, digits, '.', '_', '-' (the API's pattern); empty: the API names it by the time. */
const snapshotName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function ServerSnapshots({ me, server }: { me: CurrentPrincipal; server: Server }) {
  const { t, when } = useFormat();
  const snapshots = useLoad(
    async () => (await api.call(listSnapshots, { params: { id: server.id } })).snapshots,
    [server.id],
  );
  const action = useAction();
  const { ask, dialog } = useConfirm();
  const [name, setName] = useState('');
  const noHostApi = snapshots.error instanceof VmcError && snapshots.error.reason === 'host_has_no_api';
  const may = canChange(me) && !noHostApi;
  const take = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      const { snapshot } = await api.call(createSnapshot, {
        params: { id: server.id },
        body: name.trim() ? { name: name.trim() } : null,
      });
      setName('');
      await snapshots.reload();
      return t('snapshotTaken', { name: snapshot.name });
    });
  };
  const restore = (snapshot: string) =>
    ask(
      t('restoreSnapshot'),
      t('confirmRestoreSnapshot', { name: server.name, snapshot }),
      () =>
        void action.run(async () => {
          await api.call(restoreSnapshot, { params: { id: server.id, name: snapshot } });
          return t('snapshotRestored', { name: snapshot });
        }),
    );
  const remove = (snapshot: string) =>
    ask(
      t('deleteSnapshot'),
      t('confirmDeleteSnapshot', { name: snapshot }),
      () =>
        void action.run(async () => {
          await api.call(deleteSnapshot, { params: { id: server.id, name: snapshot } });
          await snapshots.reload();
          return t('deletedThing', { name: snapshot });
        }),
    );
  return (
    <section aria-labelledby="snapshots-title">
      <h2 id="snapshots-title">{t('snapshots')}</h2>
      {noHostApi ? (
        <p className="muted" data-testid="snapshots-unsupported">
          {t('snapshotsUnsupported')}
        </p>
      ) : (
        <>
          <p className="muted">{t('snapshotsHelp')}</p>
          <ErrorNotice error={snapshots.error} />
          <ResourceTable
            rows={snapshots.error ? [] : snapshots.data}
            rowKey={(s) => s.name}
            rowData={(s) => ({ 'data-snapshot': s.name })}
            testId="snapshots"
            columns={[
              { header: 'name', cell: (s) => s.name },
              { header: 'created', cell: (s) => when(s.created_at) },
            ]}
            actions={
              may
                ? (s) => (
                    <div className="row">
                      <button type="button" onClick={() => restore(s.name)}>
                        {t('restoreSnapshot')}
                      </button>
                      <button type="button" className="danger" onClick={() => remove(s.name)}>
                        {t('delete')}
                      </button>
                    </div>
                  )
                : undefined
            }
          />
        </>
      )}
      {may && (
        <form className="row" onSubmit={take}>
          <Field id="snapshot-name" label={t('snapshotNameOptional')}>
            <input
              id="snapshot-name"
              value={name}
              pattern={snapshotName.source}
              onChange={(e) => setName(e.target.value)}
              placeholder="before-upgrade"
            />
          </Field>
          <button type="submit" disabled={action.busy}>
            {t('takeSnapshot')}
          </button>
        </form>
      )}
      {action.view}
      {dialog}
    </section>
  );
}
