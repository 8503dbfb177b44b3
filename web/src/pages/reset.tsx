/** The one-time link (/reset#token=…): choose a password, and sign in (with the TOTP code when enrolled). */
import { useState, type FormEvent } from 'react';
import { redeemLink } from '../../../src/contract/index.ts';
import { api, VmcError } from '../api.ts';
import { useT } from '../i18n.tsx';
import { ErrorNotice, Field } from '../components.tsx';

export function ResetPassword({ onSignedIn }: { onSignedIn: () => void }) {
  const { t } = useT();
  const token = new URLSearchParams(window.location.hash.slice(1)).get('token');
  const [password, setPassword] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [needsCode, setNeedsCode] = useState(false);
  const [code, setCode] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [mismatch, setMismatch] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setMismatch(password !== confirmation);
    if (password !== confirmation || !token) return;
    try {
      await api.call(redeemLink, { body: { token, password, ...(needsCode ? { totp_code: code.trim() } : {}) } });
      window.history.replaceState(null, '', '/servers');
      onSignedIn();
    } catch (failure) {
      if (failure instanceof VmcError && failure.reason === 'totp_required') setNeedsCode(true);
      else setError(failure);
    }
  };

  return (
    <section className="card narrow" aria-labelledby="reset-title">
      <h1 id="reset-title">{t('setPasswordTitle')}</h1>
      {!token ? (
        <p role="alert">{t('linkMissing')}</p>
      ) : (
        <form onSubmit={submit} noValidate>
          <p>{t('setPasswordIntro')}</p>
          <Field id="new-password" label={t('newPassword')}>
            <input
              id="new-password"
              type="password"
              autoComplete="new-password"
              minLength={12}
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              autoFocus
            />
          </Field>
          <Field id="confirm-password" label={t('confirmPassword')}>
            <input
              id="confirm-password"
              type="password"
              autoComplete="new-password"
              required
              value={confirmation}
              onChange={(e) => setConfirmation(e.target.value)}
            />
          </Field>
          {needsCode && (
            <Field id="code" label={t('totpCode')} help={t('totpHelp')}>
              <input
                id="code"
                inputMode="numeric"
                autoComplete="one-time-code"
                value={code}
                onChange={(e) => setCode(e.target.value)}
              />
            </Field>
          )}
          {mismatch && (
            <p className="notice error" role="alert">
              {t('passwordsDiffer')}
            </p>
          )}
          <ErrorNotice error={error} />
          <button type="submit" className="primary">
            {t('continue')}
          </button>
        </form>
      )}
    </section>
  );
}
