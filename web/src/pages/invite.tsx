/**
 * The invitation link (/invite#token=…): join the project. A new person chooses a password; a known one
 * types theirs (and the TOTP code when enrolled) — or, signed in as that person, just accepts.
 */
import { useState, type FormEvent } from 'react';
import { acceptInvitation } from '../../../src/contract/index.ts';
import { api, VmcError } from '../api.ts';
import { useT } from '../i18n.tsx';
import { ErrorNotice, Field } from '../components.tsx';

type Step = 'start' | 'new' | 'existing';

export function AcceptInvitation({ onSignedIn }: { onSignedIn: () => void }) {
  const { t } = useT();
  const token = new URLSearchParams(window.location.hash.slice(1)).get('token');
  const [step, setStep] = useState<Step>('start');
  const [password, setPassword] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [needsCode, setNeedsCode] = useState(false);
  const [code, setCode] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [mismatch, setMismatch] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    const differ = step === 'new' && password !== confirmation;
    setMismatch(differ);
    if (differ || !token) return;
    try {
      await api.call(acceptInvitation, {
        body: {
          token,
          ...(step !== 'start' ? { password } : {}),
          ...(needsCode ? { totp_code: code.trim() } : {}),
        },
      });
      window.history.replaceState(null, '', '/servers');
      onSignedIn();
    } catch (failure) {
      if (failure instanceof VmcError && failure.reason === 'password_required') setStep('new');
      else if (failure instanceof VmcError && failure.reason === 'account_password_required') setStep('existing');
      else if (failure instanceof VmcError && failure.reason === 'totp_required') setNeedsCode(true);
      else setError(failure);
    }
  };

  return (
    <section className="card narrow" aria-labelledby="invite-title">
      <h1 id="invite-title">{t('acceptInvitationTitle')}</h1>
      {!token ? (
        <p role="alert">{t('linkMissing')}</p>
      ) : (
        <form onSubmit={submit} noValidate>
          <p>
            {step === 'start'
              ? t('acceptInvitationIntro')
              : step === 'new'
                ? t('acceptInvitationNew')
                : t('acceptInvitationExisting')}
          </p>
          {step !== 'start' && (
            <Field id="invite-password" label={step === 'new' ? t('newPassword') : t('password')}>
              <input
                id="invite-password"
                type="password"
                autoComplete={step === 'new' ? 'new-password' : 'current-password'}
                required
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                autoFocus
              />
            </Field>
          )}
          {step === 'new' && (
            <Field id="invite-confirm" label={t('confirmPassword')}>
              <input
                id="invite-confirm"
                type="password"
                autoComplete="new-password"
                required
                value={confirmation}
                onChange={(e) => setConfirmation(e.target.value)}
              />
            </Field>
          )}
          {needsCode && (
            <Field id="invite-code" label={t('totpCode')} help={t('totpHelp')}>
              <input
                id="invite-code"
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
            {step === 'start' ? t('acceptInvitation') : t('continue')}
          </button>
        </form>
      )}
    </section>
  );
}
