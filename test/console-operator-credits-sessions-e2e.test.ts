/**
 * The operator area in Chromium, on a manual clock, for an operator of no project: the first start's
 * operator (operator@vmcloud.local, linked, member of no project) follows a one-time link, chooses a
 * password, turns TOTP on right there (the key shown, a code of it typed), gets the recovery codes once and
 * lands in the operator area — and later signs in to it from the project sign-in's pointer. The SLA
 * credits tab shows the credit of a server that was down three hours (a simulated host cut off), as
 * `GET /v1/sla/credits` says, in English and French. The sessions tab revokes another operator session
 * (a cancelled revoke changes nothing; a confirmed one makes it answer 401). axe on each new page;
 * screenshots to test-output/console/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { createManualClock } from '../src/core/index.ts';
import { base32Decode, totpAt } from '../src/identity/index.ts';
import { startTestControlPlane, until } from './helpers.ts';
import { startSimHost, type SimHost } from './sim-host.ts';
import {
  assertAccessible,
  ensureBuilt,
  launch,
  noBrowser,
  password,
  screenshot,
  testPasswordCost,
} from './console-browser.ts';

test('an operator of no project, SLA credits and operator sessions in Chromium', { skip: noBrowser }, async (t) => {
  const consoleDir = await ensureBuilt();
  const clock = createManualClock(Date.UTC(2026, 3, 1, 0, 0, 0));
  const tcp = await startTestControlPlane('sqlite', {
    consoleDir,
    clock,
    passwordHashCost: testPasswordCost,
    fleet: 'none',
    hostDownAfterMs: 1000,
    loopIntervalMs: 3_600_000,
  });
  let browser: Browser | null = null;
  let host: SimHost | null = null;
  t.after(async () => {
    await browser?.close();
    await host?.stop().catch(() => {});
    await tcp.dispose();
  });
  const operatorToken = tcp.secrets.operatorToken;

  // A server of the default project on a simulated host that is cut off for exactly three hours.
  const joinToken = await tcp.call('POST', '/v1/host-tokens', { token: operatorToken, body: { name: 'par1-cut-001' } });
  assert.equal(joinToken.status, 201, JSON.stringify(joinToken.body));
  const agentUrl = tcp.cp.agentListener.url ?? (await tcp.cp.agentListener.listen({ host: '127.0.0.1', port: 0 }));
  host = await startSimHost({
    agentUrl,
    caSha256: joinToken.body.ca_sha256,
    hostToken: joinToken.body.secret,
    name: 'par1-cut-001',
    region: 'par1',
  });
  const account = await tcp.call('PUT', '/v1/billing/account', {
    body: { name: 'ACME SAS', address: '1 rue de la Paix\nParis', country: 'FR' },
  });
  assert.equal(account.status, 200, JSON.stringify(account.body));
  const created = await tcp.call('POST', '/v1/servers', {
    body: { name: 'web-1', product: 'vps-starter', region: 'par1', image: 'debian-12' },
  });
  assert.equal(created.status, 202, JSON.stringify(created.body));
  const serverId: string = created.body.server.id;
  const status = async () => (await tcp.call('GET', `/v1/servers/${serverId}`)).body.server.status;
  await until('the server running', async () => (await status()) === 'running');
  clock.advanceMs(10 * 86_400_000);
  await host.pause();
  clock.advanceMs(2000);
  await tcp.cp.housekeeping();
  await until('the server unknown', async () => (await status()) === 'unknown');
  clock.advanceMs(3 * 3_600_000);
  host.resume();
  await until('the server running again', async () => (await status()) === 'running');
  clock.advanceMs(60_000);
  const credit = await until('the credit of the outage', async () => {
    const listed = await tcp.call('GET', '/v1/sla/credits', { token: operatorToken });
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    const found = listed.body.credits.find((c: { server_id: string }) => c.server_id === serverId);
    return found?.downtime_minutes === 180 ? found : null;
  });
  assert.equal(credit.status, 'accruing');
  assert.ok(credit.credit_cents > 0, JSON.stringify(credit));

  // The first start's operator belongs to no project; an operator issues them a link.
  const email = 'operator@vmcloud.local';
  const link = await tcp.call('POST', '/v1/users/reset-link', { token: operatorToken, body: { email } });
  assert.equal(link.status, 201, JSON.stringify(link.body));

  browser = await launch();
  const context = await browser.newContext({ locale: 'en-GB', colorScheme: 'light' });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  /** The browser's cookies for the API, as a Cookie header. */
  const cookieHeader = async () => (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
  let secret!: Buffer;
  /** A code of a step never used before: the clock moves a step forward each time. */
  const freshCode = () => {
    clock.advanceMs(30_000);
    return totpAt(secret, clock.nowMs());
  };

  await t.test('the link: a password, TOTP turned on there, the recovery codes, the operator area', async () => {
    await page.goto(tcp.url + link.body.link.path);
    await page.getByLabel('New password (12 characters or more)').fill(password);
    await page.getByLabel('Confirm the password').fill(password);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByTestId('operator-link').waitFor();
    assert.match(await page.getByTestId('operator-link').innerText(), /belongs to no project/);
    await assertAccessible(page, 'the operator’s link with its TOTP key');
    await screenshot(page, 'operator-link-enrol');
    secret = base32Decode(await page.getByTestId('totp-secret').innerText());
    // A wrong code: refused in plain words, nothing saved (the API still has no TOTP for them).
    const right = totpAt(secret, clock.nowMs());
    await page.getByLabel('Authentication code').fill(right === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Open the operator area' }).click();
    assert.match(
      await page.getByRole('alert').innerText(),
      /The authentication code does not match.*code: invalid \/ totp_invalid/s,
    );
    const operators = async () =>
      (await tcp.call('GET', '/v1/operator-users', { token: operatorToken })).body.users.find(
        (u: { email: string }) => u.email === email,
      );
    assert.equal((await operators()).totp_enabled, false);
    await page.getByLabel('Authentication code').fill(right);
    await page.getByRole('button', { name: 'Open the operator area' }).click();
    await page.getByTestId('recovery-codes').waitFor();
    assert.equal(await page.getByTestId('recovery-codes').locator('li').count(), 10);
    assert.equal((await operators()).totp_enabled, true);
    await assertAccessible(page, 'the recovery codes after the operator’s link');
    await page.getByRole('link', { name: 'Open the operator area' }).click();
    await page.getByTestId('hosts').waitFor();
    assert.equal(await page.getByTestId('operator-email').innerText(), email);
    const cookies = await context.cookies();
    assert.ok(cookies.some((c) => c.name === 'vmc_operator_session' && c.httpOnly));
    assert.ok(!cookies.some((c) => c.name === 'vmc_session'), 'no project session: there is no project');
  });

  await t.test('the SLA credits tab shows the outage’s credit, as the API says', async () => {
    await page.getByRole('link', { name: 'SLA credits' }).click();
    const row = page.locator(`tr[data-server="${serverId}"]`);
    await row.waitFor();
    const euros = (cents: number, locale: string) =>
      new Intl.NumberFormat(locale, { style: 'currency', currency: 'EUR' }).format(cents / 100);
    const text = await row.innerText();
    assert.match(text, /ACME SAS/);
    assert.match(text, /2026-04/);
    assert.match(text, /PAR1/);
    assert.match(text, /180 min/);
    assert.ok(text.includes(euros(credit.credit_cents, 'en-GB')), text);
    assert.match(text, /accruing/);
    // The project by its name (the operators' project list), not its id.
    await row.locator('[data-testid="credit-project"]', { hasText: /^default · / }).waitFor();
    assert.ok((await page.getByTestId('sla-credits-total').innerText()).includes(euros(credit.credit_cents, 'en-GB')));
    await assertAccessible(page, 'the SLA credits tab');
    await screenshot(page, 'operator-sla-credits');
    // Another month: none.
    await page.getByLabel('Month').fill('2026-03');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByText('No SLA credit this month.').waitFor();
    await page.getByLabel('Month').fill('2026-04');
    await page.getByRole('button', { name: 'Show' }).click();
    await row.waitFor();
    // In French.
    await page.getByLabel('Language').selectOption('fr');
    await page.getByRole('heading', { name: 'Avoirs SLA' }).waitFor();
    const fr = await row.innerText();
    assert.match(fr, /en cours/);
    assert.ok(fr.includes(euros(credit.credit_cents, 'fr-FR')), fr);
    await screenshot(page, 'operator-sla-credits-fr');
    await page.getByLabel('Langue').selectOption('en');
  });

  await t.test('an operator revokes another operator session (confirmed): it stops working', async () => {
    // A second operator session, elsewhere (a plain HTTP client).
    const other = await fetch(`${tcp.url}/v1/auth/operator-login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'elsewhere/1.0' },
      body: JSON.stringify({ email, password, totp_code: freshCode() }),
    });
    assert.equal(other.status, 200, await other.clone().text());
    const otherId = ((await other.json()) as { session: { id: string } }).session.id;
    const cookie = other.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const hostsAsOther = async () => (await fetch(`${tcp.url}/v1/hosts`, { headers: { cookie } })).status;
    assert.equal(await hostsAsOther(), 200);

    await page.getByRole('link', { name: 'Sessions' }).click();
    const row = page.locator(`tr[data-session="${otherId}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /elsewhere\/1\.0/);
    assert.equal(await page.locator('tr[data-current="true"]').count(), 1);
    assert.equal(await page.locator('tr[data-current="true"]').getByRole('button').count(), 0);
    await assertAccessible(page, 'the operator sessions tab');
    await screenshot(page, 'operator-sessions');
    // Cancelled: nothing changes.
    await row.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await hostsAsOther(), 200);
    // Confirmed: revoked, and that session answers 401.
    await row.getByRole('button', { name: 'Revoke' }).click();
    const dialog = page.getByRole('dialog');
    assert.match(await dialog.innerText(), /Revoke the operator session opened .* from /);
    await dialog.getByRole('button', { name: 'Revoke' }).click();
    await page.getByText('The session was revoked.').waitFor();
    await row.waitFor({ state: 'detached' });
    assert.equal(await hostsAsOther(), 401);
    assert.equal(
      (await fetch(`${tcp.url}/v1/hosts`, { headers: { cookie: await cookieHeader() } })).status,
      200,
      'this session goes on',
    );
  });

  await t.test('later, the project sign-in points them to the operator area, where they sign in', async () => {
    await page.getByRole('button', { name: 'Leave the operator area' }).click();
    await page.getByLabel('Authentication code').waitFor();
    await page.goto(`${tcp.url}/sign-in`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByLabel('Authentication code').fill(freshCode());
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('This account belongs to no project.').waitFor();
    await assertAccessible(page, 'the sign-in refusal of an operator of no project');
    await page.getByRole('link', { name: 'Open the operator area' }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByLabel('Authentication code').fill(freshCode());
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByTestId('hosts').waitFor();
    assert.equal(await page.getByTestId('operator-email').innerText(), email);
  });
});
