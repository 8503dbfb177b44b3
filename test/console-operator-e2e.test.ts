/**
 * The operator area in Chromium: entered with an operator token (a project token is refused), hosts with
 * state, health and utilisation; an operator drains a host (confirmed) and its server moves (the API
 * says so); the capacity heat map, the placement audit, an incident opened here shows on the customer
 * status page and is resolved; revenue. axe on every tab; screenshots to test-output/console/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { fastSimDelays, startTestControlPlane, until } from './helpers.ts';
import {
  assertAccessible,
  ensureBuilt,
  launch,
  noBrowser,
  open,
  screenshot,
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
  const { page } = await signInWithLink(browser, tcp, tcp.secrets.ownerSignIn.path);

  await t.test('a project token does not open the area; an operator token does', async () => {
    await open(page, 'Operator area');
    await page.getByLabel('Operator token').fill(tcp.secrets.projectToken);
    await page.getByRole('button', { name: 'Continue' }).click();
    assert.match(await page.getByRole('alert').innerText(), /code: forbidden/);
    await assertAccessible(page, 'the operator sign-in');
    await page.getByLabel('Operator token').fill(operator);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByTestId('hosts').waitFor();
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
    await page.getByLabel('Title').fill('Slow disks in FRA1');
    await page.getByLabel('Impact').selectOption('minor');
    await page.getByLabel('Components').selectOption(['fra1.storage']);
    await page.getByLabel('Message').fill('We are looking into slow disk writes.');
    await page.getByRole('button', { name: 'Open an incident' }).click();
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

  await t.test('revenue, and leaving forgets the token', async () => {
    await page.getByRole('link', { name: 'Revenue' }).click();
    await page.getByTestId('revenue').waitFor();
    await assertAccessible(page, 'the revenue page');
    await page.getByRole('button', { name: 'Leave the operator area' }).click();
    await page.getByLabel('Operator token').waitFor();
    assert.equal(
      await page.evaluate(() =>
        (globalThis as unknown as { sessionStorage: { getItem(key: string): string | null } }).sessionStorage.getItem(
          'vmcloud.operatorToken',
        ),
      ),
      null,
    );
  });
});
