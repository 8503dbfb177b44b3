/**
 * Volumes made from a backup or a server's disk snapshot, through the REST API on the simulated fleet
 * (docs/storage.md, "Volumes from a backup or a snapshot"): a volume from a backup is placed at once on an
 * up host of a region holding a copy (its disk claimed, quota counted), `creating` until the host made it,
 * then `available` at the backup's disk size (or more); the source is shown and kept. Every refusal
 * (source_conflict, volume_too_small, backup_not_found, backup_not_restorable, backup_not_in_region,
 * region_mismatch, snapshots_unsupported, quota) changes nothing. Simulated hosts have no disk snapshots:
 * the QEMU path is proven by src/compute/drivers/qemu/volume-sources.real.test.ts.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphQLClient, gql } from 'graphql-request';
import { createClient } from '../src/client/index.ts';
import { createHostToken } from '../src/contract/index.ts';
import { startSimHost, type SimHost } from './sim-host.ts';
import { fastSimDelays, startTestControlPlane, testDialects, until, type TestControlPlane } from './helpers.ts';

type HostView = { id: string; name: string; region: string; usage: { servers: number; disk_gib: number } };

for (const dialect of testDialects()) {
  describe(`volumes from a backup or a snapshot through the REST API (${dialect})`, () => {
    let t: TestControlPlane;
    let server: { id: string; name: string };
    let backupId: string;
    const operator = () => t.secrets.operatorToken;
    const usage = async () => (await t.call('GET', '/v1/project')).body.project.usage;
    const volumeNames = async () =>
      (await t.call('GET', '/v1/volumes')).body.volumes.map((v: { name: string }) => v.name).sort();
    const hostDisk = async (hostId: string) =>
      ((await t.call('GET', `/v1/hosts/${hostId}`, { token: operator() })).body.host as HostView).usage.disk_gib;
    /** Runs backup worker passes until `probe` holds. */
    const work = async <T>(what: string, probe: () => Promise<T | undefined | false>) =>
      until(what, async () => {
        await t.cp.backupWorkerOnce();
        await t.cp.services.backups.drain();
        return probe();
      });

    before(async () => {
      t = await startTestControlPlane(dialect, { backupLoopIntervalMs: 3_600_000 });
      const created = await t.call('POST', '/v1/servers', {
        body: { name: 'src-1', product: 'vps-starter', region: 'fra1', image: 'debian-12' },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      assert.equal((await t.waitForAction(created.body.action.id)).status, 'success');
      server = created.body.server;
      const policy = await t.call('PUT', `/v1/servers/${server.id}/backup-policy`, {
        body: { every_minutes: 360, keep_daily: 7, remote_region: 'ams1', remote_keep_days: 30 },
      });
      assert.equal(policy.status, 200, JSON.stringify(policy.body));
      const backup = await t.call('POST', `/v1/servers/${server.id}/backups`);
      assert.equal(backup.status, 202, JSON.stringify(backup.body));
      backupId = backup.body.backup.id;
      const done = await work('the backup', async () => {
        const got = (await t.call('GET', `/v1/backups/${backupId}`)).body.backup;
        return got.status === 'succeeded' ? got : undefined;
      });
      assert.equal(done.disk_bytes, 50 * 1024 ** 3);
      assert.equal(done.location, 'both');
    });
    after(async () => {
      await t?.dispose();
    });

    test('from a backup: placed at once in a region with a copy, creating, then available at the disk’s size', async () => {
      const before = await usage();
      const created = await t.call('POST', '/v1/volumes', {
        body: { name: 'restored-1', region: 'fra1', from_backup: backupId },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      const { volume, action } = created.body;
      assert.equal(volume.size_gib, 50, 'the backup’s disk size by default');
      assert.equal(volume.status, 'creating');
      assert.deepEqual(volume.source, { kind: 'backup', backup_id: backupId });
      assert.equal(action.status, 'running', 'the host fills it');
      assert.deepEqual(await usage(), { ...before, volumes: before.volumes + 1, volume_gib: before.volume_gib + 50 });

      assert.equal((await t.waitForAction(action.id)).status, 'success');
      const shown = (await t.call('GET', `/v1/volumes/${volume.id}`)).body.volume;
      assert.deepEqual(
        [shown.status, shown.size_gib, shown.error, shown.source],
        ['available', 50, null, { kind: 'backup', backup_id: backupId }],
      );
      assert.equal(shown.host_id, null, 'a project never sees the host');
      assert.deepEqual((await t.cp.services.scheduler.auditPlacement()).violations, []);

      // The remote copy fills a volume in AMS1, larger than the disk when asked.
      const ams = await t.call('POST', '/v1/volumes', {
        body: { name: 'restored-ams', region: 'ams1', from_backup: backupId, size_gib: 60 },
      });
      assert.equal(ams.status, 202, JSON.stringify(ams.body));
      assert.equal((await t.waitForAction(ams.body.action.id)).status, 'success');
      const amsShown = (await t.call('GET', '/v1/volumes/restored-ams')).body.volume;
      assert.deepEqual([amsShown.status, amsShown.size_gib, amsShown.region], ['available', 60, 'ams1']);

      const types = await until('volume.available in the stream', async () => {
        const events = await t.call('GET', '/v1/events?limit=1000');
        const mine = events.body.events
          .filter((e: { resource: { id: string } }) => e.resource.id === volume.id)
          .map((e: { type: string }) => e.type);
        return mine.includes('volume.available') ? mine : null;
      });
      assert.deepEqual(types, ['volume.created', 'volume.available']);
      for (const name of ['restored-1', 'restored-ams']) {
        const deleted = await t.call('DELETE', `/v1/volumes/${name}`);
        assert.equal(deleted.status, 202, JSON.stringify(deleted.body));
        assert.equal((await t.waitForAction(deleted.body.action.id)).status, 'success');
      }
      assert.deepEqual(await usage(), before, 'the quota is given back');
    });

    test('an operator sees the host it was placed on; its disk is claimed there', async () => {
      const created = await t.call('POST', '/v1/volumes', {
        token: operator(),
        body: { name: 'op-restored', region: 'fra1', from_backup: backupId, project_id: t.secrets.projectId },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      const hostId = created.body.volume.host_id as string;
      assert.match(hostId, /^host_/);
      const claimed = await hostDisk(hostId);
      assert.equal((await t.waitForAction(created.body.action.id)).status, 'success');
      const deleted = await t.call('DELETE', '/v1/volumes/op-restored');
      assert.equal((await t.waitForAction(deleted.body.action.id)).status, 'success');
      assert.equal(await hostDisk(hostId), claimed - 50, 'the claim of 50 GiB is given back');
    });

    test('GraphQL: createVolume with from_backup, the source shown', async () => {
      const client = new GraphQLClient(`${t.url}/graphql`, {
        headers: { authorization: `Bearer ${t.secrets.projectToken}` },
      });
      type Created = { createVolume: { volume: { id: string; size_gib: number; status: string; source: unknown } } };
      const created = await client.request<Created>(
        gql`
          mutation ($input: CreateVolumeInput!) {
            createVolume(input: $input) {
              volume {
                id
                size_gib
                status
                source
              }
            }
          }
        `,
        { input: { name: 'gql-restored', region: 'fra1', from_backup: backupId } },
      );
      const { volume } = created.createVolume;
      assert.deepEqual(
        [volume.size_gib, volume.status, volume.source],
        [50, 'creating', { kind: 'backup', backup_id: backupId }],
      );
      const shown = await until('the volume available', async () => {
        const got = (await t.call('GET', `/v1/volumes/${volume.id}`)).body.volume;
        return got.status === 'available' ? got : undefined;
      });
      assert.equal(shown.size_gib, 50);
      const deleted = await t.call('DELETE', `/v1/volumes/${volume.id}`);
      assert.equal((await t.waitForAction(deleted.body.action.id)).status, 'success');
    });

    test('refusals with their codes change nothing', async () => {
      const before = await usage();
      const names = await volumeNames();
      const refused = async (
        body: Record<string, unknown>,
        status: number,
        reason: string | undefined,
        token?: string,
      ) => {
        const answer = await t.call('POST', '/v1/volumes', { body, ...(token ? { token } : {}) });
        assert.equal(answer.status, status, JSON.stringify(answer.body));
        if (reason !== undefined) assert.equal(answer.body.reason, reason, JSON.stringify(answer.body));
        return answer;
      };
      const snapshot = { server: server.name, name: 'snap-1' };
      await refused(
        { name: 'v', region: 'fra1', from_backup: backupId, from_snapshot: snapshot },
        400,
        'source_conflict',
      );
      await refused({ name: 'v', region: 'fra1', from_backup: backupId, size_gib: 10 }, 400, 'volume_too_small');
      await refused({ name: 'v', region: 'par1', from_backup: backupId }, 400, 'backup_not_in_region');
      await refused(
        { name: 'v', region: 'fra1', from_backup: 'bkp_00000000000000000000000000' },
        404,
        'backup_not_found',
      );
      await refused({ name: 'v', region: 'fra1' }, 400, undefined);
      await refused({ name: 'v', region: 'fra1', from_backup: 'not-a-backup' }, 400, undefined);
      await refused({ name: 'v', region: 'par1', from_snapshot: snapshot }, 409, 'region_mismatch');
      await refused({ name: 'v', region: 'fra1', from_snapshot: { server: 'no-such', name: 'x' } }, 404, undefined);
      // Simulated hosts keep no disk snapshots: said so, not pretended.
      await refused({ name: 'v', region: 'fra1', from_snapshot: snapshot }, 409, 'snapshots_unsupported');

      // A backup not finished yet fills nothing.
      const pending = await t.call('POST', `/v1/servers/${server.id}/backups`);
      assert.equal(pending.status, 202, JSON.stringify(pending.body));
      await refused({ name: 'v', region: 'fra1', from_backup: pending.body.backup.id }, 409, 'backup_not_restorable');

      // Another project's backup is not found (like everything of another project).
      const other = await t.call('POST', '/v1/projects', {
        token: operator(),
        body: { name: 'vol-src-other', owner_email: 'vol-src-other@example.com' },
      });
      assert.equal(other.status, 201, JSON.stringify(other.body));
      const otherToken = other.body.secret as string;
      await refused({ name: 'v', region: 'fra1', from_backup: backupId }, 404, 'backup_not_found', otherToken);
      await refused({ name: 'v', region: 'fra1', from_snapshot: snapshot }, 404, undefined, otherToken);

      // Quota: the backup’s 50 GiB count.
      const projectId = t.secrets.projectId;
      const quota = await t.call('PATCH', `/v1/projects/${projectId}/quotas`, {
        token: operator(),
        body: { volume_gib: before.volume_gib + 40 },
      });
      assert.equal(quota.status, 200, JSON.stringify(quota.body));
      const tooBig = await refused({ name: 'v', region: 'fra1', from_backup: backupId }, 403, 'quota_exceeded');
      assert.match(tooBig.body.detail, /volume GiB/);
      await t.call('PATCH', `/v1/projects/${projectId}/quotas`, { token: operator(), body: { volume_gib: 10_240 } });

      assert.deepEqual(await usage(), before, 'no quota taken');
      assert.deepEqual(await volumeNames(), names, 'no volume made');
      assert.deepEqual((await t.cp.services.scheduler.auditPlacement()).violations, [], 'no claim left behind');
      await work('the pending backup', async () => {
        const got = (await t.call('GET', `/v1/backups/${pending.body.backup.id}`)).body.backup;
        return got.status === 'succeeded' ? got : undefined;
      });
    });
  });

  describe(`the source reaches the host through its desired state (${dialect})`, () => {
    let t: TestControlPlane;
    before(async () => {
      // Slow simulated volume work: the volume stays `creating` long enough to look at its host's desired state.
      t = await startTestControlPlane(dialect, {
        backupLoopIntervalMs: 3_600_000,
        simDelays: { ...fastSimDelays, volumeMs: 2_000 },
      });
    });
    after(async () => {
      await t?.dispose();
    });

    test('sent while the host has not made the volume (read from the database at every pass), not after', async () => {
      const server = await t.call('POST', '/v1/servers', {
        body: { name: 'src-2', product: 'vps-starter', region: 'fra1', image: 'debian-12' },
      });
      assert.equal((await t.waitForAction(server.body.action.id)).status, 'success');
      const backup = await t.call('POST', `/v1/servers/${server.body.server.id}/backups`);
      const backupId = backup.body.backup.id as string;
      await until('the backup', async () => {
        await t.cp.backupWorkerOnce();
        await t.cp.services.backups.drain();
        const got = (await t.call('GET', `/v1/backups/${backupId}`)).body.backup;
        return got.status === 'succeeded' ? got : undefined;
      });
      const created = await t.call('POST', '/v1/volumes', {
        token: t.secrets.operatorToken,
        body: { name: 'in-flight', region: 'fra1', from_backup: backupId, project_id: t.secrets.projectId },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      const { volume, action } = created.body;
      const desired = await t.cp.services.volumeSync.desiredFor(volume.host_id, { keys: false });
      const mine = desired.find((d) => d.volumeId === volume.id);
      const source = mine?.source;
      assert.ok(source?.kind === 'backup', JSON.stringify(mine));
      assert.equal(source.backupId, backupId);
      assert.match(source.snapshot, /^sim-/, 'the copy of FRA1 (a simulated repository snapshot)');
      assert.equal(source.repository, undefined, 'no repository for a simulated host');
      assert.equal(mine?.sizeGiB, 50);
      // The backup it reads is not deleted meanwhile.
      const busy = await t.call('DELETE', `/v1/backups/${backupId}`);
      assert.deepEqual([busy.status, busy.body.reason, busy.body.volume_id], [409, 'restore_in_progress', volume.id]);

      assert.equal((await t.waitForAction(action.id)).status, 'success');
      const after = await t.cp.services.volumeSync.desiredFor(volume.host_id, { keys: false });
      assert.equal(
        after.find((d) => d.volumeId === volume.id)?.source,
        undefined,
        'made: the source is not sent again',
      );
      const shown = (await t.call('GET', `/v1/volumes/${volume.id}`)).body.volume;
      assert.deepEqual(shown.source, { kind: 'backup', backup_id: backupId }, 'the volume keeps showing its source');
      assert.equal((await t.call('DELETE', `/v1/backups/${backupId}`)).status, 204, 'made: the backup may go');
      const still = (await t.call('GET', `/v1/volumes/${volume.id}`)).body.volume;
      assert.deepEqual([still.status, still.source], ['available', { kind: 'backup', backup_id: backupId }]);
    });
  });

  describe(`the source over an agent's mutual-TLS link (${dialect})`, () => {
    let t: TestControlPlane;
    let host: SimHost;
    const secrets = mkdtempSync(join(tmpdir(), 'vmc-volsrc-'));
    const repositoryUrl = join(secrets, 'repo-fra1');
    before(async () => {
      const passwordFile = join(secrets, 'fra1.password');
      writeFileSync(passwordFile, 'secret-of-fra1\n', { mode: 0o600 });
      // A repository for FRA1: what a real host reads a backup from.
      t = await startTestControlPlane(dialect, {
        fleet: 'none',
        backupLoopIntervalMs: 3_600_000,
        backupRepositories: { fra1: { url: repositoryUrl, passwordFile } },
      });
    });
    after(async () => {
      await host?.stop();
      await t?.dispose();
      rmSync(secrets, { recursive: true, force: true });
    });

    test('a host reading its desired state over HTTPS gets the source (with the repository), then makes the volume', async () => {
      const operator = createClient({ baseUrl: t.url, token: t.secrets.operatorToken });
      const token = await operator.call(createHostToken, { body: { name: 'fra1-src-001' } });
      const agentUrl = t.cp.agentListener.url ?? (await t.cp.agentListener.listen({ host: '127.0.0.1', port: 0 }));
      host = await startSimHost({
        agentUrl,
        caSha256: token.ca_sha256,
        hostToken: token.secret,
        name: 'fra1-src-001',
        region: 'fra1',
        delays: { volumeMs: 1_500 },
      });
      await t.cp.services.scheduler.reload();
      const server = await t.call('POST', '/v1/servers', {
        body: { name: 'src-3', product: 'vps-starter', region: 'fra1', image: 'debian-12' },
      });
      assert.equal(server.status, 202, JSON.stringify(server.body));
      assert.equal((await t.waitForAction(server.body.action.id)).status, 'success');
      const backup = await t.call('POST', `/v1/servers/${server.body.server.id}/backups`);
      const backupId = backup.body.backup.id as string;
      await until('the backup', async () => {
        await t.cp.backupWorkerOnce();
        await t.cp.services.backups.drain();
        const got = (await t.call('GET', `/v1/backups/${backupId}`)).body.backup;
        return got.status === 'succeeded' ? got : undefined;
      });
      const created = await t.call('POST', '/v1/volumes', {
        body: { name: 'over-tls', region: 'fra1', from_backup: backupId },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      const desired = await host.link.desiredVolumes!(host.hostId);
      const mine = desired.find((d) => d.volumeId === created.body.volume.id);
      assert.ok(mine?.source?.kind === 'backup', JSON.stringify(desired));
      assert.equal(mine.source.backupId, backupId);
      assert.deepEqual(mine.source.repository, {
        region: 'fra1',
        url: repositoryUrl,
        password: 'secret-of-fra1',
      });
      assert.ok(mine.key, 'the volume key comes too');
      assert.equal((await t.waitForAction(created.body.action.id)).status, 'success');
      const after = await host.link.desiredVolumes!(host.hostId);
      assert.equal(after.find((d) => d.volumeId === created.body.volume.id)?.source, undefined);
    });
  });
}
