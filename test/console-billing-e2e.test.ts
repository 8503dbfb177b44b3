/**
 * Billing in the console, in Chromium, on a manual clock: a server runs through March 2026, the month is
 * invoiced on April 1st; the owner sees this month's usage with its projection, the invoice in the list,
 * and downloads its PDF (the bytes are the API's PDF); the SLA report. axe on each page; screenshots.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { createManualClock } from '../src/core/index.ts';
import { startTestControlPlane, until } from './helpers.ts';
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

test('usage, invoices with their PDF, and the SLA report in Chromium', { skip: noBrowser }, async (t) => {
  const consoleDir = await ensureBuilt();
  const clock = createManualClock(Date.UTC(2026, 2, 1, 0, 0, 0));
  const tcp = await startTestControlPlane('sqlite', {
    consoleDir,
    clock,
    passwordHashCost: testPasswordCost,
    hostDownAfterMs: 365 * 86_400_000,
    loopIntervalMs: 3_600_000,
  });
  let browser: Browser | null = null;
  t.after(async () => {
    await browser?.close();
    await tcp.dispose();
  });
  const created = await tcp.call('POST', '/v1/servers', {
    body: { name: 'web-1', product: 'vps-starter', region: 'par1', image: 'debian-12' },
  });
  assert.equal(created.status, 202, JSON.stringify(created.body));
  await tcp.waitForAction(created.body.action.id);
  const account = await tcp.call('PUT', '/v1/billing/account', {
    body: { name: 'ACME SAS', address: '1 rue de la Paix\nParis', country: 'FR' },
  });
  assert.equal(account.status, 200, JSON.stringify(account.body));
  clock.advanceMs(Date.UTC(2026, 3, 1, 0, 5) - clock.nowMs());
  assert.equal((await tcp.cp.billingLoopOnce())?.invoiced, 1);
  clock.advanceMs(10 * 86_400_000); // April 11th: ten days of April so far
  const invoice = (await tcp.call('GET', '/v1/invoices')).body.invoices[0];
  assert.ok(invoice?.number, 'an issued invoice');
  await until('April metered', async () => (await tcp.call('GET', '/v1/usage')).body.so_far.lines.length > 0);

  // The first-start link expired with March: the operator issues a fresh one.
  const link = await tcp.call('POST', '/v1/users/reset-link', {
    token: tcp.secrets.operatorToken,
    body: { email: 'owner@vmcloud.local' },
  });
  assert.equal(link.status, 201, JSON.stringify(link.body));
  browser = await launch();
  const { page } = await signInWithLink(browser, tcp, link.body.link.path);

  await t.test('usage this month: so far, and projected to the month’s end', async () => {
    await open(page, 'Usage this month');
    const usage = (await tcp.call('GET', '/v1/usage')).body;
    const euros = (cents: number) =>
      new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'EUR' }).format(cents / 100);
    assert.equal(await page.getByTestId('so-far').innerText(), euros(usage.so_far.subtotal_cents));
    assert.equal(await page.getByTestId('projected').innerText(), euros(usage.projected.subtotal_cents));
    assert.ok(usage.projected.subtotal_cents > usage.so_far.subtotal_cents, 'the projection adds the rest of April');
    assert.match(await page.getByTestId('usage-lines').innerText(), /vps-starter/);
    await assertAccessible(page, 'the usage page');
    await screenshot(page, 'usage');
  });

  await t.test('invoices: the PDF downloads, byte for byte the API’s', async () => {
    await open(page, 'Invoices');
    const row = page.locator(`tr[data-invoice="${invoice.id}"]`);
    assert.match(await row.innerText(), new RegExp(`${invoice.number}.*2026-03.*issued`, 's'));
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row.getByRole('link', { name: `Download ${invoice.number} (PDF)` }).click(),
    ]);
    assert.equal(download.suggestedFilename(), `${invoice.number}.pdf`);
    const bytes = readFileSync((await download.path())!);
    assert.equal(bytes.subarray(0, 5).toString('latin1'), '%PDF-');
    const api = await fetch(`${tcp.url}/v1/invoices/${invoice.id}/pdf`, {
      headers: { authorization: `Bearer ${tcp.secrets.projectToken}` },
    });
    assert.equal(Buffer.compare(Buffer.from(await api.arrayBuffer()), bytes), 0);
    await assertAccessible(page, 'the invoices page');
    await screenshot(page, 'invoices');
  });

  await t.test('the SLA report', async () => {
    await open(page, 'SLA report');
    await page.getByTestId('sla-servers').getByText(created.body.server.id).waitFor();
    await assertAccessible(page, 'the SLA report');
    await screenshot(page, 'sla');
  });
});
