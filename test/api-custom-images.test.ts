/**
 * Custom images through the REST API on simulated hosts (both dialects): made from a stopped server (409
 * `not_stopped` otherwise), listed to their project only, booted by `POST /v1/servers` before the catalog,
 * deleted only when no live server uses them, with the quota and the events of each change.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, testDialects, until, type TestControlPlane } from './helpers.ts';

for (const dialect of testDialects()) {
  describe(`custom images through the REST API (${dialect})`, () => {
    let t: TestControlPlane;
    let sourceId: string;
    const usage = async () => (await t.call('GET', '/v1/project')).body.project.usage;

    before(async () => {
      t = await startTestControlPlane(dialect);
      const created = await t.call('POST', '/v1/servers', {
        body: { name: 'img-src', product: 'vps-starter', region: 'fra1', image: 'debian-12' },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      assert.equal((await t.waitForAction(created.body.action.id)).status, 'success');
      sourceId = created.body.server.id;
    });
    after(async () => {
      await t?.dispose();
    });

    test('create from a stopped server → available → a server boots it → delete refused while used, then done', async () => {
      const before = await usage();
      const running = await t.call('POST', `/v1/servers/${sourceId}/actions/create-image`, {
        body: { name: 'golden' },
      });
      assert.equal(running.status, 409, JSON.stringify(running.body));
      assert.equal(running.body.code, 'conflict');
      assert.equal(running.body.reason, 'not_stopped');
      assert.deepEqual(await usage(), before, 'nothing counted');
      assert.equal(
        (await t.call('GET', '/v1/images')).body.images.filter((i: { category: string }) => i.category === 'custom')
          .length,
        0,
        'nothing created',
      );

      const stop = await t.call('POST', `/v1/servers/${sourceId}/actions/stop`);
      assert.equal((await t.waitForAction(stop.body.action.id)).status, 'success');
      const bad = await t.call('POST', `/v1/servers/${sourceId}/actions/create-image`, {
        body: { name: 'Not_A-Name!' },
      });
      assert.equal(bad.status, 400);
      const upper = await t.call('POST', `/v1/servers/${sourceId}/actions/create-image`, { body: { name: 'Golden' } });
      assert.equal(upper.status, 400, 'names are lower-case, like slugs');

      const created = await t.call('POST', `/v1/servers/img-src/actions/create-image`, { body: { name: 'golden' } });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      const { image, action } = created.body;
      assert.match(image.id, /^cimg_[0-9a-z]{26}$/);
      assert.equal(image.slug, image.id);
      assert.equal(image.status, 'creating');
      assert.equal(image.region, 'fra1');
      assert.equal(image.source_server_id, sourceId);
      assert.equal(image.source_image, 'debian-12');
      assert.equal(image.os_family, 'debian');
      assert.equal(image.min_disk_gib, 50, 'the source product’s disk (VPS-STARTER)');
      assert.equal(action.command, 'create_image');
      assert.deepEqual(await usage(), { ...before, custom_images: before.custom_images + 1 });

      const taken = await t.call('POST', `/v1/servers/${sourceId}/actions/create-image`, { body: { name: 'golden' } });
      assert.equal(taken.status, 409);
      assert.equal(taken.body.reason, 'name_taken');

      assert.equal((await t.waitForAction(action.id)).status, 'success');
      const shown = (await t.call('GET', `/v1/images/GOLDEN`)).body.image;
      assert.equal(shown.status, 'available');
      assert.equal(shown.id, image.id);
      const listed = (await t.call('GET', '/v1/images')).body.images;
      const mine = listed.find((i: { id: string }) => i.id === image.id);
      assert.deepEqual(
        { slug: mine.slug, name: mine.name, category: mine.category, status: mine.status },
        { slug: image.id, name: 'golden', category: 'custom', status: 'available' },
      );
      assert.ok(
        listed.some((i: { slug: string }) => i.slug === 'debian-12'),
        'the catalog is still listed',
      );

      // Another project sees none of it, and cannot boot it.
      const other = await t.call('POST', '/v1/projects', {
        token: t.secrets.operatorToken,
        body: { name: 'other-img', owner_email: 'other-img@example.com' },
      });
      assert.equal(other.status, 201, JSON.stringify(other.body));
      const otherToken = other.body.secret as string;
      assert.ok(
        !(await t.call('GET', '/v1/images', { token: otherToken })).body.images.some(
          (i: { id: string }) => i.id === image.id,
        ),
      );
      assert.equal((await t.call('GET', `/v1/images/${image.id}`, { token: otherToken })).status, 404);
      assert.equal((await t.call('DELETE', `/v1/images/${image.id}`, { token: otherToken })).status, 404);
      const foreign = await t.call('POST', '/v1/servers', {
        token: otherToken,
        body: { name: 'thief', product: 'vps-starter', region: 'fra1', image: 'golden' },
      });
      assert.equal(foreign.status, 400, JSON.stringify(foreign.body));
      assert.equal(foreign.body.reason, 'unknown_image', 'another project’s image is unknown there');
      // Operators list the catalog only.
      assert.ok(
        !(await t.call('GET', '/v1/images', { token: t.secrets.operatorToken })).body.images.some(
          (i: { id: string }) => i.id === image.id,
        ),
      );

      // POST /v1/servers resolves the name among the project's images first; too small a disk and the wrong region refuse.
      const small = await t.call('POST', '/v1/servers', {
        body: { name: 'from-golden-s', product: 'vps-nano', region: 'fra1', image: 'golden' },
      });
      assert.equal(small.status, 400, JSON.stringify(small.body));
      assert.equal(small.body.reason, 'image_too_large');
      const elsewhere = await t.call('POST', '/v1/servers', {
        body: { name: 'from-golden-a', product: 'vps-starter', region: 'ams1', image: 'golden' },
      });
      assert.equal(elsewhere.status, 400, JSON.stringify(elsewhere.body));
      assert.equal(elsewhere.body.reason, 'image_not_in_region');
      const booted = await t.call('POST', '/v1/servers', {
        body: { name: 'from-golden', product: 'vps-starter', region: 'fra1', image: 'golden' },
      });
      assert.equal(booted.status, 202, JSON.stringify(booted.body));
      assert.equal(booted.body.server.image, image.id);
      assert.equal((await t.waitForAction(booted.body.action.id)).status, 'success');

      // Rebuild resolves it too (the source server, from debian-12 to its own image).
      const rebuilt = await t.call('POST', `/v1/servers/${sourceId}/actions/rebuild`, { body: { image: 'golden' } });
      assert.equal(rebuilt.status, 202, JSON.stringify(rebuilt.body));
      assert.equal((await t.waitForAction(rebuilt.body.action.id)).status, 'success');
      assert.equal((await t.call('GET', `/v1/servers/${sourceId}`)).body.server.image, image.id);
      const back = await t.call('POST', `/v1/servers/${sourceId}/actions/rebuild`, { body: { image: 'debian-12' } });
      assert.equal((await t.waitForAction(back.body.action.id)).status, 'success');
      const stopAgain = await t.call('POST', `/v1/servers/${sourceId}/actions/stop`);
      assert.equal((await t.waitForAction(stopAgain.body.action.id)).status, 'success');

      const inUse = await t.call('DELETE', `/v1/images/golden`);
      assert.equal(inUse.status, 409, JSON.stringify(inUse.body));
      assert.equal(inUse.body.reason, 'image_in_use');
      assert.deepEqual(inUse.body.server_ids, [booted.body.server.id]);
      assert.equal((await t.call('GET', `/v1/images/${image.id}`)).body.image.status, 'available', 'nothing changed');

      const gone = await t.call('DELETE', `/v1/servers/${booted.body.server.id}`);
      assert.equal((await t.waitForAction(gone.body.action.id)).status, 'success');
      const deleted = await t.call('DELETE', `/v1/images/golden`);
      assert.equal(deleted.status, 202, JSON.stringify(deleted.body));
      assert.equal((await t.waitForAction(deleted.body.action.id)).status, 'success');
      assert.equal((await t.call('GET', `/v1/images/${image.id}`)).status, 404);
      assert.deepEqual(await usage(), before, 'the quota is given back');
      assert.ok(!(await t.call('GET', '/v1/images')).body.images.some((i: { id: string }) => i.id === image.id));
      const again = await t.call('POST', '/v1/servers', {
        body: { name: 'from-golden-2', product: 'vps-starter', region: 'fra1', image: image.id },
      });
      assert.equal(again.status, 400, 'a deleted image boots nothing');
      assert.equal(again.body.reason, 'unknown_image');

      const imageEvents =
        '/v1/events?limit=1000&type=custom_image.creating,custom_image.available,custom_image.error,custom_image.deleted,action.finished';
      // PostgreSQL: ordered reads wait for every open transaction of the cluster: polled, with time to spare.
      const types = await until(
        'custom_image.deleted in the stream',
        async () => {
          const events = await t.call('GET', imageEvents);
          const ofImage = events.body.events.filter((e: { resource: { id: string } }) => e.resource.id === image.id);
          return ofImage.some((e: { type: string }) => e.type === 'custom_image.deleted')
            ? ofImage.map((e: { type: string }) => e.type)
            : null;
        },
        60_000,
      );
      assert.deepEqual(types, ['custom_image.creating', 'custom_image.available', 'custom_image.deleted']);
      const finished = (await t.call('GET', imageEvents)).body.events.filter(
        (e: { type: string; data: { custom_image_id?: string } }) =>
          e.type === 'action.finished' && e.data.custom_image_id === image.id,
      );
      assert.deepEqual(
        finished.map((e: { data: { command: string; status: string } }) => [e.data.command, e.data.status]),
        [
          ['create_image', 'success'],
          ['delete', 'success'],
        ],
      );
    });

    test('the quota of custom images refuses past its limit and changes nothing', async () => {
      const project = (await t.call('GET', '/v1/project')).body.project;
      assert.equal(project.quotas.custom_images, 20, 'default quota');
      const set = await t.call('PATCH', `/v1/projects/${project.id}/quotas`, {
        token: t.secrets.operatorToken,
        body: { custom_images: project.usage.custom_images },
      });
      assert.equal(set.status, 200, JSON.stringify(set.body));
      const refused = await t.call('POST', `/v1/servers/${sourceId}/actions/create-image`, { body: { name: 'over' } });
      assert.equal(refused.status, 403, JSON.stringify(refused.body));
      assert.equal(refused.body.reason, 'quota_exceeded');
      assert.equal((await t.call('GET', '/v1/images/over')).status, 404);
      await t.call('PATCH', `/v1/projects/${project.id}/quotas`, {
        token: t.secrets.operatorToken,
        body: { custom_images: 20 },
      });
    });
  });
}
