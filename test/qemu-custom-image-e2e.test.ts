/**
 * Custom images end to end with real QEMU through the control plane: two `--local-host qemu` hosts in fra1.
 * A server writes a marker on its disk from its user-data script at boot; stopped, it becomes a custom image
 * (its encrypted disk converted to a plain standalone qcow2 in its host's image store, copied to the other
 * host); with its host in maintenance, a server of that image is placed on the other host, and its guest
 * reads the marker back on its console. The image cannot be deleted while that server lives; deleted after,
 * its files leave both hosts. Skips when QEMU, the guest kernel or busybox are missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { realQemuSkipReason } from '../src/compute/drivers/qemu/real-qemu-support.ts';
import { buildTestGuest, createImageStore, importTestImage, guestMarkers } from '../src/images/index.ts';
import { startLocalQemuHost } from '../src/daemons/local-host.ts';
import { startTestControlPlane, until, type TestControlPlane } from './helpers.ts';

const skip = await realQemuSkipReason();
const MiB = 1024 * 1024;
const marker = 'VMC-CUSTOM-IMAGE-1';
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
      if (until.test(seen)) {
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

test(
  'real QEMU custom image: made from a stopped server, copied to the region’s other host, booted there with the source’s data',
  { skip: skip || undefined, timeout: 600_000 },
  async () => {
    const work = mkdtempSync('/tmp/vcimg-');
    const guest = await buildTestGuest({ outDir: join(work, 'build') });
    const imageDirs = [join(work, 'images-a'), join(work, 'images-b')];
    for (const dir of imageDirs) await importTestImage(createImageStore({ dir }), guest);
    const t = await startTestControlPlane('sqlite', { fleet: 'none', hostAddressPolicy: 'routable-only' });
    const hosts = [
      await startLocalQemuHost(t.cp, {
        region: 'fra1',
        name: 'fra1-qemu-a',
        dataDir: join(work, 'data-a'),
        imageDir: imageDirs[0],
        network: false,
        reservedCoresPerNode: 0,
      }),
      await startLocalQemuHost(t.cp, {
        region: 'fra1',
        name: 'fra1-qemu-b',
        dataDir: join(work, 'data-b'),
        imageDir: imageDirs[1],
        network: false,
        reservedCoresPerNode: 0,
      }),
    ];
    const operator = { token: t.secrets.operatorToken };
    const servers: string[] = [];
    const createServer = async (body: object) => {
      const created = await t.call('POST', '/v1/servers', { body });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      servers.push(created.body.server.id);
      assert.equal((await t.waitForAction(created.body.action.id, undefined, 120_000)).status, 'success');
      return (await t.call('GET', `/v1/servers/${created.body.server.id}`)).body.server;
    };
    const hostImages = async (hostId: string): Promise<string[]> =>
      (await t.call('GET', `/v1/hosts/${hostId}`, operator)).body.host.images ?? [];
    try {
      await t.cp.services.scheduler.reload();
      // The source server writes the marker on its disk at boot, then is stopped.
      const userData = `#!/bin/sh\nprintf ${marker} | dd of=/dev/vda bs=512 seek=${sector} conv=notrunc 2>/dev/null && sync && echo VMC-CIMG-WROTE-$((40+2))\n`;
      const source = await createServer({
        name: 'cimg-src',
        product: 'vps-nano',
        region: 'fra1',
        image: 'vmcloud-test',
        user_data: userData,
      });
      await until(
        'the source guest wrote its marker',
        async () => /VMC-CIMG-WROTE-42/.test(String((await t.call('GET', `/v1/servers/${source.id}/logs`)).body)),
        120_000,
      );
      const refused = await t.call('POST', `/v1/servers/${source.id}/actions/create-image`, {
        body: { name: 'golden' },
      });
      assert.equal(refused.status, 409);
      assert.equal(refused.body.reason, 'not_stopped');
      const stop = await t.call('POST', `/v1/servers/${source.id}/actions/stop`);
      assert.equal((await t.waitForAction(stop.body.action.id, undefined, 60_000)).status, 'success');

      const created = await t.call('POST', `/v1/servers/${source.id}/actions/create-image`, {
        body: { name: 'golden' },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      const imageId = created.body.image.id as string;
      const action = await t.waitForAction(created.body.action.id, undefined, 300_000);
      assert.equal(action.status, 'success', JSON.stringify(action));
      const image = (await t.call('GET', `/v1/images/${imageId}`)).body.image;
      assert.equal(image.status, 'available');
      assert.ok(image.size_bytes > 0 && image.sha256.length === 64, JSON.stringify(image));
      for (const host of hosts) {
        assert.ok((await hostImages(host.hostId)).includes(imageId), `host ${host.hostId} holds the image`);
        const held = await host.imageStore.get(imageId);
        assert.equal(held?.format, 'qcow2');
        assert.equal(held?.sha256, image.sha256, 'the copy is the same file');
      }

      // The source's host in maintenance: the server of the image goes to the other host, from its copy.
      const holderOf = async (serverId: string) => {
        for (const host of hosts)
          if ((await host.driver.list()).some((instance) => instance.serverId === serverId)) return host.hostId;
        return null;
      };
      const sourceHost = (await holderOf(source.id))!;
      const otherHost = hosts.find((h) => h.hostId !== sourceHost)!.hostId;
      assert.ok(sourceHost && otherHost !== sourceHost);
      const maintenance = await t.call('PATCH', `/v1/hosts/${sourceHost}`, {
        ...operator,
        body: { state: 'maintenance' },
      });
      assert.equal(maintenance.status, 200, JSON.stringify(maintenance.body));
      await t.cp.services.scheduler.reload();
      const copy = await createServer({ name: 'cimg-copy', product: 'vps-nano', region: 'fra1', image: 'golden' });
      assert.equal(copy.image, imageId);
      assert.equal(await holderOf(copy.id), otherHost, 'placed on the host with the copy');
      await until(
        'the copy booted',
        async () => String((await t.call('GET', `/v1/servers/${copy.id}/logs`)).body).includes(guestMarkers.ready),
        120_000,
      );
      const pattern = /CI:([A-Z0-9-]*):CI/;
      const command = `echo "CI:$(dd if=/dev/vda bs=512 skip=${sector} count=1 2>/dev/null | head -c 18 | tr -d '\\000'):CI"`;
      const seen = await until(
        'the copy’s guest reading the marker',
        () => onConsole(t, copy.id, command, pattern).catch(() => null),
        120_000,
      );
      assert.equal(pattern.exec(seen)![1], marker, 'the server of the image has the source’s data');

      // Refused while the copy lives; deleted after it, the file leaves both hosts.
      const inUse = await t.call('DELETE', `/v1/images/golden`);
      assert.equal(inUse.status, 409);
      assert.equal(inUse.body.reason, 'image_in_use');
      for (const id of [...servers]) {
        const deleted = await t.call('DELETE', `/v1/servers/${id}`);
        assert.equal(deleted.status, 202, JSON.stringify(deleted.body));
        assert.equal((await t.waitForAction(deleted.body.action.id, undefined, 90_000)).status, 'success');
        servers.splice(servers.indexOf(id), 1);
      }
      const deleted = await t.call('DELETE', `/v1/images/golden`);
      assert.equal(deleted.status, 202, JSON.stringify(deleted.body));
      assert.equal((await t.waitForAction(deleted.body.action.id, undefined, 60_000)).status, 'success');
      for (const [index, host] of hosts.entries()) {
        assert.equal(await host.imageStore.get(imageId), null, 'the file left the host');
        assert.ok(!existsSync(join(imageDirs[index], imageId)));
        assert.ok(!(await hostImages(host.hostId)).includes(imageId), 'the scheduler no longer places it there');
      }
    } finally {
      // Agents first: a running agent would start again what the desired state still says should run.
      for (const host of hosts) await host.agent.stop();
      for (const host of hosts) {
        for (const id of servers) await host.driver.destroy(id).catch(() => {});
        await host.stop();
      }
      await t.dispose();
      rmSync(work, { recursive: true, force: true });
    }
  },
);
