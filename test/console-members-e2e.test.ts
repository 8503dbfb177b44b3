/**
 * Members and projects in the console, in Chromium (issue 16): an owner changes a member's role with the
 * row's selector, is refused demoting the last owner (the plain words, in English and French, and the
 * API's code shown), removes another member after a confirmation (that member's open console is signed
 * out), steps down to member once another owner exists (the page follows), and moves the session to a
 * second project with the header's switcher.
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
  screenshot,
  signInNewMember,
  signInWithLink,
  testPasswordCost,
} from './console-browser.ts';

test('an owner changes a role, removes a member and switches project', { skip: noBrowser }, async (t) => {
  const consoleDir = await ensureBuilt();
  const tcp = await startTestControlPlane('sqlite', { consoleDir, passwordHashCost: testPasswordCost });
  let browser: Browser | null = null;
  t.after(async () => {
    await browser?.close();
    await tcp.dispose();
  });
  // The owner is an owner of a second project too (before signing in: the session lists both).
  const second = await tcp.call('POST', '/v1/projects', {
    token: tcp.secrets.operatorToken,
    body: { name: 'second', owner_email: tcp.secrets.ownerSignIn.email },
  });
  assert.equal(second.status, 201, JSON.stringify(second.body));
  browser = await launch();
  const alice = await signInNewMember(browser, tcp, 'alice@example.com', 'member');
  const bob = await signInNewMember(browser, tcp, 'bob@example.com', 'viewer');
  const { page } = await signInWithLink(browser, tcp, tcp.secrets.ownerSignIn.path);
  /** The default project's members and roles, as stored (the owner's token may not outlive the ownership). */
  const members = async () =>
    Object.fromEntries(
      (
        await tcp.cp.db
          .selectFrom('memberships')
          .innerJoin('users', 'users.id', 'memberships.user_id')
          .select(['users.email', 'memberships.role'])
          .where('memberships.project_id', '=', tcp.secrets.projectId)
          .execute()
      ).map((m) => [m.email, m.role]),
    );

  await t.test("the owner changes alice's role with the row's selector", async () => {
    await open(page, 'Members');
    await page.getByLabel('Role of alice@example.com').selectOption('viewer');
    await page.getByTestId('notice').getByText('alice@example.com is now viewer.').waitFor();
    assert.equal((await members())['alice@example.com'], 'viewer');
    // Alice's console acts with the new role at once: her Members page stays closed, her server list reads.
    await open(alice.page, 'Members');
    assert.match(await alice.page.locator('main').innerText(), /Only the project’s owners see this page/);
  });

  await t.test('demoting the last owner is refused in plain words, with the code', async () => {
    await page.getByLabel('Role of owner@vmcloud.local').selectOption('member');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    const text = await alert.innerText();
    assert.match(text, /A project keeps at least one owner: make another member owner first\./);
    assert.match(text, /conflict \/ last_owner/);
    assert.equal(await page.getByLabel('Role of owner@vmcloud.local').inputValue(), 'owner', 'the selector is back');
    assert.equal((await members())['owner@vmcloud.local'], 'owner');
    await assertAccessible(page, 'the members page with its selectors and an error');
    await screenshot(page, 'members-last-owner');
    // In French: the same refusal in French words, the same code.
    await page.getByLabel('Language').selectOption('fr');
    await page.getByLabel('Rôle de owner@vmcloud.local').selectOption('viewer');
    await page
      .getByRole('alert')
      .getByText(/Un projet garde au moins un propriétaire : nommez d’abord un autre membre propriétaire\./)
      .waitFor();
    assert.match(await page.getByRole('alert').innerText(), /conflict \/ last_owner/);
    await page.getByLabel('Langue').selectOption('en');
    await page.getByLabel('Role of owner@vmcloud.local').waitFor();
  });

  await t.test('the owner removes bob after a confirmation; his open console is signed out', async () => {
    const row = page.locator('tr[data-member="bob@example.com"]');
    await row.getByRole('button', { name: 'Remove bob@example.com' }).click();
    const dialog = page.getByRole('dialog');
    assert.match(await dialog.innerText(), /Remove bob@example\.com from the project\?/);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.ok('bob@example.com' in (await members()), 'cancelled: still a member');
    await row.getByRole('button', { name: 'Remove bob@example.com' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove', exact: true }).click();
    await row.waitFor({ state: 'detached' });
    await page.getByTestId('notice').getByText('bob@example.com was removed from the project.').waitFor();
    assert.ok(!('bob@example.com' in (await members())));
    await bob.page.reload();
    await bob.page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
  });

  await t.test('with alice owner again, the owner steps down: the page follows the new role', async () => {
    await page.getByLabel('Role of alice@example.com').selectOption('owner');
    await page.getByTestId('notice').getByText('alice@example.com is now owner.').waitFor();
    await page.getByLabel('Role of owner@vmcloud.local').selectOption('member');
    await page
      .getByTestId('who')
      .getByText(/owner@vmcloud\.local · default · member/)
      .waitFor();
    assert.match(await page.locator('main').innerText(), /Only the project’s owners see this page/);
    assert.deepEqual(await members(), { 'owner@vmcloud.local': 'member', 'alice@example.com': 'owner' });
  });

  await t.test('the header switches the session to the second project', async () => {
    await page.getByLabel('Switch project').selectOption(second.body.project_id);
    await page
      .getByTestId('who')
      .getByText(/second/)
      .waitFor();
    await page.getByRole('heading', { name: 'Servers', exact: true }).waitFor();
    await open(page, 'Members');
    await page.locator('tr[data-member="owner@vmcloud.local"]').waitFor();
    assert.equal(await page.locator('tr[data-member]').count(), 1, 'the members of the second project');
    // The same cookie now acts in the second project, as the API says.
    const cookies = await page.context().cookies();
    const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const session = await fetch(`${tcp.url}/v1/auth/session`, { headers: { cookie } });
    assert.equal(((await session.json()) as { project: { id: string } }).project.id, second.body.project_id);
    await assertAccessible(page, 'the header with the project switcher');
    await screenshot(page, 'project-switched');
    await page.getByLabel('Switch project').selectOption(tcp.secrets.projectId);
    await page
      .getByTestId('who')
      .getByText(/default · member/)
      .waitFor();
  });
});
