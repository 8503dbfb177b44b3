/**
 * The operator area in Chromium: entered with an operator session — email, password and TOTP code of a
 * user linked as an operator (a project user who is not one is refused); hosts with state, health and
 * utilisation; an operator drains a host (confirmed) and its server moves (the API says so); a region's
 * status changed (confirmed); the capacity heat map, the placement audit, an incident opened here shows
 * on the customer status page and is resolved, a maintenance scheduled; revenue; leaving signs the
 * operator session out and the project session stays. axe on every tab; screenshots to test-output/console/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { fastSimDelays, startTestControlPlane, until } from './helpers.ts';
import { base32Decode, totpAt } from '../src/identity/index.ts';
import {
  assertAccessible,
  ensureBuilt,
  launch,
  noBrowser,
  open,
  screenshot,
  password,
  signInWithLink,
  testPasswordCost,
} from './console-browser.ts';

test('the operator area in Chromium', { skip: noBrowser }, async (t) => {
  const consoleDir = await ensureBuilt();
  const tcp = await startTestControlPlane('sqlite', {
    consoleDir,
    passwordHashCost: testPasswordCost,
    simDelays: fastSimDelays,
  });
  let browser: Browser | null = null;
  t.after(async () => {
    await browser?.close();
    await tcp.dispose();
  });
  const operator = tcp.secrets.operatorToken;
  const created = await tcp.call('POST', '/v1/servers', {
    body: { name: 'moving-1', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
  });
  assert.equal(created.status, 202, JSON.stringify(created.body));
  await tcp.waitForAction(created.body.action.id);
  // The only server of the fleet: its host is the one with a server on it.
  const hostOf = async () =>
    (await tcp.call('GET', '/v1/hosts', { token: operator })).body.hosts.find(
      (h: { usage: { servers: number } }) => h.usage.servers > 0,
    ) as { id: string; name: string } | undefined;
  const fromHost = (await hostOf())!;
  const fromHostId = fromHost.id;
  assert.ok(fromHost?.name, 'the server is placed');

  browser = await launch();
  const { context, page } = await signInWithLink(browser, tcp, tcp.secrets.ownerSignIn.path);
  const email = tcp.secrets.ownerSignIn.email;
  // The owner turns TOTP on with their project session (the Account page does the same).
  const csrf = (await context.cookies()).find((c) => c.name === 'vmc_csrf')!.value;
  const begun = await page.request.post(`${tcp.url}/v1/auth/totp`, { headers: { 'x-csrf-token': csrf } });
  assert.equal(begun.status(), 200);
  const secret = base32Decode((await begun.json()).secret);
  const verified = await page.request.post(`${tcp.url}/v1/auth/totp/verify`, {
    headers: { 'x-csrf-token': csrf },
    data: { code: totpAt(secret, Date.now()) },
  });
  assert.equal(verified.status(), 200);
  // The step used at enrolment cannot sign in again: the next step's code (accepted a step early).
  const nextCode = () => totpAt(secret, (Math.floor(Date.now() / 30_000) + 1) * 30_000);
  const signInAsOperator = async (code: string) => {
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByLabel('Authentication code').fill(code);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  };

  await t.test('a project user who is not an operator is refused; a linked one signs in with TOTP', async () => {
    await open(page, 'Operator area');
    await signInAsOperator(nextCode());
    assert.match(await page.getByRole('alert').innerText(), /not an operator.*code: forbidden \/ not_operator/s);
    await assertAccessible(page, 'the operator sign-in');
    const linked = await tcp.call('POST', '/v1/operator-users', { token: operator, body: { email } });
    assert.equal(linked.status, 200, JSON.stringify(linked.body));
    await signInAsOperator(nextCode());
    await page.getByTestId('hosts').waitFor();
    assert.equal(await page.getByTestId('operator-email').innerText(), email);
    const cookies = await context.cookies();
    assert.ok(cookies.some((c) => c.name === 'vmc_operator_session' && c.httpOnly));
    assert.ok(
      cookies.some((c) => c.name === 'vmc_session'),
      'the project session stays beside it',
    );
  });

  await t.test('an operator drains a host: confirmed, and its server moves', async () => {
    const row = page.locator(`tr[data-host="${fromHost.name}"]`);
    assert.match(await row.innerText(), /active.*up/s);
    await assertAccessible(page, 'the hosts page');
    await screenshot(page, 'operator-hosts');
    await row.getByRole('button', { name: 'Drain' }).click();
    const dialog = page.getByRole('dialog');
    assert.match(await dialog.innerText(), new RegExp(`Take ${fromHost.name} out of placement\\? Its 1 servers`));
    await dialog.getByRole('button', { name: 'Drain' }).click();
    await page.getByText(`${fromHost.name} is draining: 1 servers moved, 0 stuck.`).waitFor();
    await row.locator('.badge[data-status="draining"]').waitFor();
    assert.equal((await tcp.call('GET', `/v1/hosts/${fromHostId}`, { token: operator })).body.host.state, 'draining');
    await until('the server on another host', async () => (await hostOf())?.id !== fromHostId, 15_000);
    await row.getByRole('button', { name: 'Back to active' }).click();
    await row.locator('.badge[data-status="active"]').waitFor();
  });

  await t.test("an operator changes a region's status, confirmed", async () => {
    await page.getByRole('link', { name: 'Regions' }).click();
    const row = page.locator('tr[data-region="lon1"]');
    await row.waitFor();
    const before = (await tcp.call('GET', '/v1/regions/lon1')).body.region.status;
    const target = before === 'maintenance' ? 'operational' : 'maintenance';
    await assertAccessible(page, 'the regions page');
    await row.getByRole('combobox').selectOption(target);
    const dialog = page.getByRole('dialog');
    assert.match(await dialog.innerText(), new RegExp(`Set LON1 to ${target}\\?`));
    await dialog.getByRole('button', { name: 'Change the status' }).click();
    await page.getByText(`LON1 is now ${target}.`).waitFor();
    await row.locator(`.badge[data-status="${target}"]`).waitFor();
    assert.equal((await tcp.call('GET', '/v1/regions/lon1')).body.region.status, target);
    await screenshot(page, 'operator-regions');
  });

  await t.test('capacity heat map and placement audit', async () => {
    await page.getByRole('link', { name: 'Capacity', exact: true }).click();
    const cell = page.locator('td[data-cell="vps-nano@fra1"]');
    await cell.waitFor();
    const capacity = (await tcp.call('GET', '/v1/capacity?region=fra1', { token: operator })).body.capacity[0];
    const nano = capacity.products.find((p: { product: string }) => p.product === 'vps-nano');
    assert.match(await cell.innerText(), new RegExp(`^${nano.servers}\\s*/ ${nano.servers_when_empty}$`));
    assert.match((await cell.getAttribute('class')) ?? '', /heat-[0-4]/);
    await assertAccessible(page, 'the capacity heat map');
    await screenshot(page, 'operator-capacity');
    await page.getByRole('link', { name: 'Placement audit' }).click();
    assert.match(await page.getByTestId('placement-audit').innerText(), /: 0 violations\./);
    await assertAccessible(page, 'the placement audit');
  });

  await t.test('an incident opened here is on the customer status page, then resolved', async () => {
    await page.getByRole('link', { name: 'Incidents and maintenances' }).click();
    const form = page.locator('form[aria-labelledby="new-incident"]');
    await form.getByLabel('Title').fill('Slow disks in FRA1');
    await form.getByLabel('Impact').selectOption('minor');
    await form.getByLabel('Components').selectOption(['fra1.storage']);
    await form.getByLabel('Message').fill('We are looking into slow disk writes.');
    await form.getByRole('button', { name: 'Open an incident' }).click();
    await page.locator('tr[data-incident="Slow disks in FRA1"]').waitFor();
    await assertAccessible(page, 'the incidents page');
    await screenshot(page, 'operator-incidents');
    await open(page, 'Platform status');
    await page.getByText('Slow disks in FRA1', { exact: true }).waitFor();
    await open(page, 'Operator area');
    await page.getByRole('link', { name: 'Incidents and maintenances' }).click();
    await page.locator('tr[data-incident="Slow disks in FRA1"]').getByRole('button', { name: 'Resolve' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Resolve' }).click();
    await page.locator('tr[data-incident="Slow disks in FRA1"] .badge[data-status="resolved"]').waitFor();
  });

  await t.test('a maintenance scheduled here is listed and on the status page', async () => {
    const form = page.locator('form[aria-labelledby="new-maintenance"]');
    await form.getByLabel('Title').fill('FRA1 network upgrade');
    await form.getByLabel('Components').selectOption(['fra1.network']);
    // datetime-local, in the browser's time: tomorrow 02:00 → 04:00.
    const day = new Date(Date.now() + 86_400_000);
    const local = (hour: number) =>
      `${day.getFullYear()}-${String(day.getMonth() + 1).padStart(2, '0')}-${String(day.getDate()).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00`;
    await form.getByLabel('Starts (your local time)').fill(local(2));
    await form.getByLabel('Ends (your local time)').fill(local(4));
    await form.getByRole('button', { name: 'Schedule a maintenance' }).click();
    await page.getByText('FRA1 network upgrade', { exact: true }).waitFor();
    const listed = (await tcp.call('GET', '/v1/maintenances?state=upcoming')).body.maintenances;
    assert.ok(
      listed.some((m: { title: string; components: string[] }) => m.title === 'FRA1 network upgrade'),
      JSON.stringify(listed),
    );
    await assertAccessible(page, 'the incidents and maintenances page');
    await open(page, 'Platform status');
    await page.getByText('FRA1 network upgrade').first().waitFor();
    await open(page, 'Operator area');
  });

  await t.test('revenue, and leaving signs the operator session out', async () => {
    await page.getByRole('link', { name: 'Revenue' }).click();
    await page.getByTestId('revenue').waitFor();
    await assertAccessible(page, 'the revenue page');
    const sessions = (await tcp.call('GET', '/v1/events?type=session.revoked', { token: operator })).body.events;
    await page.getByRole('button', { name: 'Leave the operator area' }).click();
    await page.getByLabel('Authentication code').waitFor();
    assert.ok(!(await context.cookies()).some((c) => c.name === 'vmc_operator_session'));
    await until(
      'the operator session revoked',
      async () =>
        (await tcp.call('GET', '/v1/events?type=session.revoked', { token: operator })).body.events.length ===
        sessions.length + 1,
    );
    await open(page, 'Servers');
  });
});
