/**
 * Real guests on the host network: QEMU runs inside a "host" network namespace this test creates, each
 * server gets a tap on the bridge, its address from the NoCloud network-config, and tenant isolation from
 * nftables. Needs root, QEMU and the test image's ingredients; skips with a message otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { guestMarkers } from '../../../images/index.ts';
import { createHostNetwork, createInstanceNetwork, runCommand } from '../../../network/index.ts';
import type { InstanceSpec } from '../driver.ts';
import { createQemuDriver, type QemuDriver } from './qemu-driver.ts';
import { realQemuSkipReason, testImageStore, testSpec, waitFor } from './real-qemu-support.ts';

async function skipReason(): Promise<string | false> {
  if (process.getuid?.() !== 0) return 'not root: QEMU network tests skipped';
  const ipNetns = await runCommand('ip', ['netns', 'list']).catch(() => null);
  if (!ipNetns || ipNetns.code !== 0) return 'ip netns is not usable: QEMU network tests skipped';
  return realQemuSkipReason();
}

const skip = await skipReason();

/** Runs a shell command in the guest and resolves with its exit status, printed after a unique marker. */
function guestRun(terminal: Duplex, command: string): Promise<number> {
  const marker = `RC-${randomBytes(3).toString('hex')}`;
  return new Promise((resolve, reject) => {
    let seen = '';
    const pattern = new RegExp(`${marker}=(\\d+)`);
    const timer = setTimeout(() => reject(new Error(`no answer to ${command}: ${seen}`)), 30_000);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      const match = pattern.exec(seen);
      if (!match) return;
      clearTimeout(timer);
      terminal.off('data', onData);
      resolve(Number(match[1]));
    };
    terminal.on('data', onData);
    // Split the marker in the echoed command line so that only the real output matches.
    terminal.write(`${command}; echo "${marker.slice(0, 3)}""${marker.slice(3)}=$?"\n`);
  });
}

async function waitReady(driver: QemuDriver, serverId: string) {
  await waitFor(
    `${serverId} to be ready`,
    async () => (await driver.consoleLog(serverId)).includes(guestMarkers.ready),
    60_000,
  );
}

test(
  'guests get a tap and an address; the gateway reaches them; tenants cannot reach each other',
  { skip, timeout: 120_000 },
  async () => {
    const tag = randomBytes(3).toString('hex');
    const hostNs = `vmct-${tag}-q`;
    const { store, dir: imageDir } = await testImageStore();
    const stateDir = await mkdtemp(join(tmpdir(), 'vmc-qn-'));
    const tenants: Record<string, string> = {};
    const a = testSpec('srv_net_a', { hostname: 'net-a', ipv4: '10.78.0.2/24' });
    const b = testSpec('srv_net_b', { hostname: 'net-b', ipv4: '10.78.0.3/24' });
    tenants[a.serverId] = 'prj_a';
    tenants[b.serverId] = 'prj_b';
    let driver: QemuDriver | null = null;
    try {
      const created = await runCommand('ip', ['netns', 'add', hostNs]);
      assert.equal(created.code, 0, created.stderr);
      const host = createHostNetwork({ bridge: 'vmcbr0', gatewayCidr: '10.78.0.1/24', netns: hostNs });
      const network = createInstanceNetwork<InstanceSpec>({
        host,
        stateFile: join(stateDir, 'ports.json'),
        tenantOf: (spec) => tenants[spec.serverId],
      });
      driver = createQemuDriver({ stateDir, imageStore: store, accel: 'tcg', network, netns: hostNs });
      await Promise.all([driver.start(a, 0), driver.start(b, 0)]);
      await waitReady(driver, a.serverId);
      await waitReady(driver, b.serverId);
      assert.match(await driver.consoleLog(a.serverId), /VMCLOUD-NET 10\.78\.0\.2\/24/);
      assert.match(await driver.consoleLog(b.serverId), /VMCLOUD-NET 10\.78\.0\.3\/24/);

      const ping = async (address: string) =>
        (await runCommand('ip', ['netns', 'exec', hostNs, 'busybox', 'ping', '-c', '1', '-W', '2', address])).code;
      assert.equal(await ping('10.78.0.2'), 0, 'the host reaches guest A over its tap');
      assert.equal(await ping('10.78.0.3'), 0, 'the host reaches guest B over its tap');

      const terminal = await driver.attachConsole(a.serverId, { replay: false });
      assert.equal(await guestRun(terminal, 'ping -c 1 -W 2 10.78.0.1 >/dev/null'), 0, 'guest A reaches its gateway');
      assert.notEqual(
        await guestRun(terminal, 'ping -c 1 -W 2 10.78.0.3 >/dev/null'),
        0,
        'guest A (tenant A) cannot reach guest B (tenant B)',
      );
      terminal.destroy();
    } finally {
      if (driver) {
        await driver.destroy(a.serverId).catch(() => {});
        await driver.destroy(b.serverId).catch(() => {});
        await driver.close();
      }
      await runCommand('ip', ['netns', 'del', hostNs]);
      await rm(stateDir, { recursive: true, force: true, maxRetries: 5 });
      await rm(imageDir, { recursive: true, force: true });
    }
  },
);
