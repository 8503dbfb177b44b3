/**
 * The web console in a real browser (Debian's Chromium driven by playwright-core; no browser download):
 * the first owner's one-time link, TOTP enrolment, sign-in with password + TOTP, a server created through
 * the wizard reaching `running` on screen without a reload (the event stream), and a viewer who sees no
 * destructive buttons while the API refuses the action anyway. Screenshots go to test-output/console/
 * (git-ignored); an axe-core pass on each main page allows no serious or critical violation.
 * Builds the console first (vite's build API) when web/dist is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { fastSimDelays, startTestControlPlane, until } from './helpers.ts';
import { base32Decode, totpAt } from '../src/identity/index.ts';

const root = join(import.meta.dirname, '..');
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const shots = join(root, 'test-output', 'console');
const password = 'a console passphrase for tests';
/** What the page's own code sees (this project type-checks without the DOM library). */
interface BrowserGlobals {
  document: { cookie: string; documentElement: { dataset: { theme?: string } } };
}

async function ensureBuilt(): Promise<string> {
  const dist = join(root, 'web', 'dist');
  if (!existsSync(join(dist, 'index.html'))) {
    const { build } = await import('vite');
    await build({ configFile: join(root, 'web', 'vite.config.ts'), logLevel: 'warn' });
  }
  return dist;
}

/** No serious or critical accessibility violation on the page as it is now. */
async function assertAccessible(page: Page, what: string) {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    [],
    `accessibility of ${what}`,
  );
}

test(
  'the web console in Chromium',
  { skip: !existsSync(chromiumPath) && `no browser at ${chromiumPath}` },
  async (t) => {
    const consoleDir = await ensureBuilt();
    mkdirSync(shots, { recursive: true });
    // Servers take 2 s to start: the page shows them starting, then running, from the event stream.
    const tcp = await startTestControlPlane('sqlite', {
      consoleDir,
      passwordHashCost: { ln: 12, r: 8, p: 1 },
      simDelays: { ...fastSimDelays, startMs: 2000 },
    });
    let browser: Browser | null = null;
    t.after(async () => {
      await browser?.close();
      await tcp.dispose();
    });
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
    const owner = await browser.newContext({ locale: 'en-GB', colorScheme: 'light' });
    const page = await owner.newPage();

    await t.test('the first start link: choose a password, signed in', async () => {
      await page.goto(tcp.url + tcp.secrets.ownerSignIn.path);
      await page.getByRole('heading', { name: 'Choose your password' }).waitFor();
      await assertAccessible(page, 'the set-password page');
      await page.getByLabel('New password (12 characters or more)').fill(password);
      await page.getByLabel('Confirm the password').fill(password);
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('heading', { name: 'Servers' }).waitFor();
      assert.equal(new URL(page.url()).pathname, '/servers');
    });

    let secret!: Buffer;
    await t.test('TOTP enrolment on the account page gives recovery codes', async () => {
      await page.getByRole('link', { name: 'Account' }).click();
      await page.getByRole('button', { name: 'Set up two-factor authentication' }).click();
      secret = base32Decode(await page.getByTestId('totp-secret').innerText());
      await page.getByLabel('Authentication code').fill(totpAt(secret, Date.now()));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByTestId('recovery-codes').waitFor();
      assert.equal(await page.getByTestId('recovery-codes').locator('li').count(), 10);
      await assertAccessible(page, 'the account page');
      await page.screenshot({ path: join(shots, 'account.png'), fullPage: true });
    });

    await t.test('sign out, sign in with password and TOTP', async () => {
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await assertAccessible(page, 'the sign-in page');
      await page.screenshot({ path: join(shots, 'sign-in.png') });
      await page.getByLabel('Email').fill('owner@vmcloud.local');
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      // The enrolment used this step's code: the next step's is accepted (±1) and never used before.
      await page.getByLabel('Authentication code').fill(totpAt(secret, Date.now() + 30_000));
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('heading', { name: 'Servers' }).waitFor();
      assert.match(await page.getByTestId('who').innerText(), /owner@vmcloud\.local · default · owner/);
    });

    let serverId!: string;
    await t.test('the wizard: region, size with price and availability, image, details, review, create', async () => {
      await page.getByRole('link', { name: 'Create a server' }).first().click();
      await page.getByRole('heading', { name: 'Create a server' }).waitFor();
      await page.getByLabel(/^FRA1/).check();
      await page.getByRole('button', { name: 'Next' }).click();
      const nano = page.locator('[data-product="vps-nano"]');
      await nano.waitFor();
      assert.match(await nano.innerText(), /€.*\/hour.*at most .*€.*\/month.*\((FRA1)\)/s);
      assert.match(await nano.innerText(), /Available|Few left/);
      await nano.locator('input').check();
      await assertAccessible(page, 'the create-server wizard');
      await page.screenshot({ path: join(shots, 'create-server.png'), fullPage: true });
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByLabel('Debian 12 (bookworm)', { exact: true }).check();
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByLabel('Server name').fill('web-console-1');
      await page
        .getByLabel('SSH public keys (one per line)')
        .fill('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2eHsgzi5w9S2W1p0wb4m9hS5k3q9k1d5Qm8WcH0c6b test@console');
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByTestId('protection-step').waitFor();
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByTestId('review').waitFor();
      assert.match(await page.getByTestId('price').innerText(), /Price: .*€.* per hour, at most .*€.* per month/);
      await page.evaluate(() => ((globalThis as unknown as { marker: string }).marker = 'no reload'));
      await page.getByRole('button', { name: 'Create the server' }).click();
      await page.waitForURL(/\/servers\/srv_/);
      serverId = new URL(page.url()).pathname.split('/')[2];
    });

    await t.test('the server reaches running on screen without a reload', async () => {
      const badge = page.locator('h1 .badge');
      const seen = new Set<string>();
      await until(
        'the badge to say running',
        async () => {
          const status = await badge.getAttribute('data-status');
          if (status) seen.add(status);
          return status === 'running';
        },
        30_000,
      );
      assert.ok(
        [...seen].some((s) => s !== 'running'),
        `the page showed it before running: ${[...seen]}`,
      );
      assert.equal(await page.evaluate(() => (globalThis as unknown as { marker?: string }).marker), 'no reload');
      const api = await tcp.call('GET', `/v1/servers/${serverId}`);
      assert.equal(api.body.server.status, 'running');
      await assertAccessible(page, 'the server detail page');
      await page.screenshot({ path: join(shots, 'server-detail.png'), fullPage: true });
      await page.getByRole('link', { name: '← Servers' }).click();
      await page.locator('tr[data-server="web-console-1"] .badge[data-status="running"]').waitFor();
      await assertAccessible(page, 'the server list');
      await page.screenshot({ path: join(shots, 'servers.png'), fullPage: true });
    });

    await t.test('French, and dark mode', async () => {
      await page.getByLabel('Language').selectOption('fr');
      await page.getByRole('heading', { name: 'Serveurs' }).waitFor();
      await page.getByRole('button', { name: /^Thème/ }).click();
      assert.equal(
        await page.evaluate(() => (globalThis as unknown as BrowserGlobals).document.documentElement.dataset.theme),
        'dark',
      );
      await assertAccessible(page, 'the server list in French, dark');
      await page.screenshot({ path: join(shots, 'servers-fr-dark.png'), fullPage: true });
    });

    await t.test('a viewer sees no destructive buttons, and the API refuses them anyway', async () => {
      const created = await tcp.call('POST', '/v1/users', {
        token: tcp.secrets.operatorToken,
        body: { email: 'viewer@example.com', project_id: tcp.secrets.projectId, role: 'viewer' },
      });
      assert.equal(created.status, 201);
      const viewerContext = await browser!.newContext({ locale: 'en-GB' });
      const viewer = await viewerContext.newPage();
      await viewer.goto(tcp.url + created.body.link.path);
      await viewer.getByLabel('New password (12 characters or more)').fill(password);
      await viewer.getByLabel('Confirm the password').fill(password);
      await viewer.getByRole('button', { name: 'Continue' }).click();
      await viewer.getByRole('heading', { name: 'Servers' }).waitFor();
      assert.equal(await viewer.getByRole('link', { name: 'Create a server' }).count(), 1, 'only the nav link');
      await viewer.getByRole('link', { name: 'web-console-1' }).click();
      await viewer.getByText('You have the viewer role').waitFor();
      for (const name of ['Start', 'Stop', 'Reboot', 'Delete'])
        assert.equal(await viewer.getByRole('button', { name }).count(), 0, `no ${name} button`);
      await viewer.screenshot({ path: join(shots, 'server-detail-viewer.png'), fullPage: true });
      const refused = await viewer.evaluate(async (id) => {
        const csrf = (globalThis as unknown as BrowserGlobals).document.cookie.match(/vmc_csrf=([^;]+)/)?.[1] ?? '';
        const response = await fetch(`/v1/servers/${id}`, { method: 'DELETE', headers: { 'x-csrf-token': csrf } });
        return { status: response.status, body: (await response.json()) as { code: string } };
      }, serverId);
      assert.equal(refused.status, 403);
      assert.equal(refused.body.code, 'forbidden');
      assert.equal((await tcp.call('GET', `/v1/servers/${serverId}`)).body.server.status, 'running');
      await viewerContext.close();
    });
  },
);
