/** One server: live status, placement, and its actions (confirmed; a viewer sees none). */
import { useCallback, useEffect, useState } from 'react';
import {
  deleteServer,
  getServer,
  rebootServer,
  startServer,
  stopServer,
  type CurrentPrincipal,
  type Server,
} from '../../../src/contract/index.ts';
import { api } from '../api.ts';
import { useT, type MessageKey } from '../i18n.tsx';
import { ConfirmDialog, ErrorNotice, Link, StatusBadge } from '../components.tsx';
import { useLiveEvents } from '../live.ts';
import { navigate } from '../router.ts';
import { SerialConsole } from './serial-console.tsx';
import { ServerSections } from './server-sections.tsx';
import { ServerManage } from './server-manage.tsx';
import { ServerExtras, ServerProtection } from './server-extras.tsx';

type Verb = 'start' | 'stop' | 'reboot' | 'delete';

export function ServerDetail({ me, id }: { me: CurrentPrincipal; id: string }) {
  const { t } = useT();
  const [server, setServer] = useState<Server | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [asking, setAsking] = useState<Verb | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setServer((await api.call(getServer, { params: { id } })).server);
    } catch (failure) {
      setError(failure);
    }
  }, [id]);
  useEffect(() => {
    void load();
  }, [load]);
  // A refusal explained by a protection flag no longer holds once the flag changes.
  const deleteProtection = server?.delete_protection;
  useEffect(() => setError(null), [deleteProtection]);
  useLiveEvents((event) => {
    if (event.resource.type === 'server' && event.resource.id === id) void load();
  });

  const run = async (verb: Verb) => {
    setAsking(null);
    setError(null);
    try {
      if (verb === 'delete') {
        await api.call(deleteServer, { params: { id } });
        navigate('/servers');
        return;
      }
      const operation = verb === 'start' ? startServer : verb === 'reboot' ? rebootServer : stopServer;
      const answer = (await api.call(operation as typeof startServer, { params: { id } })) as {
        action: { id: string };
      };
      setNotice(t('actionStarted', { action: `${verb} (${answer.action.id})` }));
      void load();
    } catch (failure) {
      setError(failure);
    }
  };

  if (!server) return error ? <ErrorNotice error={error} /> : <p>{t('loading')}</p>;
  const canChange = me.project.role !== 'viewer';
  const confirmKey: Record<Exclude<Verb, 'start'>, MessageKey> = {
    stop: 'confirmStop',
    reboot: 'confirmReboot',
    delete: 'confirmDelete',
  };
  return (
    <section aria-labelledby="server-title">
      <p>
        <Link href="/servers">← {t('servers')}</Link>
      </p>
      <h1 id="server-title">
        {server.name} <StatusBadge status={server.status} />
      </h1>
      <dl className="facts">
        <dt>ID</dt>
        <dd>
          <code>{server.id}</code>
        </dd>
        <dt>{t('region')}</dt>
        <dd>{server.region.toUpperCase()}</dd>
        <dt>{t('product')}</dt>
        <dd>{server.product}</dd>
        <dt>{t('image')}</dt>
        <dd>{server.image}</dd>
        <dt>{t('address')}</dt>
        <dd>{server.ipv4 ?? '—'}</dd>
        <dt>{t('placement')}</dt>
        <dd>
          {server.placement
            ? `${t('numaNodes')}: ${server.placement.numa_nodes.join(', ')}${server.placement.gpus.length ? ` · ${t('gpus')}: ${server.placement.gpus.join(', ')}` : ''}`
            : '—'}
        </dd>
        <dt>{t('deleteProtection')}</dt>
        <dd data-testid="fact-delete-protection">{t(server.delete_protection ? 'on' : 'off')}</dd>
        <dt>{t('rebuildProtection')}</dt>
        <dd data-testid="fact-rebuild-protection">{t(server.rebuild_protection ? 'on' : 'off')}</dd>
        <dt>{t('attachedIso')}</dt>
        <dd>{server.iso ?? '—'}</dd>
        <dt>{t('labels')}</dt>
        <dd>
          {Object.entries(server.labels)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ') || '—'}
        </dd>
      </dl>
      {server.error && <p className="notice error">{server.error}</p>}
      {canChange ? (
        <div className="row actions" role="group" aria-label="actions">
          <button type="button" onClick={() => run('start')} disabled={server.status === 'running'}>
            {t('start')}
          </button>
          <button type="button" onClick={() => setAsking('stop')} disabled={server.status === 'stopped'}>
            {t('stop')}
          </button>
          <button type="button" onClick={() => setAsking('reboot')}>
            {t('reboot')}
          </button>
          <button
            type="button"
            className="danger"
            onClick={() => setAsking('delete')}
            aria-describedby={server.delete_protection ? 'delete-protected-note' : undefined}
          >
            {t('delete')}
          </button>
        </div>
      ) : (
        <p className="muted">{t('viewerNote')}</p>
      )}
      {canChange && server.delete_protection && (
        <p className="muted" id="delete-protected-note">
          {t('deleteProtectedNote')}
        </p>
      )}
      <div aria-live="polite">{notice && <p className="notice">{notice}</p>}</div>
      <ErrorNotice error={error} />
      <ConfirmDialog
        open={asking !== null && asking !== 'start'}
        title={asking ? t(asking) : ''}
        confirmLabel={asking ? t(asking) : t('confirm')}
        danger={asking === 'delete'}
        onConfirm={() => asking && void run(asking)}
        onCancel={() => setAsking(null)}
      >
        {asking && asking !== 'start' ? t(confirmKey[asking], { name: server.name }) : ''}
      </ConfirmDialog>
      <ServerProtection me={me} server={server} reload={load} />
      <SerialConsole me={me} server={server} />
      <ServerManage me={me} server={server} />
      <ServerExtras me={me} server={server} reload={load} />
      <ServerSections me={me} server={server} />
    </section>
  );
}
