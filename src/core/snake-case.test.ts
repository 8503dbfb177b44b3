import { test } from 'node:test';
import assert from 'node:assert/strict';
import { snakeCaseKey, snakeCaseKeys } from './snake-case.ts';

test('snake_case keys', () => {
  const table: Array<[string, string]> = [
    ['memoryMiB', 'memory_mib'],
    ['diskGiB', 'disk_gib'],
    ['pciAddress', 'pci_address'],
    ['activeHosts', 'active_hosts'],
    ['serversWhenEmpty', 'servers_when_empty'],
    ['usedVcpus', 'used_vcpus'],
    ['iommuGroup', 'iommu_group'],
    ['hostId', 'host_id'],
    ['already_snake', 'already_snake'],
    ['pct', 'pct'],
  ];
  for (const [from, to] of table) assert.equal(snakeCaseKey(from), to);
  assert.deepEqual(snakeCaseKeys({ largestAvailable: { memoryMiB: 1 }, moved: [{ serverId: 'a' }], none: null }), {
    largest_available: { memory_mib: 1 },
    moved: [{ server_id: 'a' }],
    none: null,
  });
});
