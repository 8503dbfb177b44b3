/**
 * The project settings pages in Chromium: a webhook's secret rotated in the page (the new secret, shown
 * once, is the one that signs the next delivery at a real local receiver; the old one no longer does) and
 * events replayed; the billing account edited (a malformed VAT ID refused in plain words, nothing saved);
 * the DDoS tier changed after a confirmation; flow-log settings saved and records queried — each checked
 * against what the API then answers. A viewer sees the pages without a button. axe on every page.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { fastSimDelays, startTestControlPlane, until } from './helpers.ts';
import { startWebhookReceiver, type ReceivedRequest } from './webhook-receiver.ts';
import {
  assertAccessible,
  ensureBuilt,
  launch,
  noBrowser,
  open,
  screenshot,
  signInNewMember,
  signInWithLink,
  testPasswordCost,
} from './console-browser.ts';

/** Whether `secret` made one of the request's Standard Webhooks signatures. */
function signedWith(request: ReceivedRequest, secret: string): boolean {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected =
    'v1,' +
    createHmac('sha256', key)
      .update(`${request.headers['webhook-id']}.${request.headers['webhook-timestamp']}.${request.body}`)
      .digest('base64');
  return String(request.headers['webhook-signature']).split(' ').includes(expected);
}

/** The value of a datetime-local field for `ms` (the browser and this process share the time zone). */
function localInput(ms: number): string {
  return new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

test('the console’s project settings pages in Chromium', { skip: noBrowser }, async (t) => {
  const consoleDir = await ensureBuilt();
  const tcp = await startTestControlPlane('sqlite', {
    consoleDir,
    passwordHashCost: testPasswordCost,
    simDelays: fastSimDelays,
    webhookAllowPrivate: true,
  });
  const receiver = await startWebhookReceiver();
  let browser: Browser | null = null;
  t.after(async () => {
    await browser?.close();
    await receiver.close();
    await tcp.dispose();
  });

  const created = await tcp.call('POST', '/v1/servers', {
    body: { name: 'app-1', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
  });
  assert.equal(created.status, 202, JSON.stringify(created.body));
  const serverId: string = created.body.server.id;
  await tcp.waitForAction(created.body.action.id);
  const hook = await tcp.call('POST', '/v1/webhooks', { body: { url: receiver.url, events: ['*'] } });
  assert.equal(hook.status, 201, JSON.stringify(hook.body));
  const webhookId: string = hook.body.webhook.id;
  const oldSecret: string = hook.body.secret;

  browser = await launch();
  const { page } = await signInWithLink(browser, tcp, tcp.secrets.ownerSignIn.path);

  await t.test(
    'webhooks: the secret rotated (shown once, it signs; the old one no longer), events replayed',
    async () => {
      await open(page, 'Webhooks');
      await page.getByRole('link', { name: receiver.url }).click();
      await page.getByRole('heading', { level: 2, name: 'Rotate the secret' }).waitFor();
      await page.getByLabel('Old secret keeps signing for (seconds)').fill('0');
      await page.getByRole('button', { name: 'Rotate the secret' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Rotate the secret' }).click();
      await page.getByText('New secret made.').waitFor();
      const newSecret = (await page.getByTestId('webhook-secret').locator('code').innerText()).trim();
      assert.match(newSecret, /^whsec_/);
      assert.notEqual(newSecret, oldSecret);

      await page.getByRole('button', { name: 'Send a test delivery' }).click();
      const test = await until('the test delivery at the receiver', () =>
        receiver.requests.find((r) => r.body.includes('webhook.test')),
      );
      assert.equal(signedWith(test, newSecret), true, 'the new secret signs');
      assert.equal(signedWith(test, oldSecret), false, 'the old one no longer does (no overlap)');

      // Resend the test delivery: the receiver gets it again, same webhook-id.
      const testRow = page.locator(`tr[data-delivery="${test.id}"]`);
      await testRow.locator('.badge[data-status="succeeded"]').waitFor();
      await testRow.getByRole('button', { name: 'Resend' }).click();
      await until('the delivery resent', () => receiver.requests.filter((r) => r.id === test.id).length === 2);

      const before = (await tcp.call('GET', `/v1/webhooks/${webhookId}/deliveries?limit=100`)).body.deliveries.length;
      await page.getByLabel('Since').fill(localInput(Date.now() - 3_600_000));
      await page.getByRole('button', { name: 'Replay', exact: true }).click();
      const notice = page.getByTestId('notice').filter({ hasText: 'deliveries queued' });
      await notice.waitFor();
      const queued = Number(/(\d+) deliveries queued/.exec(await notice.innerText())?.[1]);
      assert.ok(queued >= 1, 'the server’s events since then');
      const after = (await tcp.call('GET', `/v1/webhooks/${webhookId}/deliveries?limit=100`)).body.deliveries.length;
      assert.equal(after, before + queued);
      await assertAccessible(page, 'the webhook page with rotation and replay');
      await screenshot(page, 'webhook-rotate-replay');
    },
  );

  await t.test('billing details: a bad VAT ID refused in plain words, then saved', async () => {
    await open(page, 'Billing details');
    await page.getByLabel('Name on invoices').fill('Exemple SARL');
    await page.getByLabel('Postal address').fill('1 rue de la Paix\n75002 Paris');
    await page.getByLabel('Country (2 letters)').fill('FR');
    await page.getByLabel('VAT ID (optional)').fill('FR123');
    await page.getByLabel('Traffic billing').selectOption('percentile95');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /This VAT ID does not have the valid format for the country\./);
    assert.match(await alert.innerText(), /code: invalid \/ invalid_vat_id/);
    const missing = await tcp.call('GET', '/v1/billing/account');
    assert.equal(missing.status, 404, 'nothing saved');

    await page.getByLabel('VAT ID (optional)').fill('FR40303265045');
    await page.getByLabel('Monthly budget in euros (optional)').fill('250');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Saved.').waitFor();
    const { account } = (await tcp.call('GET', '/v1/billing/account')).body;
    assert.equal(account.name, 'Exemple SARL');
    assert.equal(account.address, '1 rue de la Paix\n75002 Paris');
    assert.equal(account.country, 'FR');
    assert.equal(account.vat_id, 'FR40303265045');
    assert.equal(account.traffic_billing, 'percentile95');
    assert.equal(account.budget_cents, 25_000);
    await page.getByTestId('vat').waitFor();
    await assertAccessible(page, 'the billing details page');
    await screenshot(page, 'billing-account');
  });

  await t.test('DDoS: the tier changed after a confirmation', async () => {
    await open(page, 'DDoS protection');
    await page.locator('[data-testid="ddos-tier"][data-tier="standard"]').waitFor();
    await page.getByLabel('New tier').selectOption('business');
    await page.getByRole('button', { name: 'Change the tier' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await tcp.call('GET', '/v1/ddos')).body.ddos.tier, 'standard', 'cancelled: unchanged');
    await page.getByRole('button', { name: 'Change the tier' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Change the tier' }).click();
    await page.getByText('The tier is now business.').waitFor();
    await page.locator('[data-testid="ddos-tier"][data-tier="business"]').waitFor();
    assert.equal((await tcp.call('GET', '/v1/ddos')).body.ddos.tier, 'business');
    await assertAccessible(page, 'the DDoS page');
    await screenshot(page, 'ddos');
  });

  await t.test('flow logs: settings saved, records queried', async () => {
    await open(page, 'Flow logs');
    await page.locator('[data-testid="flow-settings"][data-enabled="false"]').waitFor();
    await page.getByLabel('Record flows').check();
    await page
      .getByRole('group', { name: /^Servers/ })
      .getByLabel('app-1')
      .check();
    await page.getByLabel('Keep records (days, at most 30)').fill('7');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Saved.').waitFor();
    await page.locator('[data-testid="flow-settings"][data-enabled="true"]').waitFor();
    const { settings } = (await tcp.call('GET', '/v1/flow-logs/settings')).body;
    assert.equal(settings.enabled, true);
    assert.deepEqual(settings.servers, [serverId]);
    assert.equal(settings.retention_days, 7);

    await page.getByLabel('Server', { exact: true }).selectOption(serverId);
    await page.getByRole('button', { name: 'Show the records' }).click();
    const api = await tcp.call('GET', `/v1/flow-logs?server=${serverId}&limit=500`);
    assert.equal(api.status, 200);
    if (api.body.flows.length === 0) await page.getByText('Nothing here yet.').waitFor();
    else assert.equal(await page.getByTestId('flows').locator('tbody tr').count(), api.body.flows.length);
    // The export links download what the API exports for the same window.
    const href = await page.getByRole('link', { name: 'CSV' }).getAttribute('href');
    assert.match(href ?? '', new RegExp(`^/v1/flow-logs/export\\?server=${serverId}&from=.+&to=.+&format=csv$`));
    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: 'CSV' }).click();
    const file = await (await download).path();
    const exported = await tcp.call('GET', href!);
    assert.equal(exported.status, 200);
    assert.equal(readFileSync(file, 'utf8'), String(exported.body));
    await assertAccessible(page, 'the flow logs page');
    await screenshot(page, 'flow-logs');
  });

  await t.test('in French, the new pages speak French', async () => {
    await page.getByLabel('Language').selectOption('fr');
    await page.getByRole('heading', { level: 1, name: 'Journaux de flux' }).waitFor();
    await open(page, 'Protection DDoS');
    await page.getByLabel('Nouveau niveau').waitFor();
    await open(page, 'Coordonnées de facturation');
    await page.getByLabel('Numéro de TVA (facultatif)').waitFor();
    await screenshot(page, 'billing-account-fr');
    await page.getByLabel('Langue').selectOption('en');
    await page.getByRole('heading', { level: 1, name: 'Billing details' }).waitFor();
  });

  await t.test('a viewer sees the settings without a button', async () => {
    const { context, page: viewer } = await signInNewMember(browser!, tcp, 'viewer@example.com', 'viewer');
    for (const [link, button] of [
      ['Billing details', 'Save'],
      ['DDoS protection', 'Change the tier'],
      ['Flow logs', 'Save'],
    ] as const) {
      await open(viewer, link);
      await viewer.getByText('Only owners can change these settings.').waitFor();
      assert.equal(await viewer.getByRole('button', { name: button, exact: true }).count(), 0, `${link}: ${button}`);
    }
    assert.equal(await viewer.getByLabel('Record flows').isDisabled(), true);
    await open(viewer, 'Webhooks');
    await viewer.getByRole('link', { name: receiver.url }).click();
    await viewer.getByRole('heading', { level: 2, name: 'Delivery log' }).waitFor();
    for (const name of ['Rotate the secret', 'Replay', 'Resend'])
      assert.equal(await viewer.getByRole('button', { name, exact: true }).count(), 0, `webhook: ${name}`);
    await context.close();
  });
});
