/** Pure parsers of the small text files of /sys and /proc the fingerprint reads. */
export { parseCpuList } from '../../inventory/index.ts';

/** `Node 0 MemTotal:  24576000 kB` of /sys/devices/system/node/nodeN/meminfo → MiB (floor). */
export function parseNodeMemTotalMiB(meminfo: string): number {
  const match = /MemTotal:\s+(\d+)\s*kB/.exec(meminfo);
  return match ? Math.floor(Number(match[1]) / 1024) : 0;
}

/** `0x10de\n` → 0x10de; null when unreadable. */
export function parseHexId(text: string | null): number | null {
  if (text === null) return null;
  const value = Number.parseInt(text.trim(), 16);
  return Number.isNaN(value) ? null : value;
}

/** A PCI device's `numa_node`: `-1` (no affinity, single-node machines) counts as node 0. */
export function parseNumaNode(text: string | null): number {
  const value = text === null ? Number.NaN : Number.parseInt(text.trim(), 10);
  return Number.isNaN(value) || value < 0 ? 0 : value;
}

export type PciKind = 'gpu' | 'ethernet' | 'other';

/** PCI class code (24 bits): 0x0300xx VGA / 0x0302xx 3D controller → gpu; 0x0200xx → ethernet. */
export function pciKind(classCode: number | null): PciKind {
  if (classCode === null) return 'other';
  const baseAndSub = classCode >> 8;
  if (baseAndSub === 0x0300 || baseAndSub === 0x0302) return 'gpu';
  if (baseAndSub === 0x0200) return 'ethernet';
  return 'other';
}

/** Catalog GPU model names (src/catalog) of the PCI ids the fleet uses. */
const gpuModels: Record<string, string> = {
  '10de:1eb8': 'nvidia-t4',
  '10de:2684': 'nvidia-rtx4090',
  '10de:20b5': 'nvidia-a100-80g',
  '10de:20b2': 'nvidia-a100-80g',
  '10de:20f1': 'nvidia-a100-40g',
  '10de:20b0': 'nvidia-a100-40g',
};

export function gpuModelName(vendor: number, device: number): string {
  const key = `${vendor.toString(16).padStart(4, '0')}:${device.toString(16).padStart(4, '0')}`;
  return gpuModels[key] ?? `pci-${key}`;
}

/** `speed` of a NIC in Mb/s (`-1` when the link is down) → Gb/s. */
export function parseSpeedGbps(text: string | null): number {
  const mbps = text === null ? Number.NaN : Number.parseInt(text.trim(), 10);
  return Number.isNaN(mbps) || mbps <= 0 ? 0 : Math.round(mbps / 1000);
}

/** `model name : AMD EPYC 7543 32-Core Processor` of /proc/cpuinfo. */
export function parseCpuModel(cpuinfo: string): string {
  const match = /^model name\s*:\s*(.+)$/m.exec(cpuinfo);
  return match ? match[1].trim() : 'unknown';
}
