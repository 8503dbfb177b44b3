/**
 * The host API over the real QEMU driver (TCG) and the test guest, over mutual TLS (the host's certificate
 * and the control plane's, from one test CA): boot a guest, attach its console through the host client and
 * see userspace, read the boot log, snapshot it, export its disk as a qcow2 that qemu-img reads. Skips with
 * a message when QEMU, the cloud kernel or busybox are missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createQemuDriver } from '../src/compute/drivers/qemu/index.ts';
import {
  realQemuSkipReason,
  testImageStore,
  testSpec,
  waitFor,
} from '../src/compute/drivers/qemu/real-qemu-support.ts';
import { guestMarkers } from '../src/images/index.ts';
import { createHostApi } from '../src/agent/host-api/index.ts';
import { createKeyAndCsr, issueControlPlaneCertificate, issueHostCertificate } from '../src/pki/index.ts';
import { testAuthority } from '../src/pki/test-support.ts';
import { createHostClient } from '../src/agent/host-client/index.ts';

const skip = await realQemuSkipReason();
const bootTimeoutMs = 45_000;

test(
  'host API over real QEMU: console shows userspace, logs, snapshots, qcow2 export',
  { skip, timeout: 60_000 },
  async () => {
    const { store, dir: imageDir } = await testImageStore();
    const stateDir = await mkdtemp(join(tmpdir(), 'vmc-hf-'));
    const driver = createQemuDriver({ stateDir, imageStore: store, accel: 'tcg' });
    const ca = await testAuthority();
    const { keyPem, csrPem } = await createKeyAndCsr({ commonName: 'vmcloud-agent' });
    const hostCert = await issueHostCertificate(ca, csrPem, { hostId: 'host_qemu', nowMs: Date.now() });
    const controlPlane = await issueControlPlaneCertificate(ca, { nowMs: Date.now() });
    const api = createHostApi({
      driver,
      imageStore: store,
      tls: { caPem: ca.certPem, certPem: hostCert.certPem, keyPem },
      scratchDir: stateDir,
    });
    const client = createHostClient({
      baseUrl: await api.listen({ host: '127.0.0.1', port: 0 }),
      hostId: 'host_qemu',
      tls: { caPem: ca.certPem, certPem: controlPlane.certPem, keyPem: controlPlane.keyPem },
    });
    const serverId = 'srv_hostfeatures';
    try {
      await driver.start(testSpec(serverId, { hostname: 'hf-1' }), 0);

      const terminal = await client.openConsole(serverId);
      let seen = '';
      terminal.on('data', (chunk: Buffer) => (seen += chunk.toString()));
      await waitFor('userspace on the console', () => seen.includes(guestMarkers.userspace), bootTimeoutMs);
      await waitFor('the guest to be ready', () => seen.includes(guestMarkers.ready), bootTimeoutMs);
      terminal.write('echo "host""name=$(hostname)"\n');
      await waitFor('the shell to answer through the console', () => seen.includes('hostname=hf-1'), 20_000);
      terminal.destroy();

      const log = await client.logs(serverId);
      assert.ok(log.includes(guestMarkers.userspace), 'the boot log holds the userspace marker');

      const snapshot = await client.createSnapshot(serverId, 'first');
      assert.equal(snapshot.name, 'first');
      assert.deepEqual(
        (await client.listSnapshots(serverId)).map((s) => s.name),
        ['first'],
      );
      await assert.rejects(
        client.restoreSnapshot(serverId, 'first'),
        (error: Error & { reason?: string }) => error.reason === 'server_running',
      );
      await client.deleteSnapshot(serverId, 'first');
      assert.deepEqual(await client.listSnapshots(serverId), []);

      const exported = await client.exportDisk(serverId, { format: 'qcow2' });
      assert.equal(exported.fromRunningServer, true);
      const exportPath = join(stateDir, 'exported.qcow2');
      await pipeline(exported.stream, createWriteStream(exportPath));
      const info = JSON.parse(
        execFileSync('qemu-img', ['info', '--output=json', exportPath], { encoding: 'utf8' }),
      ) as Record<string, unknown>;
      assert.deepEqual([info.format, info['virtual-size'], info['backing-filename']], ['qcow2', 1024 ** 3, undefined]);
      assert.ok((exported.sizeBytes ?? 0) > 0, 'the host sent a Content-Length');

      const pinning = await client.pinning(serverId);
      assert.equal(pinning?.verified, true);
    } finally {
      await api.close();
      await driver.destroy(serverId).catch(() => {});
      await driver.close();
      await rm(stateDir, { recursive: true, force: true });
      await rm(imageDir, { recursive: true, force: true });
    }
  },
);
