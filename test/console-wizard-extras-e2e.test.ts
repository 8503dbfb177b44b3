/**
 * The create-server wizard's "Networking & protection" step in Chromium: a network of FRA1 (and one of
 * PAR1, not offered) and a firewall made through the API are ticked, backups turned off; the review shows
 * the choices; after the create the API says the server is attached to the network, the firewall applies
 * to it and its backup policy is disabled. Then a firewall deleted while the wizard is open: refused in
 * plain words with the code, nothing created; without it, backups every 12 h keeping 3 daily copies. axe
 * on the step; a screenshot to test-output/console/.
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
  screenshot,
  signInWithLink,
  testPasswordCost,
  wizardToDetails,
} from './console-browser.ts';

test('the wizard’s networks, firewalls and backups in Chromium', { skip: noBrowser }, async (t) => {
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
  const net = await tcp.call('POST', '/v1/networks', {
    body: { name: 'backend', region: 'fra1', ip_range: '10.60.0.0/16' },
  });
  assert.equal(net.status, 201, JSON.stringify(net.body));
  const par = await tcp.call('POST', '/v1/networks', {
    body: { name: 'backend-par', region: 'par1', ip_range: '10.61.0.0/16' },
  });
  assert.equal(par.status, 201, JSON.stringify(par.body));
  const fw = await tcp.call('POST', '/v1/firewalls', {
    body: { name: 'web-fw', rules: [{ direction: 'in', protocol: 'tcp', port: '22', source_ips: ['0.0.0.0/0'] }] },
  });
  assert.equal(fw.status, 201, JSON.stringify(fw.body));
  // FRA1's own backup storage price, in force a second from now: the wizard shows it rather than the default's.
  const fraPrice = await tcp.call('POST', '/v1/prices', {
    token: tcp.secrets.operatorToken,
    body: {
      item: 'backup_gib',
      region: 'fra1',
      unit_micros: 41,
      monthly_cap_micros: 30_000,
      valid_from: new Date(Date.now() + 1000).toISOString(),
    },
  });
  assert.equal(fraPrice.status, 201, JSON.stringify(fraPrice.body));

  browser = await launch();
  const { page } = await signInWithLink(browser, tcp, tcp.secrets.ownerSignIn.path);
  await wizardToDetails(page);
  await page.getByLabel('Server name').fill('wizard-extras-1');
  await page.getByRole('button', { name: 'Next' }).click();

  const step = page.getByTestId('protection-step');
  await step.waitFor();
  await page.getByRole('heading', { name: /Networking & protection/ }).waitFor();
  await page.locator('[data-network="backend"]').waitFor();
  assert.equal(await page.locator('[data-network="backend-par"]').count(), 0, 'a PAR1 network is not offered');
  const backups = page.getByRole('checkbox', { name: 'Scheduled backups' });
  assert.equal(await backups.isChecked(), true, 'backups are on by default');
  assert.equal(await page.getByLabel('Every (hours)').inputValue(), '5.5');
  assert.match(
    await page.getByTestId('wizard-backup-price').innerText(),
    /Billed by the space the backups take: €0\.03 per GiB and month/,
    'FRA1’s price, not the default €0.02',
  );
  await page.getByRole('checkbox', { name: /backend/ }).check();
  await page.getByRole('checkbox', { name: /web-fw/ }).check();
  await assertAccessible(page, 'the wizard’s networking & protection step');
  await backups.uncheck();
  assert.equal(await page.getByLabel('Every (hours)').count(), 0, 'no schedule when backups are off');
  await screenshot(page, 'create-server-protection');
  await page.getByRole('button', { name: 'Next' }).click();

  const review = page.getByTestId('review');
  await review.waitFor();
  const text = await review.innerText();
  assert.match(text, /Networks\s+backend\b/);
  assert.match(text, /Firewalls\s+web-fw/);
  assert.match(text, /Backups\s+off/);
  await page.getByRole('button', { name: 'Create the server' }).click();
  await page.waitForURL(/\/servers\/srv_/);
  const serverId = new URL(page.url()).pathname.split('/')[2];

  const firewall = (await tcp.call('GET', `/v1/firewalls/${fw.body.firewall.id}`)).body.firewall;
  assert.deepEqual(firewall.applied_to, [{ type: 'server', server: { id: serverId } }]);
  const networks = await until('the server’s attachment', async () => {
    const list = (await tcp.call('GET', `/v1/servers/${serverId}/networks`)).body.networks;
    return list.length > 0 ? list : null;
  });
  assert.deepEqual(
    networks.map((n: { network_name: string }) => n.network_name),
    ['backend'],
  );
  const policy = (await tcp.call('GET', `/v1/servers/${serverId}/backup-policy`)).body.policy;
  assert.equal(policy.scope, 'server');
  assert.equal(policy.enabled, false);

  // A firewall deleted while the wizard is open: the create is refused in plain words, nothing created;
  // without it, the server is created with its backups every 12 h keeping 3 daily copies.
  const tmp = await tcp.call('POST', '/v1/firewalls', { body: { name: 'tmp-fw' } });
  assert.equal(tmp.status, 201, JSON.stringify(tmp.body));
  await wizardToDetails(page);
  await page.getByLabel('Server name').fill('wizard-extras-2');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('checkbox', { name: /tmp-fw/ }).check();
  await page.getByLabel('Every (hours)').fill('12');
  await page.getByLabel('Daily copies kept').fill('3');
  await page.getByRole('button', { name: 'Next' }).click();
  await review.waitFor();
  assert.match(
    await review.innerText(),
    /Backups\s+every 12 h · 3 daily copies kept · €0\.03 per GiB stored and month/,
  );
  assert.equal((await tcp.call('DELETE', `/v1/firewalls/${tmp.body.firewall.id}`)).status, 204);
  const serversBefore = (await tcp.call('GET', '/v1/servers')).body.servers.length;
  await page.getByRole('button', { name: 'Create the server' }).click();
  const alert = page.getByRole('alert');
  await alert.filter({ hasText: 'A chosen firewall does not exist' }).waitFor();
  assert.match(await alert.innerText(), /unknown_firewall/);
  assert.match(await alert.innerText(), /firewalls\[0\]/);
  assert.equal((await tcp.call('GET', '/v1/servers')).body.servers.length, serversBefore, 'nothing created');
  await page.getByRole('button', { name: 'Back' }).click();
  await page.getByRole('checkbox', { name: /tmp-fw/ }).uncheck();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('button', { name: 'Create the server' }).click();
  await page.waitForURL(/\/servers\/srv_/);
  const secondId = new URL(page.url()).pathname.split('/')[2];
  const second = (await tcp.call('GET', `/v1/servers/${secondId}/backup-policy`)).body.policy;
  assert.deepEqual([second.scope, second.enabled, second.every_minutes, second.keep_daily], ['server', true, 720, 3]);
});
