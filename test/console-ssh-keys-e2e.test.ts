/**
 * The console's SSH keys in Chromium: a key added on the SSH keys page (its fingerprint is the API's), a
 * bad key refused in plain words, the key picked as a checkbox in the create-server wizard (it reaches the
 * server's desired state beside an inline key), delete confirmed; a viewer reads the list without the add
 * form or delete buttons, and the page in French. axe on the pages; screenshots to test-output/console/.
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
  signInNewMember,
  signInWithLink,
  testPasswordCost,
  wizardToDetails,
} from './console-browser.ts';
import { ed25519Key } from './ssh-key-lines.ts';

test('the console’s SSH keys in Chromium', { skip: noBrowser }, async (t) => {
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
  browser = await launch();
  const { page } = await signInWithLink(browser, tcp, tcp.secrets.ownerSignIn.path);
  const laptop = ed25519Key('me@laptop');
  const inline = ed25519Key('inline@console');

  await t.test('add a key: the fingerprint shown is the API’s; a private key is refused in plain words', async () => {
    await open(page, 'SSH keys');
    await page.getByLabel('Name', { exact: true }).fill('laptop');
    await page.getByLabel('Public key').fill(laptop);
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByTestId('notice').filter({ hasText: 'Saved laptop' }).waitFor();
    const saved = (await tcp.call('GET', '/v1/ssh-keys/laptop')).body.ssh_key;
    assert.equal(saved.public_key, laptop);
    const row = page.locator('[data-ssh-key="laptop"]');
    assert.match(await row.innerText(), new RegExp(saved.fingerprint.replace(/[+/]/g, '\\$&')));
    assert.match(await row.innerText(), /ssh-ed25519 \(256\)/);

    await page.getByLabel('Name', { exact: true }).fill('oops');
    await page.getByLabel('Public key').fill('-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'This is not an OpenSSH public key' }).waitFor();
    assert.match(await page.getByRole('alert').innerText(), /invalid_public_key/);
    assert.equal((await tcp.call('GET', '/v1/ssh-keys/oops')).status, 404, 'nothing saved');
    await assertAccessible(page, 'the SSH keys page with an error');
    await screenshot(page, 'ssh-keys');
  });

  await t.test('the wizard offers the saved key as a checkbox; the server gets it and the inline key', async () => {
    await wizardToDetails(page);
    await page.getByLabel('Server name').fill('keyed-console-1');
    const box = page.getByRole('checkbox', { name: /laptop/ });
    assert.equal(await box.isChecked(), false, 'no key is picked by default');
    await box.check();
    await page.getByLabel('Other public keys (one per line)').fill(inline);
    await assertAccessible(page, 'the wizard’s details with saved keys');
    await screenshot(page, 'create-server-ssh-keys');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByTestId('protection-step').waitFor();
    await page.getByRole('button', { name: 'Next' }).click();
    const review = page.getByTestId('review');
    await review.waitFor();
    assert.match(await review.innerText(), /SSH keys\s+laptop, inline@console/);
    await page.getByRole('button', { name: 'Create the server' }).click();
    await page.waitForURL(/\/servers\/srv_/);
    const serverId = new URL(page.url()).pathname.split('/')[2];
    const desired = await until('the server in its host’s desired state', async () => {
      const hostId = (await tcp.cp.services.scheduler.placementsOf(tcp.cp.db, [serverId])).get(serverId)?.hostId;
      if (!hostId) return null;
      return (await tcp.cp.services.hostSync.desiredFor(hostId)).find((d) => d.spec.serverId === serverId) ?? null;
    });
    assert.deepEqual(desired.spec.sshKeys, [laptop, inline]);
  });

  await t.test('a viewer reads the keys, without the form or delete buttons; in French too', async () => {
    const { context, page: viewer } = await signInNewMember(browser!, tcp, 'keys-viewer@example.com', 'viewer');
    await open(viewer, 'SSH keys');
    await viewer.locator('[data-ssh-key="laptop"]').waitFor();
    assert.equal(await viewer.getByRole('button', { name: /Delete/ }).count(), 0);
    assert.equal(await viewer.getByLabel('Public key').count(), 0);
    await viewer.getByText('Viewers see the keys').waitFor();
    await assertAccessible(viewer, 'the SSH keys page of a viewer');
    await viewer.getByLabel('Language').selectOption('fr');
    await viewer.getByRole('heading', { level: 1, name: 'Clés SSH', exact: true }).waitFor();
    await viewer.getByRole('columnheader', { name: 'Empreinte' }).waitFor();
    await viewer.getByText('Les lecteurs voient les clés').waitFor();
    await screenshot(viewer, 'ssh-keys-viewer-fr');
    await context.close();
  });

  await t.test('delete, confirmed: cancel keeps it, confirm deletes it', async () => {
    await open(page, 'SSH keys');
    await page.getByRole('button', { name: 'Delete laptop' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await tcp.call('GET', '/v1/ssh-keys/laptop')).status, 200, 'cancel keeps it');
    await page.getByRole('button', { name: 'Delete laptop' }).click();
    assert.match(await page.getByRole('dialog').innerText(), /Servers created with it keep it/);
    await page.getByRole('dialog').getByRole('button', { name: 'Delete the SSH key' }).click();
    await page.getByTestId('notice').filter({ hasText: 'Deleted laptop' }).waitFor();
    assert.equal((await tcp.call('GET', '/v1/ssh-keys/laptop')).status, 404);
    await page.getByText('Nothing here yet.').waitFor();
  });
});
