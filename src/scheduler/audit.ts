/**
 * The placement audit, pure: re-derives every host's usage from the allocations rows and the host
 * topologies alone (not from the scheduler's memory) and lists every broken invariant. A healthy fleet
 * has none.
 */
import type { HostTopology } from '../inventory/index.ts';
import { splitMemoryMiB } from './numa-fit.ts';
import { isDiskClaimId } from './types.ts';

export type ViolationKind =
  | 'host_missing'
  | 'server_missing'
  | 'server_deleted'
  | 'unknown_thread'
  | 'reserved_thread'
  | 'thread_claimed_twice'
  | 'sibling_shared'
  | 'numa_mismatch'
  | 'memory_over'
  | 'disk_over'
  | 'unknown_gpu'
  | 'gpu_claimed_twice'
  | 'gpu_not_local'
  | 'unknown_vf'
  | 'vf_claimed_twice'
  | 'vf_not_local';

export interface PlacementViolation {
  kind: ViolationKind;
  hostId: string;
  serverIds: string[];
  detail: string;
}

export interface AuditHost {
  id: string;
  topology: HostTopology;
}

export interface AuditAllocation {
  serverId: string;
  hostId: string;
  threads: number[];
  numaNodes: number[];
  memoryMiB: number;
  diskGiB: number;
  gpus: string[];
  vfs: string[];
}

export interface AuditServer {
  id: string;
  deletedAt: string | null;
}

export function auditAllocations(
  hosts: readonly AuditHost[],
  allocations: readonly AuditAllocation[],
  servers: ReadonlyMap<string, AuditServer>,
): PlacementViolation[] {
  const violations: PlacementViolation[] = [];
  const byHost = new Map<string, AuditAllocation[]>();
  for (const allocation of allocations) {
    const server = servers.get(allocation.serverId);
    // A local volume's disk claim has no server row: only its disk counts (below).
    if (isDiskClaimId(allocation.serverId) && allocation.threads.length === 0) {
      // nothing to check against the servers
    } else if (!server)
      violations.push(violation('server_missing', allocation, [], 'the allocation has no server row'));
    else if (server.deletedAt !== null)
      violations.push(violation('server_deleted', allocation, [], `the server was deleted at ${server.deletedAt}`));
    const list = byHost.get(allocation.hostId) ?? [];
    list.push(allocation);
    byHost.set(allocation.hostId, list);
  }
  const hostsById = new Map(hosts.map((host) => [host.id, host]));
  for (const [hostId, list] of byHost) {
    const host = hostsById.get(hostId);
    if (!host) {
      for (const allocation of list)
        violations.push(violation('host_missing', allocation, [], `host ${hostId} does not exist`));
      continue;
    }
    violations.push(...auditHost(host, list));
  }
  return violations;
}

export function auditHost(host: AuditHost, allocations: readonly AuditAllocation[]): PlacementViolation[] {
  const { topology } = host;
  const violations: PlacementViolation[] = [];
  const reserved = new Set(topology.reservedThreads);
  const threadCore = new Map<number, { core: number; node: number }>();
  topology.numaNodes.forEach((numa, position) => {
    for (const core of numa.cores)
      for (const thread of core.threads) threadCore.set(thread, { core: core.id, node: position });
  });
  const gpuNode = new Map(topology.gpus.map((gpu) => [gpu.pciAddress, gpu.numaNode]));
  const vfNode = new Map<string, number>();
  for (const nic of topology.nics) for (const vf of nic.vfs) vfNode.set(vf.pciAddress, nic.numaNode);
  const threadOwner = new Map<number, string>();
  const coreOwner = new Map<number, string>();
  const gpuOwner = new Map<string, string>();
  const vfOwner = new Map<string, string>();
  const memoryUsed = topology.numaNodes.map(() => 0);
  let diskUsed = 0;

  for (const a of allocations) {
    const coresPerNode = topology.numaNodes.map(() => 0);
    const seenCores = new Set<number>();
    for (const thread of a.threads) {
      const place = threadCore.get(thread);
      if (!place) {
        violations.push(violation('unknown_thread', a, [], `thread ${thread} does not exist on the host`));
        continue;
      }
      if (reserved.has(thread))
        violations.push(violation('reserved_thread', a, [], `thread ${thread} is kept for the hypervisor`));
      const threadHolder = threadOwner.get(thread);
      if (threadHolder !== undefined) {
        violations.push(violation('thread_claimed_twice', a, [threadHolder], `thread ${thread} is claimed twice`));
      } else threadOwner.set(thread, a.serverId);
      const coreHolder = coreOwner.get(place.core);
      if (coreHolder !== undefined && coreHolder !== a.serverId && threadHolder === undefined) {
        violations.push(
          violation('sibling_shared', a, [coreHolder], `core ${place.core} is shared with another server`),
        );
      } else if (coreHolder === undefined) coreOwner.set(place.core, a.serverId);
      if (!seenCores.has(place.core)) {
        seenCores.add(place.core);
        coresPerNode[place.node]++;
      }
    }
    const nodesUsed = coresPerNode.flatMap((cores, position) => (cores > 0 ? [position] : []));
    const numaIds = nodesUsed.map((position) => topology.numaNodes[position].id).sort((x, y) => x - y);
    const claimed = [...a.numaNodes].sort((x, y) => x - y);
    if (numaIds.join(',') !== claimed.join(',')) {
      violations.push(
        violation('numa_mismatch', a, [], `claims NUMA nodes [${claimed}] but its threads are on [${numaIds}]`),
      );
    }
    const shares = splitMemoryMiB(
      a.memoryMiB,
      nodesUsed.map((position) => coresPerNode[position]),
    );
    nodesUsed.forEach((position, i) => (memoryUsed[position] += shares[i]));
    diskUsed += a.diskGiB;
    for (const gpu of a.gpus) {
      const node = gpuNode.get(gpu);
      if (node === undefined) {
        violations.push(violation('unknown_gpu', a, [], `GPU ${gpu} does not exist on the host`));
        continue;
      }
      const holder = gpuOwner.get(gpu);
      if (holder !== undefined)
        violations.push(violation('gpu_claimed_twice', a, [holder], `GPU ${gpu} is claimed twice`));
      else gpuOwner.set(gpu, a.serverId);
      if (!numaIds.includes(node))
        violations.push(
          violation('gpu_not_local', a, [], `GPU ${gpu} sits on NUMA node ${node}, not on the server's nodes`),
        );
    }
    for (const vf of a.vfs) {
      const node = vfNode.get(vf);
      if (node === undefined) {
        violations.push(violation('unknown_vf', a, [], `VF ${vf} does not exist on the host`));
        continue;
      }
      const holder = vfOwner.get(vf);
      if (holder !== undefined)
        violations.push(violation('vf_claimed_twice', a, [holder], `VF ${vf} is claimed twice`));
      else vfOwner.set(vf, a.serverId);
      if (!numaIds.includes(node))
        violations.push(
          violation('vf_not_local', a, [], `VF ${vf} sits on NUMA node ${node}, not on the server's nodes`),
        );
    }
  }
  topology.numaNodes.forEach((numa, position) => {
    const sellable = numa.memoryMiB - topology.reservedMemoryMiBPerNode;
    if (memoryUsed[position] > sellable) {
      violations.push({
        kind: 'memory_over',
        hostId: host.id,
        serverIds: [],
        detail: `NUMA node ${numa.id} has ${memoryUsed[position]} MiB claimed of ${sellable} MiB sellable`,
      });
    }
  });
  if (diskUsed > topology.diskGiB) {
    violations.push({
      kind: 'disk_over',
      hostId: host.id,
      serverIds: [],
      detail: `${diskUsed} GiB of disk claimed of ${topology.diskGiB} GiB`,
    });
  }
  return violations;
}

function violation(
  kind: ViolationKind,
  allocation: AuditAllocation,
  others: string[],
  detail: string,
): PlacementViolation {
  return { kind, hostId: allocation.hostId, serverIds: [allocation.serverId, ...others], detail };
}
