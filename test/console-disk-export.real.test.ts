/**
 * The disk export from the server page with a real QEMU host (exports come from the host: simulated hosts
 * have none): the control plane with an in-process `--local-host qemu` host runs the test guest; stopped,
 * its owner exports the disk in Chromium — plain, the saved file holds the same disk as the API's own
 * export (`qemu-img compare`); kept encrypted, the page shows the key once, the saved file is a LUKS qcow2
 * that opens with that key only and holds the same disk. Skips without QEMU, the guest kernel, busybox or
 * Chromium.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { realQemuSkipReason } from '../src/compute/drivers/qemu/real-qemu-support.ts';
import { consoleWithRealServer } from './console-real-qemu.ts';
import { noBrowser, screenshot, signInWithLink } from './console-browser.ts';

const skip = noBrowser || (await realQemuSkipReason());

/** Saves what the page's "Save …" link holds to `path`. */
async function saveExport(page: Page, path: string) {
  const ready = page.getByTestId('export-ready');
  await ready.waitFor({ timeout: 120_000 });
  const [download] = await Promise.all([page.waitForEvent('download'), ready.getByRole('link').click()]);
  await download.saveAs(path);
  return download.suggestedFilename();
}

test(
  'the disk export of a real QEMU server in Chromium: plain and kept encrypted with its key shown once',
  { skip: skip || undefined, timeout: 300_000 },
  async (t) => {
    const {
      tcp,
      work,
      serverId,
      browser: openBrowser,
    } = await consoleWithRealServer(t, {
      workPrefix: '/tmp/vcexport-',
      serverName: 'export-1',
    });
    const stopped = await tcp.call('POST', `/v1/servers/${serverId}/actions/stop`, { body: null });
    assert.equal(stopped.status, 202, JSON.stringify(stopped.body));
    assert.equal((await tcp.waitForAction(stopped.body.action.id, undefined, 90_000)).status, 'success');

    // The API's own export of the stopped disk: what the page's files are compared with.
    const reference = join(work, 'reference.qcow2');
    const answer = await fetch(`${tcp.url}/v1/servers/${serverId}/export?format=qcow2`, {
      headers: { authorization: `Bearer ${tcp.secrets.projectToken}` },
    });
    assert.equal(answer.status, 200);
    writeFileSync(reference, Buffer.from(await answer.arrayBuffer()));

    const browser = await openBrowser();
    const { page } = await signInWithLink(browser, tcp, tcp.secrets.ownerSignIn.path);
    await page.getByRole('link', { name: 'export-1' }).click();
    await page.getByRole('heading', { level: 2, name: 'Disk export' }).waitFor();
    await page.locator('h1 .badge[data-status="stopped"]').waitFor();

    await t.test('plain: the saved file is the same disk as the API’s export', async () => {
      await page.getByRole('button', { name: 'Export the disk' }).click();
      const plain = join(work, 'plain.qcow2');
      assert.equal(await saveExport(page, plain), 'export-1.qcow2');
      assert.equal(await page.getByTestId('export-key').count(), 0, 'no key for a plain export');
      const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', plain], { encoding: 'utf8' }));
      assert.deepEqual([info.format, info.encrypted ?? false], ['qcow2', false]);
      execFileSync('qemu-img', ['compare', '-f', 'qcow2', '-F', 'qcow2', plain, reference]);
    });

    await t.test('kept encrypted: the key shown once opens the saved file, which holds the same disk', async () => {
      await page.getByLabel('Keep it encrypted (qcow2 with a fresh key, shown once)').check();
      await page.getByRole('button', { name: 'Export the disk' }).click();
      const sealed = join(work, 'sealed.qcow2');
      await saveExport(page, sealed);
      const key = (await page.getByTestId('export-key').innerText()).trim();
      assert.match(key, /^[A-Za-z0-9+/]{43}=$/, 'a fresh 32-byte key, base64');
      await screenshot(page, 'server-export-real');
      const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', sealed], { encoding: 'utf8' }));
      assert.deepEqual([info.format, info.encrypted], ['qcow2', true]);
      const keyFile = join(work, 'export.key');
      writeFileSync(keyFile, key, { mode: 0o600 });
      execFileSync('qemu-img', [
        'compare',
        '--object',
        `secret,id=k,file=${keyFile}`,
        '--image-opts',
        `driver=qcow2,file.filename=${sealed},encrypt.key-secret=k`,
        `driver=qcow2,file.filename=${reference}`,
      ]);
      writeFileSync(keyFile, Buffer.alloc(32, 1).toString('base64'), { mode: 0o600 });
      assert.throws(
        () =>
          execFileSync(
            'qemu-img',
            [
              'compare',
              '--object',
              `secret,id=k,file=${keyFile}`,
              '--image-opts',
              `driver=qcow2,file.filename=${sealed},encrypt.key-secret=k`,
              `driver=qcow2,file.filename=${reference}`,
            ],
            { stdio: 'pipe' },
          ),
        'another key does not open it',
      );
    });
  },
);
