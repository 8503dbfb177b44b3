/**
 * The server page's protection flags, ISO boot and disk export, and the webhook edit form, in Chromium on
 * the simulated fleet: delete protection turned on in the page (the API says so), a delete then refused in
 * plain words with its code, turned off; an ISO of the catalog attached and detached (both confirmed), as
 * `GET /v1/servers/{id}` then answers; the export: on a simulated host the API has none (`503
 * host_has_no_api`, said in plain words) — the page's handling of an export that succeeds (progress, the
 * save link, the key shown once) is checked against an answer shaped like the API's, served by the browser
 * (a real QEMU export is not run here); a webhook's URL and filters edited (a private URL refused in plain
 * words, nothing saved; then what the API answers). A viewer sees none of the controls. axe on the pages;
 * screenshots to test-output/console/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { fastSimDelays, startTestControlPlane, type TestControlPlane } from './helpers.ts';
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

/** The id of the action named in the page's "Request accepted" notice, waited for through the API. */
async function acceptedAction(page: Page, tcp: TestControlPlane, what: string) {
  const notice = page.getByTestId('notice').filter({ hasText: `Request accepted: ${what}` });
  await notice.waitFor();
  const id = /\((act_[^)]+)\)/.exec(await notice.innerText())?.[1];
  assert.ok(id, 'the notice names the action');
  const action = await tcp.waitForAction(id);
  assert.equal(action.status, 'success', JSON.stringify(action));
  return id;
}

test(
  'the console’s server protection, ISO boot, disk export and webhook editing in Chromium',
  { skip: noBrowser },
  async (t) => {
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

    // An ISO image in the catalog (an operator's upload; simulated hosts never read its file).
    await tcp.cp.services.catalog.recordUploadedImage({
      slug: 'rescue-iso',
      name: 'Rescue system',
      fileName: 'rescue.iso',
      facts: { format: 'iso', sizeBytes: 1024 * 1024, sha256: 'a'.repeat(64), minDiskGiB: 1 },
    });
    const created = await tcp.call('POST', '/v1/servers', {
      body: { name: 'app-1', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
    });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    const serverId: string = created.body.server.id;
    await tcp.waitForAction(created.body.action.id);
    const server = async () => (await tcp.call('GET', `/v1/servers/${serverId}`)).body.server;
    // Filters no event of this test matches: nothing is sent to these (unreachable) addresses.
    const hook = await tcp.call('POST', '/v1/webhooks', {
      body: { url: 'https://hooks.example.com/vmcloud', events: ['backup.succeeded'] },
    });
    assert.equal(hook.status, 201, JSON.stringify(hook.body));
    const webhookId: string = hook.body.webhook.id;

    browser = await launch();
    const { page } = await signInWithLink(browser, tcp, tcp.secrets.ownerSignIn.path);
    const openServer = async (p: Page) => {
      await p.getByRole('navigation').getByRole('link', { name: 'Servers', exact: true }).click();
      await p.getByRole('link', { name: 'app-1' }).click();
      await p.getByRole('heading', { level: 1, name: /app-1/ }).waitFor();
    };
    await openServer(page);
    await page.locator('h1 .badge[data-status="running"]').waitFor();

    await t.test('delete protection: on in the page, a delete refused in plain words, then off', async () => {
      assert.equal(await page.getByTestId('fact-delete-protection').innerText(), 'off');
      await page.getByLabel('Delete protection').check();
      await page.getByText('Delete protection: on.').waitFor();
      assert.equal((await server()).delete_protection, true);
      await page.locator('[data-testid="fact-delete-protection"]', { hasText: 'on' }).waitFor();
      const note = page.locator('#delete-protected-note');
      assert.match(await note.innerText(), /refused until it is turned off/);
      assert.equal(
        await page.getByRole('button', { name: 'Delete', exact: true }).getAttribute('aria-describedby'),
        'delete-protected-note',
      );

      await page.getByRole('button', { name: 'Delete', exact: true }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
      const alert = page.getByRole('alert').filter({ hasText: 'protected' });
      await alert.waitFor();
      assert.match(await alert.innerText(), /The server is protected against this/);
      assert.match(await alert.innerText(), /code: conflict \/ protected/);
      const still = await server();
      assert.equal(still.status, 'running', 'not deleted');
      assert.equal(still.desired_state, 'running');

      await page.getByLabel('Rebuild protection').check();
      await page.getByText('Rebuild protection: on.').waitFor();
      assert.equal((await server()).rebuild_protection, true);
      await page.locator('#rebuild-protected-note').waitFor();
      await screenshot(page, 'server-protection');

      await page.getByLabel('Delete protection').uncheck();
      await page.getByText('Delete protection: off.').waitFor();
      const after = await server();
      assert.deepEqual([after.delete_protection, after.rebuild_protection], [false, true]);
      await page.locator('#delete-protected-note').waitFor({ state: 'detached' });
      await alert.waitFor({ state: 'detached' }); // the refusal no longer holds
    });

    await t.test('ISO: attached from the catalog (confirmed), then detached (confirmed)', async () => {
      const attached = page.getByTestId('attached-iso');
      assert.equal(await attached.getAttribute('data-iso'), '');
      const choices = await page.getByLabel('ISO image').locator('option').allInnerTexts();
      assert.deepEqual(choices, ['—', 'Rescue system (rescue-iso)'], 'only ISO images are offered');
      await page.getByLabel('ISO image').selectOption('rescue-iso');
      await page.getByRole('button', { name: 'Attach the ISO' }).click();
      const dialog = page.getByRole('dialog');
      assert.match(await dialog.innerText(), /The server restarts now and boots from the ISO/);
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      assert.equal((await server()).iso, null, 'cancelled: nothing changed');

      await page.getByRole('button', { name: 'Attach the ISO' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Attach the ISO' }).click();
      await acceptedAction(page, tcp, 'attach-iso → rescue-iso');
      assert.equal((await server()).iso, 'rescue-iso');
      await page.locator('[data-testid="attached-iso"][data-iso="rescue-iso"]').waitFor();
      await assertAccessible(page, 'the server page with protection, ISO and export');
      await screenshot(page, 'server-iso');

      await page.getByRole('button', { name: 'Detach the ISO' }).click();
      assert.match(await page.getByRole('dialog').innerText(), /boots its disk/);
      await page.getByRole('dialog').getByRole('button', { name: 'Detach the ISO' }).click();
      await acceptedAction(page, tcp, 'detach-iso');
      assert.equal((await server()).iso, null);
      await page.locator('[data-testid="attached-iso"][data-iso=""]').waitFor();
    });

    await t.test(
      'disk export: a simulated host has none (plain words); a successful answer gives the file and the key once',
      async () => {
        // The API on a simulated host: no export.
        const api = await tcp.call('GET', `/v1/servers/${serverId}/export`);
        assert.deepEqual([api.status, api.body.reason], [503, 'host_has_no_api']);
        await page.getByRole('button', { name: 'Export the disk' }).click();
        const alert = page.getByRole('alert').filter({ hasText: 'host_has_no_api' });
        await alert.waitFor();
        assert.match(await alert.innerText(), /The server’s host does not offer this \(a simulated host\)\./);
        assert.equal(await page.getByTestId('export-ready').count(), 0);
        const direct = page.getByTestId('export-direct');
        assert.equal(await direct.getAttribute('href'), `${tcp.url}/v1/servers/${serverId}/export?format=qcow2`);

        // What the page does with a successful export: an answer shaped like the API's (headers of
        // src/api/rest/routes/server-host.ts), served by the browser in place of the simulated host's 503.
        const disk = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
        const requested: string[] = [];
        await page.route(`**/v1/servers/${serverId}/export?*`, async (route) => {
          requested.push(route.request().url());
          await route.fulfill({
            status: 200,
            body: disk,
            headers: {
              'content-type': 'application/octet-stream',
              'content-disposition': 'attachment; filename="app-1.qcow2"',
              'x-vmcloud-format': 'qcow2',
              'x-vmcloud-encrypted': 'true',
              'x-vmcloud-export-key': 'a-fresh-export-key-shown-once',
            },
          });
        });
        await page.getByLabel('Keep it encrypted (qcow2 with a fresh key, shown once)').check();
        assert.equal(await page.getByLabel('Format').isDisabled(), true, 'an encrypted export is a qcow2');
        await page.getByRole('button', { name: 'Export the disk' }).click();
        const ready = page.getByTestId('export-ready');
        await ready.waitFor();
        assert.deepEqual(
          requested.map((url) => new URL(url).search),
          ['?format=qcow2&encrypted=true'],
        );
        assert.equal(await page.getByTestId('export-key').innerText(), 'a-fresh-export-key-shown-once');
        const [download] = await Promise.all([
          page.waitForEvent('download'),
          ready.getByRole('link', { name: 'Save app-1.qcow2' }).click(),
        ]);
        assert.equal(download.suggestedFilename(), 'app-1.qcow2');
        const saved = readFileSync((await download.path())!);
        assert.ok(saved.equals(disk), 'the saved file is the bytes the API sent');
        await screenshot(page, 'server-export');
        await page.unroute(`**/v1/servers/${serverId}/export?*`);
      },
    );

    await t.test(
      'webhook: URL and filters edited in the page, a private URL refused, what the API answers',
      async () => {
        await open(page, 'Webhooks');
        await page.getByRole('link', { name: 'https://hooks.example.com/vmcloud' }).click();
        await page.getByRole('heading', { level: 2, name: 'Edit the webhook' }).waitFor();
        assert.equal(await page.getByLabel('URL', { exact: true }).inputValue(), 'https://hooks.example.com/vmcloud');
        assert.equal(await page.getByLabel('Event types').inputValue(), 'backup.succeeded');

        await page.getByLabel('URL', { exact: true }).fill('https://127.0.0.1/hooks');
        await page.getByRole('button', { name: 'Save', exact: true }).click();
        const alert = page.getByRole('alert').filter({ hasText: 'webhook_url_refused' });
        await alert.waitFor();
        assert.match(await alert.innerText(), /This URL is refused/);
        assert.equal(
          (await tcp.call('GET', `/v1/webhooks/${webhookId}`)).body.webhook.url,
          'https://hooks.example.com/vmcloud',
        );

        await page.getByLabel('URL', { exact: true }).fill('https://hooks.example.net/v2/vmcloud');
        await page.getByLabel('Event types').fill('backup.*, volume.deleted');
        await page.getByRole('button', { name: 'Save', exact: true }).click();
        await page.getByText('Webhook updated.').waitFor();
        const { webhook } = (await tcp.call('GET', `/v1/webhooks/${webhookId}`)).body;
        assert.equal(webhook.url, 'https://hooks.example.net/v2/vmcloud');
        assert.deepEqual(webhook.events, ['backup.*', 'volume.deleted']);
        await page.getByRole('heading', { level: 1, name: 'https://hooks.example.net/v2/vmcloud' }).waitFor();
        await assertAccessible(page, 'the webhook page with its edit form');
        await screenshot(page, 'webhook-edit');
      },
    );

    await t.test('in French, the new sections speak French', async () => {
      await page.getByLabel('Language').selectOption('fr');
      await openServerFr(page);
      await page.getByRole('heading', { level: 2, name: 'Démarrage sur ISO (secours ou installation)' }).waitFor();
      await page.getByLabel('Protection contre la suppression').waitFor();
      await page.getByRole('button', { name: 'Exporter le disque' }).waitFor();
      await screenshot(page, 'server-extras-fr');
      await page.getByLabel('Langue').selectOption('en');
      await page.getByRole('heading', { level: 2, name: 'Disk export' }).waitFor();
    });

    await t.test('a viewer sees the state without a control; the API refuses anyway', async () => {
      const { context, page: viewer } = await signInNewMember(browser!, tcp, 'viewer@example.com', 'viewer');
      await openServer(viewer);
      await viewer.getByRole('heading', { level: 2, name: 'Protection' }).waitFor();
      assert.equal(await viewer.getByTestId('fact-rebuild-protection').innerText(), 'on');
      assert.equal(await viewer.getByLabel('Delete protection').isDisabled(), true);
      assert.equal(await viewer.getByLabel('Rebuild protection').isChecked(), true);
      assert.equal(await viewer.getByLabel('Rebuild protection').isDisabled(), true);
      for (const name of ['Attach the ISO', 'Detach the ISO', 'Export the disk', 'Delete'])
        assert.equal(await viewer.getByRole('button', { name, exact: true }).count(), 0, `no ${name}`);
      assert.equal(await viewer.getByLabel('ISO image').count(), 0);
      assert.equal(await viewer.getByTestId('export-direct').count(), 0);
      await screenshot(viewer, 'server-extras-viewer');
      await open(viewer, 'Webhooks');
      await viewer.getByRole('link', { name: 'https://hooks.example.net/v2/vmcloud' }).click();
      await viewer.getByRole('heading', { level: 1, name: 'https://hooks.example.net/v2/vmcloud' }).waitFor();
      assert.equal(await viewer.getByRole('heading', { name: 'Edit the webhook' }).count(), 0);
      assert.equal(await viewer.getByRole('button', { name: 'Save', exact: true }).count(), 0);
      const refused = await viewer.evaluate(async (id) => {
        const csrf = (globalThis as unknown as { document: { cookie: string } }).document.cookie.match(
          /vmc_csrf=([^;]+)/,
        )?.[1];
        const response = await fetch(`/v1/servers/${id}`, {
          method: 'PATCH',
          headers: { 'x-csrf-token': csrf ?? '', 'content-type': 'application/json' },
          body: JSON.stringify({ rebuild_protection: false }),
        });
        return response.status;
      }, serverId);
      assert.equal(refused, 403);
      assert.equal((await server()).rebuild_protection, true);
      await context.close();
    });
  },
);

/** The server page after a language switch (the navigation's names are French now). */
async function openServerFr(page: Page) {
  await page.getByRole('navigation').getByRole('link', { name: 'Serveurs', exact: true }).click();
  await page.getByRole('link', { name: 'app-1' }).click();
  await page.getByRole('heading', { level: 1, name: /app-1/ }).waitFor();
}
