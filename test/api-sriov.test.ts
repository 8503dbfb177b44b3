/**
 * SR-IOV through the REST API on the simulated fleet, on both dialects: the product flag, a VF claimed on the
 * server's NUMA node at create and resize (shown in its placement), and the VF named by its physical
 * function and number in the desired state the host receives.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../src/db/test-helpers.ts';
import { hostShapes, topologyOfShape } from '../src/inventory/index.ts';
import { startTestControlPlane, type TestControlPlane } from './helpers.ts';

const stdTopology = topologyOfShape(hostShapes['std-7543']);

for (const dialect of testDialects()) {
  describe(`SR-IOV through the REST API (${dialect})`, () => {
    let t: TestControlPlane;
    before(async () => {
      t = await startTestControlPlane(dialect);
    });
    after(async () => {
      await t?.dispose();
    });

    const create = async (name: string, product: string) => {
      const created = await t.call('POST', '/v1/servers', {
        body: { name, product, region: 'fra1', image: 'debian-12' },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      assert.equal((await t.waitForAction(created.body.action.id)).status, 'success');
      return created.body.server as { id: string; placement: { numa_nodes: number[]; vfs: string[] } };
    };
    const show = async (id: string) => (await t.call('GET', `/v1/servers/${id}`)).body.server;
    const specOf = async (serverId: string) => {
      const claim = (await t.cp.services.scheduler.placementsOf(t.cp.db, [serverId])).get(serverId)!;
      const desired = await t.cp.services.hostSync.desiredFor(claim.hostId, { diskKeys: false });
      return desired.find((d) => d.spec.serverId === serverId)!.spec;
    };
    const act = async (id: string, path: string, body?: unknown) => {
      const response = await t.call('POST', `/v1/servers/${id}/actions/${path}`, body === undefined ? {} : { body });
      assert.equal(response.status, 202, `${path}: ${JSON.stringify(response.body)}`);
      const action = await t.waitForAction(response.body.action.id);
      assert.equal(action.status, 'success', `${path}: ${JSON.stringify(action)}`);
    };

    test('products say which ones come with a VF', async () => {
      const { body } = await t.call('GET', '/v1/products');
      const flags = Object.fromEntries(body.products.map((p: { code: string; sriov: boolean }) => [p.code, p.sriov]));
      assert.equal(flags['vps-enterprise-plus'], true);
      assert.equal(flags['gpu-t4'], true);
      assert.equal(flags['vps-nano'], false);
      assert.equal(flags['vps-business'], false);
    });

    test('a server of an SR-IOV product gets one VF of the NIC on its NUMA node, named in its desired state', async () => {
      const server = await create('fast-1', 'vps-enterprise-plus');
      const shown = await show(server.id);
      assert.equal(shown.placement.numa_nodes.length, 1);
      assert.equal(shown.placement.vfs.length, 1, JSON.stringify(shown.placement));
      assert.deepEqual(server.placement.vfs, shown.placement.vfs, 'the create answer shows it too');

      const spec = await specOf(server.id);
      assert.deepEqual(spec.vfs, shown.placement.vfs);
      assert.equal(spec.vfDevices?.length, 1);
      const [device] = spec.vfDevices!;
      const nic = stdTopology.nics.find((n) => n.name === device.pf);
      assert.ok(nic, `${device.pf} is a NIC of the host`);
      assert.equal(nic.numaNode, shown.placement.numa_nodes[0], 'the VF sits on the NUMA node of the server');
      assert.equal(nic.vfs[device.vfIndex].pciAddress, device.pciAddress);
      assert.equal(device.pciAddress, shown.placement.vfs[0]);

      // Two servers never share a VF.
      const second = await create('fast-2', 'vps-enterprise-plus');
      assert.notDeepEqual((await show(second.id)).placement.vfs, shown.placement.vfs);
    });

    test('a product without the flag gets no VF; resizing into and out of an SR-IOV product claims and frees it', async () => {
      const server = await create('plain-1', 'vps-business');
      assert.deepEqual((await show(server.id)).placement.vfs, []);
      assert.equal((await specOf(server.id)).vfDevices, undefined);

      await act(server.id, 'stop');
      await act(server.id, 'resize', { product: 'vps-enterprise-plus' });
      const grown = await show(server.id);
      assert.equal(grown.placement.vfs.length, 1);
      assert.equal((await specOf(server.id)).vfDevices?.[0].pciAddress, grown.placement.vfs[0]);

      await act(server.id, 'resize', { product: 'vps-business' });
      assert.deepEqual((await show(server.id)).placement.vfs, [], 'the VF is given back');
      assert.equal((await specOf(server.id)).vfDevices, undefined);
    });

    test('GPU products come with a VF too, beside their GPU', async () => {
      const gpu = await create('gpu-1', 'gpu-t4');
      const placement = (await show(gpu.id)).placement;
      assert.equal(placement.gpus.length, 1);
      assert.equal(placement.vfs.length, 1);
    });
  });
}
