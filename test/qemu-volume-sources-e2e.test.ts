/**
 * Volumes from a snapshot and from a backup end to end with real QEMU through the control plane: one
 * `--local-host qemu` host in fra1 with a restic repository. A server writes marker one on its disk at boot
 * (user-data); its disk is snapshotted; marker two overwrites it (serial console); a backup is taken. A
 * volume from the snapshot and one from the backup are created (`creating`, then `available`), attached to
 * the server, and the guest reads marker one from the first and marker two from the second. A snapshot that
 * does not exist is refused (`409 snapshot_not_found`); a fill that fails on the host (the repository's
 * password wrong) leaves the volume `error` with its reason and `volume.error`, and nothing in the pool.
 * Skips when QEMU, the guest kernel, busybox or restic are missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { realQemuSkipReason } from '../src/compute/drivers/qemu/real-qemu-support.ts';
import { buildTestGuest, createImageStore, importTestImage, guestMarkers } from '../src/images/index.ts';
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
const markerOne = 'VMC-SNAP-MARKER-01';
const markerTwo = 'VMC-BKUP-MARKER-02';
const sector = (100 * MiB) / 512;

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
      if (until.exec(seen)) {
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

/** What the guest reads at `sector` of the disk whose virtio serial is `serial` (NULs dropped). */
async function readMarker(t: TestControlPlane, serverId: string, serial: string, tag: string): Promise<string> {
  const pattern = new RegExp(`${tag}:([A-Z0-9-]*):${tag}`);
  const read = `dd if=/dev/\${d##*/} bs=512 skip=${sector} count=1 2>/dev/null | head -c 18 | tr -d '\\000'`;
  const command = `for d in /sys/block/vd*; do [ "$(cat $d/serial 2>/dev/null)" = "${serial}" ] && echo "${tag}:$(${read}):${tag}"; done`;
  const found = await until(
    `the guest of ${serverId} reading volume ${serial}`,
    () => onConsole(t, serverId, command, pattern).catch(() => null),
    120_000,
  );
  return pattern.exec(found)![1];
}

test(
  'real QEMU volumes from a disk snapshot and from a backup through the control plane',
  { skip: skip || undefined, timeout: 900_000 },
  async () => {
    const work = mkdtempSync('/tmp/vvs-');
    const guest = await buildTestGuest({ outDir: join(work, 'build') });
    const imageDir = join(work, 'images-fra1');
    await importTestImage(createImageStore({ dir: imageDir }), guest);
    const passwordFile = join(work, 'fra1.password');
    writeFileSync(passwordFile, 'secret-of-fra1\n', { mode: 0o600 });
    // The default policy copies to ams1: it has a repository too.
    const amsPasswordFile = join(work, 'ams1.password');
    writeFileSync(amsPasswordFile, 'secret-of-ams1\n', { mode: 0o600 });
    const t = await startTestControlPlane('sqlite', {
      fleet: 'none',
      hostAddressPolicy: 'routable-only',
      backupRepositories: {
        fra1: { url: join(work, 'repo-fra1'), passwordFile },
        ams1: { url: join(work, 'repo-ams1'), passwordFile: amsPasswordFile },
      },
      backupLoopIntervalMs: 300,
    });
    const host = await startLocalQemuHost(t.cp, {
      region: 'fra1',
      name: 'fra1-qemu',
      dataDir: t.dataDir,
      imageDir,
      network: false,
      reservedCoresPerNode: 0,
    });
    let serverId: string | null = null;
    const createVolume = async (body: object) => {
      const created = await t.call('POST', '/v1/volumes', { body });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      assert.equal(created.body.volume.status, 'creating');
      return created.body as { volume: { id: string; size_gib: number }; action: { id: string } };
    };
    const attach = async (volumeId: string) => {
      const attached = await t.call('POST', `/v1/volumes/${volumeId}/actions/attach`, { body: { server: serverId } });
      assert.equal(attached.status, 202, JSON.stringify(attached.body));
      assert.equal((await t.waitForAction(attached.body.action.id, undefined, 60_000)).status, 'success');
    };
    try {
      await t.cp.services.scheduler.reload();
      const userData = `#!/bin/sh\nprintf ${markerOne} | dd of=/dev/vda bs=512 seek=${sector} conv=notrunc 2>/dev/null && sync && echo VMC-VS-WROTE-$((40+2))\n`;
      const created = await t.call('POST', '/v1/servers', {
        body: { name: 'vs-src', product: 'vps-nano', region: 'fra1', image: 'vmcloud-test', user_data: userData },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      serverId = created.body.server.id as string;
      assert.equal((await t.waitForAction(created.body.action.id, undefined, 120_000)).status, 'success');
      await until(
        'the guest wrote marker one',
        async () => String((await t.call('GET', `/v1/servers/${serverId}/logs`)).body).includes('VMC-VS-WROTE-42'),
        120_000,
      );
      await until(
        'the guest ready',
        async () => String((await t.call('GET', `/v1/servers/${serverId}/logs`)).body).includes(guestMarkers.ready),
        120_000,
      );

      const snapshot = await t.call('POST', `/v1/servers/${serverId}/snapshots`, { body: { name: 'snap-1' } });
      assert.equal(snapshot.status, 201, JSON.stringify(snapshot.body));
      const overwrite = await onConsole(
        t,
        serverId,
        `printf ${markerTwo} | dd of=/dev/vda bs=512 seek=${sector} conv=notrunc 2>/dev/null && sync && echo over-$((40+3))`,
        /over-43/,
      );
      assert.match(overwrite, /over-43/);
      const backup = await t.call('POST', `/v1/servers/${serverId}/backups`);
      assert.equal(backup.status, 202, JSON.stringify(backup.body));
      const backupId = backup.body.backup.id as string;
      const done = await until(
        'the backup',
        async () => {
          const got = (await t.call('GET', `/v1/backups/${backupId}`)).body.backup;
          return got.status === 'succeeded' || got.status === 'failed' ? got : null;
        },
        300_000,
      );
      assert.equal(done.status, 'succeeded', done.error);

      // A snapshot the server does not have: refused before anything is written.
      const missing = await t.call('POST', '/v1/volumes', {
        body: { name: 'vs-none', region: 'fra1', from_snapshot: { server: 'vs-src', name: 'no-such' } },
      });
      assert.deepEqual([missing.status, missing.body.reason], [409, 'snapshot_not_found']);

      // From the snapshot (marker one), then from the backup (marker two): the disk's size by default. One at
      // a time (the local host's sellable disk holds the server and one more 25 GiB disk).
      const serialOf = (volumeId: string) => volumeId.slice(4).slice(-20);
      const cases = [
        {
          name: 'vs-snap',
          source: { from_snapshot: { server: 'vs-src', name: 'snap-1' } },
          marker: markerOne,
          tag: 'SNAP',
        },
        { name: 'vs-bkup', source: { from_backup: backupId }, marker: markerTwo, tag: 'BKUP' },
      ];
      // Each read has its own tag: the console replays what it showed before.
      for (const { name, source, marker, tag } of cases) {
        const made = await createVolume({ name, region: 'fra1', ...source });
        assert.equal(made.volume.size_gib, Math.ceil(done.disk_bytes / 1024 ** 3));
        const action = await t.waitForAction(made.action.id, undefined, 300_000);
        assert.equal(action.status, 'success', JSON.stringify(action));
        const shown = (await t.call('GET', `/v1/volumes/${made.volume.id}`)).body.volume;
        assert.deepEqual([shown.status, shown.encrypted, shown.error], ['available', true, null]);
        await attach(made.volume.id);
        assert.equal(await readMarker(t, serverId, serialOf(made.volume.id), tag), marker, name);
        const detached = await t.call('POST', `/v1/volumes/${made.volume.id}/actions/detach`);
        assert.equal((await t.waitForAction(detached.body.action.id, undefined, 60_000)).status, 'success');
        const deleted = await t.call('DELETE', `/v1/volumes/${made.volume.id}`);
        assert.equal((await t.waitForAction(deleted.body.action.id, undefined, 60_000)).status, 'success');
      }

      // A fill that fails on the host (the repository's password is wrong now): `error` with the reason.
      writeFileSync(passwordFile, 'not-the-password\n', { mode: 0o600 });
      const broken = await createVolume({ name: 'vs-broken', region: 'fra1', from_backup: backupId });
      const failed = await t.waitForAction(broken.action.id, undefined, 300_000);
      assert.equal(failed.status, 'error');
      const shown = (await t.call('GET', `/v1/volumes/${broken.volume.id}`)).body.volume;
      assert.equal(shown.status, 'error');
      assert.match(String(shown.error), /restic|password|key/i);
      const events = (await t.call('GET', '/v1/events?limit=1000')).body.events
        .filter((e: { resource: { id: string } }) => e.resource.id === broken.volume.id)
        .map((e: { type: string }) => e.type);
      assert.deepEqual(events, ['volume.created', 'volume.error']);
      const pool = join(t.dataDir, 'local-host', 'volumes');
      assert.deepEqual(
        readdirSync(pool).filter((name) => name.startsWith(broken.volume.id)),
        [],
        'nothing half-made in the pool',
      );
      const deleted = await t.call('DELETE', `/v1/volumes/${broken.volume.id}`);
      assert.equal(deleted.status, 202, JSON.stringify(deleted.body));
      assert.equal((await t.waitForAction(deleted.body.action.id, undefined, 60_000)).status, 'success');
    } finally {
      if (serverId) {
        const gone = await t.call('DELETE', `/v1/servers/${serverId}`).catch(() => null);
        if (gone?.status === 202) await t.waitForAction(gone.body.action.id, undefined, 60_000).catch(() => {});
      }
      await host.stop();
      await t.dispose();
      rmSync(work, { recursive: true, force: true });
    }
  },
);
