/**
 * Rows for tests and the benchmark: regions, hosts of seed shapes (or any topology), a project and servers,
 * inserted in batches. Not used by the running control plane.
 */
import type { Db, Tx } from '../db/index.ts';
import { defaultRegions } from '../catalog/index.ts';
import { hostShapes, topologyOfShape, type HostShapeName } from '../inventory/shapes.ts';
import { threadCount, memoryMiBTotal, type HostTopology } from '../inventory/topology.ts';

export interface FixtureHost {
  id: string;
  region: string;
  topology: HostTopology;
  kind?: 'standard' | 'gpu';
  state?: string;
  cpuModel?: string;
}

const at = '2026-01-01T00:00:00.000Z';

export async function insertRegions(db: Db | Tx, codes: readonly string[] = defaultRegions.map((r) => r.code)): Promise<void> {
  const rows = codes.map((code) => {
    const known = defaultRegions.find((r) => r.code === code);
    return {
      code,
      name: known?.name ?? code,
      city: known?.city ?? code,
      country: known?.country ?? 'EU',
      peering: known?.peering ?? '',
      peering_gbps: known?.peeringGbps ?? null,
      status: 'operational',
      opens: null,
      created_at: at,
      updated_at: at,
    };
  });
  if (rows.length > 0) await db.insertInto('regions').values(rows).execute();
}

export function shapeHost(id: string, region: string, shape: HostShapeName, state = 'active'): FixtureHost {
  const s = hostShapes[shape];
  return { id, region, topology: topologyOfShape(s), kind: s.gpuCount > 0 ? 'gpu' : 'standard', state, cpuModel: s.cpuModel };
}

export async function insertHosts(db: Db | Tx, hosts: readonly FixtureHost[], batchSize = 500): Promise<void> {
  for (let start = 0; start < hosts.length; start += batchSize) {
    const rows = hosts.slice(start, start + batchSize).map((host) => {
      const gpus = host.topology.gpus;
      return {
        id: host.id,
        name: host.id,
        region: host.region,
        kind: host.kind ?? (gpus.length > 0 ? 'gpu' : 'standard'),
        state: host.state ?? 'active',
        driver: 'sim',
        cpu_model: host.cpuModel ?? 'test',
        sockets: host.topology.sockets,
        threads_total: threadCount(host.topology),
        memory_mib: memoryMiBTotal(host.topology),
        disk_gib: host.topology.diskGiB,
        gpu_model: gpus[0]?.model ?? null,
        gpu_count: gpus.length,
        topology_json: JSON.stringify(host.topology),
        generation: 1,
        last_heartbeat_at: null,
        agent_version: null,
        address: null,
        created_at: at,
        updated_at: at,
      };
    });
    await db.insertInto('hosts').values(rows).execute();
  }
}

export async function insertProject(db: Db | Tx, id: string): Promise<void> {
  await db.insertInto('projects').values({ id, name: id, quota_servers: 1_000_000, quota_vcpus: 10_000_000, quota_gpus: 100_000, created_at: at }).execute();
}

export interface FixtureServer {
  id: string;
  projectId: string;
  region: string;
  product?: string;
  placementGroupId?: string | null;
}

export async function insertServers(db: Db | Tx, servers: readonly FixtureServer[], batchSize = 1000): Promise<void> {
  for (let start = 0; start < servers.length; start += batchSize) {
    const rows = servers.slice(start, start + batchSize).map((server) => ({
      id: server.id,
      project_id: server.projectId,
      name: server.id,
      region: server.region,
      product: server.product ?? 'test',
      image: 'debian-12',
      host_id: null,
      placement_group_id: server.placementGroupId ?? null,
      status: 'creating',
      desired_state: 'running',
      reboot_generation: 0,
      observed_reboot_generation: 0,
      labels_json: '{}',
      ssh_keys_json: '[]',
      user_data: null,
      ipv4: null,
      error_message: null,
      version: 1,
      created_at: at,
      updated_at: at,
      deleted_at: null,
    }));
    await db.insertInto('servers').values(rows).execute();
  }
}

export async function markServerDeleted(db: Db | Tx, serverId: string): Promise<void> {
  await db.updateTable('servers').set({ deleted_at: at }).where('id', '=', serverId).execute();
}

export async function setHostState(db: Db | Tx, hostId: string, state: string): Promise<void> {
  await db
    .updateTable('hosts')
    .set((eb) => ({ state, generation: eb('generation', '+', 1) }))
    .where('id', '=', hostId)
    .execute();
}
