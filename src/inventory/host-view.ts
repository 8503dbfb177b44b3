/** A host as operators see it (the contract's `Host`), from its record and usage. Pure. */
import { Compile } from 'typebox/compile';
import { HostTopology as HostTopologySchema, type Host } from '../contract/index.ts';
import type { HostRecord } from './store.ts';
import { sellableMemoryMiB, sellableThreadCount, threadCount, type HostTopology } from './topology.ts';

export interface HostUsage {
  servers: number;
  vcpus: number;
  memory_mib: number;
  disk_gib: number;
  gpus: number;
}

export const noUsage: HostUsage = { servers: 0, vcpus: 0, memory_mib: 0, disk_gib: 0, gpus: 0 };

const emptyTopology: HostTopology = {
  sockets: 0,
  numaNodes: [],
  reservedThreads: [],
  reservedMemoryMiBPerNode: 0,
  diskGiB: 0,
  gpus: [],
  nics: [],
};

/** The stored topology, or an empty one when the row is corrupt (such a host is quarantined). */
export function parseStoredTopology(json: string): HostTopology | null {
  try {
    const parsed = JSON.parse(json) as HostTopology;
    return parsed && typeof parsed === 'object' ? parsed : null;
  } catch {
    return null;
  }
}

/** A quarantined row may hold JSON of any shape: its topology is shown only if it has the contract's shape. */
const storedTopologyShape = Compile(HostTopologySchema);

export function hostView(record: HostRecord, stored: HostTopology | null, usage: HostUsage | undefined): Host {
  const topology = record.health !== 'unusable' || (stored && storedTopologyShape.Check(stored)) ? stored : null;
  const t = topology ?? emptyTopology;
  return {
    id: record.id,
    name: record.name,
    region: record.region,
    kind: record.kind,
    state: record.state as Host['state'],
    health: record.health as Host['health'],
    health_reason: record.healthReason,
    driver: record.driver,
    cpu_model: record.cpuModel,
    topology: {
      sockets: t.sockets,
      numa_nodes: t.numaNodes.map((n) => ({
        id: n.id,
        cores: n.cores.length,
        threads: n.cores.reduce((s, c) => s + c.threads.length, 0),
        memory_mib: n.memoryMiB,
      })),
      threads: threadCount(t),
      reserved_threads: t.reservedThreads,
      gpus: t.gpus.map((g) => ({
        pci_address: g.pciAddress,
        model: g.model,
        numa_node: g.numaNode,
        iommu_group: g.iommuGroup,
      })),
      nics: t.nics.map((n) => ({
        name: n.name,
        pci_address: n.pciAddress,
        numa_node: n.numaNode,
        speed_gbps: n.speedGbps,
        vfs: n.vfs.length,
      })),
    },
    capacity: topology
      ? {
          vcpus: sellableThreadCount(t),
          memory_mib: sellableMemoryMiB(t),
          disk_gib: t.diskGiB,
          gpus: t.gpus.length,
        }
      : { vcpus: 0, memory_mib: 0, disk_gib: 0, gpus: 0 },
    usage: usage ?? noUsage,
    generation: record.generation,
    last_heartbeat_at: record.lastHeartbeatAt,
    agent_version: record.agentVersion,
    images: record.images,
  };
}
