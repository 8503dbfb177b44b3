/**
 * The DDoS page's editors, an attack's page and the project backup policy in Chromium: an owner on the
 * standard tier sees that custom rules are not included; on enterprise, a rule with a malformed source is
 * refused with the API's code (nothing saved), then two rules and a per-address threshold are saved — what
 * `GET /v1/ddos` then answers — and a discarded edit changes nothing; a downgrade the rules forbid shows
 * `ddos_tier_in_use` in plain words. An attack made by the detector in the test (calm, then a flood, then
 * quiet) is linked from the list and its page shows what `GET /v1/ddos/attacks/{id}` answers, its mitigation
 * steps and its events. The project's default backup policy is saved and read back (the page, the API, and
 * a server without its own policy). In French; a viewer sees no editing button. axe on every page.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { fastSimDelays, startTestControlPlane } from './helpers.ts';
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

test(
  'the console’s DDoS editors, an attack’s page and the project backup policy in Chromium',
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

    const created = await tcp.call('POST', '/v1/servers', {
      body: { name: 'game-1', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
    });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    const serverId: string = created.body.server.id;
    const serverIp: string = created.body.server.ipv4;
    await tcp.waitForAction(created.body.action.id);

    browser = await launch();
    const { page } = await signInWithLink(browser, tcp, tcp.secrets.ownerSignIn.path);
    const ddos = async () => (await tcp.call('GET', '/v1/ddos')).body.ddos;

    await t.test('custom rules and thresholds: not in the tier, refused with the code, saved, discarded', async () => {
      await open(page, 'DDoS protection');
      await page.locator('[data-testid="ddos-tier"][data-tier="standard"]').waitFor();
      await page.getByTestId('rules-not-in-tier').waitFor();
      await page.getByTestId('thresholds-not-in-tier').waitFor();
      assert.equal(await page.getByRole('button', { name: 'Add a rule' }).count(), 0, 'not in the standard tier');
      assert.equal(await page.getByRole('button', { name: 'Add a threshold' }).count(), 0);

      await page.getByLabel('New tier').selectOption('enterprise');
      await page.getByRole('button', { name: 'Change the tier' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Change the tier' }).click();
      await page.locator('[data-testid="ddos-tier"][data-tier="enterprise"]').waitFor();

      // A malformed source: the API refuses it (400 invalid, the rule named), nothing is saved.
      await page.getByRole('button', { name: 'Add a rule' }).click();
      await page.getByLabel('Source (address or prefix) of rule 1').fill('203.0.113.300/24');
      await page.getByLabel('Port of rule 1').fill('27015');
      await page.getByRole('button', { name: 'Save the rules' }).click();
      const alert = page.getByRole('alert');
      await alert.waitFor();
      assert.match(await alert.innerText(), /Some of what was sent is not valid\./);
      assert.match(await alert.innerText(), /code: invalid/);
      assert.match(await alert.innerText(), /rules\/0/);
      assert.deepEqual((await ddos()).rules, [], 'nothing saved');

      await page.getByLabel('Source (address or prefix) of rule 1').fill('203.0.113.0/24');
      await page.getByRole('button', { name: 'Add a rule' }).click();
      await page.getByLabel('Action of rule 2').selectOption('allow');
      await page.getByLabel('Protocol of rule 2').selectOption('tcp');
      await page.getByLabel('Port of rule 2').fill('443');
      await page.getByLabel('Max length of rule 2').fill('1500');
      await page.getByRole('button', { name: 'Save the rules' }).click();
      await page.getByText('Custom rules saved: 2.').waitFor();
      assert.deepEqual((await ddos()).rules, [
        { action: 'deny', source: '203.0.113.0/24', protocol: 'udp', port: 27015 },
        { action: 'allow', protocol: 'tcp', port: 443, length_max: 1500 },
      ]);

      // An edit discarded: the rows are the saved ones again, the API unchanged.
      await page.getByRole('button', { name: 'Remove rule 1' }).click();
      await page.getByRole('button', { name: 'Add a rule' }).click();
      await page.getByRole('button', { name: 'Discard changes' }).first().click();
      assert.equal(await page.getByTestId('ddos-rule-editor').locator('tbody tr').count(), 2);
      assert.equal(await page.getByLabel('Source (address or prefix) of rule 1').inputValue(), '203.0.113.0/24');
      assert.equal((await ddos()).rules.length, 2);

      await page.getByRole('button', { name: 'Add a threshold' }).click();
      await page.getByLabel('Address (IPv4, or IPv6 /64) of threshold 1').fill(serverIp);
      await page.getByLabel('Minimum packets/s of threshold 1').fill('500');
      await page.getByLabel('Minimum bits/s of threshold 1').fill('2000000');
      await page.getByRole('button', { name: 'Save the thresholds' }).click();
      await page.getByText('Thresholds saved: 1.').waitFor();
      assert.deepEqual((await ddos()).thresholds, [{ address: serverIp, min_pps: 500, min_bps: 2_000_000 }]);

      // A downgrade the rules in use forbid: 409 ddos_tier_in_use in plain words, the tier unchanged.
      await page.getByLabel('New tier').selectOption('business');
      await page.getByRole('button', { name: 'Change the tier' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Change the tier' }).click();
      const refused = page.getByRole('alert').filter({ hasText: 'ddos_tier_in_use' });
      await refused.waitFor();
      assert.match(
        await refused.innerText(),
        /The new tier does not allow the custom rules or thresholds in use: remove them first\./,
      );
      assert.match(await refused.innerText(), /code: conflict \/ ddos_tier_in_use/);
      assert.equal((await ddos()).tier, 'enterprise');
      await assertAccessible(page, 'the DDoS page with its editors');
      await screenshot(page, 'ddos-editors');
    });

    await t.test('an attack detected in the test: linked from the list, its page is what the API answers', async () => {
      // The detector's fast path on the server's address: calm seconds learn a baseline, a flood starts an
      // attack, then quiet past the enterprise tier's 30 minutes ends it.
      const observe = (atMs: number, pps: number) =>
        tcp.cp.services.ddos.observe({
          address: serverIp,
          projectId: tcp.secrets.projectId,
          serverId,
          detectedBy: 'fast_path',
          observation: { atMs, pps, bps: pps * 8 * 500, udpPps: pps * 0.99 },
        });
      const start = Date.now();
      for (let i = 0; i < 12; i++) assert.equal(await observe(start + i * 1000, 200), 'calm');
      assert.equal(await observe(start + 12_000, 150_000), 'started');
      assert.equal(await observe(start + 13_000, 250_000), 'continues');
      assert.equal(await observe(start + 13_000 + 30 * 60_000, 200), 'ended');
      const listed = (await tcp.call('GET', '/v1/ddos/attacks')).body.attacks;
      assert.equal(listed.length, 1);
      const { attack } = (await tcp.call('GET', `/v1/ddos/attacks/${listed[0].id}`)).body;
      assert.equal(attack.status, 'ended');

      await page.reload();
      await page.getByRole('heading', { level: 1, name: 'DDoS protection' }).waitFor();
      await page.getByTestId('attacks').getByRole('link', { name: attack.id }).click();
      await page.getByRole('heading', { level: 1, name: `Attack on ${serverIp}` }).waitFor();
      const facts = page.locator(`[data-testid="attack"][data-status="ended"]`);
      await facts.waitFor();
      const text = await facts.innerText();
      assert.match(text, new RegExp(attack.vector));
      assert.match(text, /the per-second host meters/);
      assert.match(text, /enterprise/);
      assert.match(text, /30 min/);
      assert.equal(await page.getByTestId('peak-pps').innerText(), `${attack.peak_pps.toLocaleString('en-GB')} pps`);
      assert.equal(await page.getByTestId('dropped').innerText(), attack.dropped_packets.toLocaleString('en-GB'));
      assert.equal(await page.getByRole('link', { name: 'game-1' }).getAttribute('href'), `/servers/${serverId}`);
      const steps = await page.getByTestId('mitigation').locator('li').allInnerTexts();
      assert.deepEqual(steps, attack.actions);
      const events = page.getByTestId('attack-events');
      await events.getByText('ddos.attack_ended').waitFor();
      assert.equal(await events.getByText('ddos.attack_started').count(), 1);
      await assertAccessible(page, 'the attack page');
      await screenshot(page, 'ddos-attack');

      // Another project's attack, or none: the API's 404 in plain words.
      await page.goto(`${tcp.url}/ddos/attacks/atk_0000000000000000000000000`);
      const missing = page.getByRole('alert');
      await missing.waitFor();
      assert.match(await missing.innerText(), /code: not_found/);
    });

    await t.test('the project backup policy: saved, read back, followed by a server without its own', async () => {
      await page.goto(`${tcp.url}/servers`);
      await open(page, 'Backups');
      await page.locator('[data-testid="project-policy-scope"][data-scope="default"]').waitFor();
      await page.getByLabel('Every (minutes)').fill('720');
      await page.getByLabel('Keep the last').fill('5');
      await page.getByLabel('Daily').fill('10');
      await page.getByLabel('Weekly').fill('4');
      await page.getByLabel('Remote copy in region').selectOption('ams1');
      await page.getByLabel('Keep remote copies (days)').fill('60');
      await page.getByRole('button', { name: 'Save the policy' }).click();
      await page.getByText('Project backup policy saved.').waitFor();
      await page.locator('[data-testid="project-policy-scope"][data-scope="project"]').waitFor();
      const { policy } = (await tcp.call('GET', '/v1/backup-policy')).body;
      assert.equal(policy.scope, 'project');
      assert.equal(policy.enabled, true);
      assert.equal(policy.every_minutes, 720);
      assert.equal(policy.keep_last, 5);
      assert.equal(policy.keep_daily, 10);
      assert.equal(policy.keep_weekly, 4);
      assert.equal(policy.remote_region, 'ams1');
      assert.equal(policy.remote_keep_days, 60);
      const server = (await tcp.call('GET', `/v1/servers/${serverId}/backup-policy`)).body.policy;
      assert.equal(server.scope, 'project', 'a server without its own policy follows the project’s');
      assert.equal(server.every_minutes, 720);

      await page.reload();
      await page.locator('[data-testid="project-policy-scope"][data-scope="project"]').waitFor();
      assert.equal(await page.getByLabel('Every (minutes)').inputValue(), '720');
      assert.equal(await page.getByLabel('Keep the last').inputValue(), '5');
      assert.equal(await page.getByLabel('Remote copy in region').inputValue(), 'ams1');
      assert.equal(await page.getByLabel('Keep remote copies (days)').inputValue(), '60');
      await assertAccessible(page, 'the Backups page with the project policy');
      await screenshot(page, 'backups-project-policy');
    });

    await t.test('in French', async () => {
      await page.getByLabel('Language').selectOption('fr');
      await page.getByRole('heading', { level: 2, name: 'Politique de sauvegarde du projet' }).waitFor();
      await page.getByLabel('Toutes les (minutes)').waitFor();
      await open(page, 'Protection DDoS');
      await page.getByRole('heading', { level: 2, name: 'Règles personnalisées' }).waitFor();
      await page.getByLabel('Source (adresse ou préfixe) de la règle 1').waitFor();
      await page.getByLabel('Paquets/s minimum du seuil 1').waitFor();
      await screenshot(page, 'ddos-editors-fr');
      await page.getByLabel('Langue').selectOption('en');
      await page.getByRole('heading', { level: 1, name: 'DDoS protection' }).waitFor();
    });

    await t.test('a viewer sees the rules, thresholds and policy without an editing button', async () => {
      const { context, page: viewer } = await signInNewMember(browser!, tcp, 'viewer@example.com', 'viewer');
      await open(viewer, 'DDoS protection');
      await viewer.getByText('Only owners can change these settings.').waitFor();
      await viewer.getByTestId('ddos-rule-editor').waitFor();
      for (const name of [
        'Change the tier',
        'Add a rule',
        'Save the rules',
        'Remove rule 1',
        'Add a threshold',
        'Save the thresholds',
        'Remove threshold 1',
      ])
        assert.equal(await viewer.getByRole('button', { name, exact: true }).count(), 0, `DDoS: ${name}`);
      assert.equal(await viewer.getByLabel('Source (address or prefix) of rule 1').isDisabled(), true);
      assert.equal(await viewer.getByLabel('Minimum packets/s of threshold 1').isDisabled(), true);
      await viewer.getByTestId('attacks').getByRole('link').first().click();
      await viewer.getByTestId('attack').waitFor();
      await screenshot(viewer, 'ddos-attack-viewer');

      await open(viewer, 'Backups');
      await viewer.locator('[data-testid="project-policy-scope"][data-scope="project"]').waitFor();
      assert.equal(await viewer.getByRole('button', { name: 'Save the policy' }).count(), 0);
      assert.equal(await viewer.getByLabel('Every (minutes)').isDisabled(), true);
      const refused = await viewer.evaluate(async () => {
        const csrf = (globalThis as unknown as { document: { cookie: string } }).document.cookie.match(
          /vmc_csrf=([^;]+)/,
        )?.[1];
        const response = await fetch('/v1/ddos/rules', {
          method: 'PUT',
          headers: { 'x-csrf-token': csrf ?? '', 'content-type': 'application/json' },
          body: JSON.stringify({ rules: [] }),
        });
        return response.status;
      });
      assert.equal(refused, 403);
      assert.equal((await tcp.call('GET', '/v1/ddos')).body.ddos.rules.length, 2);
      await context.close();
    });
  },
);
