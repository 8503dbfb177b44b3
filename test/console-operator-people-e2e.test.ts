/**
 * The operator area's People tab in Chromium, on a manual clock: the first start's operator
 * (operator@vmcloud.local) signs in with password and TOTP and sees the users linked as operators — one of
 * them, owner@vmcloud.local, lost their authentication device. "Reset two-factor" asks first (cancelled:
 * nothing changes); confirmed, their project and operator sessions stop working, their TOTP is off, and the
 * one-time link is shown once; with it they choose a new password and turn TOTP on again. The operator's
 * own row has no button. In English and French; axe on the tab; screenshots to test-output/console/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { base32Decode, totpAt } from '../src/identity/index.ts';
import {
  assertAccessible,
  enrolFirstOperator,
  launch,
  noBrowser,
  password,
  screenshot,
  startOperatorAreaPlane,
} from './console-browser.ts';

test('the People tab resets another operator’s two-factor authentication', { skip: noBrowser }, async (t) => {
  const { tcp, clock } = await startOperatorAreaPlane(t);
  let browser: Browser | null = null;
  t.after(async () => {
    await browser?.close();
  });
  const operatorToken = tcp.secrets.operatorToken;
  const post = async (path: string, body: unknown, cookie?: string) => {
    const response = await fetch(tcp.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
      body: JSON.stringify(body),
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const json: any = await response.json();
    return { response, status: response.status, body: json };
  };
  const cookiesOf = (response: Response) =>
    response.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
  const codeOf = (secret: Buffer) => {
    clock.advanceMs(30_000);
    return totpAt(secret, clock.nowMs());
  };

  // The first start's operator: a password and TOTP through a one-time link.
  const { email: me, code: myCode, cookie: myCookie } = await enrolFirstOperator(tcp, clock);

  // owner@vmcloud.local: a project member with TOTP, linked as an operator, with a session of each kind.
  const other = 'owner@vmcloud.local';
  const redeemed = await post('/v1/auth/links/redeem', {
    token: tcp.secrets.ownerSignIn.path.split('#token=')[1],
    password,
  });
  assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));
  const projectCookie = cookiesOf(redeemed.response);
  const csrf = redeemed.body.csrf_token as string;
  const begun = await fetch(`${tcp.url}/v1/auth/totp`, {
    method: 'POST',
    headers: { cookie: projectCookie, 'x-csrf-token': csrf },
  });
  const otherSecret = base32Decode(((await begun.json()) as { secret: string }).secret);
  const verified = await fetch(`${tcp.url}/v1/auth/totp/verify`, {
    method: 'POST',
    headers: { cookie: projectCookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
    body: JSON.stringify({ code: codeOf(otherSecret) }),
  });
  assert.equal(verified.status, 200);
  assert.equal(
    (await tcp.call('POST', '/v1/operator-users', { token: operatorToken, body: { email: other } })).status,
    200,
  );
  const otherOperator = await post('/v1/auth/operator-login', {
    email: other,
    password,
    totp_code: codeOf(otherSecret),
  });
  assert.equal(otherOperator.status, 200, JSON.stringify(otherOperator.body));
  const operatorCookie = cookiesOf(otherOperator.response);
  const statuses = async () => [
    (await fetch(`${tcp.url}/v1/servers`, { headers: { cookie: projectCookie } })).status,
    (await fetch(`${tcp.url}/v1/hosts`, { headers: { cookie: operatorCookie } })).status,
  ];
  const totpOf = async (email: string) =>
    (await tcp.call('GET', '/v1/operator-users', { token: operatorToken })).body.users.find(
      (u: { email: string }) => u.email === email,
    ).totp_enabled as boolean;
  assert.deepEqual(await statuses(), [200, 200]);

  browser = await launch();
  const context = await browser.newContext({ locale: 'en-GB', colorScheme: 'light' });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));

  let linkUrl = '';
  await t.test('the tab lists the operators; reset, cancelled then confirmed; the link shown once', async () => {
    await page.goto(`${tcp.url}/operator`);
    await page.getByLabel('Email').fill(me);
    await page.getByLabel('Password').fill(password);
    await page.getByLabel('Authentication code').fill(myCode());
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByTestId('hosts').or(page.getByText('Nothing here yet.')).first().waitFor();
    await page.getByRole('link', { name: 'People' }).click();
    const mineRow = page.locator(`tr[data-person="${me}"]`);
    const row = page.locator(`tr[data-person="${other}"]`);
    await row.waitFor();
    assert.match(await mineRow.innerText(), /\(you\)/);
    assert.equal(await mineRow.getByRole('button').count(), 0, 'no reset of one’s own account');
    assert.equal(await row.getAttribute('data-totp'), 'true');
    await assertAccessible(page, 'the People tab');
    await screenshot(page, 'operator-people');

    // Cancelled: nothing changes.
    const button = row.getByRole('button', { name: `Reset the two-factor authentication of ${other}` });
    await button.click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    assert.deepEqual(await statuses(), [200, 200]);
    assert.equal(await totpOf(other), true);

    // Confirmed.
    await button.click();
    const dialog = page.getByRole('dialog');
    assert.match(await dialog.innerText(), /recovery codes and passkeys are deleted and every session of theirs/);
    await assertAccessible(page, 'the reset confirmation');
    await dialog.getByRole('button', { name: 'Reset two-factor' }).click();
    await page
      .getByText(`The two-factor authentication of ${other} was reset; passkeys deleted: 0; sessions ended: 2.`)
      .waitFor();
    const card = page.getByTestId('totp-reset-link');
    assert.match(await card.innerText(), /shown only now/);
    linkUrl = await card.locator('code').innerText();
    assert.ok(linkUrl.startsWith(`${tcp.url}/reset#token=vml_`), linkUrl);
    await page.locator(`tr[data-person="${other}"][data-totp="false"]`).waitFor();
    assert.match(await row.innerText(), /off \(cannot open the operator area yet\)/);
    assert.deepEqual(await statuses(), [401, 401], 'both of their sessions ended');
    assert.equal(await totpOf(other), false);
    assert.equal(
      (await fetch(`${tcp.url}/v1/hosts`, { headers: { cookie: myCookie } })).status,
      200,
      'the acting operator’s own sessions go on',
    );
    await assertAccessible(page, 'the People tab with the link');
    await screenshot(page, 'operator-people-reset');
  });

  await t.test('with the link they choose a new password and turn TOTP on again', async () => {
    const token = linkUrl.split('#token=')[1];
    const enrol = await post('/v1/auth/links/totp', { token });
    assert.equal(enrol.status, 200, JSON.stringify(enrol.body));
    const newSecret = base32Decode(enrol.body.secret);
    const back = await post('/v1/auth/links/operator-redeem', {
      token,
      password: `${password} renewed`,
      new_totp_code: codeOf(newSecret),
    });
    assert.equal(back.status, 200, JSON.stringify(back.body));
    assert.equal(back.body.recovery_codes.length, 10);
    await page.reload();
    await page.locator(`tr[data-person="${other}"][data-totp="true"]`).waitFor();
  });

  await t.test('in French', async () => {
    await page.getByLabel('Language').selectOption('fr');
    await page.getByRole('heading', { name: 'Personnes' }).waitFor();
    const row = page.locator(`tr[data-person="${other}"]`);
    assert.match(await row.innerText(), /activée/);
    await row.getByRole('button', { name: `Réinitialiser l’authentification à deux facteurs de ${other}` }).click();
    assert.match(await page.getByRole('dialog').innerText(), /ses codes de secours et ses clés d’accès sont supprimés/);
    await assertAccessible(page, 'the People tab in French');
    await screenshot(page, 'operator-people-fr');
    await page.getByRole('dialog').getByRole('button', { name: 'Annuler' }).click();
    assert.equal(await totpOf(other), true, 'cancelled: nothing changes');
    await page.getByLabel('Langue').selectOption('en');
  });
});
