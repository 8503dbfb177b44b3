/**
 * Rows for tests and the benchmark: regions, hosts of seed shapes (or any topology), a project, placement
 * groups and servers, inserted in batches, and the rows tests check. Not used by the running control plane.
 */
import { CompiledQuery, PostgresAdapter } from 'kysely';
import type { Db, Tx } from '../../db/index.ts';
import { defaultRegions } from '../../catalog/index.ts';
import { hostShapes, topologyOfShape, type HostShapeName } from '../../inventory/shapes.ts';
import { threadCount, memoryMiBTotal, type HostTopology } from '../../inventory/topology.ts';

export interface FixtureHost {
  id: string;
  region: string;
  topology: HostTopology;
  kind?: 'standard' | 'gpu';
  state?: string;
  cpuModel?: string;
}

const at = '2026-01-01T00:00:00.000Z';
const deletedAt = '2026-01-02T00:00:00.000Z';

export async function insertRegions(
  db: Db | Tx,
  codes: readonly string[] = defaultRegions.map((r) => r.code),
): Promise<void> {
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

/** A host of a seed shape; pass `topology` to share one topology object between many hosts of a shape. */
export function shapeHost(
  id: string,
  region: string,
  shape: HostShapeName,
  state = 'active',
  topology: HostTopology = topologyOfShape(hostShapes[shape]),
): FixtureHost {
  const s = hostShapes[shape];
  return {
    id,
    region,
    topology,
    kind: s.gpuCount > 0 ? 'gpu' : 'standard',
    state,
    cpuModel: s.cpuModel,
  };
}

export async function insertHosts(db: Db | Tx, hosts: readonly FixtureHost[], batchSize = 500): Promise<void> {
  const texts = new Map<HostTopology, string>();
  const textOf = (topology: HostTopology) => {
    let text = texts.get(topology);
    if (text === undefined) texts.set(topology, (text = JSON.stringify(topology)));
    return text;
  };
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
        topology_json: textOf(host.topology),
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
  await db
    .insertInto('projects')
    .values({ id, name: id, quota_servers: 1_000_000, quota_vcpus: 10_000_000, quota_gpus: 100_000, created_at: at })
    .execute();
}

export interface FixtureServer {
  id: string;
  projectId: string;
  region: string;
  product?: string;
  placementGroupId?: string | null;
}

/**
 * Inserts servers rows (the benchmark writes them in its placement transactions): multi-row statements of
 * 64, 16, 4 and 1 rows on SQLite (anonymous parameters), one statement per 1,000 over arrays on PostgreSQL.
 */
export async function insertServers(db: Db | Tx, servers: readonly FixtureServer[]): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const columns = `id, name, project_id, region, product, placement_group_id, image, host_id, status, desired_state,
    reboot_generation, observed_reboot_generation, labels_json, ssh_keys_json, user_data, ipv4, error_message, version,
    created_at, updated_at, deleted_at`;
  const constants = `'debian-12', null, 'creating', 'running', 0, 0, '{}', '[]', null, null, null, 1, '${at}', '${at}', null`;
  const row = (s: FixtureServer) => [
    s.id,
    s.id,
    s.projectId,
    s.region,
    s.product ?? 'test',
    s.placementGroupId ?? null,
  ];
  if (postgres) {
    const text = `insert into servers (${columns})
       select t.id, t.id, t.project_id, t.region, t.product, t.placement_group_id, ${constants}
       from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) as t(id, project_id, region, product, placement_group_id)`;
    for (let start = 0; start < servers.length; start += 1000) {
      const rows = servers.slice(start, start + 1000).map(row);
      await db.executeQuery(
        CompiledQuery.raw(
          text,
          [1, 2, 3, 4, 5].map((column) => rows.map((r) => r[column])),
        ),
      );
    }
    return;
  }
  for (let start = 0; start < servers.length;) {
    const size = [64, 16, 4, 1].find((candidate) => candidate <= servers.length - start) as number;
    const tuples = Array.from({ length: size }, () => `(?, ?, ?, ?, ?, ?, ${constants})`).join(', ');
    const parameters = servers.slice(start, start + size).flatMap(row);
    await db.executeQuery(CompiledQuery.raw(`insert into servers (${columns}) values ${tuples}`, parameters));
    start += size;
  }
}

/** Marks servers deleted, one statement per 1,000. */
export async function markServersDeleted(db: Db | Tx, serverIds: readonly string[], batchSize = 1000): Promise<void> {
  for (let start = 0; start < serverIds.length; start += batchSize) {
    await db
      .updateTable('servers')
      .set({ deleted_at: deletedAt })
      .where('id', 'in', serverIds.slice(start, start + batchSize))
      .execute();
  }
}

export async function markServerDeleted(db: Db | Tx, serverId: string): Promise<void> {
  await db.updateTable('servers').set({ deleted_at: deletedAt }).where('id', '=', serverId).execute();
}

export async function setHostState(db: Db | Tx, hostId: string, state: string): Promise<void> {
  await db
    .updateTable('hosts')
    .set((eb) => ({ state, generation: eb('generation', '+', 1) }))
    .where('id', '=', hostId)
    .execute();
}

export async function insertPlacementGroup(
  db: Db | Tx,
  group: { id: string; projectId: string; name?: string; policy: string },
): Promise<void> {
  await db
    .insertInto('placement_groups')
    .values({
      id: group.id,
      project_id: group.projectId,
      name: group.name ?? group.id,
      policy: group.policy,
      created_at: at,
    })
    .execute();
}

/** Every allocations row, by server id, with its server's placement group. */
export async function readAllocations(db: Db | Tx) {
  const rows = await db
    .selectFrom('allocations as a')
    .leftJoin('servers as s', 's.id', 'a.server_id')
    .selectAll('a')
    .select('s.placement_group_id')
    .orderBy('a.server_id')
    .execute();
  return rows.map((row) => ({ ...row, memory_mib: Number(row.memory_mib), disk_gib: Number(row.disk_gib) }));
}

export async function readHosts(db: Db | Tx) {
  const rows = await db.selectFrom('hosts').select(['id', 'state', 'generation']).orderBy('id').execute();
  return rows.map((row) => ({ ...row, generation: Number(row.generation) }));
}

/** Overwrites a host row's health and stored topology text (as inventory quarantines a host), bumping it. */
export async function setHostHealth(db: Db | Tx, hostId: string, health: string, topologyJson?: string): Promise<void> {
  await db
    .updateTable('hosts')
    .set((eb) => ({
      health,
      generation: eb('generation', '+', 1),
      ...(topologyJson === undefined ? {} : { topology_json: topologyJson }),
    }))
    .where('id', '=', hostId)
    .execute();
}
