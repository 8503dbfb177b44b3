/** API tokens of the project (owners): create with a role and expiry (the secret shown once), revoke (confirmed). */
import { useState, type FormEvent } from 'react';
import {
  createToken,
  listTokens,
  revokeToken,
  type CurrentPrincipal,
  type Token,
} from '../../../src/contract/index.ts';
import { api } from '../api.ts';
import { ErrorNotice, ResourceTable, Field } from '../components.tsx';
import { PageHeader, isOwner, useAction, useConfirm, useFormat, useLoad } from '../hooks.tsx';

type Role = 'owner' | 'member' | 'viewer';

export function Tokens({ me }: { me: CurrentPrincipal }) {
  const { t, when } = useFormat();
  const owner = isOwner(me);
  const list = useLoad(async () => (owner ? (await api.call(listTokens)).tokens : []), [owner]);
  const action = useAction();
  const { ask, dialog } = useConfirm();
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('member');
  const [days, setDays] = useState('90');
  const [secret, setSecret] = useState<string | null>(null);

  if (!owner)
    return (
      <section aria-labelledby="tokens-title">
        <PageHeader id="tokens-title" title="apiTokens" />
        <p className="muted">{t('ownersOnly')}</p>
      </section>
    );
  const create = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      const answer = await api.call(createToken, {
        body: { name: name.trim(), role, ...(days ? { expires_in_days: Number(days) } : {}) },
      });
      setSecret(answer.secret);
      setName('');
      await list.reload();
    });
  };
  const revoke = (token: Token) =>
    ask(
      t('revoke'),
      t('confirmRevokeToken', { name: token.name }),
      () =>
        void action.run(async () => {
          await api.call(revokeToken, { params: { id: token.id } });
          await list.reload();
          return t('revokedThing', { name: token.name });
        }),
    );

  return (
    <section aria-labelledby="tokens-title">
      <PageHeader id="tokens-title" title="apiTokens" />
      <ErrorNotice error={list.error} />
      {action.view}
      {secret && (
        <div className="card" data-testid="token-secret">
          <p>{t('secretOnce')}</p>
          <code>{secret}</code>
        </div>
      )}
      <ResourceTable
        rows={list.data}
        rowKey={(token) => token.id}
        rowData={(token) => ({ 'data-token': token.name })}
        columns={[
          { header: 'name', cell: (token) => token.name },
          { header: 'role', cell: (token) => token.role },
          {
            header: 'prefix',
            cell: (token) => <code>{token.prefix}…</code>,
          },
          { header: 'expires', cell: (token) => when(token.expires_at) },
          { header: 'lastUsed', cell: (token) => when(token.last_used_at) },
        ]}
        actions={(token) => (
          <button type="button" className="danger" onClick={() => revoke(token)}>
            {t('revoke')}
          </button>
        )}
      />
      <form className="card" onSubmit={create} aria-labelledby="new-token">
        <h2 id="new-token">{t('createToken')}</h2>
        <Field id="token-name" label={t('name')}>
          <input id="token-name" required value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field id="token-role" label={t('role')}>
          <select id="token-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            <option value="viewer">viewer</option>
            <option value="member">member</option>
            <option value="owner">owner</option>
          </select>
        </Field>
        <Field id="token-days" label={t('expiresInDays')}>
          <input
            id="token-days"
            type="number"
            min={1}
            max={3650}
            value={days}
            onChange={(e) => setDays(e.target.value)}
          />
        </Field>
        <button type="submit" className="primary" disabled={action.busy}>
          {t('create')}
        </button>
      </form>
      {dialog}
    </section>
  );
}
