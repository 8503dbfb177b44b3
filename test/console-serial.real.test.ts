/**
 * The serial console in the browser, with a real guest: the control plane with a `--local-host qemu` host
 * (what `vmcloud serve --fleet none --local-host qemu` runs, in-process) boots the test guest
 * (`npm run image:test`'s image); its owner opens the server page in headless Chromium, opens the serial
 * console (xterm.js over the console WebSocket ticket) and sees the guest's shell prompt; what they type
 * runs in the guest. The page's strict CSP holds: xterm's `<style>` elements carry the page's nonce and no
 * violation is reported (docs/adr/0011-console-style-nonce.md). A viewer gets no console button, and the
 * API refuses them a ticket. Skips without QEMU, the guest kernel, busybox or Chromium.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { realQemuSkipReason } from '../src/compute/drivers/qemu/real-qemu-support.ts';
import { guestMarkers } from '../src/images/index.ts';
import { consoleWithRealServer } from './console-real-qemu.ts';
import { until } from './helpers.ts';
import { assertAccessible, noBrowser, screenshot, signInNewMember, signInWithLink } from './console-browser.ts';

const skip = noBrowser || (await realQemuSkipReason());

/** The terminal's screen as text (xterm's DOM renderer draws rows of spans; spaces may be no-break). */
async function screenText(page: Page): Promise<string> {
  return (await page.locator('.serial-screen .xterm-rows').innerText()).replace(/\u00a0/g, ' ');
}

test(
  'the serial console of a real QEMU guest in Chromium: its prompt, a command typed, the strict CSP kept',
  { skip: skip || undefined, timeout: 300_000 },
  async (t) => {
    const {
      tcp,
      serverId,
      browser: openBrowser,
    } = await consoleWithRealServer(t, {
      workPrefix: '/tmp/vcser-',
      serverName: 'serial-1',
    });
    // A deadline, not a measurement: a loaded 2-core machine boots a TCG guest slowly.
    await until(
      'the guest ready on its console',
      async () => {
        const logs = await tcp.call('GET', `/v1/servers/${serverId}/logs`);
        return logs.status === 200 && String(logs.body).includes(guestMarkers.ready);
      },
      120_000,
    );

    const browser = await openBrowser();
    const { page } = await signInWithLink(browser, tcp, tcp.secrets.ownerSignIn.path);
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to apply/i.test(message.text())) violations.push(message.text());
    });

    await t.test('the owner opens the console and sees the guest’s shell prompt', async () => {
      await page.getByRole('link', { name: 'serial-1' }).click();
      await page.getByRole('heading', { name: 'Serial console' }).waitFor();
      await page.getByRole('button', { name: 'Open the serial console' }).click();
      await page.getByText('Connected: what you type goes to the server.').waitFor({ timeout: 30_000 });
      // The console sends Enter on connect: busybox's shell answers with its prompt (`… # ` as root).
      const prompt = await until(
        'the shell prompt on the xterm screen',
        async () => (await screenText(page)).split('\n').find((line) => /^\S* # ?$/.test(line.trimEnd() + ' ')),
        30_000,
      );
      assert.match(prompt.trim(), /^\S* #$/);
    });

    await t.test('what is typed runs in the guest', async () => {
      await page.locator('.serial-screen .xterm-helper-textarea').focus();
      await page.keyboard.type('echo VMC-$((6*7)) $(hostname)');
      await page.keyboard.press('Enter');
      // 42 only appears if the guest's shell ran it (the echoed command line shows the expression).
      // The whole line, not its first characters: the screen may be read while the guest is still writing it.
      const line = await until(
        'the command’s output',
        async () => (await screenText(page)).split('\n').find((l) => /^VMC-42 serial-1$/.test(l.trim())),
        30_000,
      );
      assert.equal(line.trim(), 'VMC-42 serial-1');
      await screenshot(page, 'serial-console');
      await assertAccessible(page, 'the server page with its serial console');
    });

    await t.test('the strict CSP holds: xterm’s styles carry the nonce, nothing was refused', async () => {
      const styles = await page.evaluate(() => {
        const d = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ nonce: string }> } })
          .document;
        return Array.from(d.querySelectorAll('.xterm style')).map((s) => s.nonce.length > 0);
      });
      assert.ok(styles.length >= 1, 'xterm created style elements');
      assert.ok(styles.every(Boolean), 'each carries the nonce');
      assert.deepEqual(violations, []);
    });

    await t.test('closing the console closes the session; a viewer gets no console and no ticket', async () => {
      await page.getByRole('button', { name: 'Close the console' }).click();
      await page.getByRole('button', { name: 'Open the serial console' }).waitFor();
      const viewer = await signInNewMember(browser!, tcp, 'viewer-serial@example.com', 'viewer');
      await viewer.page.goto(`${tcp.url}/servers/${serverId}`);
      await viewer.page.getByText('The serial console is for owners and members.').waitFor();
      assert.equal(await viewer.page.getByRole('button', { name: 'Open the serial console' }).count(), 0);
      const refused = await viewer.page.evaluate(async (id) => {
        const g = globalThis as unknown as {
          document: { cookie: string };
          fetch: (u: string, i: object) => Promise<{ status: number }>;
        };
        const csrf = /vmc_csrf=([^;]+)/.exec(g.document.cookie)?.[1] ?? '';
        return (await g.fetch(`/v1/servers/${id}/console`, { method: 'POST', headers: { 'x-csrf-token': csrf } }))
          .status;
      }, serverId);
      assert.equal(refused, 403);
    });
  },
);
