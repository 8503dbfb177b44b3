/**
 * The server page's management sections in Chromium: a resize refused while the server runs (the API's
 * not_stopped in plain words), then done once stopped; a rebuild cancelled (nothing changes) then confirmed;
 * a private network attached and detached (confirmed); the backup policy set — each checked against what
 * the API then answers; snapshots on a simulated host: a note, as the API has none there (a real QEMU host:
 * console-snapshots.real.test.ts). A viewer sees none of those buttons and the API refuses them anyway. axe on the
 * page; screenshots to test-output/console/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { fastSimDelays, startTestControlPlane, type TestControlPlane } from './helpers.ts';
import {
  assertAccessible,
  ensureBuilt,
  launch,
  noBrowser,
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

test('the console’s server management in Chromium', { skip: noBrowser }, async (t) => {
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

  const created = await tcp.call('POST', '/v1/servers', {
    body: { name: 'app-1', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
  });
  assert.equal(created.status, 202, JSON.stringify(created.body));
  const serverId: string = created.body.server.id;
  await tcp.waitForAction(created.body.action.id);
  const network = await tcp.call('POST', '/v1/networks', {
    body: { name: 'backend', region: 'fra1', ip_range: '10.40.0.0/16' },
  });
  assert.equal(network.status, 201, JSON.stringify(network.body));
  const networkId: string = network.body.network.id;
  const server = async () => (await tcp.call('GET', `/v1/servers/${serverId}`)).body.server;

  browser = await launch();
  const { page } = await signInWithLink(browser, tcp, tcp.secrets.ownerSignIn.path);
  await page.getByRole('link', { name: 'app-1' }).click();
  await page.getByRole('heading', { level: 1, name: /app-1/ }).waitFor();
  await page.locator('h1 .badge[data-status="running"]').waitFor();

  await t.test('resize: refused while running (plain words + code), done once stopped', async () => {
    await page.getByLabel('New size').selectOption('vps-starter');
    await page.getByRole('button', { name: 'Resize', exact: true }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'not_stopped' });
    await alert.waitFor();
    assert.match(await alert.innerText(), /The server must be stopped first\./);
    assert.match(await alert.innerText(), /code: conflict \/ not_stopped/);
    assert.equal((await server()).product, 'vps-nano', 'nothing changed');

    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Stop' }).click();
    await page.locator('h1 .badge[data-status="stopped"]').waitFor({ timeout: 20_000 });
    await page.getByRole('button', { name: 'Resize', exact: true }).click();
    await acceptedAction(page, tcp, 'resize →');
    assert.equal((await server()).product, 'vps-starter');
  });

  await t.test('resize picker: prices and availability from the API, impossible sizes disabled', async () => {
    const options = (await tcp.call('GET', `/v1/servers/${serverId}/resize-options`)).body.options as {
      product: string;
      name: string;
      possible: boolean;
    }[];
    const picker = page.getByLabel('New size');
    await picker.locator('option[value="vps-performance"]').waitFor({ state: 'attached' });
    const performance = picker.locator('option[value="vps-performance"]');
    assert.match(await performance.innerText(), /\/hour · larger · Available/);
    assert.equal(await performance.isDisabled(), false);
    assert.equal(await picker.locator('option[value="vps-starter"]').count(), 0, 'not the current size');
    assert.equal(
      await picker.locator('option:not([value=""])').count(),
      options.length,
      'every option the API lists, no other',
    );
    assert.match(await picker.locator('option[value="vps-nano"]').innerText(), /smaller/);
    await picker.selectOption('vps-performance');
    assert.match(
      await page.getByTestId('resize-choice').innerText(),
      /VPS-PERFORMANCE: .+\/hour, at most .+\/month \(\+/,
    );

    // Its host in maintenance and looking like a QEMU host: a real disk cannot move, the size cannot be chosen.
    const hostId = (await tcp.cp.services.scheduler.placementsOf(tcp.cp.db, [serverId])).get(serverId)!.hostId;
    const setHost = (state: string) =>
      tcp.call('PATCH', `/v1/hosts/${hostId}`, { token: tcp.secrets.operatorToken, body: { state } });
    await tcp.cp.db.updateTable('hosts').set({ driver: 'qemu' }).where('id', '=', hostId).execute();
    try {
      assert.equal((await setHost('maintenance')).status, 200);
      await page.reload();
      const blocked = page.getByLabel('New size').locator('option[value="vps-performance"]');
      await blocked.waitFor({ state: 'attached' });
      assert.match(await blocked.innerText(), /impossible: does not fit on its host/);
      assert.equal(await blocked.isDisabled(), true);
      assert.match(await page.getByTestId('resize-choice').innerText(), /cannot be chosen/);
    } finally {
      await tcp.cp.db.updateTable('hosts').set({ driver: 'sim' }).where('id', '=', hostId).execute();
      assert.equal((await setHost('active')).status, 200);
    }
    await page.reload();
    await page.getByRole('heading', { level: 1, name: /app-1/ }).waitFor();
    await page
      .getByLabel('New size')
      .locator('option[value="vps-performance"]:not([disabled])')
      .waitFor({ state: 'attached' });
  });

  await t.test('rebuild: cancelled changes nothing, confirmed reinstalls from the image', async () => {
    await page.getByLabel('Image to reinstall from').selectOption('ubuntu-24.04');
    await page.getByRole('button', { name: 'Rebuild', exact: true }).click();
    const dialog = page.getByRole('dialog');
    assert.match(await dialog.innerText(), /Its disk is erased/);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await page.getByRole('dialog').count(), 0);
    assert.equal((await server()).image, 'debian-12');
    await page.getByRole('button', { name: 'Rebuild', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Rebuild' }).click();
    await acceptedAction(page, tcp, 'rebuild →');
    assert.equal((await server()).image, 'ubuntu-24.04');
  });

  await t.test('snapshots: a simulated host has none — a note, no button', async () => {
    await page.getByTestId('snapshots-unsupported').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Take a snapshot' }).count(), 0);
    const api = await tcp.call('GET', `/v1/servers/${serverId}/snapshots`);
    assert.equal(api.status, 503);
    assert.equal(api.body.reason, 'host_has_no_api');
  });

  await t.test('private network: attached, then detached after a confirmation', async () => {
    await page.getByLabel('Network', { exact: true }).selectOption(networkId);
    await page.getByLabel('Private address (optional)').fill('10.40.0.25');
    await page.getByRole('button', { name: 'Attach to the network' }).click();
    await acceptedAction(page, tcp, 'attach-network');
    const attachments = async () =>
      (await tcp.call('GET', `/v1/networks/${networkId}`)).body.network.attachments as {
        server_id: string;
        ip: string;
      }[];
    assert.deepEqual(
      (await attachments()).map((a) => [a.server_id, a.ip]),
      [[serverId, '10.40.0.25']],
    );
    const row = page.locator('tr[data-attached-network="backend"]');
    await row.waitFor();
    assert.match(await row.innerText(), /10\.40\.0\.25/);
    assert.match(await row.innerText(), /10\.40\.0\.0\/16/, 'the subnet of its address');
    assert.equal(
      await page.getByLabel('Network', { exact: true }).locator(`option[value="${networkId}"]`).count(),
      0,
      'a network it is on is not offered again',
    );
    await assertAccessible(page, 'the server page with its management sections');
    await screenshot(page, 'server-manage');
    await row.getByRole('button', { name: 'Detach' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Detach' }).click();
    await acceptedAction(page, tcp, 'detach-network');
    assert.deepEqual(await attachments(), []);
    await row.waitFor({ state: 'detached' });
  });

  await t.test('events: the server’s own, newest first, as the API filters them', async () => {
    await page.reload();
    const table = page.getByTestId('server-events');
    await table.waitFor();
    const api = (await tcp.call('GET', `/v1/events?resource_id=${serverId}&limit=1000`)).body.events as {
      type: string;
    }[];
    const all = (await tcp.call('GET', '/v1/events?limit=1000')).body.events as { type: string }[];
    assert.ok(
      all.some((e) => e.type.startsWith('network.')),
      'the project has events of other resources',
    );
    const types = await table.locator('tbody tr td:nth-child(2)').allInnerTexts();
    assert.deepEqual(
      types,
      api
        .map((e) => e.type)
        .slice(-30)
        .reverse(),
    );
    assert.ok(types.includes('server.resized') && types.includes('server.created'));
  });

  await t.test('backup policy: set in the page, what the API answers', async () => {
    const scope = page.getByTestId('policy-scope');
    assert.notEqual(await scope.getAttribute('data-scope'), 'server');
    await page.getByLabel('Every (minutes)').fill('120');
    await page.getByLabel('Keep the last').fill('5');
    await page.getByLabel('Daily').fill('9');
    await page.getByLabel('Remote copy in region').selectOption('ams1');
    await page.getByLabel('Keep remote copies (days)').fill('45');
    await page.getByRole('button', { name: 'Save the policy' }).click();
    await page.getByText('Policy saved (server).').waitFor();
    await page.locator('[data-testid="policy-scope"][data-scope="server"]').waitFor();
    const { policy } = (await tcp.call('GET', `/v1/servers/${serverId}/backup-policy`)).body;
    assert.equal(policy.scope, 'server');
    assert.equal(policy.every_minutes, 120);
    assert.equal(policy.keep_last, 5);
    assert.equal(policy.keep_daily, 9);
    assert.equal(policy.remote_region, 'ams1');
    assert.equal(policy.remote_keep_days, 45);
    assert.equal(policy.enabled, true);
  });

  await t.test('a viewer sees the sections without a button; the API refuses anyway', async () => {
    const { context, page: viewer } = await signInNewMember(browser!, tcp, 'viewer@example.com', 'viewer');
    await viewer.getByRole('link', { name: 'app-1' }).click();
    await viewer.getByRole('heading', { level: 2, name: 'Backup policy' }).waitFor();
    for (const name of ['Resize', 'Rebuild', 'Attach to the network', 'Detach', 'Save the policy'])
      assert.equal(await viewer.getByRole('button', { name, exact: true }).count(), 0, `no ${name}`);
    assert.equal(await viewer.getByLabel('Every (minutes)').isDisabled(), true);
    assert.equal(await viewer.getByLabel('Every (minutes)').inputValue(), '120');
    await screenshot(viewer, 'server-manage-viewer');
    const refused = await viewer.evaluate(async (id) => {
      const csrf = (globalThis as unknown as { document: { cookie: string } }).document.cookie.match(
        /vmc_csrf=([^;]+)/,
      )?.[1];
      const response = await fetch(`/v1/servers/${id}/actions/rebuild`, {
        method: 'POST',
        headers: { 'x-csrf-token': csrf ?? '', 'content-type': 'application/json' },
        body: JSON.stringify({ image: 'debian-12' }),
      });
      return response.status;
    }, serverId);
    assert.equal(refused, 403);
    assert.equal((await server()).image, 'ubuntu-24.04');
    await context.close();
  });
});
