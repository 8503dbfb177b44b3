/**
 * Capacity, pure: how many more servers of each product fit in each region right now, by packing copies
 * of every active host's free counts with the same NUMA fit the engine uses (hosts are independent, so the
 * sum over hosts is the fleet's answer), plus the utilization of compute, memory, disk and GPUs.
 */
import type { Demand } from './demand.ts';
import { isGpuHost } from './fleet-index.ts';
import { hasGpuModel, hostFree, type HostState } from './host-state.ts';
import { fitOnHost, type HostFree } from './numa-fit.ts';

export interface CapacityProduct {
  code: string;
  family: 'vps' | 'gpu';
  vcpus: number;
  memoryMiB: number;
  diskGiB: number;
  gpuModel: string | null;
  gpuCount: number;
  /** Regions where the product is sold. */
  regions: readonly string[];
}

export type Availability = 'available' | 'scarce' | 'none';

export interface ProductCapacity {
  product: string;
  /** How many more servers of this product fit now. */
  servers: number;
  /** How many would fit on the region's active hosts if they were empty. */
  serversWhenEmpty: number;
  /** For customers: `none` at 0, `scarce` under 10% of `serversWhenEmpty` (or under 3), else `available`. */
  availability: Availability;
}

export interface Utilization {
  used: number;
  total: number;
  pct: number;
}

export interface RegionCapacity {
  region: string;
  hosts: number;
  activeHosts: number;
  /** Whole cores claimed over sellable cores (host reserve excluded). */
  compute: Utilization & { usedVcpus: number; sellableVcpus: number };
  memoryMiB: Utilization;
  diskGiB: Utilization;
  gpus: Utilization;
  products: ProductCapacity[];
}

export function capacityReport(
  regions: ReadonlyMap<string, readonly HostState[]>,
  products: readonly CapacityProduct[],
  options: { vpsOnGpuHosts: boolean },
): RegionCapacity[] {
  const memo = new Map<string, number>();
  const report: RegionCapacity[] = [];
  for (const [region, hosts] of [...regions].sort(([a], [b]) => a.localeCompare(b))) {
    const active = hosts.filter((host) => host.state === 'active');
    const productsHere = products
      .filter((product) => product.regions.includes(region))
      .map((product): ProductCapacity => {
        const demand = demandOfProduct(product);
        const eligible = active.filter((host) => eligibleFor(host, demand, options.vpsOnGpuHosts));
        const servers = eligible.reduce((sum, host) => sum + countFits(hostFree(host, demand.gpuModel), demand, memo), 0);
        const serversWhenEmpty = eligible.reduce((sum, host) => sum + countFits(emptyFree(host, demand.gpuModel), demand, memo), 0);
        return { product: product.code, servers, serversWhenEmpty, availability: availabilityOf(servers, serversWhenEmpty) };
      });
    report.push({ region, hosts: hosts.length, activeHosts: active.length, ...utilizationOf(hosts), products: productsHere });
  }
  return report;
}

export function availabilityOf(servers: number, serversWhenEmpty: number): Availability {
  if (servers <= 0) return 'none';
  return servers < Math.max(3, Math.ceil(serversWhenEmpty * 0.1)) ? 'scarce' : 'available';
}

/** Servers of one demand that fit on one host's free counts, packing a copy with the engine's NUMA fit. */
export function countFits(free: HostFree, demand: Demand, memo?: Map<string, number>): number {
  const key = memo ? `${JSON.stringify(free)}|${JSON.stringify(demand)}` : '';
  const known = memo?.get(key);
  if (known !== undefined) return known;
  const copy: HostFree = {
    ...free,
    freeCores: [...free.freeCores],
    freeMemoryMiB: [...free.freeMemoryMiB],
    freeGpus: [...free.freeGpus],
    freeVfs: [...free.freeVfs],
  };
  let count = 0;
  for (let choice = fitOnHost(copy, demand); choice; choice = fitOnHost(copy, demand)) {
    choice.nodes.forEach((node, i) => {
      copy.freeCores[node] -= choice.cores[i];
      copy.freeMemoryMiB[node] -= choice.memoryMiB[i];
      copy.freeGpus[node] -= choice.gpus[i];
      copy.freeVfs[node] -= choice.vfs[i];
    });
    copy.freeDiskGiB -= demand.diskGiB;
    count++;
  }
  memo?.set(key, count);
  return count;
}

function demandOfProduct(product: CapacityProduct): Demand {
  return {
    vcpus: product.vcpus,
    memoryMiB: product.memoryMiB,
    diskGiB: product.diskGiB,
    gpuModel: product.family === 'gpu' ? product.gpuModel : null,
    gpuCount: product.family === 'gpu' ? product.gpuCount : 0,
    vfs: 0,
  };
}

function eligibleFor(host: HostState, demand: Demand, vpsOnGpuHosts: boolean): boolean {
  if (demand.gpuModel === null) return !isGpuHost(host) || vpsOnGpuHosts;
  return hasGpuModel(host, demand.gpuModel);
}

function emptyFree(host: HostState, gpuModel: string | null): HostFree {
  return {
    threadsPerCore: host.threadsPerCore,
    freeCores: host.nodes.map((node) => node.sellableCores),
    freeMemoryMiB: host.nodes.map((node) => node.sellableMemoryMiB),
    freeGpus: host.nodes.map((_, i) => (gpuModel === null ? 0 : host.gpus.filter((gpu) => gpu.node === i && gpu.model === gpuModel).length)),
    freeVfs: host.nodes.map((node) => node.vfCount),
    freeDiskGiB: host.sellableDiskGiB,
  };
}

function utilizationOf(hosts: readonly HostState[]): Pick<RegionCapacity, 'compute' | 'memoryMiB' | 'diskGiB' | 'gpus'> {
  let coresTotal = 0, coresFree = 0, vcpusTotal = 0, vcpusUsed = 0;
  let memoryTotal = 0, memoryFree = 0, diskTotal = 0, diskFree = 0, gpusTotal = 0, gpusFree = 0;
  for (const host of hosts) {
    for (const node of host.nodes) {
      coresTotal += node.sellableCores;
      coresFree += node.freeCores.length;
      memoryTotal += node.sellableMemoryMiB;
      memoryFree += node.freeMemoryMiB;
    }
    vcpusTotal += hostSellableThreads(host);
    for (const claim of host.claims.values()) vcpusUsed += claim.placement.threads.length;
    diskTotal += host.sellableDiskGiB;
    diskFree += host.freeDiskGiB;
    gpusTotal += host.gpus.length;
    gpusFree += host.gpus.filter((gpu) => gpu.claimedBy === null).length;
  }
  const of = (used: number, total: number): Utilization => ({ used, total, pct: total === 0 ? 0 : round1((100 * used) / total) });
  return {
    compute: { ...of(coresTotal - coresFree, coresTotal), usedVcpus: vcpusUsed, sellableVcpus: vcpusTotal },
    memoryMiB: of(memoryTotal - memoryFree, memoryTotal),
    diskGiB: of(diskTotal - diskFree, diskTotal),
    gpus: of(gpusTotal - gpusFree, gpusTotal),
  };
}

function hostSellableThreads(host: HostState): number {
  let threads = 0;
  for (const node of host.nodes) threads += node.sellableCores * host.threadsPerCore;
  return threads;
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
