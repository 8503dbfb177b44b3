/**
 * The custom-image worker on QEMU hosts, against fake host APIs (in-memory image stores) and the real
 * database (both dialects): the export imported on the source host, copies to the region's other hosts
 * (a failed copy leaves that host out), a server started meanwhile fails the image, an unreachable source
 * host leaves it `creating` until a later pass, a pass that crashed after the import goes on, and a delete
 * removes the files host by host, finishing its action only when none is left.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { inTransaction } from '../src/db/index.ts';
import { VmcError, newId } from '../src/core/index.ts';
import { createCustomImageWorker, type CustomImageHostClient } from '../src/custom-images/index.ts';
import type { ServerRef } from '../src/compute/index.ts';
import { startTestControlPlane, testDialects, type TestControlPlane } from './helpers.ts';

const collect = async (stream: Readable) => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
};

/** A host whose image store is a Map; `down` makes it unreachable, `full` makes its imports fail. */
function fakeHost(id: string, state: { running?: boolean; down?: boolean; full?: boolean }) {
  const images = new Map<string, { bytes: Buffer; bootLike?: string }>();
  const reachable = () => {
    if (state.down) throw new VmcError('unavailable', `host ${id} cannot be reached`, { reason: 'host_unreachable' });
  };
  const client: CustomImageHostClient = {
    async exportDisk() {
      reachable();
      return {
        stream: Readable.from([Buffer.from(`disk of the source on ${id}`)]),
        fromRunningServer: !!state.running,
      };
    },
    async uploadImage(slug, source, options = {}) {
      reachable();
      const bytes = await collect(source);
      if (images.has(slug)) throw new VmcError('conflict', 'exists', { reason: 'image_exists' });
      if (state.full) throw new VmcError('invalid', 'no room', { reason: 'image_too_large' });
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      if (options.sha256 && options.sha256 !== sha256)
        throw new VmcError('invalid', 'sha', { reason: 'checksum_mismatch' });
      images.set(slug, { bytes, bootLike: options.bootLike });
      return { size_bytes: bytes.length, sha256, name: options.name ?? slug };
    },
    async downloadImage(slug) {
      reachable();
      const image = images.get(slug);
      if (!image) throw new VmcError('not_found', 'no image');
      return { stream: Readable.from([image.bytes]) };
    },
    async deleteImage(slug) {
      reachable();
      if (!images.delete(slug)) throw new VmcError('not_found', 'no image');
    },
  };
  return { id, state, images, client };
}

for (const dialect of testDialects()) {
  describe(`custom-image worker on QEMU hosts (${dialect})`, () => {
    let t: TestControlPlane;
    before(async () => {
      // The app's own worker never runs on its timer here: these images are for the test's worker.
      t = await startTestControlPlane(dialect, { customImageLoopIntervalMs: 3_600_000 });
    });
    after(async () => {
      await t?.dispose();
    });

    function setup() {
      const hosts = [fakeHost('host_a', {}), fakeHost('host_b', {}), fakeHost('host_c', {})];
      const server: ServerRef = {
        id: 'srv_fake',
        name: 'src',
        projectId: t.secrets.projectId,
        region: 'fra1',
        hostId: 'host_a',
        status: 'stopped',
        desiredState: 'stopped',
        deleted: false,
        image: 'debian-12',
        product: 'vps-nano',
        diskGiB: null,
      };
      const recorded: Array<[string, string, string]> = [];
      const service = t.cp.services.customImages;
      const worker = createCustomImageWorker({
        service,
        clock: { nowIso: () => new Date().toISOString() },
        log: t.cp.log,
        server: async () => server,
        hostDriverOf: async () => 'qemu',
        hostClientFor: async (hostId) => {
          const host = hosts.find((h) => h.id === hostId)!;
          if (host.state.down) throw new VmcError('unavailable', `host ${hostId} is down`, { reason: 'host_down' });
          return host.client;
        },
        hostsInRegion: async () => ({ qemu: hosts.map((h) => h.id), sim: [] }),
        hostHasImage: async (hostId, slug) => void recorded.push(['has', hostId, slug]),
        hostLostImage: async (hostId, slug) => void recorded.push(['lost', hostId, slug]),
      });
      /** A `creating` image and its running action, as the API would have written them (no worker kicked). */
      const creating = async () => {
        const now = new Date().toISOString();
        const id = newId('customImage');
        return inTransaction(t.cp.db, async (tx) => {
          const action = await service.actions.start(tx, {
            projectId: server.projectId,
            resourceType: 'custom_image',
            resourceId: id,
            command: 'create_image',
            target: { status: 'available' },
          });
          await service.store.insert(tx, {
            id,
            projectId: server.projectId,
            name: `img-${id.slice(-6)}`,
            region: 'fra1',
            status: 'creating',
            sourceServerId: server.id,
            sourceHostId: 'host_a',
            sourceImage: 'debian-12',
            osFamily: 'debian',
            osVersion: '12',
            requiresGpu: false,
            minDiskGiB: 25,
            sizeBytes: null,
            sha256: null,
            hostIds: [],
            actionId: action.id,
            errorMessage: null,
            createdAt: now,
            updatedAt: now,
            deletedAt: null,
          });
          return { id, actionId: action.id };
        });
      };
      const image = async (id: string) => (await service.store.byId(t.cp.db, id))!;
      const action = async (id: string) => (await t.call('GET', `/v1/actions/${id}`)).body.action;
      return { hosts, server, recorded, worker, creating, image, action, service };
    }

    test('made on the source host, copied to the others; a failed copy leaves its host out', async () => {
      const { hosts, recorded, worker, creating, image, action } = setup();
      hosts[2].state.full = true;
      const made = await creating();
      await worker.runOnce();
      const done = await image(made.id);
      assert.equal(done.status, 'available');
      assert.deepEqual(done.hostIds, ['host_a', 'host_b']);
      assert.equal(done.sha256, createHash('sha256').update('disk of the source on host_a').digest('hex'));
      assert.equal(done.sizeBytes, 'disk of the source on host_a'.length);
      assert.deepEqual(
        hosts[1].images.get(made.id)?.bytes.toString(),
        'disk of the source on host_a',
        'a copy of the first',
      );
      assert.equal(hosts[0].images.get(made.id)?.bootLike, 'debian-12', 'boots like its base');
      assert.equal(hosts[2].images.has(made.id), false);
      assert.deepEqual(
        recorded.filter((r) => r[2] === made.id),
        [
          ['has', 'host_a', made.id],
          ['has', 'host_b', made.id],
        ],
      );
      assert.equal((await action(made.actionId)).status, 'success');
    });

    test('a server started meanwhile fails the image; an unreachable source waits; a crashed pass goes on', async () => {
      const { hosts, server, worker, creating, image, action } = setup();
      hosts[0].state.running = true;
      const started = await creating();
      await worker.runOnce();
      assert.equal((await image(started.id)).status, 'error');
      assert.match((await image(started.id)).errorMessage ?? '', /was started while its image was being made/);
      const failed = await action(started.actionId);
      assert.deepEqual([failed.status, failed.error?.code], ['error', 'not_stopped']);

      hosts[0].state.running = false;
      server.status = 'starting';
      const notStopped = await creating();
      await worker.runOnce();
      assert.equal((await image(notStopped.id)).status, 'error', 'the row says it is not stopped any more');
      server.status = 'stopped';

      hosts[0].state.down = true;
      const waiting = await creating();
      await worker.runOnce();
      assert.equal((await image(waiting.id)).status, 'creating', 'unavailable: retried at the next pass');
      assert.equal((await action(waiting.actionId)).status, 'running');
      hosts[0].state.down = false;
      // The previous pass imported on the source before it crashed: the file is there.
      await hosts[0].client.uploadImage(waiting.id, Readable.from([Buffer.from('disk of the source on host_a')]));
      await worker.runOnce();
      const done = await image(waiting.id);
      assert.equal(done.status, 'available');
      assert.deepEqual(done.hostIds, ['host_a', 'host_b', 'host_c']);
      assert.equal((await action(waiting.actionId)).status, 'success');
    });

    test('delete removes the files host by host; its action finishes when no host holds one', async () => {
      const { hosts, worker, creating, image, action, recorded, service } = setup();
      const made = await creating();
      await worker.runOnce();
      assert.deepEqual((await image(made.id)).hostIds, ['host_a', 'host_b', 'host_c']);
      hosts[2].state.down = true;
      // What DELETE /v1/images/{id} writes (tested through the API in api-custom-images.test.ts), without
      // kicking the app's own worker, which cannot reach these fake hosts.
      const deleteAction = await inTransaction(t.cp.db, async (tx) => {
        const started = await service.actions.start(tx, {
          projectId: t.secrets.projectId,
          resourceType: 'custom_image',
          resourceId: made.id,
          command: 'delete',
          target: { status: 'deleted' },
        });
        const now = new Date().toISOString();
        await service.store.change(tx, made.id, { status: 'deleted', deletedAt: now, actionId: started.id }, now);
        return started.id;
      });
      const deleted = { body: { action: { id: deleteAction } } };
      await worker.runOnce();
      assert.deepEqual((await image(made.id)).hostIds, ['host_c'], 'the unreachable host is still to do');
      assert.equal((await action(deleted.body.action.id)).status, 'running');
      assert.equal(hosts[0].images.has(made.id) || hosts[1].images.has(made.id), false);
      hosts[2].state.down = false;
      await worker.runOnce();
      assert.deepEqual((await image(made.id)).hostIds, []);
      assert.equal(hosts[2].images.has(made.id), false);
      assert.equal((await action(deleted.body.action.id)).status, 'success');
      assert.ok(recorded.some((r) => r[0] === 'lost' && r[1] === 'host_c' && r[2] === made.id));
    });
  });
}
