/**
 * The one-time link (/reset#token=…): choose a password, and sign in (with the TOTP code when enrolled).
 *
 * An operator of no project has no project to sign in to: the API answers `no_project` (and changes
 * nothing), and the page goes on as the operator's link — two-factor enrolment through the link (a key for
 * the authenticator app; or, when TOTP is on already, its code), then the password, TOTP and an operator
 * session in one step (`POST /v1/auth/links/operator-redeem`), the recovery codes shown once, and the
 * operator area.
 */
import { useState, type FormEvent } from 'react';
import {
  beginLinkTotpEnrolment,
  redeemLink,
  redeemOperatorLink,
  type TotpEnrolment,
} from '../../../src/contract/index.ts';
import { api, VmcError } from '../api.ts';
import { useT } from '../i18n.tsx';
import { ErrorNotice, Field, Link } from '../components.tsx';

/** The operator's path: a new TOTP secret to enrol (`enrolment`), or the code of the TOTP already on. */
type OperatorStep = { enrolment: TotpEnrolment | null };

export function ResetPassword({ onSignedIn }: { onSignedIn: () => void }) {
  const { t } = useT();
  // Read once: the token leaves the address bar when the operator's link is used.
  const [token] = useState(() => new URLSearchParams(window.location.hash.slice(1)).get('token'));
  const [password, setPassword] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [needsCode, setNeedsCode] = useState(false);
  const [code, setCode] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [mismatch, setMismatch] = useState(false);
  const [operator, setOperator] = useState<OperatorStep | null>(null);
  const [recovery, setRecovery] = useState<string[] | null>(null);
  const [busy, setBusy] = useState(false);

  /** `no_project`: an operator's link goes on in the operator area; anyone else sees the refusal. */
  const asOperator = async (refusal: VmcError) => {
    try {
      setOperator({ enrolment: await api.call(beginLinkTotpEnrolment, { body: { token: token! } }) });
    } catch (failure) {
      if (failure instanceof VmcError && failure.reason === 'totp_enabled') setOperator({ enrolment: null });
      else setError(failure instanceof VmcError && failure.reason === 'not_operator' ? refusal : failure);
    }
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setMismatch(password !== confirmation);
    if (password !== confirmation || !token) return;
    setBusy(true);
    try {
      if (operator) {
        const answer = await api.call(redeemOperatorLink, {
          body: {
            token,
            password,
            ...(operator.enrolment ? { new_totp_code: code.trim() } : { totp_code: code.trim() }),
          },
        });
        window.history.replaceState(null, '', '/reset');
        if (answer.recovery_codes) setRecovery(answer.recovery_codes);
        else {
          window.history.replaceState(null, '', '/operator');
          window.dispatchEvent(new PopStateEvent('popstate'));
        }
        return;
      }
      await api.call(redeemLink, { body: { token, password, ...(needsCode ? { totp_code: code.trim() } : {}) } });
      window.history.replaceState(null, '', '/servers');
      onSignedIn();
    } catch (failure) {
      if (failure instanceof VmcError && failure.reason === 'totp_required') setNeedsCode(true);
      else if (!operator && failure instanceof VmcError && failure.reason === 'no_project') await asOperator(failure);
      else setError(failure);
    } finally {
      setBusy(false);
    }
  };

  if (recovery)
    return (
      <section className="card narrow" aria-labelledby="reset-title">
        <h1 id="reset-title">{t('setPasswordTitle')}</h1>
        <p role="status">{t('operatorLinkDone')}</p>
        <div className="card" data-testid="recovery-codes">
          <h2>{t('recoveryCodesTitle')}</h2>
          <p>{t('recoveryCodesIntro')}</p>
          <ul className="codes">
            {recovery.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
        </div>
        <p>
          <Link href="/operator" className="button primary">
            {t('openOperatorArea')}
          </Link>
        </p>
      </section>
    );

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
          {operator && (
            <div data-testid="operator-link">
              <p>{t(operator.enrolment ? 'operatorLinkIntro' : 'operatorLinkTotpOn')}</p>
              {operator.enrolment && (
                <>
                  <p>
                    {t('secretKey')}: <code data-testid="totp-secret">{operator.enrolment.secret}</code>
                  </p>
                  <p>
                    <a href={operator.enrolment.otpauth_uri}>otpauth://…</a>
                  </p>
                </>
              )}
            </div>
          )}
          {(needsCode || operator) && (
            <Field id="code" label={t('totpCode')} help={t('totpHelp')}>
              <input
                id="code"
                inputMode="numeric"
                autoComplete="one-time-code"
                value={code}
                onChange={(e) => setCode(e.target.value)}
                aria-describedby="code-help"
              />
            </Field>
          )}
          {mismatch && (
            <p className="notice error" role="alert">
              {t('passwordsDiffer')}
            </p>
          )}
          <ErrorNotice error={error} />
          <button type="submit" className="primary" disabled={busy}>
            {operator ? t('openOperatorArea') : t('continue')}
          </button>
        </form>
      )}
    </section>
  );
}
