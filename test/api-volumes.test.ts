import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { diskKeyPurpose } from '../src/compute/index.ts';
import { startTestControlPlane, testDialects, until, type TestControlPlane } from './helpers.ts';

type HostView = { id: string; name: string; region: string; usage: { servers: number; disk_gib: number } };

for (const dialect of testDialects()) {
  describe(`volumes through the REST API (${dialect})`, () => {
    let t: TestControlPlane;
    let serverId: string;
    let serverHost: HostView;
    const operator = () => t.secrets.operatorToken;
    const hostOf = async (hostId: string): Promise<HostView> =>
      (await t.call('GET', `/v1/hosts/${hostId}`, { token: operator() })).body.host;
    const usage = async () => (await t.call('GET', '/v1/project')).body.project.usage;

    before(async () => {
      t = await startTestControlPlane(dialect);
      const created = await t.call('POST', '/v1/servers', {
        body: { name: 'vol-web-1', product: 'vps-starter', region: 'fra1', image: 'debian-12' },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      assert.equal((await t.waitForAction(created.body.action.id)).status, 'success');
      serverId = created.body.server.id;
      const hosts = await t.call('GET', '/v1/hosts?region=fra1', { token: operator() });
      serverHost = hosts.body.hosts.find((h: HostView) => h.usage.servers > 0);
      assert.ok(serverHost, 'the server has a host');
    });
    after(async () => {
      await t?.dispose();
    });

    test('create detached → attach (placed on the server’s host, disk claimed) → grow online → detach → delete', async () => {
      const before = await usage();
      const diskBefore = (await hostOf(serverHost.id)).usage.disk_gib;
      const created = await t.call('POST', '/v1/volumes', {
        body: { name: 'data-1', size_gib: 10, region: 'FRA1', labels: { env: 'prod' } },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      const { volume, action } = created.body;
      assert.match(volume.id, /^vol_/);
      assert.equal(volume.status, 'available');
      assert.equal(volume.host_id, null, 'a project never sees the host');
      assert.equal(action.status, 'success', 'created detached: nothing to do on a host yet');
      assert.deepEqual(await usage(), { ...before, volumes: before.volumes + 1, volume_gib: before.volume_gib + 10 });
      assert.equal((await hostOf(serverHost.id)).usage.disk_gib, diskBefore, 'not placed until attached');

      const attached = await t.call('POST', `/v1/volumes/${volume.id}/actions/attach`, {
        body: { server: 'vol-web-1' },
      });
      assert.equal(attached.status, 202, JSON.stringify(attached.body));
      assert.equal(attached.body.action.command, 'attach');
      assert.equal((await t.waitForAction(attached.body.action.id)).status, 'success');
      let shown = (await t.call('GET', `/v1/volumes/${volume.id}`)).body.volume;
      assert.equal(shown.status, 'attached');
      assert.equal(shown.server_id, serverId);
      const onHost = await hostOf(serverHost.id);
      assert.equal(onHost.usage.disk_gib, diskBefore + 10, 'the volume’s disk is claimed on the server’s host');
      assert.equal(onHost.usage.servers, serverHost.usage.servers, 'a disk claim is not a server');
      assert.deepEqual((await t.cp.services.scheduler.auditPlacement()).violations, []);

      const shrink = await t.call('POST', `/v1/volumes/${volume.id}/actions/resize`, { body: { size_gib: 5 } });
      assert.equal(shrink.status, 400);
      assert.equal(shrink.body.reason, 'volume_shrink');
      const grown = await t.call('POST', `/v1/volumes/${volume.id}/actions/resize`, { body: { size_gib: 20 } });
      assert.equal(grown.status, 202, JSON.stringify(grown.body));
      assert.equal((await t.waitForAction(grown.body.action.id)).status, 'success');
      shown = (await t.call('GET', `/v1/volumes/${volume.id}`)).body.volume;
      assert.equal(shown.size_gib, 20);
      assert.equal(shown.status, 'attached', 'grown online, still attached');
      assert.equal((await hostOf(serverHost.id)).usage.disk_gib, diskBefore + 20);
      assert.equal((await usage()).volume_gib, before.volume_gib + 20);

      const refused = await t.call('DELETE', `/v1/volumes/${volume.id}`);
      assert.equal(refused.status, 409);
      assert.equal(refused.body.reason, 'volume_attached');
      assert.equal((await t.call('GET', `/v1/volumes/${volume.id}`)).body.volume.status, 'attached', 'nothing changed');

      const detached = await t.call('POST', `/v1/volumes/${volume.id}/actions/detach`);
      assert.equal(detached.status, 202);
      assert.equal((await t.waitForAction(detached.body.action.id)).status, 'success');
      shown = (await t.call('GET', `/v1/volumes/${volume.id}`)).body.volume;
      assert.equal(shown.status, 'available');
      assert.equal(shown.server_id, null);

      const deleted = await t.call('DELETE', `/v1/volumes/${volume.id}`);
      assert.equal(deleted.status, 202);
      assert.equal((await t.waitForAction(deleted.body.action.id)).status, 'success');
      assert.equal((await t.call('GET', `/v1/volumes/${volume.id}`)).status, 404);
      assert.equal((await hostOf(serverHost.id)).usage.disk_gib, diskBefore, 'the disk claim is given back');
      assert.deepEqual(await usage(), before, 'the quota is given back');

      const types = await until('volume.deleted in the stream', async () => {
        const events = await t.call('GET', '/v1/events?limit=1000');
        const mine = events.body.events
          .filter((e: { resource: { id: string } }) => e.resource.id === volume.id)
          .map((e: { type: string }) => e.type);
        return mine.includes('volume.deleted') ? mine : null;
      });
      assert.deepEqual(types, [
        'volume.created',
        'volume.attaching',
        'volume.attached',
        'volume.resizing',
        'volume.resized',
        'volume.detaching',
        'volume.available',
        'volume.deleting',
        'volume.deleted',
      ]);
      const audit = await t.call('GET', '/v1/audit-log?limit=200', { token: operator() });
      assert.equal(audit.status, 200);
      const audited = audit.body.entries.filter(
        (e: { resource: { id: string } | null }) => e.resource?.id === volume.id,
      );
      assert.ok(
        audited.length >= 5,
        `mutations audited: ${JSON.stringify(audited.map((e: { action: string }) => e.action))}`,
      );
    });

    test('refusals: bad input, another region, unknown server, name taken, quotas — and nothing changes', async () => {
      const bad = await t.call('POST', '/v1/volumes', { body: { name: 'x', size_gib: 0, region: 'fra1' } });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.code, 'invalid');
      const noRegion = await t.call('POST', '/v1/volumes', { body: { name: 'x', size_gib: 1, region: 'nowhere' } });
      assert.equal(noRegion.body.reason, 'unknown_region');

      const par = await t.call('POST', '/v1/volumes', { body: { name: 'par-vol', size_gib: 1, region: 'par1' } });
      assert.equal(par.status, 202, JSON.stringify(par.body));
      const cross = await t.call('POST', `/v1/volumes/par-vol/actions/attach`, { body: { server: serverId } });
      assert.equal(cross.status, 409);
      assert.equal(cross.body.reason, 'region_mismatch');
      const unknown = await t.call('POST', `/v1/volumes/par-vol/actions/attach`, { body: { server: 'no-such' } });
      assert.equal(unknown.status, 404);
      assert.equal((await t.call('GET', '/v1/volumes/par-vol')).body.volume.status, 'available');

      const taken = await t.call('POST', '/v1/volumes', { body: { name: 'par-vol', size_gib: 1, region: 'fra1' } });
      assert.equal(taken.status, 409);
      assert.equal(taken.body.reason, 'name_taken');
      const notAttached = await t.call('POST', `/v1/volumes/par-vol/actions/detach`);
      assert.equal(notAttached.body.reason, 'not_attached');

      const onHost = await t.call('POST', '/v1/volumes', {
        body: { name: 'mine', size_gib: 1, region: 'fra1', host: serverHost.name },
      });
      assert.equal(onHost.status, 403);
      assert.equal(onHost.body.reason, 'operator_only');

      const projectId = t.secrets.projectId;
      const quota = await t.call('PATCH', `/v1/projects/${projectId}/quotas`, {
        token: operator(),
        body: { volumes: 2, volume_gib: 5 },
      });
      assert.equal(quota.status, 200, JSON.stringify(quota.body));
      const tooBig = await t.call('POST', '/v1/volumes', { body: { name: 'big', size_gib: 5, region: 'fra1' } });
      assert.equal(tooBig.status, 403);
      assert.equal(tooBig.body.reason, 'quota_exceeded');
      assert.match(tooBig.body.detail, /volume GiB/);
      const second = await t.call('POST', '/v1/volumes', { body: { name: 'second', size_gib: 1, region: 'fra1' } });
      assert.equal(second.status, 202);
      const third = await t.call('POST', '/v1/volumes', { body: { name: 'third', size_gib: 1, region: 'fra1' } });
      assert.equal(third.status, 403);
      assert.match(third.body.detail, /volumes 2\/2/);
      const grow = await t.call('POST', `/v1/volumes/second/actions/resize`, { body: { size_gib: 9 } });
      assert.equal(grow.body.reason, 'quota_exceeded');
      assert.equal((await t.call('GET', '/v1/volumes/second')).body.volume.size_gib, 1, 'nothing changed');
      const list = await t.call('GET', '/v1/volumes?region=fra1');
      assert.deepEqual(
        list.body.volumes.map((v: { name: string }) => v.name),
        ['second'],
      );
      for (const name of ['par-vol', 'second'])
        assert.equal((await t.call('DELETE', `/v1/volumes/${name}`)).status, 202);
      await t.call('PATCH', `/v1/projects/${projectId}/quotas`, {
        token: operator(),
        body: { volumes: 100, volume_gib: 10_240 },
      });
    });

    test('an operator creates a volume on a named host; a host without room is refused with the disk named', async () => {
      const created = await t.call('POST', '/v1/volumes', {
        token: operator(),
        body: { name: 'op-vol', size_gib: 3, region: 'fra1', host: serverHost.name, project_id: t.secrets.projectId },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      assert.equal(created.body.volume.host_id, serverHost.id, 'operators see the host');
      assert.equal(created.body.volume.status, 'creating');
      assert.equal((await t.waitForAction(created.body.action.id)).status, 'success');
      assert.equal((await t.call('GET', '/v1/volumes/op-vol')).body.volume.status, 'available');

      const full = await t.call('POST', '/v1/volumes', {
        token: operator(),
        body: {
          name: 'huge',
          size_gib: 16_384,
          region: 'fra1',
          host: serverHost.name,
          project_id: t.secrets.projectId,
        },
      });
      assert.equal(full.status, 409, JSON.stringify(full.body));
      assert.equal(full.body.reason, 'no_capacity');
      assert.match(full.body.detail, /lacks 16384 GiB of free disk/);
      assert.equal((await t.call('GET', '/v1/volumes/huge')).status, 404, 'nothing was written');

      // Attached to a server of its host, then the server is deleted: the volume is detached, its data kept.
      const attach = await t.call('POST', '/v1/volumes/op-vol/actions/attach', { body: { server: serverId } });
      assert.equal((await t.waitForAction(attach.body.action.id)).status, 'success');
      const gone = await t.call('DELETE', `/v1/servers/${serverId}`);
      assert.equal((await t.waitForAction(gone.body.action.id)).status, 'success');
      const detached = await until('the volume detached from the deleted server', async () => {
        const volume = (await t.call('GET', '/v1/volumes/op-vol')).body.volume;
        return volume.status === 'available' && volume.server_id === null ? volume : null;
      });
      assert.equal(detached.size_gib, 3);
      const deleted = await t.call('DELETE', '/v1/volumes/op-vol');
      assert.equal((await t.waitForAction(deleted.body.action.id)).status, 'success');
      assert.deepEqual((await t.cp.services.scheduler.auditPlacement()).violations, []);
    });

    test('volume keys: one sealed per volume, in real hosts’ desired state only, destroyed with the volume', async () => {
      const keyRows = () =>
        t.cp.db
          .selectFrom('sealed_secrets')
          .select(['id', 'ciphertext'])
          .where('purpose', '=', diskKeyPurpose)
          .execute();
      const server = await t.call('POST', '/v1/servers', {
        body: { name: 'keyed-web', product: 'vps-starter', region: 'fra1', image: 'debian-12' },
      });
      assert.equal((await t.waitForAction(server.body.action.id)).status, 'success');
      const hostId = (await t.cp.services.scheduler.placementsOf(t.cp.db, [server.body.server.id])).get(
        server.body.server.id,
      )!.hostId;
      const before = (await keyRows()).length;
      const make = async (name: string) => {
        const created = await t.call('POST', '/v1/volumes', { body: { name, size_gib: 1, region: 'fra1' } });
        assert.equal(created.status, 202, JSON.stringify(created.body));
        assert.equal(created.body.volume.encrypted, true);
        const attached = await t.call('POST', `/v1/volumes/${created.body.volume.id}/actions/attach`, {
          body: { server: 'keyed-web' },
        });
        assert.equal(attached.status, 202, JSON.stringify(attached.body));
        assert.equal((await t.waitForAction(attached.body.action.id)).status, 'success');
        return created.body.volume.id as string;
      };
      const [a, b] = [await make('keyed-1'), await make('keyed-2')];
      assert.equal((await keyRows()).length, before + 2, 'a sealed key per volume');
      const forReal = await t.cp.services.volumeSync.desiredFor(hostId);
      const keyOf = (id: string) => forReal.find((v) => v.volumeId === id)?.key ?? '';
      assert.match(keyOf(a), /^[A-Za-z0-9+/]{43}=$/, '32 random bytes, base64');
      assert.notEqual(keyOf(a), keyOf(b), 'a key per volume');
      const forSim = await t.cp.services.volumeSync.desiredFor(hostId, { keys: false });
      assert.ok(
        forSim.every((v) => v.key === undefined),
        'simulated hosts get no keys',
      );
      assert.ok(
        (await keyRows()).every((row) => !Buffer.from(row.ciphertext, 'base64').toString('latin1').includes(keyOf(a))),
        'stored wrapped, never in clear',
      );
      const shown = await t.call('GET', `/v1/volumes/${a}`);
      assert.ok(!JSON.stringify(shown.body).includes(keyOf(a)), 'the API never shows a key');
      for (const id of [a, b]) {
        const detached = await t.call('POST', `/v1/volumes/${id}/actions/detach`);
        assert.equal((await t.waitForAction(detached.body.action.id)).status, 'success');
        const deleted = await t.call('DELETE', `/v1/volumes/${id}`);
        assert.equal((await t.waitForAction(deleted.body.action.id)).status, 'success');
      }
      assert.equal((await keyRows()).length, before, 'deleted volumes’ keys are destroyed (crypto-shredding)');
    });
  });
}
