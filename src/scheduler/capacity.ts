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
  /** One SR-IOV VF per server (absent: none). */
  sriov?: boolean;
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
  // Hosts with the same free counts fit the same servers: count once per distinct (free counts, demand).
  // Empty, hosts of one layout are alike.
  const layoutIds = new Map<unknown, number>();
  for (const hosts of regions.values())
    for (const host of hosts) if (!layoutIds.has(host.layout)) layoutIds.set(host.layout, layoutIds.size);
  const signatures = new Map<string | null, Map<HostState, string>>();
  const signatureOf = (host: HostState, gpuModel: string | null, empty: boolean) => {
    if (empty) return `empty:${layoutIds.get(host.layout)}:${gpuModel}`;
    let byHost = signatures.get(gpuModel);
    if (!byHost) signatures.set(gpuModel, (byHost = new Map()));
    let signature = byHost.get(host);
    if (signature === undefined) byHost.set(host, (signature = freeSignature(hostFree(host, gpuModel))));
    return signature;
  };
  const fits = (host: HostState, demand: Demand, demandKey: string, empty: boolean) => {
    const key = `${signatureOf(host, demand.gpuModel, empty)}|${demandKey}`;
    let count = memo.get(key);
    if (count === undefined) {
      count = countFits(empty ? emptyFree(host, demand.gpuModel) : hostFree(host, demand.gpuModel), demand);
      memo.set(key, count);
    }
    return count;
  };
  const report: RegionCapacity[] = [];
  for (const [region, hosts] of [...regions].sort(([a], [b]) => a.localeCompare(b))) {
    const active = hosts.filter((host) => host.state === 'active');
    const productsHere = products
      .filter((product) => product.regions.includes(region))
      .map((product): ProductCapacity => {
        const demand = demandOfProduct(product);
        const demandKey = JSON.stringify(demand);
        const eligible = active.filter((host) => eligibleFor(host, demand, options.vpsOnGpuHosts));
        let servers = 0;
        let serversWhenEmpty = 0;
        for (const host of eligible) {
          servers += fits(host, demand, demandKey, false);
          serversWhenEmpty += fits(host, demand, demandKey, true);
        }
        return {
          product: product.code,
          servers,
          serversWhenEmpty,
          availability: availabilityOf(servers, serversWhenEmpty),
        };
      });
    report.push({
      region,
      hosts: hosts.length,
      activeHosts: active.length,
      ...utilizationOf(hosts),
      products: productsHere,
    });
  }
  return report;
}

export function availabilityOf(servers: number, serversWhenEmpty: number): Availability {
  if (servers <= 0) return 'none';
  return servers < Math.max(3, Math.ceil(serversWhenEmpty * 0.1)) ? 'scarce' : 'available';
}

/** A host's free counts as text: equal texts fit the same servers. */
function freeSignature(free: HostFree): string {
  return `${free.threadsPerCore}/${free.freeCores}/${free.freeMemoryMiB}/${free.freeGpus}/${free.freeVfs}/${free.freeDiskGiB}`;
}

/** Servers of one demand that fit on one host's free counts, packing a copy with the engine's NUMA fit. */
export function countFits(free: HostFree, demand: Demand): number {
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
  return count;
}

function demandOfProduct(product: CapacityProduct): Demand {
  return {
    vcpus: product.vcpus,
    memoryMiB: product.memoryMiB,
    diskGiB: product.diskGiB,
    gpuModel: product.family === 'gpu' ? product.gpuModel : null,
    gpuCount: product.family === 'gpu' ? product.gpuCount : 0,
    vfs: product.sriov ? 1 : 0,
  };
}

function eligibleFor(host: HostState, demand: Demand, vpsOnGpuHosts: boolean): boolean {
  if (demand.gpuModel === null) return !isGpuHost(host) || vpsOnGpuHosts;
  return hasGpuModel(host, demand.gpuModel);
}

function emptyFree(host: HostState, gpuModel: string | null): HostFree {
  const { layout } = host;
  return {
    threadsPerCore: host.threadsPerCore,
    freeCores: layout.nodes.map((node) => node.sellableCores.length),
    freeMemoryMiB: layout.nodes.map((node) => node.sellableMemoryMiB),
    freeGpus: layout.nodes.map((_, i) =>
      gpuModel === null ? 0 : layout.gpus.filter((gpu) => gpu.node === i && gpu.model === gpuModel).length,
    ),
    freeVfs: layout.nodes.map((node) => node.vfCount),
    freeDiskGiB: layout.sellableDiskGiB,
  };
}

function utilizationOf(
  hosts: readonly HostState[],
): Pick<RegionCapacity, 'compute' | 'memoryMiB' | 'diskGiB' | 'gpus'> {
  let coresTotal = 0,
    coresFree = 0,
    vcpusTotal = 0,
    vcpusUsed = 0;
  let memoryTotal = 0,
    memoryFree = 0,
    diskTotal = 0,
    diskFree = 0,
    gpusTotal = 0,
    gpusFree = 0;
  for (const host of hosts) {
    host.layout.nodes.forEach((node, i) => {
      coresTotal += node.sellableCores.length;
      coresFree += host.nodes[i].freeCores.length;
      memoryTotal += node.sellableMemoryMiB;
      memoryFree += host.nodes[i].freeMemoryMiB;
    });
    vcpusTotal += hostSellableThreads(host);
    for (const claim of host.claims.values()) vcpusUsed += claim.vcpus;
    diskTotal += host.layout.sellableDiskGiB;
    diskFree += host.freeDiskGiB;
    gpusTotal += host.gpuHolders.length;
    gpusFree += host.gpuHolders.filter((holder) => holder === null).length;
  }
  const of = (used: number, total: number): Utilization => ({
    used,
    total,
    pct: total === 0 ? 0 : round1((100 * used) / total),
  });
  return {
    compute: { ...of(coresTotal - coresFree, coresTotal), usedVcpus: vcpusUsed, sellableVcpus: vcpusTotal },
    memoryMiB: of(memoryTotal - memoryFree, memoryTotal),
    diskGiB: of(diskTotal - diskFree, diskTotal),
    gpus: of(gpusTotal - gpusFree, gpusTotal),
  };
}

function hostSellableThreads(host: HostState): number {
  let threads = 0;
  for (const node of host.layout.nodes) threads += node.sellableCores.length * host.threadsPerCore;
  return threads;
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
