/**
 * The REST API speaks snake_case. Domain values (capacity reports, audit violations, topologies, placement
 * failures) are camelCase TypeScript; the edge renames their keys, deeply. `memoryMiB` → `memory_mib`,
 * `pciAddress` → `pci_address`. Pure.
 */
export function snakeCaseKey(key: string): string {
  return key
    .replace(/([MG])iB/g, (_, unit: string) => `${unit}ib`)
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

export function snakeCaseKeys<T>(value: T): unknown {
  if (Array.isArray(value)) return value.map((item) => snakeCaseKeys(item));
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([key, item]) => [snakeCaseKey(key), snakeCaseKeys(item)]),
  );
}
