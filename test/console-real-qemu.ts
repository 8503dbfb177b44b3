/**
 * The setting of the console's real-QEMU browser tests: a control plane serving the built console, one
 * in-process `--local-host qemu` host in FRA1 with the test guest imported, and a server of it created and
 * placed; everything (the browser too) is stopped and removed after the test, the server deleted first.
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { buildTestGuest, createImageStore, importTestImage } from '../src/images/index.ts';
import { startLocalQemuHost } from '../src/daemons/local-host.ts';
import { startTestControlPlane, type TestControlPlane } from './helpers.ts';
import { ensureBuilt, launch, testPasswordCost } from './console-browser.ts';

export interface ConsoleWithRealServer {
  tcp: TestControlPlane;
  /** A scratch directory removed after the test. */
  work: string;
  serverId: string;
  /** Chromium, closed after the test. */
  browser(): Promise<Browser>;
}

export async function consoleWithRealServer(
  t: TestContext,
  options: { workPrefix: string; serverName: string },
): Promise<ConsoleWithRealServer> {
  const work = mkdtempSync(options.workPrefix);
  const imageDir = join(work, 'images');
  await importTestImage(createImageStore({ dir: imageDir }), await buildTestGuest({ outDir: join(work, 'build') }));
  const consoleDir = await ensureBuilt();
  const tcp = await startTestControlPlane('sqlite', {
    fleet: 'none',
    hostAddressPolicy: 'routable-only',
    consoleDir,
    passwordHashCost: testPasswordCost,
  });
  const local = await startLocalQemuHost(tcp.cp, {
    region: 'fra1',
    dataDir: tcp.dataDir,
    imageDir,
    network: false,
    reservedCoresPerNode: 0,
  });
  let browser: Browser | null = null;
  let serverId: string | null = null;
  t.after(async () => {
    await browser?.close();
    if (serverId) {
      const deleted = await tcp.call('DELETE', `/v1/servers/${serverId}`);
      if (deleted.status === 202) await tcp.waitForAction(deleted.body.action.id, undefined, 90_000);
    }
    await local.stop();
    await tcp.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  await tcp.cp.services.scheduler.reload();
  const created = await tcp.call('POST', '/v1/servers', {
    body: { name: options.serverName, product: 'vps-nano', region: 'fra1', image: 'vmcloud-test' },
  });
  assert.equal(created.status, 202, JSON.stringify(created.body));
  serverId = created.body.server.id as string;
  assert.equal((await tcp.waitForAction(created.body.action.id, undefined, 90_000)).status, 'success');
  return {
    tcp,
    work,
    serverId,
    browser: async () => (browser ??= await launch()),
  };
}
