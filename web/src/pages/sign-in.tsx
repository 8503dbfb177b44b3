/**
 * Sign in: email + password, then — for accounts with two-factor — the TOTP code (or a recovery code); or a
 * passkey, which is both factors (docs/adr/0013-passkeys.md).
 */
import { useState, type FormEvent } from 'react';
import { login } from '../../../src/contract/index.ts';
import { api, VmcError } from '../api.ts';
import { useT } from '../i18n.tsx';
import { ErrorNotice, Field, Link } from '../components.tsx';
import { PasskeySignIn } from './passkeys.tsx';

export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const { t } = useT();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [step, setStep] = useState<'password' | 'totp'>('password');
  const [useRecovery, setUseRecovery] = useState(false);
  const [code, setCode] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const second = step === 'totp' ? (useRecovery ? { recovery_code: code.trim() } : { totp_code: code.trim() }) : {};
      await api.call(login, { body: { email, password, ...second } });
      onSignedIn();
    } catch (failure) {
      if (failure instanceof VmcError && failure.reason === 'totp_required') setStep('totp');
      else setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card narrow" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">{t('signIn')}</h1>
      <form onSubmit={submit} noValidate>
        {step === 'password' ? (
          <>
            <Field id="email" label={t('email')}>
              <input
                id="email"
                type="email"
                autoComplete="username"
                required
                value={email}
                onChange={(e) => setEmail(e.target.value)}
                autoFocus
              />
            </Field>
            <Field id="password" label={t('password')}>
              <input
                id="password"
                type="password"
                autoComplete="current-password"
                required
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            </Field>
          </>
        ) : (
          <>
            <Field
              id="code"
              label={useRecovery ? t('recoveryCode') : t('totpCode')}
              help={useRecovery ? undefined : t('totpHelp')}
            >
              <input
                id="code"
                inputMode={useRecovery ? 'text' : 'numeric'}
                autoComplete="one-time-code"
                pattern={useRecovery ? undefined : '[0-9]{6}'}
                required
                value={code}
                onChange={(e) => setCode(e.target.value)}
                aria-describedby={useRecovery ? undefined : 'code-help'}
                autoFocus
              />
            </Field>
            <button type="button" className="link" onClick={() => setUseRecovery(!useRecovery)}>
              {useRecovery ? t('useTotp') : t('useRecovery')}
            </button>
          </>
        )}
        <ErrorNotice error={error} />
        {error instanceof VmcError && error.reason === 'no_project' && (
          <p>
            {t('signInNoProjectOperator')} <Link href="/operator">{t('openOperatorArea')}</Link>
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {step === 'password' ? t('signIn') : t('continue')}
        </button>
      </form>
      {step === 'password' && <PasskeySignIn onSignedIn={onSignedIn} />}
    </section>
  );
}
