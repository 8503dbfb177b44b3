/**
 * Backups end to end with real QEMU through the control plane (issue 10's proof): two regions on this
 * machine (two `--local-host qemu` hosts, fra1 and ams1), each with a restic repository in a local
 * directory. A server writes a marker on its disk from its user-data script at boot; a volume is created
 * and hot-attached (the guest sees it); a full backup (copied to ams1); a second marker written through the
 * serial console; an incremental backup that reads a few MiB of a 25 GiB disk; the first backup restored to
 * a new server in fra1 (marker one there, marker two not), the second restored from its copy in ams1 to a
 * server there (both markers); a deleted backup leaves both repositories; detach, delete. Everything goes
 * through the REST API; the markers are read by the guests themselves on their consoles.
 * Skips when QEMU, the guest kernel, busybox or restic are missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { realQemuSkipReason } from '../src/compute/drivers/qemu/real-qemu-support.ts';
import { buildTestGuest, createImageStore, importTestImage, guestMarkers } from '../src/images/index.ts';
import { createRestic } from '../src/backups/index.ts';
import { startLocalQemuHost } from '../src/daemons/local-host.ts';
import { startTestControlPlane, until, type TestControlPlane } from './helpers.ts';

const hasRestic = (() => {
  try {
    execFileSync('restic', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const skip = (await realQemuSkipReason()) || (hasRestic ? false : 'restic is missing (apt-get install restic)');

const MiB = 1024 * 1024;
const markerOne = 'VMC-E2E-MARKER-ONE';
const markerTwo = 'VMC-E2E-MARKER-TWO';
const volumeMarkerOne = 'VMC-E2E-VOLUME-ONE';
const volumeMarkerTwo = 'VMC-E2E-VOLUME-TWO';
const sectorOne = (100 * MiB) / 512;
const sectorTwo = (300 * MiB) / 512;

/** Types `command` on the server's serial console (a WebSocket through the API) until `until` shows up. */
async function onConsole(t: TestControlPlane, serverId: string, command: string, until: RegExp): Promise<string> {
  const ticket = await t.call('POST', `/v1/servers/${serverId}/console`);
  if (ticket.status !== 201) throw new Error(`console ticket: ${ticket.status} ${JSON.stringify(ticket.body)}`);
  return new Promise<string>((resolve, reject) => {
    const socket = new WebSocket(t.url.replace('http', 'ws') + ticket.body.url);
    socket.binaryType = 'arraybuffer';
    let seen = '';
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no ${until} on the console of ${serverId}: ${JSON.stringify(seen.slice(-400))}`));
    }, 15_000);
    socket.onopen = () => socket.send(`${command}\n`);
    socket.onmessage = (event) => {
      seen += typeof event.data === 'string' ? event.data : Buffer.from(event.data as ArrayBuffer).toString('latin1');
      const match = until.exec(seen);
      if (match) {
        clearTimeout(timer);
        socket.close();
        resolve(seen);
      }
    };
    socket.onerror = () => {
      clearTimeout(timer);
      reject(new Error('console WebSocket failed'));
    };
  });
}

/** A shell expression for the guest's disk with this virtio serial (a volume's: the end of its id). */
const deviceWithSerial = (serial: string) =>
  `$(for d in /sys/block/vd*; do [ "$(cat $d/serial)" = "${serial}" ] && echo /dev/\${d##*/}; done)`;

/**
 * What the guest reads at `sector` of its disk (NULs dropped) or of another device (`device`: a shell
 * expression), through its console, retried while it boots.
 */
async function readMarker(
  t: TestControlPlane,
  serverId: string,
  sector: number,
  tag: string,
  device = '/dev/vda',
): Promise<string> {
  const pattern = new RegExp(`${tag}:([A-Z0-9-]*):${tag}`);
  const command = `echo "${tag}:$(dd if=${device} bs=512 skip=${sector} count=1 2>/dev/null | head -c 18 | tr -d '\\000'):${tag}"`;
  let last = '';
  const found = await until(
    `the guest of ${serverId} reading sector ${sector}`,
    () =>
      onConsole(t, serverId, command, pattern).catch((error: unknown) => {
        last = String(error).slice(-600);
        return null;
      }),
    240_000,
  ).catch(async (error: unknown) => {
    const server = (await t.call('GET', `/v1/servers/${serverId}`)).body.server;
    throw new Error(`${String(error)}; server ${server?.status}; last console: ${last}`);
  });
  return pattern.exec(found)![1];
}

async function waitForBackup(t: TestControlPlane, backupId: string) {
  return until(
    `backup ${backupId}`,
    async () => {
      const { body } = await t.call('GET', `/v1/backups/${backupId}`);
      return body.backup.status === 'succeeded' || body.backup.status === 'failed' ? body.backup : null;
    },
    300_000,
  );
}

async function waitForRestore(t: TestControlPlane, restoreId: string) {
  return until(
    `restore ${restoreId}`,
    async () => {
      const { body } = await t.call('GET', `/v1/restores/${restoreId}`);
      return body.restore.status === 'succeeded' || body.restore.status === 'failed' ? body.restore : null;
    },
    300_000,
  );
}

/** The one volume attached to a server, once its host made and attached it. */
async function volumeOf(t: TestControlPlane, serverId: string) {
  return until(
    `the volume of ${serverId} attached`,
    async () => {
      const { body } = await t.call('GET', `/v1/volumes?server_id=${serverId}`);
      const volume = body.volumes[0];
      if (volume?.status === 'error') throw new Error(`volume ${volume.id}: ${volume.error ?? 'error'}`);
      return volume?.status === 'attached' ? volume : null;
    },
    240_000,
  );
}

async function waitForGuestReady(t: TestControlPlane, serverId: string) {
  await until(
    `${serverId} ready`,
    async () => String((await t.call('GET', `/v1/servers/${serverId}/logs`)).body).includes(guestMarkers.ready),
    120_000,
  );
}

test(
  'real QEMU backups through the control plane: full, incremental, restore to a new server, restore in another region',
  { skip: skip || undefined, timeout: 900_000 },
  async () => {
    const work = mkdtempSync('/tmp/vbk-');
    const guest = await buildTestGuest({ outDir: join(work, 'build') });
    const imageDirs = { fra1: join(work, 'images-fra1'), ams1: join(work, 'images-ams1') };
    for (const dir of Object.values(imageDirs)) await importTestImage(createImageStore({ dir }), guest);
    const repositories: Record<string, { url: string; passwordFile: string }> = {};
    for (const region of ['fra1', 'ams1']) {
      const passwordFile = join(work, `${region}.password`);
      writeFileSync(passwordFile, `secret-of-${region}\n`, { mode: 0o600 });
      repositories[region] = { url: join(work, `repo-${region}`), passwordFile };
    }
    const t = await startTestControlPlane('sqlite', {
      fleet: 'none',
      hostAddressPolicy: 'routable-only',
      backupRepositories: repositories,
      backupLoopIntervalMs: 300,
    });
    const hosts = [
      await startLocalQemuHost(t.cp, {
        region: 'fra1',
        name: 'fra1-qemu',
        dataDir: t.dataDir,
        imageDir: imageDirs.fra1,
        network: false,
        reservedCoresPerNode: 0,
      }),
      await startLocalQemuHost(t.cp, {
        region: 'ams1',
        name: 'ams1-qemu',
        dataDir: join(work, 'ams1-data'),
        imageDir: imageDirs.ams1,
        network: false,
        reservedCoresPerNode: 0,
      }),
    ];
    const servers: string[] = [];
    const createServer = async (body: object) => {
      const created = await t.call('POST', '/v1/servers', { body });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      servers.push(created.body.server.id);
      assert.equal((await t.waitForAction(created.body.action.id, undefined, 120_000)).status, 'success');
      return created.body.server.id as string;
    };
    try {
      await t.cp.services.scheduler.reload();
      // A server whose user-data writes marker one on its disk at boot.
      const userData = `#!/bin/sh\nprintf ${markerOne} | dd of=/dev/vda bs=512 seek=${sectorOne} conv=notrunc 2>/dev/null && sync && echo VMC-E2E-WROTE-$((40+2))\n`;
      const source = await createServer({
        name: 'bk-src',
        product: 'vps-nano',
        region: 'fra1',
        image: 'vmcloud-test',
        user_data: userData,
      });
      await waitForGuestReady(t, source);
      assert.match(String((await t.call('GET', `/v1/servers/${source}/logs`)).body), /VMC-E2E-WROTE-42/);

      // A volume, hot-attached to the running server: the guest sees a disk with the volume's serial.
      const volume = await t.call('POST', '/v1/volumes', { body: { name: 'bk-vol', size_gib: 1, region: 'fra1' } });
      assert.equal(volume.status, 202, JSON.stringify(volume.body));
      const volumeId = volume.body.volume.id as string;
      assert.equal((await t.waitForAction(volume.body.action.id, undefined, 60_000)).status, 'success');
      const attach = await t.call('POST', `/v1/volumes/${volumeId}/actions/attach`, { body: { server: source } });
      assert.equal(attach.status, 202, JSON.stringify(attach.body));
      assert.equal((await t.waitForAction(attach.body.action.id, undefined, 60_000)).status, 'success');
      const serial = volumeId.slice(4).slice(-20);
      const serials = await until(
        'the guest to see the hot-plugged volume',
        () =>
          onConsole(t, source, 'echo "S:$(cat /sys/block/vd*/serial | tr "\\n" ",")/S"', /S:[^$]*\/S/).then(
            (text) => (text.includes(serial) ? text : null),
            () => null,
          ),
        60_000,
      );
      assert.ok(serials.includes(serial), `the guest sees the volume (${serials})`);
      // Volume marker one, written by the guest on the volume.
      await onConsole(
        t,
        source,
        `printf ${volumeMarkerOne} | dd of=${deviceWithSerial(serial)} bs=512 seek=${sectorOne} conv=notrunc 2>/dev/null && sync && echo VW1-$((60+1))`,
        /VW1-61/,
      );

      // Backup 1: full, local and remote (fra1 → ams1 by default).
      const first = await t.call('POST', `/v1/servers/${source}/backups`);
      assert.equal(first.status, 202, JSON.stringify(first.body));
      const backupOne = await waitForBackup(t, first.body.backup.id);
      assert.equal(backupOne.status, 'succeeded', backupOne.error);
      assert.equal(backupOne.kind, 'full');
      assert.equal(backupOne.consistency, 'crash', 'the test guest runs no guest agent');
      assert.equal(backupOne.location, 'both');
      assert.equal(backupOne.remote_region, 'ams1');
      assert.equal(backupOne.disk_bytes, 25 * 1024 ** 3);
      assert.equal(backupOne.volumes.length, 1, 'the attached volume is in the backup');
      assert.equal(backupOne.volumes[0].volume_id, volumeId);
      assert.equal(backupOne.volumes[0].kind, 'full');
      assert.equal(backupOne.volumes[0].disk_bytes, 1024 ** 3);

      // Marker two, written by the guest on its console; backup 2 is incremental.
      await onConsole(
        t,
        source,
        `printf ${markerTwo} | dd of=/dev/vda bs=512 seek=${sectorTwo} conv=notrunc 2>/dev/null && sync && echo W2-$((50+5))`,
        /W2-55/,
      );
      await onConsole(
        t,
        source,
        `printf ${volumeMarkerTwo} | dd of=${deviceWithSerial(serial)} bs=512 seek=${sectorTwo} conv=notrunc 2>/dev/null && sync && echo VW2-$((60+2))`,
        /VW2-62/,
      );
      const second = await t.call('POST', `/v1/servers/${source}/backups`);
      const backupTwo = await waitForBackup(t, second.body.backup.id);
      assert.equal(backupTwo.status, 'succeeded', backupTwo.error);
      assert.equal(backupTwo.kind, 'incremental');
      assert.ok(
        backupTwo.read_bytes < backupTwo.disk_bytes / 100,
        `the incremental read ${backupTwo.read_bytes} bytes of a ${backupTwo.disk_bytes}-byte disk`,
      );
      assert.ok(backupTwo.read_bytes >= 4 * MiB, 'at least the chunk the guest wrote');
      assert.equal(backupTwo.volumes[0].kind, 'incremental');
      assert.ok(
        backupTwo.volumes[0].read_bytes < backupTwo.volumes[0].disk_bytes / 20,
        `the incremental read ${backupTwo.volumes[0].read_bytes} bytes of a ${backupTwo.volumes[0].disk_bytes}-byte volume`,
      );
      assert.ok(backupTwo.volumes[0].read_bytes >= 4 * MiB, 'at least the chunk the guest wrote on the volume');

      // Backup 1 restored to a new server in fra1: marker one there, marker two not.
      const restoreOne = await t.call('POST', `/v1/backups/${backupOne.id}/actions/restore`, {
        body: { mode: 'to_new', name: 'bk-restored' },
      });
      assert.equal(restoreOne.status, 202, JSON.stringify(restoreOne.body));
      servers.push(restoreOne.body.restore.server_id);
      const restoredOne = await waitForRestore(t, restoreOne.body.restore.id);
      assert.equal(restoredOne.status, 'succeeded', restoredOne.error);
      assert.equal(await readMarker(t, restoredOne.server_id, sectorOne, 'R1'), markerOne);
      assert.equal(await readMarker(t, restoredOne.server_id, sectorTwo, 'R2'), '');
      // Its volume was recreated from the backup's volume and attached: volume marker one, not two.
      const restoredVolume = await volumeOf(t, restoredOne.server_id);
      assert.equal(restoredVolume.name, 'bk-restored-bk-vol');
      const restoredSerial = deviceWithSerial(String(restoredVolume.id).slice(4).slice(-20));
      assert.equal(await readMarker(t, restoredOne.server_id, sectorOne, 'V1', restoredSerial), volumeMarkerOne);
      assert.equal(await readMarker(t, restoredOne.server_id, sectorTwo, 'V2', restoredSerial), '');

      // Backup 2 restored from its copy in ams1 to a server there: both markers.
      const restoreTwo = await t.call('POST', `/v1/backups/${backupTwo.id}/actions/restore`, {
        body: { mode: 'to_new', name: 'bk-ams', region: 'ams1' },
      });
      assert.equal(restoreTwo.status, 202, JSON.stringify(restoreTwo.body));
      servers.push(restoreTwo.body.restore.server_id);
      const restoredTwo = await waitForRestore(t, restoreTwo.body.restore.id);
      assert.equal(restoredTwo.status, 'succeeded', restoredTwo.error);
      assert.equal(restoredTwo.region, 'ams1');
      const amsServer = (await t.call('GET', `/v1/servers/${restoredTwo.server_id}`)).body.server;
      assert.equal(amsServer.region, 'ams1');
      assert.equal(await readMarker(t, restoredTwo.server_id, sectorOne, 'R3'), markerOne);
      assert.equal(await readMarker(t, restoredTwo.server_id, sectorTwo, 'R4'), markerTwo);
      const amsVolume = await volumeOf(t, restoredTwo.server_id);
      assert.equal(amsVolume.region, 'ams1');
      const amsSerial = deviceWithSerial(String(amsVolume.id).slice(4).slice(-20));
      assert.equal(await readMarker(t, restoredTwo.server_id, sectorOne, 'V3', amsSerial), volumeMarkerOne);
      assert.equal(await readMarker(t, restoredTwo.server_id, sectorTwo, 'V4', amsSerial), volumeMarkerTwo);

      // The stats measured the restores (RTO) and the newest backup (RPO).
      const stats = (await t.call('GET', '/v1/backups/stats')).body;
      const sourceStats = stats.servers.find((s: { server_id: string }) => s.server_id === source);
      assert.ok(sourceStats.rpo_now_s !== null && sourceStats.rpo_now_s < 3600);

      // Deleting backup 1 forgets its snapshots in both repositories.
      assert.equal((await t.call('DELETE', `/v1/backups/${backupOne.id}`)).status, 204);
      for (const region of ['fra1', 'ams1']) {
        const restic = createRestic(
          { region, url: repositories[region].url, password: `secret-of-${region}` },
          { cacheDir: join(work, 'restic-cache') },
        );
        // The worker prunes the repository after the forget (exclusive lock): a read may meet the lock; retried.
        const left = await until(
          `backup 1 forgotten in ${region}`,
          async () => {
            const all = await restic.snapshots().catch(() => null);
            return all && !all.some((x) => x.tags.includes(backupOne.id)) ? all : null;
          },
          120_000,
        );
        assert.equal(left.filter((x) => x.tags.includes(backupTwo.id)).length, 1, `backup 2 stays in ${region}`);
      }

      // Detach (the guest releases the device), delete the volume and the servers.
      const detach = await t.call('POST', `/v1/volumes/${volumeId}/actions/detach`);
      assert.equal(detach.status, 202, JSON.stringify(detach.body));
      assert.equal((await t.waitForAction(detach.body.action.id, undefined, 90_000)).status, 'success');
      const deletedVolume = await t.call('DELETE', `/v1/volumes/${volumeId}`);
      assert.equal(deletedVolume.status, 202, JSON.stringify(deletedVolume.body));
      assert.equal((await t.waitForAction(deletedVolume.body.action.id, undefined, 60_000)).status, 'success');
      for (const id of [...servers]) {
        const deleted = await t.call('DELETE', `/v1/servers/${id}`);
        assert.equal(deleted.status, 202, JSON.stringify(deleted.body));
        assert.equal((await t.waitForAction(deleted.body.action.id, undefined, 90_000)).status, 'success');
        servers.splice(servers.indexOf(id), 1);
      }
    } finally {
      for (const host of hosts) {
        for (const id of servers) await host.driver.destroy(id).catch(() => {});
        await host.stop();
      }
      await t.dispose();
      rmSync(work, { recursive: true, force: true });
    }
  },
);
