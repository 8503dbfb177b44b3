/** The account: sessions (revoke), two-factor enrolment with recovery codes, passkeys, password change. */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import {
  beginTotpEnrolment,
  changePassword,
  listAuthSessions,
  revokeAuthSession,
  verifyTotpEnrolment,
  type AuthSession,
  type CurrentPrincipal,
  type TotpEnrolment,
} from '../../../src/contract/index.ts';
import { api } from '../api.ts';
import { useT } from '../i18n.tsx';
import { ErrorNotice, Field } from '../components.tsx';
import { PasskeysSection } from './passkeys.tsx';

export function Account({ me, onChanged }: { me: CurrentPrincipal; onChanged: () => Promise<void> }) {
  const { t, lang } = useT();
  const [sessions, setSessions] = useState<AuthSession[]>([]);
  const [enrolment, setEnrolment] = useState<TotpEnrolment | null>(null);
  const [code, setCode] = useState('');
  const [recovery, setRecovery] = useState<string[] | null>(null);
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async () => {
    if (me.via !== 'session') return;
    try {
      setSessions((await api.call(listAuthSessions)).sessions);
    } catch (failure) {
      setError(failure);
    }
  }, [me.via]);
  useEffect(() => {
    void load();
  }, [load]);

  const act = (work: () => Promise<void>) => async (event?: FormEvent) => {
    event?.preventDefault();
    setError(null);
    setSaved(false);
    try {
      await work();
    } catch (failure) {
      setError(failure);
    }
  };
  const when = (iso: string) => new Date(iso).toLocaleString(lang === 'fr' ? 'fr-FR' : 'en-GB');

  if (!me.user) return <p className="muted">{me.project.name}</p>;
  return (
    <section aria-labelledby="account-title">
      <h1 id="account-title">{t('account')}</h1>
      <dl className="facts">
        <dt>{t('email')}</dt>
        <dd>{me.user.email}</dd>
        <dt>{t('project')}</dt>
        <dd>{me.project.name}</dd>
        <dt>{t('role')}</dt>
        <dd>{me.project.role}</dd>
      </dl>
      <ErrorNotice error={error} />

      <h2>{t('twoFactor')}</h2>
      {recovery ? (
        <div className="card" data-testid="recovery-codes">
          <h3>{t('recoveryCodesTitle')}</h3>
          <p>{t('recoveryCodesIntro')}</p>
          <ul className="codes">
            {recovery.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
        </div>
      ) : me.user.totp_enabled ? (
        <p>{t('totpOn', { n: me.user.recovery_codes_left })}</p>
      ) : enrolment ? (
        <form
          onSubmit={act(async () => {
            const answer = await api.call(verifyTotpEnrolment, { body: { code: code.trim() } });
            setRecovery(answer.recovery_codes);
            setEnrolment(null);
            await onChanged();
          })}
        >
          <p>{t('enrolSecret')}</p>
          <p>
            {t('secretKey')}: <code data-testid="totp-secret">{enrolment.secret}</code>
          </p>
          <p>
            <a href={enrolment.otpauth_uri}>otpauth://…</a>
          </p>
          <Field id="totp-code" label={t('totpCode')} help={t('totpHelp')}>
            <input
              id="totp-code"
              inputMode="numeric"
              autoComplete="one-time-code"
              value={code}
              onChange={(e) => setCode(e.target.value)}
              aria-describedby="totp-code-help"
            />
          </Field>
          <button type="submit" className="primary">
            {t('verify')}
          </button>
        </form>
      ) : (
        <>
          <p>{t('totpOff')}</p>
          <button type="button" onClick={act(async () => setEnrolment(await api.call(beginTotpEnrolment)))}>
            {t('enrol')}
          </button>
        </>
      )}

      {me.via === 'session' && <PasskeysSection onChanged={onChanged} />}

      <h2>{t('sessions')}</h2>
      <table className="list">
        <thead>
          <tr>
            <th scope="col">{t('created')}</th>
            <th scope="col">{t('lastSeen')}</th>
            <th scope="col">{t('from')}</th>
            <th scope="col">
              <span className="sr-only">{t('revoke')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {sessions.map((s) => (
            <tr key={s.id}>
              <td>
                {when(s.created_at)} {s.current && <strong>({t('thisSession')})</strong>}
              </td>
              <td>{when(s.last_seen_at)}</td>
              <td>
                {s.source_ip} <span className="muted">{s.user_agent?.slice(0, 40)}</span>
              </td>
              <td>
                {!s.current && (
                  <button
                    type="button"
                    onClick={act(async () => {
                      await api.call(revokeAuthSession, { params: { id: s.id } });
                      await load();
                    })}
                  >
                    {t('revoke')}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>{t('changePassword')}</h2>
      <form
        onSubmit={act(async () => {
          await api.call(changePassword, { body: { current_password: current, new_password: next } });
          setCurrent('');
          setNext('');
          setSaved(true);
          await load();
        })}
      >
        <Field id="current-password" label={t('currentPassword')}>
          <input
            id="current-password"
            type="password"
            autoComplete="current-password"
            value={current}
            onChange={(e) => setCurrent(e.target.value)}
          />
        </Field>
        <Field id="next-password" label={t('newPassword')}>
          <input
            id="next-password"
            type="password"
            autoComplete="new-password"
            value={next}
            onChange={(e) => setNext(e.target.value)}
          />
        </Field>
        <button type="submit">{t('changePassword')}</button>
        <span aria-live="polite">{saved && ` ${t('saved')}`}</span>
      </form>
    </section>
  );
}
