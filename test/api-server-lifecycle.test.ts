/**
 * The server lifecycle beyond power, through the REST API on simulated hosts, on both dialects: protection
 * flags, resize (same kind, stopped, disk never shrinks, quota and host usage follow), rebuild (disk
 * generation in the desired state), ISO attach and detach, and the per-server disk key (sealed, handed to
 * real hosts only, destroyed with the server).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { diskKeyPurpose } from '../src/compute/index.ts';
import { testDialects } from '../src/db/test-helpers.ts';
import { startTestControlPlane, until, type TestControlPlane } from './helpers.ts';

for (const dialect of testDialects()) {
  describe(`server lifecycle through the REST API (${dialect})`, () => {
    let t: TestControlPlane;
    before(async () => {
      t = await startTestControlPlane(dialect);
    });
    after(async () => {
      await t?.dispose();
    });

    const createRunning = async (name: string, product = 'vps-starter') => {
      const created = await t.call('POST', '/v1/servers', {
        body: { name, product, region: 'fra1', image: 'debian-12' },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      assert.equal((await t.waitForAction(created.body.action.id)).status, 'success');
      return created.body.server as { id: string; name: string };
    };
    const act = async (id: string, path: string, body?: unknown) => {
      const response = await t.call('POST', `/v1/servers/${id}/actions/${path}`, body === undefined ? {} : { body });
      return response;
    };
    const succeed = async (id: string, path: string, body?: unknown) => {
      const response = await act(id, path, body);
      assert.equal(response.status, 202, `${path}: ${JSON.stringify(response.body)}`);
      const action = await t.waitForAction(response.body.action.id);
      assert.equal(action.status, 'success', `${path}: ${JSON.stringify(action)}`);
      return action;
    };
    const show = async (id: string) => (await t.call('GET', `/v1/servers/${id}`)).body.server;
    /** The server's events once `count` of type `last` are in the stream (PostgreSQL shows them in commit order, later). */
    const eventsOf = (id: string, last: string, count = 1) =>
      until(`${count} × ${last} of ${id} in the stream`, async () => {
        const events = await t.call('GET', '/v1/events?limit=1000');
        const mine = events.body.events.filter((e: { resource: { id: string } }) => e.resource.id === id);
        return mine.filter((e: { type: string }) => e.type === last).length >= count ? mine : null;
      });

    test('protection: delete and rebuild answer 409 protected while on, and nothing changes', async () => {
      const server = await createRunning('guarded');
      const on = await t.call('PATCH', `/v1/servers/${server.id}`, {
        body: { delete_protection: true, rebuild_protection: true },
      });
      assert.equal(on.status, 200, JSON.stringify(on.body));
      assert.deepEqual([on.body.server.delete_protection, on.body.server.rebuild_protection], [true, true]);

      const deleted = await t.call('DELETE', `/v1/servers/${server.id}`);
      assert.equal(deleted.status, 409);
      assert.deepEqual([deleted.body.code, deleted.body.reason], ['conflict', 'protected']);
      const rebuilt = await act(server.id, 'rebuild', { image: 'ubuntu-24.04' });
      assert.equal(rebuilt.status, 409);
      assert.equal(rebuilt.body.reason, 'protected');
      const after = await show(server.id);
      assert.deepEqual([after.status, after.image], ['running', 'debian-12'], 'nothing changed');

      const off = await t.call('PATCH', `/v1/servers/${server.id}`, { body: { delete_protection: false } });
      assert.deepEqual([off.body.server.delete_protection, off.body.server.rebuild_protection], [false, true]);
      const events = await eventsOf(server.id, 'server.protection_changed', 2);
      assert.deepEqual(
        events
          .filter((e: { type: string }) => e.type === 'server.protection_changed')
          .map((e: { data: unknown }) => e.data),
        [
          { delete_protection: true, rebuild_protection: true },
          { delete_protection: false, rebuild_protection: true },
        ],
      );
      const gone = await t.call('DELETE', `/v1/servers/${server.id}`);
      assert.equal(gone.status, 202);
      assert.equal((await t.waitForAction(gone.body.action.id)).status, 'success');
    });

    test('resize: stopped only, same kind, quota and host usage follow, the disk never shrinks', async () => {
      const server = await createRunning('grower');
      const running = await act(server.id, 'resize', { product: 'vps-performance' });
      assert.equal(running.status, 409);
      assert.equal(running.body.reason, 'not_stopped');
      await succeed(server.id, 'stop');

      const gpu = await act(server.id, 'resize', { product: 'gpu-t4' });
      assert.equal(gpu.status, 400);
      assert.equal(gpu.body.reason, 'product_kind_mismatch');
      const unknown = await act(server.id, 'resize', { product: 'vps-huge' });
      assert.equal(unknown.status, 400, JSON.stringify(unknown.body));
      const same = await succeed(server.id, 'resize', { product: 'vps-starter' });
      assert.equal(same.status, 'success', 'the current product: nothing to do');

      const usageBefore = (await t.call('GET', '/v1/project')).body.project.usage;
      const action = await succeed(server.id, 'resize', { product: 'vps-performance' });
      assert.equal(action.command, 'resize');
      const resized = await show(server.id);
      assert.deepEqual([resized.product, resized.status], ['vps-performance', 'stopped']);
      const usage = (await t.call('GET', '/v1/project')).body.project.usage;
      assert.equal(usage.vcpus - usageBefore.vcpus, 4 - 2, 'the quota counts the new size');

      const claimOf = async () => (await t.cp.services.scheduler.placementsOf(t.cp.db, [server.id])).get(server.id)!;
      const claim = await claimOf();
      assert.deepEqual([claim.threads.length, claim.memoryMiB, claim.diskGiB], [4, 16 * 1024, 160], 'claimed anew');

      // Down to the smallest VPS: fewer vCPUs, but the 160 GiB disk stays (it never shrinks).
      await succeed(server.id, 'resize', { product: 'vps-nano' });
      const small = await claimOf();
      assert.deepEqual([small.threads.length, small.diskGiB], [1, 160], 'fewer threads, the same disk');
      const desired = await until('the desired state of the resized server', async () => {
        const hostId = (await t.cp.services.scheduler.placementsOf(t.cp.db, [server.id])).get(server.id)?.hostId;
        if (!hostId) return null;
        return (await t.cp.services.hostSync.desiredFor(hostId)).find((d) => d.spec.serverId === server.id);
      });
      assert.deepEqual([desired.spec.vcpus, desired.spec.diskGiB], [1, 160]);
      await succeed(server.id, 'start');
      assert.equal((await show(server.id)).status, 'running');
      const events = await eventsOf(server.id, 'server.resized', 2);
      const resizes = events.filter((e: { type: string }) => e.type === 'server.resized');
      assert.deepEqual(
        resizes.map((e: { data: { from_product: string; to_product: string } }) => [
          e.data.from_product,
          e.data.to_product,
        ]),
        [
          ['vps-starter', 'vps-performance'],
          ['vps-performance', 'vps-nano'],
        ],
      );
    });

    test('resize where the host cannot take it: a simulated server moves, a real disk is refused (migration_unsupported)', async () => {
      const hostOf = async (id: string) => (await t.cp.services.scheduler.placementsOf(t.cp.db, [id])).get(id)!.hostId;
      const maintain = (hostId: string, state: 'maintenance' | 'active') =>
        t.call('PATCH', `/v1/hosts/${hostId}`, { token: t.secrets.operatorToken, body: { state } });

      const mover = await createRunning('mover');
      await succeed(mover.id, 'stop');
      const from = await hostOf(mover.id);
      assert.equal((await maintain(from, 'maintenance')).status, 200);
      await succeed(mover.id, 'resize', { product: 'vps-performance' });
      const to = await hostOf(mover.id);
      assert.notEqual(to, from, 'the simulated server moved to a host that takes it');
      assert.equal((await maintain(from, 'active')).status, 200);
      await succeed(mover.id, 'start');

      const pinned = await createRunning('pinned');
      await succeed(pinned.id, 'stop');
      const real = await hostOf(pinned.id);
      // The host is made to look like a QEMU host (its agent is simulated: this test never starts the server).
      await t.cp.db.updateTable('hosts').set({ driver: 'qemu' }).where('id', '=', real).execute();
      try {
        assert.equal((await maintain(real, 'maintenance')).status, 200);
        const refused = await act(pinned.id, 'resize', { product: 'vps-performance' });
        assert.equal(refused.status, 409, JSON.stringify(refused.body));
        assert.deepEqual([refused.body.code, refused.body.reason], ['conflict', 'migration_unsupported']);
        assert.equal((await show(pinned.id)).product, 'vps-starter', 'nothing changed');
        assert.equal(await hostOf(pinned.id), real, 'the claim is where it was');
      } finally {
        await t.cp.db.updateTable('hosts').set({ driver: 'sim' }).where('id', '=', real).execute();
        await maintain(real, 'active');
      }
    });

    test('rebuild: a new image and disk generation, same id and address, the server runs it', async () => {
      const server = await createRunning('phoenix');
      const before = await show(server.id);
      const action = await succeed(server.id, 'rebuild', { image: 'ubuntu-24.04' });
      assert.equal(action.command, 'rebuild');
      const after = await show(server.id);
      assert.deepEqual(
        [after.id, after.ipv4, after.image, after.status],
        [before.id, before.ipv4, 'ubuntu-24.04', 'running'],
      );
      const hostId = (await t.cp.services.scheduler.placementsOf(t.cp.db, [server.id])).get(server.id)!.hostId;
      const desired = (await t.cp.services.hostSync.desiredFor(hostId)).find((d) => d.spec.serverId === server.id)!;
      assert.deepEqual([desired.spec.image, desired.spec.diskGeneration], ['ubuntu-24.04', 1]);
      const bad = await act(server.id, 'rebuild', { image: 'no-such-image' });
      assert.deepEqual([bad.status, bad.body.reason], [400, 'unknown_image']);
      const types = (await eventsOf(server.id, 'server.rebuilding')).map((e: { type: string }) => e.type);
      assert.ok(types.includes('server.rebuilding'));
    });

    test('ISO: attach restarts a running server into it, detach brings the disk back; a disk image is refused', async () => {
      await t.cp.services.catalog.recordUploadedImage({
        slug: 'rescue-iso',
        name: 'Rescue',
        fileName: 'rescue.iso',
        facts: { format: 'iso', sizeBytes: 1024 * 1024, sha256: 'a'.repeat(64), minDiskGiB: 1 },
      });
      const server = await createRunning('rescued');
      const refused = await act(server.id, 'attach-iso', { iso: 'debian-12' });
      assert.equal(refused.status, 400);
      assert.equal(refused.body.reason, 'not_an_iso');
      await succeed(server.id, 'attach-iso', { iso: 'rescue-iso' });
      assert.deepEqual([(await show(server.id)).iso, (await show(server.id)).status], ['rescue-iso', 'running']);
      const hostId = (await t.cp.services.scheduler.placementsOf(t.cp.db, [server.id])).get(server.id)!.hostId;
      const desired = (await t.cp.services.hostSync.desiredFor(hostId)).find((d) => d.spec.serverId === server.id)!;
      assert.equal(desired.spec.iso, 'rescue-iso');
      await succeed(server.id, 'detach-iso');
      assert.equal((await show(server.id)).iso, null);
    });

    test('disk keys: one sealed per server, in real hosts’ desired state only, destroyed with the server', async () => {
      const server = await createRunning('sealed');
      assert.equal((await show(server.id)).disk_encrypted, true);
      const hostId = (await t.cp.services.scheduler.placementsOf(t.cp.db, [server.id])).get(server.id)!.hostId;
      const forReal = (await t.cp.services.hostSync.desiredFor(hostId)).find((d) => d.spec.serverId === server.id)!;
      assert.match(forReal.spec.diskKey ?? '', /^[A-Za-z0-9+/]{43}=$/, '32 random bytes, base64');
      const forSim = (await t.cp.services.hostSync.desiredFor(hostId, { diskKeys: false })).find(
        (d) => d.spec.serverId === server.id,
      )!;
      assert.equal(forSim.spec.diskKey, undefined);
      const other = await createRunning('sealed-2');
      const otherHost = (await t.cp.services.scheduler.placementsOf(t.cp.db, [other.id])).get(other.id)!.hostId;
      const otherKey = (await t.cp.services.hostSync.desiredFor(otherHost)).find((d) => d.spec.serverId === other.id)!
        .spec.diskKey;
      assert.notEqual(otherKey, forReal.spec.diskKey, 'a key per disk');

      const rows = await t.cp.db
        .selectFrom('sealed_secrets')
        .select(['id', 'ciphertext'])
        .where('purpose', '=', diskKeyPurpose)
        .execute();
      assert.ok(rows.length >= 2);
      assert.ok(
        rows.every((row) => !Buffer.from(row.ciphertext, 'base64').toString('latin1').includes(forReal.spec.diskKey!)),
        'stored wrapped, never in clear',
      );
      const deleted = await t.call('DELETE', `/v1/servers/${server.id}`);
      assert.equal((await t.waitForAction(deleted.body.action.id)).status, 'success');
      const left = await t.cp.db
        .selectFrom('sealed_secrets')
        .select('id')
        .where('purpose', '=', diskKeyPurpose)
        .execute();
      assert.equal(left.length, rows.length - 1, 'the deleted server’s key is destroyed (crypto-shredding)');
    });
  });
}
