/** Reads hosts and their claims from the database into host views (whole fleet, or one host). */
import type { Queryable, Tx } from '../db/index.ts';
import type { HostTopology } from '../inventory/topology.ts';
import { createHostState, applyClaim, type HostState } from './host-state.ts';
import type { Placement } from './types.ts';

export interface AllocationRow {
  server_id: string;
  host_id: string;
  threads_json: string;
  numa_nodes_json: string;
  memory_mib: number;
  disk_gib: number;
  gpus_json: string;
  vfs_json: string;
  placement_group_id: string | null;
}

/** Every host, or only those named. */
export async function loadHosts(db: Queryable | Tx, hostIds?: readonly string[]): Promise<HostState[]> {
  if (hostIds?.length === 0) return [];
  let hostQuery = db.selectFrom('hosts').select(['id', 'name', 'region', 'kind', 'state', 'health', 'generation', 'topology_json']);
  if (hostIds !== undefined) hostQuery = hostQuery.where('id', 'in', hostIds);
  // Generation first, claims second: the claims read are at least those of that generation.
  const hostRows = await hostQuery.execute();
  let allocationQuery = db
    .selectFrom('allocations as a')
    .leftJoin('servers as s', 's.id', 'a.server_id')
    .select(['a.server_id', 'a.host_id', 'a.threads_json', 'a.numa_nodes_json', 'a.memory_mib', 'a.disk_gib', 'a.gpus_json', 'a.vfs_json', 's.placement_group_id']);
  if (hostIds !== undefined) allocationQuery = allocationQuery.where('a.host_id', 'in', hostIds);
  const allocationRows = await allocationQuery.execute();
  const hosts = new Map<string, HostState>();
  for (const row of hostRows) {
    hosts.set(
      row.id,
      // A host whose agent stopped heartbeating takes nothing new, whatever its operator state.
      createHostState({ ...row, state: row.health === 'down' ? 'down' : row.state, generation: Number(row.generation), topology: JSON.parse(row.topology_json) as HostTopology }),
    );
  }
  for (const row of allocationRows) {
    const host = hosts.get(row.host_id);
    if (host) applyClaim(host, row.server_id, { placement: placementOfRow(host, row), placementGroupId: row.placement_group_id });
  }
  return [...hosts.values()];
}

export function placementOfRow(host: HostState, row: Omit<AllocationRow, 'placement_group_id'>): Placement {
  const threads = JSON.parse(row.threads_json) as number[];
  const cores: number[] = [];
  for (const thread of threads) {
    const core = host.threadCore[thread];
    if (core !== undefined && !cores.includes(core)) cores.push(core);
  }
  return {
    hostId: row.host_id,
    threads,
    coreThreads: cores.flatMap((core) => host.coreThreads[core] ?? []),
    numaNodes: JSON.parse(row.numa_nodes_json) as number[],
    memoryMiB: Number(row.memory_mib),
    diskGiB: Number(row.disk_gib),
    gpus: JSON.parse(row.gpus_json) as string[],
    vfs: JSON.parse(row.vfs_json) as string[],
  };
}
