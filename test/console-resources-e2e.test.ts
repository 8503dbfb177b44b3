/**
 * The console's resource pages in Chromium: networks, floating IPs, firewalls (a rule made in the editor is
 * what the API then answers), volumes (create, attach, resize, delete — each confirmed), backups (back up
 * now), webhooks (a test delivery to a real local receiver shows in the delivery log), API tokens (created,
 * revoked), the audit log and the platform status; then a viewer who sees none of the destructive buttons
 * while the API refuses them anyway. axe on every page; screenshots to test-output/console/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { fastSimDelays, startTestControlPlane, until } from './helpers.ts';
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

test('the console’s resource pages in Chromium', { skip: noBrowser }, async (t) => {
  const consoleDir = await ensureBuilt();
  const tcp = await startTestControlPlane('sqlite', {
    consoleDir,
    passwordHashCost: testPasswordCost,
    simDelays: fastSimDelays,
    webhookAllowPrivate: true,
  });
  const received: string[] = [];
  const receiver: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push(body);
      response.writeHead(200, { 'content-type': 'text/plain' }).end('thanks');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverPort = (receiver.address() as { port: number }).port;
  let browser: Browser | null = null;
  t.after(async () => {
    await browser?.close();
    await new Promise((resolve) => receiver.close(resolve));
    await tcp.dispose();
  });

  const created = await tcp.call('POST', '/v1/servers', {
    body: { name: 'app-1', product: 'vps-nano', region: 'fra1', image: 'debian-12', labels: { env: 'prod' } },
  });
  assert.equal(created.status, 202, JSON.stringify(created.body));
  const serverId: string = created.body.server.id;
  await tcp.waitForAction(created.body.action.id);

  browser = await launch();
  const { page } = await signInWithLink(browser, tcp, tcp.secrets.ownerSignIn.path);

  let firewallId!: string;
  await t.test('firewalls: a rule made in the editor is what the API answers', async () => {
    await open(page, 'Firewalls');
    await page.getByLabel('Name', { exact: true }).fill('web-fw');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.waitForURL(/\/firewalls\/fw_/);
    firewallId = new URL(page.url()).pathname.split('/')[2];
    await page.getByRole('heading', { level: 1, name: 'web-fw' }).waitFor();
    await page.getByRole('button', { name: 'Add a rule' }).click();
    await page.getByLabel('Port of rule 1').fill('22');
    await page.getByLabel('Addresses (source for inbound, destination for outbound) of rule 1').fill('203.0.113.0/24');
    await page.getByLabel('Description of rule 1').fill('ssh from the office');
    await page.getByRole('button', { name: 'Add a rule' }).click();
    await page.getByLabel('Protocol of rule 2').selectOption('icmp');
    await page.getByLabel('Addresses (source for inbound, destination for outbound) of rule 2').fill('0.0.0.0/0');
    assert.equal(await page.getByLabel('Port of rule 2').isDisabled(), true, 'ICMP has no port');
    await page.getByRole('button', { name: 'Save the rules' }).click();
    await page.getByText('Saved 2 rules').waitFor();
    const api = await tcp.call('GET', `/v1/firewalls/${firewallId}`);
    assert.equal(api.status, 200);
    assert.deepEqual(
      api.body.firewall.rules.map(
        (r: { direction: string; protocol: string; port: string | null; source_ips: string[] }) => [
          r.direction,
          r.protocol,
          r.port,
          r.source_ips,
        ],
      ),
      [
        ['in', 'tcp', '22', ['203.0.113.0/24']],
        ['in', 'icmp', null, ['0.0.0.0/0']],
      ],
    );
    assert.equal(api.body.firewall.rules[0].description, 'ssh from the office');
    // A bad rule: the API's reason on screen, and nothing saved.
    await page.getByLabel('Port of rule 1').fill('99999');
    await page.getByRole('button', { name: 'Save the rules' }).click();
    await page.getByRole('alert').waitFor();
    assert.match(await page.getByRole('alert').innerText(), /code: invalid/);
    assert.equal((await tcp.call('GET', `/v1/firewalls/${firewallId}`)).body.firewall.rules[0].port, '22');
    await page.getByRole('button', { name: 'Discard changes' }).click();
    await page.getByLabel('Apply to server').selectOption(serverId);
    await page.getByRole('button', { name: 'Apply to server' }).click();
    await page.getByText(`Server: app-1`).waitFor();
    await assertAccessible(page, 'the firewall editor');
    await screenshot(page, 'firewall-editor');
  });

  await t.test('networks and floating IPs', async () => {
    await open(page, 'Networks');
    await page.getByLabel('Name', { exact: true }).fill('backend');
    await page.getByLabel('Region').selectOption('fra1');
    await page.getByLabel('IP range').fill('10.30.0.0/16');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.locator('tr[data-network="backend"]').waitFor();
    await assertAccessible(page, 'the networks page');
    await screenshot(page, 'networks');
    await open(page, 'Floating IPs');
    await page.getByLabel('Region').selectOption('fra1');
    await page.getByRole('button', { name: 'Allocate', exact: true }).click();
    const row = page.locator('tr[data-fip]');
    await row.waitFor();
    await row.getByRole('combobox').selectOption(serverId);
    await row.getByRole('button', { name: 'Assign' }).click();
    await until('the IP assigned', async () => (await row.innerText()).includes('app-1'), 15_000);
    await assertAccessible(page, 'the floating IPs page');
    await screenshot(page, 'floating-ips');
  });

  await t.test('volumes: create, attach, grow (confirmed); a cancelled detach changes nothing', async () => {
    await open(page, 'Volumes');
    await page.getByLabel('Name', { exact: true }).fill('data-1');
    await page.getByLabel('Size (GiB)').fill('10');
    await page.getByLabel('Region').selectOption('fra1');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    const row = page.locator('tr[data-volume="data-1"]');
    await row.locator('.badge[data-status="available"]').waitFor({ timeout: 15_000 });
    await row.getByRole('combobox').selectOption(serverId);
    await row.getByRole('button', { name: 'Attach' }).click();
    await row.locator('.badge[data-status="attached"]').waitFor({ timeout: 15_000 });
    await row.getByLabel('New size of data-1 in GiB').fill('20');
    await row.getByRole('button', { name: 'Resize' }).click();
    const dialog = page.getByRole('dialog');
    assert.match(await dialog.innerText(), /Grow data-1 from 10 GiB to 20 GiB/);
    await dialog.getByRole('button', { name: 'Resize' }).click();
    await until(
      'the volume at 20 GiB',
      async () => (await tcp.call('GET', '/v1/volumes?name=data-1')).body.volumes[0]?.size_gib === 20,
      15_000,
    );
    await row.getByRole('button', { name: 'Detach' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await tcp.call('GET', '/v1/volumes?name=data-1')).body.volumes[0].status, 'attached', 'cancel');
    await assertAccessible(page, 'the volumes page');
    await screenshot(page, 'volumes');
  });

  await t.test('backups: back up now', async () => {
    await open(page, 'Backups');
    await page.getByLabel('Server to back up').selectOption(serverId);
    await page.getByRole('button', { name: 'Back up now' }).click();
    await page.getByText(/Backup bkp_\S+ started/).waitFor();
    await page.locator('tr[data-backup]').first().waitFor();
    await assertAccessible(page, 'the backups page');
    await screenshot(page, 'backups');
  });

  await t.test('webhooks: the secret once, a test delivery in the delivery log', async () => {
    await open(page, 'Webhooks');
    await page.getByLabel('URL').fill(`http://127.0.0.1:${receiverPort}/hook`);
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    assert.match(await page.getByTestId('webhook-secret').innerText(), /whsec_/);
    await page.getByRole('link', { name: `http://127.0.0.1:${receiverPort}/hook` }).click();
    await page.getByRole('button', { name: 'Send a test delivery' }).click();
    const delivery = page.locator('tr[data-delivery]').first();
    await delivery.locator('.badge[data-status="succeeded"]').waitFor({ timeout: 20_000 });
    await delivery.getByRole('button', { name: 'Attempts' }).click();
    assert.match(await delivery.innerText(), /200 · \d+ ms/);
    assert.ok(received.length >= 1, 'the receiver got it');
    await assertAccessible(page, 'the webhook page');
    await screenshot(page, 'webhook-deliveries');
  });

  await t.test('API tokens: created (secret once), revoked after a confirmation', async () => {
    await open(page, 'API tokens');
    await page.getByLabel('Name', { exact: true }).fill('ci-deploy');
    await page.getByLabel('Role').selectOption('viewer');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    const secret = (await page.getByTestId('token-secret').locator('code').innerText()).trim();
    assert.equal((await tcp.call('GET', '/v1/servers', { token: secret })).status, 200);
    await page.locator('tr[data-token="ci-deploy"]').getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await page.getByText('Revoked ci-deploy.').waitFor();
    assert.equal((await tcp.call('GET', '/v1/servers', { token: secret })).status, 401);
    await assertAccessible(page, 'the tokens page');
    await screenshot(page, 'tokens');
  });

  await t.test('the audit log and the platform status', async () => {
    await open(page, 'Audit log');
    await page.getByTestId('audit-log').getByText('POST /v1/firewalls').first().waitFor();
    await assertAccessible(page, 'the audit log');
    await screenshot(page, 'audit-log');
    await open(page, 'Platform status');
    await page.locator('tr[data-component="fra1.compute"]').waitFor();
    await assertAccessible(page, 'the status page');
    await screenshot(page, 'status');
  });

  await t.test(
    'server detail: metrics charts, traffic with its 95th percentile, backups, volumes, events',
    async () => {
      await page.getByRole('link', { name: 'Servers', exact: true }).click();
      await page.getByRole('link', { name: 'app-1' }).click();
      await page.getByRole('heading', { level: 1, name: /app-1/ }).waitFor();
      for (const chart of ['chart-cpu', 'chart-network', 'chart-disk', 'chart-traffic'])
        await page.getByTestId(chart).waitFor();
      // A young server has few points: the chart draws what the API has, described for screen readers.
      const cpu = page.getByTestId('chart-cpu');
      assert.match((await cpu.locator('polyline').getAttribute('points')) ?? '', /^[\d.]+,[\d.]+/);
      assert.match(
        (await cpu.getByRole('img').getAttribute('aria-label')) ?? '',
        /^CPU: CPU: [\d.]+ % \(max [\d.]+\)$/,
      );
      // The month's summary is computed periodically: before its first pass the page says so with a dash.
      const summary = (await tcp.call('GET', '/v1/traffic/summary')).body;
      const mine = summary.servers.find((s: { server_id: string }) => s.server_id === serverId);
      assert.match(await page.getByTestId('p95').innerText(), mine ? /Mbit\/s/ : /^—$/);
      await page.getByTestId('server-events').getByText('server.created').waitFor();
      await page.locator('tr[data-volume="data-1"]').waitFor();
      await page.locator('tr[data-backup]').first().waitFor();
      await assertAccessible(page, 'the server detail page with its sections');
      await screenshot(page, 'server-detail-sections');
    },
  );

  await t.test('in French, the pages speak French', async () => {
    await page.getByLabel('Language').selectOption('fr');
    await open(page, 'Pare-feu');
    await page.getByRole('link', { name: 'web-fw' }).click();
    await page.getByRole('button', { name: 'Ajouter une règle' }).waitFor();
    assert.match(await page.getByTestId('rule-editor').innerText(), /Entrant.*paquets/s);
    await assertAccessible(page, 'the firewall editor in French');
    await screenshot(page, 'firewall-editor-fr');
    await page.getByLabel('Langue').selectOption('en');
  });

  await t.test('a viewer sees no destructive button on any resource page; the API refuses anyway', async () => {
    const { context, page: viewer } = await signInNewMember(browser!, tcp, 'viewer@example.com', 'viewer');
    for (const [link, rowSelector] of [
      ['Networks', 'tr[data-network]'],
      ['Floating IPs', 'tr[data-fip]'],
      ['Firewalls', 'tr[data-firewall]'],
      ['Volumes', 'tr[data-volume]'],
      ['Backups', 'tr[data-backup]'],
      ['Webhooks', 'tr[data-webhook]'],
    ] as const) {
      await open(viewer, link);
      await viewer.locator(rowSelector).first().waitFor();
      for (const name of ['Delete', 'Release', 'Detach', 'Unassign', 'Revoke', 'Resize', 'Create', 'Restore'])
        assert.equal(await viewer.getByRole('button', { name, exact: true }).count(), 0, `${link}: no ${name}`);
    }
    await viewer.getByRole('link', { name: 'web-fw' }).count(); // the list of firewalls is readable
    await open(viewer, 'Firewalls');
    await viewer.getByRole('link', { name: 'web-fw' }).click();
    await viewer.getByRole('heading', { level: 1, name: 'web-fw' }).waitFor();
    assert.equal(await viewer.getByRole('button', { name: 'Save the rules' }).count(), 0);
    assert.equal(await viewer.getByLabel('Port of rule 1').isDisabled(), true);
    await screenshot(viewer, 'firewall-viewer');
    await open(viewer, 'API tokens');
    await viewer.getByText('Only the project’s owners see this page.').waitFor();
    const refused = await viewer.evaluate(async (id) => {
      const csrf = (globalThis as unknown as { document: { cookie: string } }).document.cookie.match(
        /vmc_csrf=([^;]+)/,
      )?.[1];
      const response = await fetch(`/v1/firewalls/${id}`, {
        method: 'DELETE',
        headers: { 'x-csrf-token': csrf ?? '' },
      });
      return response.status;
    }, firewallId);
    assert.equal(refused, 403);
    assert.equal((await tcp.call('GET', `/v1/firewalls/${firewallId}`)).status, 200);
    await context.close();
  });
});
