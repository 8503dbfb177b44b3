/**
 * Passkeys in a real browser (docs/adr/0013-passkeys.md; issue 16): Debian's Chromium through
 * playwright-core with a CDP virtual authenticator (CTAP2, internal, discoverable, user verification).
 * A signed-in member adds a passkey on the Account page, sees it listed, signs out, signs in with the
 * passkey alone (no e-mail, no password, no code) and lands on the servers page; then deletes it with a
 * confirmation. The console is reached at http://localhost (a secure context; an IP cannot be an RP ID).
 * axe-core passes on the pages with passkeys; screenshots in test-output/console/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { startTestControlPlane } from './helpers.ts';
import {
  assertAccessible,
  ensureBuilt,
  launch,
  noBrowser,
  open,
  password,
  screenshot,
  testPasswordCost,
} from './console-browser.ts';

test('passkeys in the console: add, sign out, sign in with the passkey, delete', { skip: noBrowser }, async (t) => {
  const consoleDir = await ensureBuilt();
  const tcp = await startTestControlPlane('sqlite', { consoleDir, passwordHashCost: testPasswordCost });
  let browser: Browser | null = null;
  t.after(async () => {
    await browser?.close();
    await tcp.dispose();
  });
  const base = tcp.url.replace('127.0.0.1', 'localhost');
  const created = await tcp.call('POST', '/v1/users', {
    token: tcp.secrets.operatorToken,
    body: { email: 'pat@example.com', project_id: tcp.secrets.projectId, role: 'member' },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));

  browser = await launch();
  const context = await browser.newContext({ locale: 'en-GB', colorScheme: 'light' });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  });

  await page.goto(base + created.body.link.path);
  await page.getByLabel('New password (12 characters or more)').fill(password);
  await page.getByLabel('Confirm the password').fill(password);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Servers', exact: true }).waitFor();

  await t.test('add a passkey on the Account page', async () => {
    await open(page, 'Account');
    await page.getByRole('heading', { name: 'Passkeys' }).waitFor();
    await page.getByText('No passkeys yet.').waitFor();
    await page.getByLabel('Name of the new passkey (optional)').fill('Work laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByText('Passkey Work laptop added.').waitFor();
    const rows = page.getByTestId('passkeys').locator('tbody tr');
    assert.equal(await rows.count(), 1);
    assert.match(await rows.first().innerText(), /Work laptop/);
    assert.match(await rows.first().innerText(), /never/);
    const stored = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(stored.credentials.length, 1);
    assert.equal(stored.credentials[0].isResidentCredential, true, 'a discoverable credential');
    await assertAccessible(page, 'the account page with a passkey');
    await screenshot(page, 'account-passkeys');
  });

  await t.test('sign out, then sign in with the passkey alone', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await assertAccessible(page, 'the sign-in page with the passkey button');
    await screenshot(page, 'sign-in-passkey');
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByRole('heading', { name: 'Servers', exact: true }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/servers');
    const session = await page.evaluate(async () => {
      const answer = await fetch('/v1/auth/session');
      return (await answer.json()) as { user: { email: string }; session: { second_factor: string } };
    });
    assert.equal(session.user.email, 'pat@example.com');
    assert.equal(session.session.second_factor, 'passkey');
  });

  await t.test('the passkey was used; deleting it asks first', async () => {
    await open(page, 'Account');
    const rows = page.getByTestId('passkeys').locator('tbody tr');
    await rows.first().waitFor();
    assert.doesNotMatch(await rows.first().innerText(), /never/);
    await page.getByRole('button', { name: 'Delete Work laptop' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Delete the passkey Work laptop? It will not sign you in any more.').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await rows.count(), 1, 'cancelled: still there');
    await page.getByRole('button', { name: 'Delete Work laptop' }).click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No passkeys yet.').waitFor();
  });
});
