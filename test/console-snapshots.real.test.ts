/**
 * Disk snapshots from the server page, with a real QEMU host (snapshots live on the host: simulated hosts
 * have none): the control plane with an in-process `--local-host qemu` host runs the test guest; its owner
 * takes a named snapshot in Chromium, a restore while the server runs is refused in plain words (409
 * `server_running`), the server stopped it is restored (confirmed), then deleted (confirmed) — each checked
 * against `GET /v1/servers/{id}/snapshots`. A viewer sees the list without a button. Skips without QEMU,
 * the guest kernel, busybox or Chromium.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realQemuSkipReason } from '../src/compute/drivers/qemu/real-qemu-support.ts';
import { consoleWithRealServer } from './console-real-qemu.ts';
import { assertAccessible, noBrowser, screenshot, signInNewMember, signInWithLink } from './console-browser.ts';

const skip = noBrowser || (await realQemuSkipReason());

test(
  'disk snapshots of a real QEMU server in Chromium: taken, restore refused running, restored stopped, deleted',
  { skip: skip || undefined, timeout: 300_000 },
  async (t) => {
    const {
      tcp,
      serverId,
      browser: openBrowser,
    } = await consoleWithRealServer(t, {
      workPrefix: '/tmp/vcsnap-',
      serverName: 'snap-1',
    });
    const names = async () =>
      ((await tcp.call('GET', `/v1/servers/${serverId}/snapshots`)).body.snapshots as { name: string }[]).map(
        (s) => s.name,
      );

    const browser = await openBrowser();
    const { page } = await signInWithLink(browser, tcp, tcp.secrets.ownerSignIn.path);
    await page.getByRole('link', { name: 'snap-1' }).click();
    await page.getByRole('heading', { level: 2, name: 'Disk snapshots' }).waitFor();

    await t.test('a named snapshot taken in the page is in the API’s list', async () => {
      await page.getByLabel('Snapshot name (optional)').fill('before-change');
      await page.getByRole('button', { name: 'Take a snapshot' }).click();
      await page.getByText('Snapshot before-change taken.').waitFor({ timeout: 30_000 });
      await page.locator('tr[data-snapshot="before-change"]').waitFor();
      assert.deepEqual(await names(), ['before-change']);
      await assertAccessible(page, 'the server page with its snapshots');
      await screenshot(page, 'server-snapshots');
    });

    await t.test('restore: refused while running (plain words + code), done once stopped', async () => {
      const row = page.locator('tr[data-snapshot="before-change"]');
      await row.getByRole('button', { name: 'Restore' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Restore' }).click();
      const alert = page.getByRole('alert').filter({ hasText: 'server_running' });
      await alert.waitFor();
      assert.match(await alert.innerText(), /The server must be stopped first\./);
      await page.getByRole('button', { name: 'Stop', exact: true }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Stop' }).click();
      await page.locator('h1 .badge[data-status="stopped"]').waitFor({ timeout: 90_000 });
      await row.getByRole('button', { name: 'Restore' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Restore' }).click();
      await page.getByText('The disk is back to snapshot before-change.').waitFor({ timeout: 30_000 });
      assert.deepEqual(await names(), ['before-change'], 'the snapshot is kept');
    });

    await t.test('a viewer sees the list without a button', async () => {
      const viewer = await signInNewMember(browser!, tcp, 'viewer-snap@example.com', 'viewer');
      await viewer.page.goto(`${tcp.url}/servers/${serverId}`);
      await viewer.page.locator('tr[data-snapshot="before-change"]').waitFor();
      for (const name of ['Take a snapshot', 'Restore', 'Delete'])
        assert.equal(await viewer.page.getByRole('button', { name, exact: true }).count(), 0, `no ${name}`);
      await viewer.context.close();
    });

    await t.test('deleted after a confirmation: gone from the API’s list', async () => {
      const row = page.locator('tr[data-snapshot="before-change"]');
      await row.getByRole('button', { name: 'Delete' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Delete the snapshot' }).click();
      await page.getByText('Deleted before-change.').waitFor({ timeout: 30_000 });
      await row.waitFor({ state: 'detached' });
      assert.deepEqual(await names(), []);
    });
  },
);
