/** Helpers for the scheduler's tests: random host topologies, requests, and placing inside one transaction. */
import fc from 'fast-check';
import { inTransaction, type Db } from '../db/index.ts';
import type { HostTopology } from '../inventory/index.ts';
import { markServerDeleted } from './store/fixtures.ts';
import type { PlacementOutcome, PlacementRequest, Scheduler } from './types.ts';

export function vpsRequest(
  serverId: string,
  region: string,
  vcpus: number,
  memoryMiB: number,
  extra: Partial<PlacementRequest> = {},
): PlacementRequest {
  return {
    serverId,
    projectId: 'prj_test',
    region,
    family: 'vps',
    vcpus,
    memoryMiB,
    diskGiB: 10,
    gpuModel: null,
    gpuCount: 0,
    sriovVfs: 0,
    placementGroupId: null,
    ...extra,
  };
}

export function gpuRequest(
  serverId: string,
  region: string,
  gpuModel: string,
  extra: Partial<PlacementRequest> = {},
): PlacementRequest {
  return {
    serverId,
    projectId: 'prj_test',
    region,
    family: 'gpu',
    vcpus: 8,
    memoryMiB: 48 * 1024,
    diskGiB: 100,
    gpuModel,
    gpuCount: 1,
    sriovVfs: 0,
    placementGroupId: null,
    ...extra,
  };
}

export function placeOne(db: Db, scheduler: Scheduler, request: PlacementRequest): Promise<PlacementOutcome> {
  return inTransaction(db, (tx, hooks) => scheduler.place(tx, hooks, request));
}

export function releaseOne(db: Db, scheduler: Scheduler, serverId: string): Promise<void> {
  return inTransaction(db, async (tx, hooks) => {
    await scheduler.release(tx, hooks, serverId);
    await markServerDeleted(tx, serverId);
  });
}

export interface NodeSpec {
  cores: number;
  memoryGiB: number;
}
export interface HostSpec {
  smt: number;
  nodes: NodeSpec[];
  reservedCores: number;
  gpus: Array<{ model: string; node: number }>;
  vfsPerNode: number;
  diskGiB: number;
}

/** GPU models of random hosts. */
export const gpuModels = ['ga', 'gb'];

/** A random host: 1–3 NUMA nodes, SMT 1 or 2, a core of reserve or none, GPUs of two models, VFs. */
export const hostSpec: fc.Arbitrary<HostSpec> = fc.record({
  smt: fc.integer({ min: 1, max: 2 }),
  nodes: fc.array(fc.record({ cores: fc.integer({ min: 1, max: 6 }), memoryGiB: fc.integer({ min: 2, max: 16 }) }), {
    minLength: 1,
    maxLength: 3,
  }),
  reservedCores: fc.integer({ min: 0, max: 1 }),
  gpus: fc.array(fc.record({ model: fc.constantFrom(...gpuModels), node: fc.nat(2) }), { maxLength: 3 }),
  vfsPerNode: fc.integer({ min: 0, max: 3 }),
  diskGiB: fc.integer({ min: 20, max: 200 }),
});

export function topologyOf(spec: HostSpec): HostTopology {
  const totalCores = spec.nodes.reduce((sum, node) => sum + node.cores, 0);
  let coreId = 0;
  const reservedThreads: number[] = [];
  const numaNodes = spec.nodes.map((node, id) => {
    const cores = [];
    for (let c = 0; c < node.cores; c++, coreId++) {
      const threads = Array.from({ length: spec.smt }, (_, t) => coreId + t * totalCores);
      if (c < spec.reservedCores && node.cores > 1) reservedThreads.push(...threads);
      cores.push({ id: coreId, threads });
    }
    return { id, memoryMiB: node.memoryGiB * 1024, cores };
  });
  return {
    sockets: spec.nodes.length,
    numaNodes,
    reservedThreads,
    reservedMemoryMiBPerNode: 512,
    diskGiB: spec.diskGiB,
    gpus: spec.gpus.map((gpu, i) => ({
      pciAddress: `0000:${(0x41 + i).toString(16)}:00.0`,
      model: gpu.model,
      numaNode: gpu.node % spec.nodes.length,
      iommuGroup: i,
    })),
    nics: spec.nodes.map((_, id) => ({
      name: `nic${id}`,
      pciAddress: `0000:2${id}:00.0`,
      numaNode: id,
      speedGbps: 25,
      vfs: Array.from({ length: spec.vfsPerNode }, (_, v) => ({ index: v, pciAddress: `0000:2${id}:00.${v + 2}` })),
    })),
  };
}
