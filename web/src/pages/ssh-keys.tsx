/**
 * SSH keys: the project's saved public keys with their fingerprints (viewers read), a form to add one
 * (a textarea for the .pub line) and delete, confirmed, for owners and members.
 */
import { useState, type FormEvent } from 'react';
import {
  createSshKey,
  deleteSshKey,
  listSshKeys,
  type CurrentPrincipal,
  type SshKey,
} from '../../../src/contract/index.ts';
import { api } from '../api.ts';
import { ErrorNotice, ResourceTable, Field } from '../components.tsx';
import { PageHeader, canChange, useAction, useConfirm, useFormat, useLoad, useReloadOn } from '../hooks.tsx';

export function SshKeys({ me }: { me: CurrentPrincipal }) {
  const { t, when } = useFormat();
  const list = useLoad(async () => (await api.call(listSshKeys, { query: { limit: '500' } })).ssh_keys, []);
  useReloadOn(['ssh_key'], list.reload);
  const action = useAction();
  const { ask, dialog } = useConfirm();
  const [name, setName] = useState('');
  const [publicKey, setPublicKey] = useState('');
  const may = canChange(me);

  const create = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      const { ssh_key } = await api.call(createSshKey, { body: { name: name.trim(), public_key: publicKey.trim() } });
      setName('');
      setPublicKey('');
      await list.reload();
      return t('sshKeyAdded', { name: ssh_key.name, fingerprint: ssh_key.fingerprint });
    });
  };
  const remove = (key: SshKey) =>
    ask(
      t('deleteSshKey'),
      t('confirmDeleteSshKey', { name: key.name }),
      () =>
        void action.run(async () => {
          await api.call(deleteSshKey, { params: { id: key.id } });
          await list.reload();
          return t('deletedThing', { name: key.name });
        }),
    );

  return (
    <section aria-labelledby="ssh-keys-title">
      <PageHeader id="ssh-keys-title" title="savedSshKeys" />
      <p className="muted">{t('sshKeysIntro')}</p>
      {!may && <p className="muted">{t('sshKeysViewerNote')}</p>}
      <ErrorNotice error={list.error} />
      {action.view}
      <ResourceTable
        rows={list.data}
        rowKey={(key) => key.id}
        rowData={(key) => ({ 'data-ssh-key': key.name })}
        testId="ssh-keys"
        columns={[
          { header: 'name', cell: (key) => key.name },
          { header: 'keyType', cell: (key) => `${key.type} (${key.bits})` },
          { header: 'fingerprint', cell: (key) => <code className="fingerprint">{key.fingerprint}</code> },
          { header: 'created', cell: (key) => when(key.created_at) },
        ]}
        actions={
          may
            ? (key) => (
                <button
                  type="button"
                  className="danger"
                  aria-label={`${t('delete')} ${key.name}`}
                  onClick={() => remove(key)}
                >
                  {t('delete')}
                </button>
              )
            : undefined
        }
      />
      {may && (
        <form className="card" onSubmit={create} aria-labelledby="new-ssh-key">
          <h2 id="new-ssh-key">{t('addSshKey')}</h2>
          <Field id="ssh-key-name" label={t('sshKeyName')} help={t('sshKeyNameHelp')}>
            <input
              id="ssh-key-name"
              required
              maxLength={64}
              aria-describedby="ssh-key-name-help"
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          </Field>
          <Field id="ssh-key-public" label={t('publicKey')} help={t('publicKeyHelp')}>
            <textarea
              id="ssh-key-public"
              required
              rows={4}
              spellCheck={false}
              aria-describedby="ssh-key-public-help"
              value={publicKey}
              onChange={(e) => setPublicKey(e.target.value)}
            />
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
