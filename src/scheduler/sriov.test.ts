/**
 * SR-IOV claims: a request for a VF gets one of a NIC on the server's own NUMA node, never one of another
 * server, and is refused (explained by the `sriov` filter) where no VF is free; capacity counts VFs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, testDialects } from '../db/test-helpers.ts';
import { hostShapes, topologyOfShape, type HostTopology } from '../inventory/index.ts';
import { defaultProducts } from '../catalog/index.ts';
import { insertHosts, insertProject, insertRegions, insertServers, shapeHost } from './store/fixtures.ts';
import { createScheduler, type SchedulerDeps } from './index.ts';
import { placeOne, vpsRequest } from './test-support.ts';

const GiB = 1024;
const std = topologyOfShape(hostShapes['std-7543']);
/** A std-7543 whose node-0 port has no VFs and whose node-1 port has two. */
const vfsOnNode1Only: HostTopology = {
  ...std,
  nics: [
    { ...std.nics[0], vfs: [] },
    { ...std.nics[1], vfs: std.nics[1].vfs.slice(0, 2) },
  ],
};
const withoutNics: HostTopology = { ...std, nics: [] };

async function setup(
  dialect: 'sqlite' | 'postgres',
  hosts: Array<[string, HostTopology]>,
  options: Partial<SchedulerDeps> = {},
) {
  const database = await createTestDatabase(dialect);
  await insertRegions(database.db);
  await insertHosts(
    database.db,
    hosts.map(([id, topology]) => shapeHost(id, 'fra1', 'std-7543', 'active', topology)),
  );
  await insertProject(database.db, 'prj_test');
  await insertServers(
    database.db,
    Array.from({ length: 40 }, (_, i) => ({ id: `srv_${i}`, projectId: 'prj_test', region: 'fra1' })),
  );
  const scheduler = createScheduler({ db: database.db, dialect, ...options });
  await scheduler.reload();
  return { database, scheduler };
}

/** The NUMA node of the NIC that owns a VF. */
const nodeOfVf = (topology: HostTopology, address: string) =>
  topology.nics.find((nic) => nic.vfs.some((vf) => vf.pciAddress === address))?.numaNode;

for (const dialect of testDialects()) {
  test(`${dialect}: every VF claimed is of a NIC on the server's NUMA node, and none is claimed twice`, async () => {
    const { database, scheduler } = await setup(dialect, [
      ['host_a', std],
      ['host_b', std],
    ]);
    try {
      const claimed = new Set<string>();
      const nodesUsed = new Set<number>();
      // Sizes from 1 to 16 vCPUs: servers land on both nodes of both hosts.
      for (let i = 0; i < 30; i++) {
        const vcpus = [16, 4, 8, 1, 2][i % 5];
        const outcome = await placeOne(
          database.db,
          scheduler,
          vpsRequest(`srv_${i}`, 'fra1', vcpus, vcpus * 2 * GiB, { sriovVfs: 1 }),
        );
        assert.ok(outcome.ok, `server ${i}`);
        const { placement } = outcome;
        assert.equal(placement.vfs.length, 1);
        const [vf] = placement.vfs;
        const key = `${placement.hostId}/${vf}`;
        assert.ok(!claimed.has(key), `${key} claimed twice`);
        claimed.add(key);
        const node = nodeOfVf(std, vf);
        assert.ok(node !== undefined && placement.numaNodes.includes(node), `${vf} on node ${node}`);
        nodesUsed.add(node);
      }
      assert.deepEqual([...nodesUsed].sort(), [0, 1], 'both nodes served VFs');
      assert.deepEqual((await scheduler.auditPlacement()).violations, []);
    } finally {
      await database.dispose();
    }
  });

  test(`${dialect}: a server needing a VF goes to the node whose NIC has one, and is refused when none is left`, async () => {
    const { database, scheduler } = await setup(dialect, [
      ['host_a', vfsOnNode1Only],
      ['host_n', withoutNics],
    ]);
    try {
      for (const id of ['srv_0', 'srv_1']) {
        const outcome = await placeOne(database.db, scheduler, vpsRequest(id, 'fra1', 2, 4 * GiB, { sriovVfs: 1 }));
        assert.ok(outcome.ok);
        assert.equal(outcome.placement.hostId, 'host_a', 'the host without NICs takes no SR-IOV server');
        assert.deepEqual(outcome.placement.numaNodes, [1], 'node 0 has cores but no VF');
        assert.equal(nodeOfVf(vfsOnNode1Only, outcome.placement.vfs[0]), 1);
      }
      const refused = await placeOne(database.db, scheduler, vpsRequest('srv_2', 'fra1', 2, 4 * GiB, { sriovVfs: 1 }));
      assert.equal(refused.ok, false);
      if (refused.ok) return;
      assert.ok(
        refused.failure.rejections.some((r) => r.filter === 'sriov' && r.hosts === 2),
        JSON.stringify(refused.failure.rejections),
      );
      assert.match(refused.failure.message, /SR-IOV VF/);
      // The same server without a VF still fits.
      assert.ok((await placeOne(database.db, scheduler, vpsRequest('srv_3', 'fra1', 2, 4 * GiB))).ok);
    } finally {
      await database.dispose();
    }
  });

  test(`${dialect}: capacity counts an SR-IOV product only where VFs are free`, async () => {
    const enterprise = defaultProducts.find((p) => p.code === 'vps-enterprise-plus')!;
    const products = [
      { ...enterprise, sriov: true },
      { ...enterprise, code: 'no-vf', sriov: false },
    ];
    const { database, scheduler } = await setup(dialect, [['host_a', vfsOnNode1Only]], { products });
    try {
      const [fra1] = await scheduler.capacity('fra1');
      const servers = Object.fromEntries(fra1.products.map((p) => [p.product, p.servers]));
      assert.equal(servers['no-vf'], 7, 'three per NUMA node, and one across both');
      assert.equal(servers['vps-enterprise-plus'], 2, 'two VFs, both on node 1');
    } finally {
      await database.dispose();
    }
  });
}
