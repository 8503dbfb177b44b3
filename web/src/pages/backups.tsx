/**
 * Backups: the project's (or one server's), back up now, restore to a new server (confirmed), delete
 * (confirmed); and the project's default backup policy (owners change it; the servers without their own
 * follow it).
 */
import { useState } from 'react';
import {
  createBackup,
  deleteBackup,
  getProjectBackupPolicy,
  listBackups,
  restoreBackup,
  setProjectBackupPolicy,
  type Backup,
  type CurrentPrincipal,
  type SetBackupPolicyBody,
} from '../../../src/contract/index.ts';
import { api } from '../api.ts';
import { ErrorNotice, ResourceTable, StatusBadge } from '../components.tsx';
import { PageHeader, canChange, isOwner, useAction, useConfirm, useFormat, useLoad, useReloadOn } from '../hooks.tsx';
import { ServerSelect, useServers } from '../pickers.tsx';
import { BackupPolicyForm } from './backup-policy.tsx';

export function BackupTable({ me, serverId }: { me: CurrentPrincipal; serverId?: string }) {
  const { t, when, bytes } = useFormat();
  const list = useLoad(
    async () =>
      (await api.call(listBackups, { query: { limit: '100', ...(serverId ? { server_id: serverId } : {}) } })).backups,
    [serverId],
  );
  const servers = useServers();
  useReloadOn(['backup', 'restore'], list.reload);
  const action = useAction();
  const { ask, dialog } = useConfirm();
  const [source, setSource] = useState(serverId ?? '');
  const [restoreName, setRestoreName] = useState<Record<string, string>>({});
  const may = canChange(me);

  const backUp = () =>
    void action.run(async () => {
      const { backup } = await api.call(createBackup, { params: { id: source } });
      await list.reload();
      return t('backupStarted', { id: backup.id });
    });
  const restore = (backup: Backup) => {
    const name = (restoreName[backup.id] ?? '').trim() || `${backup.source.server_name}-restored`;
    ask(
      t('restoreToNew'),
      t('confirmRestore', { when: when(backup.created_at), server: backup.source.server_name, name }),
      () =>
        void action.run(async () => {
          const { restore } = await api.call(restoreBackup, {
            params: { id: backup.id },
            body: { mode: 'to_new', name },
          });
          return t('restoreStarted', { id: restore.id, name });
        }),
      { danger: false },
    );
  };
  const remove = (backup: Backup) =>
    ask(
      t('deleteBackup'),
      t('confirmDeleteBackup', { when: when(backup.created_at), server: backup.source.server_name }),
      () =>
        void action.run(async () => {
          await api.call(deleteBackup, { params: { id: backup.id } });
          await list.reload();
          return t('deletedThing', { name: backup.id });
        }),
    );

  return (
    <>
      {action.view}
      <ErrorNotice error={list.error} />
      {may && (
        <div className="row">
          {!serverId && (
            <ServerSelect label={t('backUpServer')} value={source} onChange={setSource} servers={servers.data} />
          )}
          <button type="button" className="primary" onClick={backUp} disabled={!source || action.busy}>
            {t('backUpNow')}
          </button>
        </div>
      )}
      <ResourceTable
        rows={list.data}
        rowKey={(backup) => backup.id}
        rowData={(backup) => ({ 'data-backup': backup.id })}
        columns={[
          { header: 'created', cell: (backup) => when(backup.created_at) },
          { header: 'server', cell: (backup) => backup.source.server_name },
          {
            header: 'status',
            cell: (backup) => <StatusBadge status={backup.status} />,
          },
          { header: 'trigger', cell: (backup) => backup.trigger },
          { header: 'stored', cell: (backup) => bytes(backup.stored_bytes) },
          { header: 'location', cell: (backup) => backup.location ?? '—' },
        ]}
        actions={
          may
            ? (backup) => (
                <div className="row">
                  {backup.status === 'succeeded' && (
                    <>
                      <label className="inline">
                        <span className="sr-only">{t('newServerName')}</span>
                        <input
                          size={14}
                          placeholder={`${backup.source.server_name}-restored`}
                          value={restoreName[backup.id] ?? ''}
                          onChange={(e) => setRestoreName({ ...restoreName, [backup.id]: e.target.value })}
                        />
                      </label>
                      <button type="button" onClick={() => restore(backup)}>
                        {t('restoreToNew')}
                      </button>
                    </>
                  )}
                  <button type="button" className="danger" onClick={() => remove(backup)}>
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

export function Backups({ me }: { me: CurrentPrincipal }) {
  return (
    <section aria-labelledby="backups-title">
      <PageHeader id="backups-title" title="backups" />
      <BackupTable me={me} />
      <ProjectBackupPolicy me={me} />
    </section>
  );
}

/** The project's default policy: what servers without their own policy follow (owners change it). */
function ProjectBackupPolicy({ me }: { me: CurrentPrincipal }) {
  const { t } = useFormat();
  const policy = useLoad(async () => (await api.call(getProjectBackupPolicy)).policy, []);
  const action = useAction();
  const may = isOwner(me);
  const save = (body: SetBackupPolicyBody) =>
    void action.run(async () => {
      await api.call(setProjectBackupPolicy, { body });
      await policy.reload();
      return t('projectPolicySaved');
    });
  return (
    <section aria-labelledby="project-policy-title">
      <h2 id="project-policy-title">{t('projectBackupPolicy')}</h2>
      <ErrorNotice error={policy.error} />
      {policy.data && (
        <p className="muted" data-testid="project-policy-scope" data-scope={policy.data.scope}>
          {t(`projectPolicyScope_${policy.data.scope === 'project' ? 'project' : 'default'}`)}
        </p>
      )}
      {!may && <p className="muted">{t('ownersOnlyChange')}</p>}
      {policy.data && (
        <BackupPolicyForm
          policy={policy.data}
          may={may}
          busy={action.busy}
          onSave={save}
          labelledBy="project-policy-title"
          idPrefix="project-policy"
        />
      )}
      {action.view}
    </section>
  );
}
