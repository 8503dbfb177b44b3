/**
 * Reads of the scheduler's tables for other domains: the placement of servers (their views and the
 * desired state sent to hosts), placement groups by name, and usage per host (operators' host views).
 * The SQL is in the store (store/allocations.ts).
 */
import type { Db, Tx } from '../db/index.ts';
import {
  readAllocationsOfServers,
  readAllocationsOnHost,
  readPlacementGroupOfProject,
  readUsageRows,
  type AllocationRow,
} from './store/allocations.ts';

export interface ServerPlacement {
  serverId: string;
  hostId: string;
  threads: number[];
  numaNodes: number[];
  memoryMiB: number;
  diskGiB: number;
  gpus: string[];
  vfs: string[];
}

export interface HostUsageCounts {
  servers: number;
  vcpus: number;
  memory_mib: number;
  disk_gib: number;
  gpus: number;
}

const placementOf = (row: AllocationRow): ServerPlacement => ({
  serverId: row.server_id,
  hostId: row.host_id,
  threads: JSON.parse(row.threads_json) as number[],
  numaNodes: JSON.parse(row.numa_nodes_json) as number[],
  memoryMiB: row.memory_mib,
  diskGiB: row.disk_gib,
  gpus: JSON.parse(row.gpus_json) as string[],
  vfs: JSON.parse(row.vfs_json) as string[],
});

export function createPlacementReads(db: Db) {
  return {
    async placementsOf(q: Tx | Db, serverIds: readonly string[]): Promise<Map<string, ServerPlacement>> {
      const rows = await readAllocationsOfServers(q, serverIds);
      return new Map(rows.map((row) => [row.server_id, placementOf(row)]));
    },

    async placementsOnHost(q: Tx | Db, hostId: string): Promise<Map<string, ServerPlacement>> {
      const rows = await readAllocationsOnHost(q, hostId);
      return new Map(rows.map((row) => [row.server_id, placementOf(row)]));
    },

    /** A placement group of the project by id or name. */
    findPlacementGroup(projectId: string, ref: string): Promise<{ id: string } | null> {
      return readPlacementGroupOfProject(db, projectId, ref);
    },

    async usageByHost(hostIds: string[] | null): Promise<Map<string, HostUsageCounts>> {
      const usage = new Map<string, HostUsageCounts>();
      for (const row of await readUsageRows(db, hostIds)) {
        const entry = usage.get(row.host_id) ?? { servers: 0, vcpus: 0, memory_mib: 0, disk_gib: 0, gpus: 0 };
        // A local volume's disk claim holds disk only: not a server.
        if (row.threads_json !== '[]') entry.servers++;
        entry.vcpus += (JSON.parse(row.threads_json) as number[]).length;
        entry.memory_mib += row.memory_mib;
        entry.disk_gib += row.disk_gib;
        entry.gpus += (JSON.parse(row.gpus_json) as string[]).length;
        usage.set(row.host_id, entry);
      }
      return usage;
    },
  };
}

export type PlacementReads = ReturnType<typeof createPlacementReads>;
