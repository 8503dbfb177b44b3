import type { HostTopology, NumaNodeTopology, GpuDevice, SriovNic } from './topology.ts';

/**
 * Hardware shapes of the VMCloud fleet (seed: "Serveurs Physiques"), turned into exact topologies for the
 * simulated hosts. Thread numbering follows Linux on AMD EPYC: thread ids 0..C-1 are the first thread of
 * each core, C..2C-1 their SMT siblings; cores are numbered socket by socket, one NUMA node per socket.
 */
export interface HostShape {
  name: string;
  cpuModel: string;
  sockets: number;
  coresPerSocket: number;
  threadsPerCore: number;
  memoryMiB: number;
  diskGiB: number;
  /** Whole cores kept for the hypervisor on each NUMA node. */
  reservedCoresPerNode: number;
  reservedMemoryMiBPerNode: number;
  gpuModel: string | null;
  gpuCount: number;
  nicSpeedGbps: number;
  /** SR-IOV virtual functions per NIC port (two ports, one per NUMA node). */
  vfsPerNic: number;
}

const GiB = 1024;

export const hostShapes = {
  /** 2× EPYC 7543 (32 cores each), 512 GB, 8× 3.84 TB NVMe in RAID 10, 2× 25 GbE. */
  'std-7543': {
    name: 'std-7543',
    cpuModel: 'AMD EPYC 7543 32-Core Processor',
    sockets: 2,
    coresPerSocket: 32,
    threadsPerCore: 2,
    memoryMiB: 512 * GiB,
    diskGiB: 15_360,
    reservedCoresPerNode: 2,
    reservedMemoryMiBPerNode: 8 * GiB,
    gpuModel: null,
    gpuCount: 0,
    nicSpeedGbps: 25,
    vfsPerNic: 64,
  },
  /** 2× EPYC 7443 (24 cores each), 256 GB, 4× NVIDIA T4. */
  'gpu-t4x4': gpuShape('gpu-t4x4', 'nvidia-t4', 4, 256, 25),
  /** A half-populated T4 chassis (FRA1 has 6 T4: one 4-GPU and one 2-GPU host). */
  'gpu-t4x2': gpuShape('gpu-t4x2', 'nvidia-t4', 2, 256, 25),
  /** 2× EPYC 7443, 384 GB, 4× RTX 4090. */
  'gpu-rtx4090x4': gpuShape('gpu-rtx4090x4', 'nvidia-rtx4090', 4, 384, 25),
  /** A half-populated RTX 4090 chassis (FRA1 has 6 RTX 4090). */
  'gpu-rtx4090x2': gpuShape('gpu-rtx4090x2', 'nvidia-rtx4090', 2, 384, 25),
  /** 2× EPYC 7443, 768 GB, 8× A100 80 GB, 100 GbE. */
  'gpu-a100x8': gpuShape('gpu-a100x8', 'nvidia-a100-80g', 8, 768, 100),
  /** 2× EPYC 7443, 768 GB, 4× A100 80 GB, 100 GbE (MAD1). */
  'gpu-a100x4': gpuShape('gpu-a100x4', 'nvidia-a100-80g', 4, 768, 100),
} satisfies Record<string, HostShape>;

export type HostShapeName = keyof typeof hostShapes;

function gpuShape(
  name: string,
  gpuModel: string,
  gpuCount: number,
  memoryGiB: number,
  nicSpeedGbps: number,
): HostShape {
  return {
    name,
    cpuModel: 'AMD EPYC 7443 24-Core Processor',
    sockets: 2,
    coresPerSocket: 24,
    threadsPerCore: 2,
    memoryMiB: memoryGiB * GiB,
    diskGiB: 7_680,
    reservedCoresPerNode: 2,
    reservedMemoryMiBPerNode: 8 * GiB,
    gpuModel,
    gpuCount,
    nicSpeedGbps,
    vfsPerNic: 32,
  };
}

/** Builds the exact topology of a shape; GPUs and NICs are split evenly across NUMA nodes. */
export function topologyOfShape(shape: HostShape): HostTopology {
  const coresTotal = shape.sockets * shape.coresPerSocket;
  const numaNodes: NumaNodeTopology[] = [];
  const reservedThreads: number[] = [];
  for (let node = 0; node < shape.sockets; node++) {
    const cores = [];
    for (let c = 0; c < shape.coresPerSocket; c++) {
      const coreId = node * shape.coresPerSocket + c;
      const threads = [];
      for (let t = 0; t < shape.threadsPerCore; t++) threads.push(coreId + t * coresTotal);
      cores.push({ id: coreId, threads });
      if (c < shape.reservedCoresPerNode) reservedThreads.push(...threads);
    }
    numaNodes.push({ id: node, memoryMiB: shape.memoryMiB / shape.sockets, cores });
  }
  const gpus: GpuDevice[] = [];
  for (let g = 0; g < shape.gpuCount; g++) {
    const numaNode = Math.floor((g * shape.sockets) / shape.gpuCount);
    gpus.push({
      pciAddress: `0000:${(0x41 + g * 0x10).toString(16).padStart(2, '0')}:00.0`,
      model: shape.gpuModel ?? '',
      numaNode,
      iommuGroup: 20 + g,
    });
  }
  const nics: SriovNic[] = [];
  for (let node = 0; node < shape.sockets; node++) {
    const bus = (0x21 + node * 0x80).toString(16).padStart(2, '0');
    const vfs = [];
    for (let v = 0; v < shape.vfsPerNic; v++) {
      const fn = v + 2;
      vfs.push({
        index: v,
        pciAddress: `0000:${bus}:${Math.floor(fn / 8)
          .toString(16)
          .padStart(2, '0')}.${fn % 8}`,
      });
    }
    nics.push({
      name: `enp${parseInt(bus, 16)}s0f${node}`,
      pciAddress: `0000:${bus}:00.${node}`,
      numaNode: node,
      speedGbps: shape.nicSpeedGbps,
      vfs,
    });
  }
  return {
    sockets: shape.sockets,
    numaNodes,
    reservedThreads: reservedThreads.sort((a, b) => a - b),
    reservedMemoryMiBPerNode: shape.reservedMemoryMiBPerNode,
    diskGiB: shape.diskGiB,
    gpus,
    nics,
  };
}
