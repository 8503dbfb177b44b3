/** The console's shell: who is signed in, language and theme, navigation, and the page of the path. */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { getAuthSession, logout, type CurrentPrincipal } from '../../src/contract/index.ts';
import { api, VmcError } from './api.ts';
import { LangContext, defaultLang, translator, type Lang } from './i18n.tsx';
import { navigate, usePath } from './router.ts';
import { ErrorNotice, Link } from './components.tsx';
import { SignIn } from './pages/sign-in.tsx';
import { ResetPassword } from './pages/reset.tsx';
import { AcceptInvitation } from './pages/invite.tsx';
import { Members } from './pages/members.tsx';
import { ProjectSwitcher } from './project-switcher.tsx';
import { ServerList } from './pages/servers.tsx';
import { ServerDetail } from './pages/server-detail.tsx';
import { CreateServer } from './pages/create-server.tsx';
import { Account } from './pages/account.tsx';
import { Networks } from './pages/networks.tsx';
import { FloatingIps } from './pages/floating-ips.tsx';
import { FirewallDetail, Firewalls } from './pages/firewalls.tsx';
import { SshKeys } from './pages/ssh-keys.tsx';
import { Volumes } from './pages/volumes.tsx';
import { Backups } from './pages/backups.tsx';
import { WebhookDetail, Webhooks } from './pages/webhooks.tsx';
import { Tokens } from './pages/tokens.tsx';
import { AuditLog } from './pages/audit.tsx';
import { Invoices, SlaReport, Usage } from './pages/billing.tsx';
import { PlatformStatus } from './pages/status.tsx';
import { OperatorArea } from './pages/operator.tsx';
import { BillingAccountPage, FlowLogsPage } from './pages/project-settings.tsx';
import { AttackDetail, DdosPage } from './pages/ddos.tsx';
import type { MessageKey } from './i18n.tsx';

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

  const idAfter = (prefix: string) => decodeURIComponent(path.slice(prefix.length));
  let page;
  if (path === '/reset') page = <ResetPassword onSignedIn={signedIn} />;
  else if (path === '/invite') page = <AcceptInvitation onSignedIn={signedIn} />;
  // The operator area signs in on its own (an operator session): an operator of no project uses it too.
  else if (path === '/operator' || path.startsWith('/operator/')) page = <OperatorArea path={path} />;
  else if (me === undefined) page = error ? <ErrorNotice error={error} /> : <p>{t('loading')}</p>;
  else if (me === null || path === '/sign-in') page = <SignIn onSignedIn={signedIn} />;
  else if (path === '/' || path === '/servers') page = <ServerList me={me} />;
  else if (path === '/servers/new') page = <CreateServer me={me} />;
  else if (path.startsWith('/servers/')) page = <ServerDetail me={me} id={idAfter('/servers/')} />;
  else if (path === '/networks') page = <Networks me={me} />;
  else if (path === '/floating-ips') page = <FloatingIps me={me} />;
  else if (path === '/firewalls') page = <Firewalls me={me} />;
  else if (path.startsWith('/firewalls/')) page = <FirewallDetail me={me} id={idAfter('/firewalls/')} />;
  else if (path === '/ssh-keys') page = <SshKeys me={me} />;
  else if (path === '/volumes') page = <Volumes me={me} />;
  else if (path === '/backups') page = <Backups me={me} />;
  else if (path === '/webhooks') page = <Webhooks me={me} />;
  else if (path.startsWith('/webhooks/')) page = <WebhookDetail me={me} id={idAfter('/webhooks/')} />;
  else if (path === '/tokens') page = <Tokens me={me} />;
  else if (path === '/members') page = <Members me={me} onChanged={refresh} />;
  else if (path === '/audit-log') page = <AuditLog me={me} />;
  else if (path === '/usage') page = <Usage me={me} />;
  else if (path === '/invoices') page = <Invoices me={me} />;
  else if (path === '/sla') page = <SlaReport me={me} />;
  else if (path === '/billing-account') page = <BillingAccountPage me={me} />;
  else if (path === '/ddos') page = <DdosPage me={me} />;
  else if (path.startsWith('/ddos/attacks/')) page = <AttackDetail id={idAfter('/ddos/attacks/')} />;
  else if (path === '/flow-logs') page = <FlowLogsPage me={me} />;
  else if (path === '/status') page = <PlatformStatus />;
  else if (path === '/account') page = <Account me={me} onChanged={refresh} />;
  else page = <p>{t('notFoundPage')}</p>;

  const nav: [MessageKey, [string, MessageKey][]][] = [
    [
      'navCompute',
      [
        ['/servers', 'servers'],
        ['/servers/new', 'createServer'],
        ['/ssh-keys', 'savedSshKeys'],
      ],
    ],
    [
      'navNetwork',
      [
        ['/networks', 'networks'],
        ['/floating-ips', 'floatingIps'],
        ['/firewalls', 'firewalls'],
        ['/ddos', 'ddosProtection'],
        ['/flow-logs', 'flowLogs'],
      ],
    ],
    [
      'navData',
      [
        ['/volumes', 'volumes'],
        ['/backups', 'backups'],
      ],
    ],
    [
      'navProject',
      [
        ['/members', 'members'],
        ['/webhooks', 'webhooks'],
        ['/tokens', 'apiTokens'],
        ['/audit-log', 'auditLog'],
        ['/account', 'account'],
      ],
    ],
    [
      'navBilling',
      [
        ['/usage', 'usage'],
        ['/invoices', 'invoices'],
        ['/sla', 'slaReport'],
        ['/billing-account', 'billingAccount'],
        ['/status', 'platformStatus'],
      ],
    ],
    ['navOperator', [['/operator', 'operatorArea']]],
  ];
  const current = (href: string) =>
    path === href ||
    (href !== '/servers' && href !== '/servers/new' && path.startsWith(`${href}/`)) ||
    (href === '/servers' && path.startsWith('/servers/') && path !== '/servers/new');
  return (
    <LangContext.Provider value={{ lang, t }}>
      <a className="skip" href="#main">
        {t('skip')}
      </a>
      <header className="topbar">
        <Link href="/servers" className="brand">
          VMCloud
        </Link>
        <div className="prefs">
          {me && (
            <span className="who" data-testid="who">
              {me.user?.email ?? 'token'} · {me.project.name} ·{' '}
              <span data-role={me.project.role}>{me.project.role}</span>
            </span>
          )}
          {me && (
            <ProjectSwitcher
              me={me}
              onSwitched={async () => {
                await refresh();
                navigate('/servers');
              }}
            />
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
      <div className={me ? 'layout' : undefined}>
        {me && (
          <nav aria-label={t('appName')} className="sidenav">
            {nav.map(([group, links]) => (
              <div key={group}>
                <h2 className="navgroup">{t(group)}</h2>
                <ul>
                  {links.map(([href, label]) => (
                    <li key={href}>
                      <Link href={href} aria-current={current(href) ? 'page' : undefined}>
                        {t(label)}
                      </Link>
                    </li>
                  ))}
                </ul>
              </div>
            ))}
          </nav>
        )}
        {/* Keyed by project: a switch remounts the page, its loads and its event stream. */}
        <main id="main" tabIndex={-1} key={me?.project.id ?? ''}>
          {page}
        </main>
      </div>
    </LangContext.Provider>
  );
}
