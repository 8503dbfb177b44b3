/** The console's shell: who is signed in, language and theme, navigation, and the page of the path. */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { getAuthSession, logout, type CurrentPrincipal } from '../../src/contract/index.ts';
import { api, VmcError } from './api.ts';
import { LangContext, defaultLang, translator, type Lang } from './i18n.tsx';
import { navigate, usePath } from './router.ts';
import { ErrorNotice, Link } from './components.tsx';
import { SignIn } from './pages/sign-in.tsx';
import { ResetPassword } from './pages/reset.tsx';
import { ServerList } from './pages/servers.tsx';
import { ServerDetail } from './pages/server-detail.tsx';
import { CreateServer } from './pages/create-server.tsx';
import { Account } from './pages/account.tsx';

type Theme = 'light' | 'dark';
const defaultTheme = (): Theme =>
  (localStorage.getItem('vmcloud.theme') as Theme | null) ??
  (window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');

export function App() {
  const path = usePath();
  const [lang, setLang] = useState<Lang>(defaultLang);
  const [theme, setTheme] = useState<Theme>(defaultTheme);
  const [me, setMe] = useState<CurrentPrincipal | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const t = useMemo(() => translator(lang), [lang]);

  useEffect(() => {
    document.documentElement.lang = lang;
    localStorage.setItem('vmcloud.lang', lang);
  }, [lang]);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('vmcloud.theme', theme);
  }, [theme]);

  const refresh = useCallback(async () => {
    try {
      setMe(await api.call(getAuthSession));
      setError(null);
    } catch (failure) {
      if (failure instanceof VmcError && failure.code === 'unauthenticated') setMe(null);
      else setError(failure);
    }
  }, []);
  useEffect(() => {
    void refresh();
  }, [refresh]);

  const signedIn = async () => {
    await refresh();
    navigate('/servers');
  };
  const signOut = async () => {
    try {
      await api.call(logout);
    } finally {
      setMe(null);
      navigate('/sign-in');
    }
  };

  let page;
  if (path === '/reset') page = <ResetPassword onSignedIn={signedIn} />;
  else if (me === undefined) page = error ? <ErrorNotice error={error} /> : <p>{t('loading')}</p>;
  else if (me === null || path === '/sign-in') page = <SignIn onSignedIn={signedIn} />;
  else if (path === '/' || path === '/servers') page = <ServerList me={me} />;
  else if (path === '/servers/new') page = <CreateServer me={me} />;
  else if (path.startsWith('/servers/')) page = <ServerDetail me={me} id={decodeURIComponent(path.slice(9))} />;
  else if (path === '/account') page = <Account me={me} onChanged={refresh} />;
  else page = <p>{t('notFoundPage')}</p>;

  const nav = [
    ['/servers', t('servers')],
    ['/servers/new', t('createServer')],
    ['/account', t('account')],
  ] as const;
  return (
    <LangContext.Provider value={{ lang, t }}>
      <a className="skip" href="#main">
        {t('skip')}
      </a>
      <header className="topbar">
        <Link href="/servers" className="brand">
          VMCloud
        </Link>
        {me && (
          <nav aria-label={t('appName')}>
            <ul>
              {nav.map(([href, label]) => (
                <li key={href}>
                  <Link href={href} aria-current={path === href ? 'page' : undefined}>
                    {label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
        )}
        <div className="prefs">
          {me && (
            <span className="who" data-testid="who">
              {me.user?.email ?? 'token'} · {me.project.name} ·{' '}
              <span data-role={me.project.role}>{me.project.role}</span>
            </span>
          )}
          <label className="inline">
            <span className="sr-only">{t('language')}</span>
            <select value={lang} onChange={(e) => setLang(e.target.value as Lang)} aria-label={t('language')}>
              <option value="en">English</option>
              <option value="fr">Français</option>
            </select>
          </label>
          <button
            type="button"
            onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}
            aria-label={`${t('theme')}: ${theme === 'dark' ? t('dark') : t('light')}`}
          >
            {theme === 'dark' ? '☾' : '☀'}
          </button>
          {me && (
            <button type="button" onClick={signOut}>
              {t('signOut')}
            </button>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
    </LangContext.Provider>
  );
}
