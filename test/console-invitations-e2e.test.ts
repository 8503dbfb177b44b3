/**
 * Invitations in the console, in Chromium: the owner invites an e-mail on the Members page (the link shown
 * once), revokes another invitation after a confirmation; the invitee opens the link in a fresh browser,
 * chooses a password, and lands in the project with the invited role; a viewer's Members page is closed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { startTestControlPlane } from './helpers.ts';
import {
  assertAccessible,
  ensureBuilt,
  launch,
  noBrowser,
  open,
  password,
  screenshot,
  signInWithLink,
  testPasswordCost,
} from './console-browser.ts';

test(
  'an owner invites on the Members page; the invitee accepts and sees the project',
  { skip: noBrowser },
  async (t) => {
    const consoleDir = await ensureBuilt();
    const tcp = await startTestControlPlane('sqlite', { consoleDir, passwordHashCost: testPasswordCost });
    let browser: Browser | null = null;
    t.after(async () => {
      await browser?.close();
      await tcp.dispose();
    });
    browser = await launch();
    const { page } = await signInWithLink(browser, tcp, tcp.secrets.ownerSignIn.path);
    let linkUrl = '';

    await t.test('the owner invites two people and revokes one (confirmed)', async () => {
      await open(page, 'Members');
      assert.match(await page.locator('tr[data-member="owner@vmcloud.local"]').innerText(), /owner/);
      const invite = async (email: string, role: string) => {
        await page.getByLabel('Email').fill(email);
        await page.getByLabel('Role', { exact: true }).selectOption(role);
        await page.getByRole('button', { name: 'Invite', exact: true }).click();
        await page.locator(`tr[data-invitation="${email}"]`).waitFor();
        return (await page.getByTestId('invitation-link').locator('code').innerText()).trim();
      };
      linkUrl = await invite('grace@example.com', 'viewer');
      assert.match(linkUrl, new RegExp(`^${tcp.url}/invite#token=vmi_`));
      await invite('mallory@example.com', 'owner');
      await page.locator('tr[data-invitation="mallory@example.com"]').getByRole('button', { name: 'Revoke' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
      await page.locator('tr[data-invitation="mallory@example.com"]').waitFor({ state: 'detached' });
      const pending = await tcp.call('GET', `/v1/projects/${tcp.secrets.projectId}/invitations`);
      assert.deepEqual(
        pending.body.invitations.map((i: { email: string; role: string }) => `${i.email} ${i.role}`),
        ['grace@example.com viewer'],
      );
      await assertAccessible(page, 'the members page');
      await screenshot(page, 'members');
    });

    await t.test('the invitee opens the link, sets a password and sees the project', async () => {
      const context = await browser!.newContext({ locale: 'en-GB', colorScheme: 'light' });
      const invitee = await context.newPage();
      invitee.setDefaultTimeout(10_000);
      invitee.on('pageerror', (error) => console.error(`page error: ${error.message}`));
      await invitee.goto(linkUrl);
      await invitee.getByRole('heading', { name: 'Join a project' }).waitFor();
      await invitee.getByRole('button', { name: 'Accept the invitation' }).click();
      await invitee.getByLabel('New password (12 characters or more)').fill(password);
      await invitee.getByLabel('Confirm the password').fill(password);
      await assertAccessible(invitee, 'the invitation page');
      await screenshot(invitee, 'accept-invitation');
      await invitee.getByRole('button', { name: 'Continue' }).click();
      await invitee.getByRole('heading', { name: 'Servers', exact: true }).waitFor();
      const who = await invitee.getByTestId('who').innerText();
      assert.match(who, /grace@example\.com · default · viewer/);
      // A viewer: the Members page is for owners.
      await open(invitee, 'Members');
      assert.match(await invitee.locator('main').innerText(), /Only the project’s owners see this page/);
      // The owner's page now lists grace as a member.
      await open(page, 'Servers');
      await open(page, 'Members');
      assert.match(await page.locator('tr[data-member="grace@example.com"]').innerText(), /viewer/);
      await context.close();
    });
  },
);
