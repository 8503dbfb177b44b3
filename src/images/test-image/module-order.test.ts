import { test } from 'node:test';
import assert from 'node:assert/strict';
import { moduleLoadOrder, moduleName, parseModulesDep } from './module-order.ts';

const fixture = `kernel/drivers/virtio/virtio.ko:
kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/virtio/virtio_pci_modern_dev.ko:
kernel/drivers/virtio/virtio_pci_legacy_dev.ko:
kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko
kernel/net/core/failover.ko:
kernel/drivers/misc/pvpanic/pvpanic-mmio.ko: kernel/drivers/misc/pvpanic/pvpanic.ko
kernel/drivers/misc/pvpanic/pvpanic.ko:
`;

test('moduleLoadOrder loads each dependency first, once', async (t) => {
  const deps = parseModulesDep(fixture);
  const table: [string[], string[]][] = [
    [['virtio_blk'], ['virtio_ring', 'virtio', 'virtio_blk']],
    [
      ['virtio_pci', 'virtio_blk', 'virtio_net'],
      [
        'virtio_ring',
        'virtio',
        'virtio_pci_modern_dev',
        'virtio_pci_legacy_dev',
        'virtio_pci',
        'virtio_blk',
        'failover',
        'net_failover',
        'virtio_net',
      ],
    ],
    [['pvpanic-mmio'], ['pvpanic', 'pvpanic_mmio']],
  ];
  for (const [wanted, expected] of table)
    await t.test(wanted.join(','), () => assert.deepEqual(moduleLoadOrder(deps, wanted).map(moduleName), expected));
});

test('moduleLoadOrder names a missing module', () => {
  assert.throws(() => moduleLoadOrder(parseModulesDep(fixture), ['nope']), /nope is not in modules.dep/);
});

test('moduleName', () => {
  assert.equal(moduleName('kernel/fs/isofs/isofs.ko'), 'isofs');
  assert.equal(moduleName('kernel/drivers/misc/pvpanic/pvpanic-mmio.ko.xz'), 'pvpanic_mmio');
});
