/**
 * The operator area's People tab: the users linked as operators (`GET /v1/operator-users`), and the recovery
 * of one who lost their authentication device — "Reset two-factor" (confirmed) turns their TOTP off,
 * deletes their recovery codes and passkeys, ends every session of theirs and gives a one-time link, shown once, that
 * the operator passes on (`POST /v1/users/{id}/reset-totp`, ADR 0012 "Recovery"). One's own row has no
 * button: another operator resets it.
 */
import { useState } from 'react';
import type { createClient } from '../../../src/client/http.ts';
import { listOperatorUsers, resetUserTotp, type OperatorUser } from '../../../src/contract/index.ts';
import { ErrorNotice, ResourceTable } from '../components.tsx';
import { useAction, useConfirm, useFormat, useLoad } from '../hooks.tsx';

export function OperatorPeople({ client, me }: { client: ReturnType<typeof createClient>; me: string }) {
  const { t, when } = useFormat();
  const people = useLoad(async () => (await client.call(listOperatorUsers)).users, [client]);
  const action = useAction();
  const { ask, dialog } = useConfirm();
  const [link, setLink] = useState<{ email: string; url: string; expires: string } | null>(null);
  const isMe = (user: OperatorUser) => user.email === me;
  const reset = (user: OperatorUser) =>
    ask(
      t('resetTwoFactorOf', { email: user.email }),
      t('confirmResetTwoFactor', { email: user.email }),
      () =>
        void action.run(async () => {
          setLink(null);
          const answer = await client.call(resetUserTotp, { params: { id: user.id } });
          setLink({
            email: answer.user.email,
            url: `${window.location.origin}${answer.link.path}`,
            expires: when(answer.link.expires_at),
          });
          await people.reload();
          return t('twoFactorReset', {
            email: answer.user.email,
            p: answer.passkeys_deleted,
            n: answer.sessions_revoked,
          });
        }),
      { label: t('resetTwoFactor') },
    );
  return (
    <>
      <h2>{t('operatorPeopleTab')}</h2>
      <p className="help">{t('operatorPeopleHelp')}</p>
      <ErrorNotice error={people.error} />
      {action.view}
      {link && (
        <div className="card" data-testid="totp-reset-link">
          <p>{t('totpResetLinkOnce', { email: link.email, expires: link.expires })}</p>
          <code>{link.url}</code>
        </div>
      )}
      {!(people.data === null && people.error) && (
        <ResourceTable<OperatorUser>
          testId="operator-people"
          rows={people.data}
          rowKey={(u) => u.id}
          rowData={(u) => ({ 'data-person': u.email, 'data-totp': String(u.totp_enabled) })}
          columns={[
            { header: 'email', cell: (u) => (isMe(u) ? `${u.email} (${t('you')})` : u.email) },
            { header: 'name', cell: (u) => u.name },
            {
              header: 'twoFactorColumn',
              cell: (u) => (u.totp_enabled ? t('twoFactorOn') : <span className="muted">{t('twoFactorOff')}</span>),
            },
          ]}
          actions={(u) =>
            isMe(u) ? null : (
              <button
                type="button"
                className="danger"
                disabled={action.busy}
                aria-label={t('resetTwoFactorOf', { email: u.email })}
                onClick={() => reset(u)}
              >
                {t('resetTwoFactor')}
              </button>
            )
          }
        />
      )}
      {dialog}
    </>
  );
}
