/**
 * Passkeys (docs/adr/0013-passkeys.md): the Account page's section (add with an optional name, list,
 * delete with confirmation) and the sign-in page's "Sign in with a passkey" button (discoverable
 * credentials: no e-mail asked; the passkey is both factors).
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { browserSupportsWebAuthn, startAuthentication, startRegistration } from '@simplewebauthn/browser';
import {
  beginPasskeyLogin,
  beginPasskeyRegistration,
  deletePasskey,
  listPasskeys,
  passkeyLogin,
  registerPasskey,
  type Passkey,
  type PasskeyLoginBody,
  type RegisterPasskeyBody,
} from '../../../src/contract/index.ts';
import { api, VmcError } from '../api.ts';
import { useT } from '../i18n.tsx';
import { ErrorNotice, Field } from '../components.tsx';
import { useConfirm } from '../hooks.tsx';

/** The browser's own refusals (prompt closed, timed out, no authenticator) are not the server's errors. */
const isCeremonyAbort = (error: unknown) => !(error instanceof VmcError) && error instanceof Error;

export function PasskeysSection({ onChanged }: { onChanged: () => Promise<void> }) {
  const { t, lang } = useT();
  const { ask, dialog } = useConfirm();
  const [passkeys, setPasskeys] = useState<Passkey[] | null>(null);
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const supported = browserSupportsWebAuthn();
  const when = (iso: string) => new Date(iso).toLocaleString(lang === 'fr' ? 'fr-FR' : 'en-GB');

  const load = useCallback(async () => {
    try {
      setPasskeys((await api.call(listPasskeys)).passkeys);
    } catch (failure) {
      setError(failure);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const add = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setNotice(null);
    setBusy(true);
    try {
      const options = await api.call(beginPasskeyRegistration);
      const credential = await startRegistration({ optionsJSON: options.options as never });
      const answer = await api.call(registerPasskey, {
        body: {
          challenge_id: options.challenge_id,
          ...(name.trim() ? { name: name.trim() } : {}),
          credential: credential as unknown as RegisterPasskeyBody['credential'],
        },
      });
      setName('');
      setNotice(t('passkeyAdded', { name: answer.passkey.name }));
      await load();
      await onChanged();
    } catch (failure) {
      if (isCeremonyAbort(failure)) setNotice(t('passkeyCancelled'));
      else setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const remove = (passkey: Passkey) =>
    ask(
      t('deletePasskey'),
      t('confirmDeletePasskey', { name: passkey.name }),
      () => {
        void (async () => {
          setError(null);
          setNotice(null);
          try {
            await api.call(deletePasskey, { params: { id: passkey.id } });
            await load();
            await onChanged();
          } catch (failure) {
            setError(failure);
          }
        })();
      },
      { label: t('delete') },
    );

  return (
    <section aria-labelledby="passkeys-title">
      <h2 id="passkeys-title">{t('passkeys')}</h2>
      <p>{t('passkeysIntro')}</p>
      <ErrorNotice error={error} />
      {passkeys && passkeys.length === 0 && <p className="muted">{t('noPasskeys')}</p>}
      {passkeys && passkeys.length > 0 && (
        <table className="list" data-testid="passkeys">
          <thead>
            <tr>
              <th scope="col">{t('name')}</th>
              <th scope="col">{t('created')}</th>
              <th scope="col">{t('passkeyLastUsed')}</th>
              <th scope="col">
                <span className="sr-only">{t('delete')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {passkeys.map((p) => (
              <tr key={p.id}>
                <td>
                  {p.name} {p.backed_up && <span className="muted">({t('passkeySynced')})</span>}
                </td>
                <td>{when(p.created_at)}</td>
                <td>{p.last_used_at ? when(p.last_used_at) : t('passkeyNeverUsed')}</td>
                <td>
                  <button type="button" aria-label={`${t('delete')} ${p.name}`} onClick={() => remove(p)}>
                    {t('delete')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {supported ? (
        <form onSubmit={add}>
          <Field id="passkey-name" label={t('passkeyName')}>
            <input id="passkey-name" maxLength={60} value={name} onChange={(e) => setName(e.target.value)} />
          </Field>
          <button type="submit" disabled={busy}>
            {t('addPasskey')}
          </button>
        </form>
      ) : (
        <p className="muted">{t('passkeyUnsupported')}</p>
      )}
      <p aria-live="polite">{notice}</p>
      {dialog}
    </section>
  );
}

/** "Sign in with a passkey": the browser offers the passkeys it holds for this console. */
export function PasskeySignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const { t } = useT();
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (!browserSupportsWebAuthn()) return null;
  const signIn = async () => {
    setError(null);
    setNotice(null);
    setBusy(true);
    try {
      const options = await api.call(beginPasskeyLogin);
      const credential = await startAuthentication({ optionsJSON: options.options as never });
      await api.call(passkeyLogin, {
        body: {
          challenge_id: options.challenge_id,
          credential: credential as unknown as PasskeyLoginBody['credential'],
        },
      });
      onSignedIn();
    } catch (failure) {
      if (isCeremonyAbort(failure)) setNotice(t('passkeyCancelled'));
      else setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="passkey-sign-in">
      <p className="muted">{t('orSignInWith')}</p>
      <ErrorNotice error={error} />
      <button type="button" onClick={() => void signIn()} disabled={busy}>
        {t('signInWithPasskey')}
      </button>
      <p aria-live="polite">{notice}</p>
    </div>
  );
}
