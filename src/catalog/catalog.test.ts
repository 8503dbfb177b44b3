import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEventBus, createManualClock } from '../core/index.ts';
import { inTransaction } from '../db/index.ts';
import { createTestDatabase, testDialects } from '../db/test-helpers.ts';
import { createEventRecorder } from '../events/index.ts';
import { hostShapes, topologyOfShape } from '../inventory/index.ts';
import { createCatalogService } from './service.ts';
import { createCatalogStore } from './store.ts';
import { defaultFleet, defaultProducts, type ProductDefinition } from './vmcloud-defaults.ts';

const sriovDefaults = ['vps-enterprise-plus', 'gpu-t4', 'gpu-rtx4090', 'gpu-a100'];

for (const dialect of testDialects()) {
  test(`${dialect}: products carry the SR-IOV flag: the largest VPS and the GPU products have it`, async () => {
    const database = await createTestDatabase(dialect);
    try {
      const clock = createManualClock();
      const catalog = createCatalogService({
        db: database.db,
        clock,
        events: createEventRecorder({ bus: createEventBus(), clock }),
      });
      await catalog.loadDefaults();
      const products = await catalog.listProducts();
      assert.deepEqual(
        products.filter((p) => p.sriov).map((p) => p.code),
        sriovDefaults,
      );
      assert.equal((await catalog.getProduct('VPS-ENTERPRISE+')).sriov, true);
      assert.equal((await catalog.productSpec('vps-nano')).sriov, false);
    } finally {
      await database.dispose();
    }
  });

  test(`${dialect}: a product row without the flag is not SR-IOV, and loading the defaults keeps an existing row`, async () => {
    const database = await createTestDatabase(dialect);
    try {
      const store = createCatalogStore(database.db);
      const enterprise = defaultProducts.find((p) => p.code === 'vps-enterprise-plus')!;
      const { sriov: _sriov, ...withoutFlag } = enterprise;
      const plain: ProductDefinition = { ...withoutFlag, code: 'vps-plain', name: 'VPS-PLAIN' };
      const make = { nowIso: '2026-01-01T00:00:00.000Z', imageId: () => 'image_x' };
      // An operator's row of an older release (before the flag): the column's default is 0.
      await inTransaction(database.db, (tx) =>
        store.insertDefaults(tx, { regions: [], products: [plain, withoutFlag], images: [] }, make),
      );
      // The defaults, loaded again (next start), do not overwrite it.
      await inTransaction(database.db, (tx) =>
        store.insertDefaults(tx, { regions: [], products: defaultProducts, images: [] }, make),
      );
      const byCode = new Map((await store.listProducts()).map((p) => [p.code, p.sriov]));
      assert.equal(byCode.get('vps-plain'), false);
      assert.equal(byCode.get('vps-enterprise-plus'), false, 'an existing row keeps its value');
      assert.equal(byCode.get('gpu-a100'), true, 'a missing default row comes with its flag');
    } finally {
      await database.dispose();
    }
  });
}

test('the SR-IOV flag costs no default product a host: every host that can take one has VFs on every NUMA node', () => {
  // (Some regions sell a GPU product without hosts for it, e.g. GPU-T4 in PAR1: a fleet matter, not SR-IOV's.)
  for (const product of defaultProducts.filter((p) => p.sriov)) {
    for (const region of product.regions) {
      const shapes = defaultFleet
        .filter((entry) => entry.region === region)
        .map((entry) => hostShapes[entry.shape])
        .filter((shape) => (product.gpuModel === null ? shape.gpuModel === null : shape.gpuModel === product.gpuModel));
      for (const shape of shapes) {
        const topology = topologyOfShape(shape);
        for (const node of topology.numaNodes) {
          const vfs = topology.nics.filter((nic) => nic.numaNode === node.id).flatMap((nic) => nic.vfs);
          assert.ok(vfs.length > 0, `${shape.name} has VFs on NUMA node ${node.id}`);
        }
      }
    }
  }
});
