/**
 * What the console's browser tests share: the build (vite's API when web/dist is missing), Debian's
 * Chromium through playwright-core (no browser download), the axe-core pass allowing no serious or
 * critical violation, the screenshot folder (test-output/console/, git-ignored), and signing a person in
 * through a one-time link.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { startTestControlPlane, type TestControlPlane } from './helpers.ts';
import { createManualClock } from '../src/core/index.ts';

type ManualClock = ReturnType<typeof createManualClock>;
import { base32Decode, totpAt } from '../src/identity/index.ts';
import type { ControlPlaneConfig } from '../src/app.ts';

const root = join(import.meta.dirname, '..');
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const noBrowser = !existsSync(chromiumPath) && `no browser at ${chromiumPath}`;
export const shots = join(root, 'test-output', 'console');
export const password = 'a console passphrase for tests';
/** Cheap scrypt for tests (the production cost is in ADR 0010). */
export const testPasswordCost = { ln: 12, r: 8, p: 1 };

export async function ensureBuilt(): Promise<string> {
  const dist = join(root, 'web', 'dist');
  if (!existsSync(join(dist, 'index.html'))) {
    const { build } = await import('vite');
    await build({ configFile: join(root, 'web', 'vite.config.ts'), logLevel: 'warn' });
  }
  mkdirSync(shots, { recursive: true });
  return dist;
}

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
}

/** No serious or critical accessibility violation on the page as it is now. */
export async function assertAccessible(page: Page, what: string) {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    [],
    `accessibility of ${what}`,
  );
}

export async function screenshot(page: Page, name: string) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

/** Opens a one-time link in a new context, chooses the password, and waits for the server list. */
export async function signInWithLink(browser: Browser, tcp: TestControlPlane, linkPath: string) {
  const context: BrowserContext = await browser.newContext({
    locale: 'en-GB',
    colorScheme: 'light',
    acceptDownloads: true,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  // A script error in the page fails the test where it happens, with its message.
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  await page.goto(tcp.url + linkPath);
  await page.getByLabel('New password (12 characters or more)').fill(password);
  await page.getByLabel('Confirm the password').fill(password);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Servers', exact: true }).waitFor();
  return { context, page };
}

/** A person added to the default project with `role` (an operator's link), signed in. */
export async function signInNewMember(
  browser: Browser,
  tcp: TestControlPlane,
  email: string,
  role: 'owner' | 'member' | 'viewer',
) {
  const created = await tcp.call('POST', '/v1/users', {
    token: tcp.secrets.operatorToken,
    body: { email, project_id: tcp.secrets.projectId, role },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return signInWithLink(browser, tcp, created.body.link.path);
}

/** Goes to a page through the side navigation (no reload) and waits for its heading. */
export async function open(page: Page, link: string, heading = link) {
  await page.getByRole('navigation').getByRole('link', { name: link, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: heading, exact: true }).waitFor();
}

/**
 * The control plane of the operator area's browser tests: SQLite, no fleet, background loops idle, on a
 * manual clock from 2026-04-01 (TOTP codes step with it). Disposed when the test ends.
 */
export async function startOperatorAreaPlane(
  t: { after: (fn: () => Promise<void>) => void },
  overrides: Partial<ControlPlaneConfig> = {},
): Promise<{ tcp: TestControlPlane; clock: ManualClock }> {
  const clock = createManualClock(Date.UTC(2026, 3, 1, 0, 0, 0));
  const tcp = await startTestControlPlane('sqlite', {
    consoleDir: await ensureBuilt(),
    clock,
    passwordHashCost: testPasswordCost,
    fleet: 'none',
    loopIntervalMs: 3_600_000,
    ...overrides,
  });
  t.after(() => tcp.dispose());
  return { tcp, clock };
}

/**
 * The first start's operator (operator@vmcloud.local, in no project) given `password` and TOTP through a
 * one-time link, as the API does it; `code()` moves the clock to the next 30 s step and answers its code;
 * `cookie` is the operator session the link opened.
 */
export async function enrolFirstOperator(tcp: TestControlPlane, clock: ManualClock) {
  const email = 'operator@vmcloud.local';
  const link = await tcp.call('POST', '/v1/users/reset-link', { token: tcp.secrets.operatorToken, body: { email } });
  assert.equal(link.status, 201, JSON.stringify(link.body));
  const token = link.body.link.path.split('#token=')[1];
  const post = async (path: string, body: unknown) => {
    const response = await fetch(tcp.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { response, status: response.status, body: (await response.json()) as { secret: string } };
  };
  const enrolment = await post('/v1/auth/links/totp', { token });
  assert.equal(enrolment.status, 200, JSON.stringify(enrolment.body));
  const secret = base32Decode(enrolment.body.secret);
  const code = () => {
    clock.advanceMs(30_000);
    return totpAt(secret, clock.nowMs());
  };
  const redeemed = await post('/v1/auth/links/operator-redeem', { token, password, new_totp_code: code() });
  assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));
  /** The operator session the link opened, as a Cookie header. */
  const cookie = redeemed.response.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  return { email, code, cookie };
}

/**
 * Opens the create-server wizard and goes through region (FRA1), size (vps-nano) and image (Debian 12) to
 * the details step, where the test fills the name and what else it checks.
 */
export async function wizardToDetails(page: Page) {
  await page.getByRole('link', { name: 'Create a server' }).first().click();
  await page.getByRole('heading', { name: 'Create a server' }).waitFor();
  await page.getByLabel(/^FRA1/).check();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.locator('[data-product="vps-nano"] input').check();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('Debian 12 (bookworm)', { exact: true }).check();
  await page.getByRole('button', { name: 'Next' }).click();
}
