/**
 * Backups through the REST API on the simulated fleet: the schedule follows a new server (event consumer),
 * policies are validated before anything is written, on-demand backups run full then incremental with a
 * remote copy, restores to a new server in the remote region and refused in place while running,
 * RPO/RTO stats, deletion, tenancy, and the events of each change.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../src/db/test-helpers.ts';
import { startTestControlPlane, until, type TestControlPlane } from './helpers.ts';

for (const dialect of testDialects()) {
  describe(`backups through the REST API (${dialect})`, () => {
    let t: TestControlPlane;
    before(async () => {
      t = await startTestControlPlane(dialect, { backupLoopIntervalMs: 3_600_000 });
    });
    after(async () => {
      await t?.dispose();
    });

    /** Runs worker passes until `probe` holds (the worker's jobs are awaited each pass). */
    const work = async <T>(what: string, probe: () => Promise<T | undefined | false>) =>
      until(what, async () => {
        await t.cp.backupWorkerOnce();
        await t.cp.services.backups.drain();
        return probe();
      });

    test('policy, backups full then incremental with a remote copy, restore, stats, delete, events', async () => {
      const created = await t.call('POST', '/v1/servers', {
        body: { name: 'db-1', product: 'VPS-STARTER', region: 'FRA1', image: 'debian-12' },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      const server = created.body.server;
      assert.equal((await t.waitForAction(created.body.action.id)).status, 'success');

      // The default policy, scheduled by the consumer of server.created.
      const policy = await until('the schedule to include the server', async () => {
        const got = await t.call('GET', `/v1/servers/${server.id}/backup-policy`);
        return got.body.policy.next_run_at ? got.body.policy : undefined;
      });
      assert.deepEqual(
        [
          policy.scope,
          policy.every_minutes,
          policy.keep_last,
          policy.keep_daily,
          policy.remote_region,
          policy.remote_keep_days,
        ],
        ['default', 330, 5, 7, 'ams1', 30],
      );
      assert.ok(policy.offset_minutes >= 0 && policy.offset_minutes < 330);

      // Bad input is refused with a stable code, and changes nothing.
      for (const [body, field] of [
        [{ every_minutes: 10 }, 'every_minutes'],
        [{ remote_region: 'fra1' }, 'remote_region'],
        [{ remote_region: 'xyz9' }, 'remote_region'],
        [{ keep_last: 0, keep_daily: 0 }, 'keep_last'],
        [{ keep_daily: -1 }, 'keep_daily'],
      ] as const) {
        const refused = await t.call('PUT', `/v1/servers/${server.id}/backup-policy`, { body });
        assert.equal(refused.status, 400, JSON.stringify(body));
        assert.equal(refused.body.code, 'invalid');
        assert.ok(JSON.stringify(refused.body.errors ?? []).includes(field), JSON.stringify(refused.body));
      }
      assert.equal((await t.call('GET', `/v1/servers/${server.id}/backup-policy`)).body.policy.scope, 'default');

      const set = await t.call('PUT', `/v1/servers/${server.id}/backup-policy`, {
        body: { every_minutes: 360, keep_daily: 7, remote_region: 'ams1', remote_keep_days: 30 },
      });
      assert.equal(set.status, 200, JSON.stringify(set.body));
      assert.deepEqual([set.body.policy.scope, set.body.policy.every_minutes], ['server', 360]);

      // On demand: one at a time.
      const first = await t.call('POST', `/v1/servers/${server.id}/backups`);
      assert.equal(first.status, 202, JSON.stringify(first.body));
      assert.equal(first.body.backup.status, 'pending');
      const again = await t.call('POST', `/v1/servers/${server.id}/backups`);
      assert.deepEqual([again.status, again.body.reason], [409, 'backup_in_progress']);

      const done1 = await work('the first backup', async () => {
        const got = (await t.call('GET', `/v1/backups/${first.body.backup.id}`)).body.backup;
        return got.status === 'succeeded' ? got : undefined;
      });
      assert.deepEqual([done1.kind, done1.location, done1.remote_region], ['full', 'both', 'ams1']);
      assert.equal(done1.disk_bytes, 50 * 1024 ** 3);
      assert.ok(done1.read_bytes > 0 && done1.read_bytes <= done1.disk_bytes);

      const second = await t.call('POST', `/v1/servers/${server.id}/backups`);
      const done2 = await work('the second backup', async () => {
        const got = (await t.call('GET', `/v1/backups/${second.body.backup.id}`)).body.backup;
        return got.status === 'succeeded' ? got : undefined;
      });
      assert.equal(done2.kind, 'incremental');
      assert.ok(done2.read_bytes < done1.read_bytes / 10, `incremental read ${done2.read_bytes}`);

      const listed = await t.call('GET', `/v1/backups?server_id=${server.id}`);
      assert.deepEqual(
        listed.body.backups.map((b: { id: string }) => b.id),
        [done2.id, done1.id],
      );

      // Restores: in place needs the server stopped; to a new server in the remote region works.
      const inPlace = await t.call('POST', `/v1/backups/${done1.id}/actions/restore`, { body: { mode: 'in_place' } });
      assert.deepEqual([inPlace.status, inPlace.body.reason], [409, 'server_running']);
      const nowhere = await t.call('POST', `/v1/backups/${done1.id}/actions/restore`, {
        body: { mode: 'to_new', name: 'db-1-par', region: 'par1' },
      });
      assert.deepEqual([nowhere.status, nowhere.body.code], [400, 'invalid']);
      const restore = await t.call('POST', `/v1/backups/${done1.id}/actions/restore`, {
        body: { mode: 'to_new', name: 'db-1-copy', region: 'ams1' },
      });
      assert.equal(restore.status, 202, JSON.stringify(restore.body));
      const restored = await work('the restore', async () => {
        const got = (await t.call('GET', `/v1/restores/${restore.body.restore.id}`)).body.restore;
        return got.status === 'succeeded' || got.status === 'failed' ? got : undefined;
      });
      assert.equal(restored.status, 'succeeded', restored.error);
      const copy = (await t.call('GET', `/v1/servers/${restored.server_id}`)).body.server;
      assert.deepEqual([copy.name, copy.region, copy.product], ['db-1-copy', 'ams1', 'vps-starter']);

      // RPO now and RTO measured.
      const stats = (await t.call('GET', '/v1/backups/stats')).body;
      const mine = stats.servers.find((s: { server_id: string }) => s.server_id === server.id);
      assert.ok(mine.rpo_now_s !== null && mine.rpo_now_s < 600, JSON.stringify(mine));
      const fra = stats.regions.find((r: { region: string }) => r.region === 'fra1');
      assert.equal(fra.rpo_s.p50, mine.rpo_now_s);
      assert.deepEqual(stats.promise, { rpo_s: 21600, rto_s: 3600 });
      // The restored server joins the stats once the schedule consumer has read its server.created event.
      const ams = await work('the restored server in the stats', async () =>
        (await t.call('GET', '/v1/backups/stats')).body.regions.find((r: { region: string }) => r.region === 'ams1'),
      );
      assert.ok(ams.rto_s.p50 !== null, 'the restore’s duration is the RTO measured');

      // Another project sees nothing.
      const other = await t.call('POST', '/v1/projects', {
        token: t.secrets.operatorToken,
        body: { name: 'other', owner_email: 'o@example.com' },
      });
      if (other.status === 201) {
        const token = other.body.token?.secret ?? other.body.secret;
        if (token) {
          assert.equal((await t.call('GET', `/v1/backups/${done1.id}`, { token })).status, 404);
          assert.equal((await t.call('POST', `/v1/servers/${server.id}/backups`, { token })).status, 404);
        }
      }

      // Delete: gone from the list at once.
      assert.equal((await t.call('DELETE', `/v1/backups/${done1.id}`)).status, 204);
      assert.equal((await t.call('GET', `/v1/backups/${done1.id}`)).status, 404);
      const after = await t.call('GET', `/v1/backups?server_id=${server.id}`);
      assert.deepEqual(
        after.body.backups.map((b: { id: string }) => b.id),
        [done2.id],
      );

      const events = await until('the backup events', async () => {
        const got = await t.call('GET', '/v1/events?limit=500');
        const types = new Set(got.body.events.map((e: { type: string }) => e.type));
        return [
          'backup.created',
          'backup.started',
          'backup.succeeded',
          'backup.policy_changed',
          'restore.started',
          'restore.finished',
          'backup.deleted',
        ].every((x) => types.has(x))
          ? types
          : undefined;
      });
      assert.ok(events.has('backup.succeeded'));
    });

    test('volumes in backups: read with the disk, recreated by a restore to a new server, one made a volume', async () => {
      const created = await t.call('POST', '/v1/servers', {
        body: { name: 'vb-1', product: 'VPS-STARTER', region: 'FRA1', image: 'debian-12' },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      const server = created.body.server;
      assert.equal((await t.waitForAction(created.body.action.id)).status, 'success');
      const volume = await t.call('POST', '/v1/volumes', { body: { name: 'data', size_gib: 3, region: 'fra1' } });
      assert.equal(volume.status, 202, JSON.stringify(volume.body));
      const volumeId = volume.body.volume.id as string;
      const attach = await t.call('POST', `/v1/volumes/${volumeId}/actions/attach`, { body: { server: server.id } });
      assert.equal(attach.status, 202, JSON.stringify(attach.body));
      assert.equal((await t.waitForAction(attach.body.action.id)).status, 'success');

      const started = await t.call('POST', `/v1/servers/${server.id}/backups`);
      assert.equal(started.status, 202, JSON.stringify(started.body));
      assert.deepEqual(started.body.backup.volumes, [], 'a pending backup has read nothing yet');
      const done = await work('the backup with its volume', async () => {
        const got = (await t.call('GET', `/v1/backups/${started.body.backup.id}`)).body.backup;
        return got.status === 'succeeded' ? got : undefined;
      });
      assert.equal(done.volumes.length, 1);
      assert.equal(done.volumes[0].volume_id, volumeId);
      assert.equal(done.volumes[0].name, 'data');
      assert.equal(done.volumes[0].size_gib, 3);
      assert.equal(done.volumes[0].disk_bytes, 3 * 1024 ** 3);
      assert.ok(done.volumes[0].read_bytes > 0 && done.volumes[0].read_bytes <= 3 * 1024 ** 3);
      const listed = (await t.call('GET', `/v1/backups?server_id=${server.id}`)).body.backups;
      assert.deepEqual(listed[0].volumes, done.volumes, 'the list shows the same volumes');

      // A volume made from the backup's volume (not the server's disk): its size is the volume's.
      const bad = await t.call('POST', '/v1/volumes', {
        body: { name: 'nope', region: 'fra1', from_backup: done.id, backup_volume_id: 'vol_0000000000000000000000000' },
      });
      assert.equal(bad.status, 400, JSON.stringify(bad.body));
      assert.equal(bad.body.reason, 'backup_volume_missing');
      const orphan = await t.call('POST', '/v1/volumes', {
        body: { name: 'nope', region: 'fra1', size_gib: 1, backup_volume_id: volumeId },
      });
      assert.equal(orphan.status, 400, JSON.stringify(orphan.body));
      const before = (await t.call('GET', '/v1/volumes')).body.volumes.length;
      const fromPart = await t.call('POST', '/v1/volumes', {
        body: { name: 'data-copy', region: 'fra1', from_backup: done.id, backup_volume_id: volumeId },
      });
      assert.equal(fromPart.status, 202, JSON.stringify(fromPart.body));
      assert.equal(fromPart.body.volume.size_gib, 3);
      assert.deepEqual(fromPart.body.volume.source, {
        kind: 'backup',
        backup_id: done.id,
        backup_volume_id: volumeId,
      });
      assert.equal((await t.waitForAction(fromPart.body.action.id)).status, 'success');
      assert.equal((await t.call('GET', '/v1/volumes')).body.volumes.length, before + 1);

      // Made for a server: placed on its host and attached once filled; `server` needs from_backup.
      const lone = await t.call('POST', '/v1/volumes', {
        body: { name: 'lone', region: 'fra1', size_gib: 1, server: server.id },
      });
      assert.equal(lone.status, 400, JSON.stringify(lone.body));
      const forServer = await t.call('POST', '/v1/volumes', {
        body: { name: 'data-back', region: 'fra1', from_backup: done.id, backup_volume_id: volumeId, server: 'vb-1' },
      });
      assert.equal(forServer.status, 202, JSON.stringify(forServer.body));
      assert.equal((await t.waitForAction(forServer.body.action.id)).status, 'success');
      const attachedBack = (await t.call('GET', `/v1/volumes/${forServer.body.volume.id}`)).body.volume;
      assert.equal(attachedBack.status, 'attached');
      assert.equal(attachedBack.server_id, server.id);

      // A restore to a new server recreates the volume, on the new server's host, attached to it.
      const restore = await t.call('POST', `/v1/backups/${done.id}/actions/restore`, {
        body: { mode: 'to_new', name: 'vb-restored' },
      });
      assert.equal(restore.status, 202, JSON.stringify(restore.body));
      const newServerId = restore.body.restore.server_id as string;
      const recreated = await until('the recreated volume attached', async () => {
        const got = (await t.call('GET', `/v1/volumes?server_id=${newServerId}`)).body.volumes;
        return got.length === 1 && got[0].status === 'attached' ? got[0] : undefined;
      });
      assert.equal(recreated.name, 'vb-restored-data');
      assert.equal(recreated.size_gib, 3);
      assert.deepEqual(recreated.source, { kind: 'backup', backup_id: done.id, backup_volume_id: volumeId });
      const newServer = (await t.call('GET', `/v1/servers/${newServerId}`)).body.server;
      assert.equal(recreated.server_id, newServerId);
      assert.ok(newServer.id);
      const startedEvent = await until('restore.started with the volume', async () => {
        const got = await t.call('GET', '/v1/events?limit=500');
        return got.body.events.find(
          (e: { type: string; data: { server_id: string } }) =>
            e.type === 'restore.started' && e.data.server_id === newServerId,
        );
      });
      assert.deepEqual(startedEvent.data.volume_ids, [recreated.id]);

      // A name already used by a volume of the project: the recreated one takes the next free name.
      const squatter = await t.call('POST', '/v1/volumes', {
        body: { name: 'vb-c-data', size_gib: 1, region: 'fra1' },
      });
      assert.equal(squatter.status, 202, JSON.stringify(squatter.body));
      const again = await t.call('POST', `/v1/backups/${done.id}/actions/restore`, {
        body: { mode: 'to_new', name: 'vb-c' },
      });
      assert.equal(again.status, 202, JSON.stringify(again.body));
      const second = (await t.call('GET', `/v1/volumes?server_id=${again.body.restore.server_id}`)).body.volumes;
      assert.deepEqual(
        second.map((v: { name: string }) => v.name),
        ['vb-c-data-2'],
      );
      // The volume quota reached: the restore is refused, and the server it made is taken back.
      const usedGiB = (await t.call('GET', '/v1/volumes?limit=500')).body.volumes.reduce(
        (sum: number, v: { size_gib: number }) => sum + v.size_gib,
        0,
      );
      const quota = await t.call('PATCH', `/v1/projects/${t.secrets.projectId}/quotas`, {
        token: t.secrets.operatorToken,
        body: { volume_gib: usedGiB + 1 },
      });
      assert.equal(quota.status, 200, JSON.stringify(quota.body));
      const overQuota = await t.call('POST', `/v1/backups/${done.id}/actions/restore`, {
        body: { mode: 'to_new', name: 'vb-over' },
      });
      assert.equal(overQuota.status, 403, JSON.stringify(overQuota.body));
      assert.equal(overQuota.body.reason, 'quota_exceeded');
      const serversNamed = async (name: string) =>
        (await t.call('GET', '/v1/servers?limit=500')).body.servers.filter(
          (x: { name: string; status: string }) => x.name === name,
        );
      const made = await serversNamed('vb-over');
      assert.ok(
        made.every((x: { status: string }) => ['deleting', 'deleted'].includes(x.status)),
        `the server the refused restore made is being deleted: ${JSON.stringify(made)}`,
      );
      assert.ok(made.length <= 1);
      await t.call('PATCH', `/v1/projects/${t.secrets.projectId}/quotas`, {
        token: t.secrets.operatorToken,
        body: { volume_gib: 10_000 },
      });
      // A server name already taken: refused, and no volume is made.
      const count = (await t.call('GET', '/v1/volumes?limit=500')).body.volumes.length;
      const third = await t.call('POST', `/v1/backups/${done.id}/actions/restore`, {
        body: { mode: 'to_new', name: 'vb-restored', region: 'fra1' },
      });
      assert.equal(third.status, 409, JSON.stringify(third.body));
      assert.equal((await t.call('GET', '/v1/volumes?limit=500')).body.volumes.length, count);
    });

    test('retention keeps a copy while a restore reads it, and drops it after', async () => {
      const created = await t.call('POST', '/v1/servers', {
        body: { name: 'rt-1', product: 'VPS-STARTER', region: 'FRA1', image: 'debian-12' },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      const serverId = created.body.server.id as string;
      assert.equal((await t.waitForAction(created.body.action.id)).status, 'success');
      const backupOnce = async () => {
        const started = await t.call('POST', `/v1/servers/${serverId}/backups`);
        assert.equal(started.status, 202, JSON.stringify(started.body));
        return work('a backup of rt-1', async () => {
          const got = (await t.call('GET', `/v1/backups/${started.body.backup.id}`)).body.backup;
          return got.status === 'succeeded' ? got : undefined;
        });
      };
      const older = await backupOnce();
      const newer = await backupOnce();
      // A restore of the older backup is asked (pending: no worker pass yet), then the policy keeps one.
      const restore = await t.call('POST', `/v1/backups/${older.id}/actions/restore`, {
        body: { mode: 'to_new', name: 'rt-restored' },
      });
      assert.equal(restore.status, 202, JSON.stringify(restore.body));
      const policy = await t.call('PUT', `/v1/servers/${serverId}/backup-policy`, {
        body: { keep_last: 1, keep_daily: 0, remote_region: null },
      });
      assert.equal(policy.status, 200, JSON.stringify(policy.body));
      await t.cp.services.backups.prune(serverId);
      // Its remote copy stays anyway (30 days); the local one is what the policy drops.
      const during = (await t.call('GET', `/v1/backups/${older.id}`)).body.backup;
      assert.equal(during.location, 'both', 'the local copy is kept while the restore reads it');
      const restored = await work('the restore to finish', async () => {
        const got = (await t.call('GET', `/v1/restores/${restore.body.restore.id}`)).body.restore;
        return got.status === 'succeeded' || got.status === 'failed' ? got : undefined;
      });
      assert.equal(restored.status, 'succeeded', restored.error);
      await t.cp.services.backups.prune(serverId);
      const after = (await t.call('GET', `/v1/backups/${older.id}`)).body.backup;
      assert.equal(after.location, 'remote', 'the local copy is dropped once nothing reads it');
      assert.equal((await t.call('GET', `/v1/backups/${newer.id}`)).body.backup.location, 'both');
    });
  });
}
