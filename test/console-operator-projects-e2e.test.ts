/**
 * The operator area's Projects tab in Chromium: the first start's operator signs in and sees every project
 * with its owners and usage against quotas, filters them by name (any case), edits a project's quotas (only
 * the quotas changed are sent; a bad value is refused in plain words and changes nothing) — in English and
 * French. axe on the tab; screenshots to test-output/console/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import {
  assertAccessible,
  enrolFirstOperator,
  launch,
  noBrowser,
  password,
  screenshot,
  startOperatorAreaPlane,
} from './console-browser.ts';

test('the Projects tab of the operator area in Chromium', { skip: noBrowser }, async (t) => {
  const { tcp, clock } = await startOperatorAreaPlane(t);
  let browser: Browser | null = null;
  t.after(async () => {
    await browser?.close();
  });
  const operatorToken = tcp.secrets.operatorToken;
  for (const [name, owner] of [
    ['Acme Corp', 'ops@acme.example'],
    ['acme-staging', 'dev@acme.example'],
    ['Globex', 'it@globex.example'],
  ])
    assert.equal(
      (await tcp.call('POST', '/v1/projects', { token: operatorToken, body: { name, owner_email: owner } })).status,
      201,
    );
  const projectNamed = async (name: string) =>
    (
      await tcp.call('GET', `/v1/projects?name=${encodeURIComponent(name)}`, { token: operatorToken })
    ).body.projects.find((p: { name: string }) => p.name === name);
  const { email: me, code } = await enrolFirstOperator(tcp, clock);

  browser = await launch();
  for (const locale of ['en-GB', 'fr-FR'] as const) {
    const english = locale === 'en-GB';
    const context = await browser.newContext({ locale, colorScheme: 'light' });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
    await page.goto(`${tcp.url}/operator`);
    await page.getByLabel(english ? 'Email' : 'E-mail').fill(me);
    await page.getByLabel(english ? 'Password' : 'Mot de passe').fill(password);
    await page.getByLabel(english ? 'Authentication code' : "Code d'authentification").fill(code());
    await page.getByRole('button', { name: english ? 'Sign in' : 'Se connecter', exact: true }).click();
    await page.getByRole('link', { name: english ? 'Projects' : 'Projets' }).click();

    const table = page.getByTestId('operator-projects');
    await table.waitFor();
    const acme = page.locator('tr[data-project="Acme Corp"]');
    const text = await acme.innerText();
    assert.match(text, /ops@acme\.example/);
    // Servers: none of the default 50 — of 12 the second time round (the English round saved 12).
    assert.match(text, english ? /0 of 50/ : /0 sur 12/);
    assert.equal(await page.locator('tr[data-project]').count(), 4, 'the default project and three more');

    await page.getByLabel(english ? 'Name contains' : 'Le nom contient').fill('ACME');
    await page.getByRole('button', { name: english ? 'Filter' : 'Filtrer' }).click();
    await page.locator('tr[data-project="Globex"]').waitFor({ state: 'detached' });
    assert.deepEqual(
      (
        await page.locator('tr[data-project]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-project')))
      ).sort(),
      ['Acme Corp', 'acme-staging'],
    );
    if (english) {
      await assertAccessible(page, 'the Projects tab');
      await screenshot(page, 'operator-projects');
    }

    // Edit Acme's quotas: a bad value is refused in plain words, nothing changes; then only the changed go.
    await acme
      .getByRole('button', { name: english ? 'Edit the quotas of Acme Corp' : 'Modifier les quotas de Acme Corp' })
      .click();
    const editor = page.getByTestId('quota-editor');
    await editor.waitFor();
    const servers = editor.getByLabel(english ? 'Servers' : 'Serveurs', { exact: true });
    await servers.fill('-3');
    await editor.getByRole('button', { name: english ? 'Save the quotas' : 'Enregistrer les quotas' }).click();
    const alert = editor.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /servers/);
    assert.equal((await projectNamed('Acme Corp')).quotas.servers, english ? 50 : 12, 'nothing changed');
    if (english) await screenshot(page, 'operator-project-quotas');

    const wanted = english ? 12 : 14;
    await servers.fill(String(wanted));
    await editor
      .getByLabel('GPUs', { exact: true })
      .or(editor.getByLabel('GPU', { exact: true }))
      .fill('2');
    await editor.getByRole('button', { name: english ? 'Save the quotas' : 'Enregistrer les quotas' }).click();
    await editor.waitFor({ state: 'detached' });
    await page
      .locator('tr[data-project="Acme Corp"]', { hasText: english ? `0 of ${wanted}` : `0 sur ${wanted}` })
      .waitFor();
    const saved = await projectNamed('Acme Corp');
    assert.deepEqual([saved.quotas.servers, saved.quotas.gpus, saved.quotas.vcpus], [wanted, 2, 200]);
    await context.close();
  }
  const events = (
    await tcp.call('GET', '/v1/events?type=project.quotas_changed', { token: operatorToken })
  ).body.events.map((e: { data: { changed: string[] } }) => [...e.data.changed].sort());
  assert.deepEqual(
    events,
    [['gpus', 'servers'], ['servers']],
    'only the quotas changed were sent (the second time, GPUs were 2 already)',
  );
});
