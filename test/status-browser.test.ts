/**
 * The public status page in a real browser: Debian's headless Chromium driven by playwright-core loads
 * /status of a test control plane (no login, no JavaScript needed), finds the components and an incident
 * opened through the API, takes screenshots (light and dark, in test-output/, git-ignored) and runs axe
 * (WCAG 2 A/AA rules): no serious or critical violation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startTestControlPlane } from './helpers.ts';

const chromiumPath = '/usr/bin/chromium';
const outputDir = resolve(import.meta.dirname, '..', 'test-output');

test(
  'the status page in headless Chromium: components, an incident, screenshots, axe',
  { timeout: 120_000 },
  async (t) => {
    if (!existsSync(chromiumPath)) {
      t.skip(`${chromiumPath} is missing (Debian package chromium)`);
      return;
    }
    const { chromium } = await import('playwright-core');
    const { AxeBuilder } = await import('@axe-core/playwright');
    const cp = await startTestControlPlane('sqlite', { statusProbeIntervalMs: 3_600_000 });
    t.after(() => cp.dispose());
    await cp.cp.statusProbesOnce();
    const opened = await cp.call('POST', '/v1/incidents', {
      token: cp.secrets.operatorToken,
      body: {
        title: 'Packet loss on the FRA1 network',
        impact: 'major',
        components: ['fra1.network'],
        body: 'We are investigating packet loss between FRA1 hosts.',
      },
    });
    assert.equal(opened.status, 201);
    const start = new Date(Date.now() + 86_400_000).toISOString();
    const end = new Date(Date.now() + 90_000_000).toISOString();
    const maintenance = await cp.call('POST', '/v1/maintenances', {
      token: cp.secrets.operatorToken,
      body: { title: 'PAR1 storage firmware', components: ['par1.storage'], starts_at: start, ends_at: end },
    });
    assert.equal(maintenance.status, 201);

    const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
    t.after(() => browser.close());
    mkdirSync(outputDir, { recursive: true });
    for (const [colorScheme, lang] of [
      ['light', 'en'],
      ['dark', 'fr'],
    ] as const) {
      const context = await browser.newContext({ colorScheme, javaScriptEnabled: false, locale: lang });
      const page = await context.newPage();
      const response = await page.goto(`${cp.url}/status?lang=${lang}`);
      assert.equal(response?.status(), 200);
      assert.equal(await page.getAttribute('html', 'lang'), lang);
      // Every region's components and the global ones, each with its status in words.
      for (const id of ['global.api', 'global.console', 'global.billing', 'fra1.compute', 'par1.storage', 'lon1.api']) {
        const item = page.locator(`[data-component="${id}"]`);
        assert.equal(await item.count(), 1, id);
      }
      assert.equal(await page.locator('[data-component="fra1.network"]').getAttribute('data-status'), 'partial_outage');
      assert.equal(
        await page.locator('[data-component="lon1.compute"]').getAttribute('data-status'),
        'under_maintenance',
      );
      assert.equal(await page.locator('[data-component="fra1.compute"] .bars .bar').count(), 90);
      const incident = page.locator(`article#${opened.body.incident.id}`);
      assert.equal(await incident.locator('h3').textContent(), 'Packet loss on the FRA1 network');
      assert.match((await incident.textContent()) ?? '', /packet loss between FRA1 hosts/);
      assert.match(
        (await page.locator('#maintenances').locator('xpath=..').textContent()) ?? '',
        /PAR1 storage firmware/,
      );
      assert.equal(await page.locator('tr[data-promise="no_overselling"]').count(), 1);
      assert.match(
        (await page.locator('h2#overall').textContent()) ?? '',
        lang === 'en' ? /Partial system outage/ : /Panne partielle/,
      );
      await page.screenshot({ path: join(outputDir, `status-${colorScheme}-${lang}.png`), fullPage: true });

      await context.close();

      // axe runs as a script in the page: a context with JavaScript (the page itself has none) and its CSP bypassed.
      const axeContext = await browser.newContext({ colorScheme, bypassCSP: true, locale: lang });
      const axePage = await axeContext.newPage();
      await axePage.goto(`${cp.url}/status?lang=${lang}`);
      const axe = await new AxeBuilder({ page: axePage })
        .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
        .analyze();
      const serious = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      assert.deepEqual(
        serious.map((v) => `${v.id}: ${v.help} (${v.nodes.length} nodes, e.g. ${v.nodes[0]?.html.slice(0, 120)})`),
        [],
        `axe (${colorScheme}, ${lang})`,
      );
      await context.close();
    }
  },
);
