/**
 * Finding 3 of the trust-boundaries issue, its last part: a create is refused (409 `image_not_on_host`)
 * when the hosts with room do not hold the server's image, instead of being placed where the driver then
 * fails. Hosts report their images when they register and, when the list changes, with a heartbeat; an
 * operator's upload to a host counts at once. Simulated hosts report nothing: they boot every image.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Compile } from 'typebox/compile';
import { HeartbeatBody, RegisterHostBody } from '../src/contract/index.ts';
import { hostShapes, topologyOfShape } from '../src/inventory/index.ts';
import { startTestControlPlane, testDialects, type TestControlPlane } from './helpers.ts';

const registration = (name: string, images: string[] | null) => ({
  name,
  region: 'fra1',
  driver: 'sim' as const,
  cpuModel: 'AMD EPYC 7543',
  topology: topologyOfShape(hostShapes['std-7543']),
  agentVersion: 'test',
  address: null,
  images,
});

for (const dialect of testDialects()) {
  describe(`servers are placed only where their image is (${dialect})`, () => {
    let t: TestControlPlane;
    let debianHost: string;
    let ubuntuHost: string;

    before(async () => {
      t = await startTestControlPlane(dialect, { fleet: 'none' });
      const inventory = t.cp.services.inventory;
      ({ hostId: debianHost } = await inventory.registerHost({ kind: 'local' }, registration('img-a', ['debian-12'])));
      ({ hostId: ubuntuHost } = await inventory.registerHost(
        { kind: 'local' },
        registration('img-b', ['ubuntu-24.04', 'debian-12']),
      ));
      await t.cp.services.scheduler.refreshHost(debianHost);
      await t.cp.services.scheduler.refreshHost(ubuntuHost);
    });
    after(() => t?.dispose());

    const usage = async () => (await t.call('GET', '/v1/project')).body.project.usage;
    const serverCount = async () => (await t.call('GET', '/v1/servers?limit=100')).body.servers.length;
    const create = (name: string, image: string) =>
      t.call('POST', '/v1/servers', { body: { name, product: 'vps-starter', region: 'fra1', image } });
    const hostServers = async (hostId: string) => (await t.cp.services.inventory.getHost(hostId)).usage.servers;

    test('the contract bounds what a host may report', () => {
      const registrationSchema = Compile(RegisterHostBody);
      const body = (images: unknown) => ({
        name: 'h',
        region: 'fra1',
        driver: 'sim',
        cpu_model: 'x',
        topology: topologyOfShape(hostShapes['std-7543']),
        agent_version: 'test',
        address: null,
        images,
      });
      assert.ok(registrationSchema.Check(body(['debian-12'])));
      assert.ok(registrationSchema.Check(body(null)), 'null: every image (simulated hosts)');
      assert.equal(registrationSchema.Check(body(['../etc/passwd'])), false, 'a slug, not a path');
      assert.equal(registrationSchema.Check(body(Array.from({ length: 10_001 }, (_, i) => `i${i}`))), false);
      const heartbeatSchema = Compile(HeartbeatBody);
      assert.ok(heartbeatSchema.Check({}));
      assert.equal(heartbeatSchema.Check({ images: ['UPPER'] }), false);
    });

    test('hosts show the images they reported', async () => {
      assert.deepEqual((await t.cp.services.inventory.getHost(ubuntuHost)).images, ['debian-12', 'ubuntu-24.04']);
    });

    test('a server goes to the host that holds its image', async () => {
      const before = await hostServers(ubuntuHost);
      const created = await create('img-ubuntu', 'ubuntu-24.04');
      assert.equal(created.status, 202, JSON.stringify(created.body));
      assert.equal(await hostServers(ubuntuHost), before + 1);
    });

    test('no host with room holds the image: 409 image_not_on_host, nothing created or counted', async () => {
      const [usageBefore, countBefore] = [await usage(), await serverCount()];
      const refused = await create('img-rocky', 'rocky-9');
      assert.equal(refused.status, 409, JSON.stringify(refused.body));
      assert.equal(refused.body.reason, 'image_not_on_host');
      assert.match(refused.body.detail, /rocky-9/);
      const image = refused.body.placement.rejections.find((r: { filter: string }) => r.filter === 'image');
      assert.equal(image?.hosts, 2, 'both hosts had room but not the image');
      assert.deepEqual(await usage(), usageBefore);
      assert.equal(await serverCount(), countBefore);
    });

    test('an image reported with a heartbeat is placeable at once', async () => {
      await t.cp.services.inventory.heartbeat(debianHost, { images: ['debian-12', 'rocky-9'] });
      assert.deepEqual((await t.cp.services.inventory.getHost(debianHost)).images, ['debian-12', 'rocky-9']);
      const before = await hostServers(debianHost);
      const created = await create('img-rocky', 'rocky-9');
      assert.equal(created.status, 202, JSON.stringify(created.body));
      assert.equal(await hostServers(debianHost), before + 1);
    });

    test('an image uploaded to a host counts for it at once', async () => {
      await t.cp.services.inventory.addHostImage(ubuntuHost, 'almalinux-9');
      const created = await create('img-alma', 'almalinux-9');
      assert.equal(created.status, 202, JSON.stringify(created.body));
    });

    test('a lack of room stays no_capacity, even where the image is missing too', async () => {
      const refused = await t.call('POST', '/v1/servers', {
        body: { name: 'img-huge', product: 'gpu-t4', region: 'fra1', image: 'cuda-12' },
      });
      assert.equal(refused.status, 409, JSON.stringify(refused.body));
      assert.notEqual(refused.body.reason, 'image_not_on_host');
    });
  });
}
