/**
 * The scheduler's own tables: `allocations` (one row per claimed server: exact threads, NUMA nodes, memory,
 * disk, GPUs, VFs) and `placement_groups`. Reads of claims join compute's `servers` for what a claim does
 * not hold itself (placement group, project, whether the server was deleted).
 */
import { CompiledQuery, type ExpressionBuilder } from 'kysely';
import type { Database, DialectName, Queryable, Tx } from '../../db/index.ts';
import type { Placement } from '../types.ts';

export interface AllocationRow {
  server_id: string;
  host_id: string;
  threads_json: string;
  numa_nodes_json: string;
  memory_mib: number;
  disk_gib: number;
  gpus_json: string;
  vfs_json: string;
}

/** A claim's row with what its server row adds. */
export interface ClaimRow extends AllocationRow {
  placement_group_id: string | null;
  project_id: string | null;
  /** Null when the server row is missing; else whether it was deleted. */
  server_deleted_at: string | null;
  server_exists: boolean;
}

/** A claim to write: the server and its placement (host, threads, NUMA nodes, memory, disk, devices). */
export interface AllocationInput {
  serverId: string;
  placement: Placement;
}

/** What the fleet view needs of each claim on some hosts (no more: millions are read at start). */
export interface LoadedClaimRow {
  server_id: string;
  host_id: string;
  threads_json: string;
  memory_mib: number;
  disk_gib: number;
  gpus_json: string;
  vfs_json: string;
  placement_group_id: string | null;
}

export async function readLoadedClaimRows(q: Queryable, hostIds: readonly string[]): Promise<LoadedClaimRow[]> {
  if (hostIds.length === 0) return [];
  // The server's group by primary key per claim (a join lets PostgreSQL hash the whole servers table).
  return q
    .selectFrom('allocations as a')
    .select((eb) => [
      'a.server_id',
      'a.host_id',
      'a.threads_json',
      'a.memory_mib',
      'a.disk_gib',
      'a.gpus_json',
      'a.vfs_json',
      eb
        .selectFrom('servers as s')
        .select('s.placement_group_id')
        .whereRef('s.id', '=', 'a.server_id')
        .as('placement_group_id'),
    ])
    .where('a.host_id', 'in', hostIds)
    .execute();
}

/** The claims on some hosts, with their server's placement group, project and deletion. */
export async function readClaimRows(q: Queryable, hostIds: readonly string[]): Promise<ClaimRow[]> {
  if (hostIds.length === 0) return [];
  // Server columns by primary key per claim (a join lets PostgreSQL hash the whole servers table).
  const server =
    <C extends 'placement_group_id' | 'project_id' | 'deleted_at' | 'id'>(column: C) =>
    (eb: ExpressionBuilder<Database & { a: Database['allocations'] }, 'a'>) =>
      eb
        .selectFrom('servers as s')
        .select(`s.${column}` as `s.${C}`)
        .whereRef('s.id', '=', 'a.server_id');
  const rows = await q
    .selectFrom('allocations as a')
    .select((eb) => [
      'a.server_id',
      'a.host_id',
      'a.threads_json',
      'a.numa_nodes_json',
      'a.memory_mib',
      'a.disk_gib',
      'a.gpus_json',
      'a.vfs_json',
      server('placement_group_id')(eb).as('placement_group_id'),
      server('project_id')(eb).as('project_id'),
      server('deleted_at')(eb).as('deleted_at'),
      server('id')(eb).as('server_row_id'),
    ])
    .where('a.host_id', 'in', hostIds)
    .execute();
  return rows.map((row) => ({
    server_id: row.server_id,
    host_id: row.host_id,
    threads_json: row.threads_json,
    numa_nodes_json: row.numa_nodes_json,
    memory_mib: Number(row.memory_mib),
    disk_gib: Number(row.disk_gib),
    gpus_json: row.gpus_json,
    vfs_json: row.vfs_json,
    placement_group_id: row.placement_group_id ?? null,
    project_id: row.project_id ?? null,
    server_deleted_at: row.deleted_at ?? null,
    server_exists: row.server_row_id !== null && row.server_row_id !== undefined,
  }));
}

/** Claims' rows by server id (for other domains' views of servers). */
export async function readAllocationsOfServers(q: Queryable, serverIds: readonly string[]): Promise<AllocationRow[]> {
  if (serverIds.length === 0) return [];
  return numbersOf(
    await q.selectFrom('allocations').select(allocationColumns).where('server_id', 'in', serverIds).execute(),
  );
}

/** Claims' rows on one host (the desired state sent to its agent). */
export async function readAllocationsOnHost(q: Queryable, hostId: string): Promise<AllocationRow[]> {
  return numbersOf(await q.selectFrom('allocations').select(allocationColumns).where('host_id', '=', hostId).execute());
}

/** What each claim uses, on some hosts or all (usage per host for operators' views). */
export async function readUsageRows(
  q: Queryable,
  hostIds: readonly string[] | null,
): Promise<Array<Pick<AllocationRow, 'host_id' | 'threads_json' | 'memory_mib' | 'disk_gib' | 'gpus_json'>>> {
  if (hostIds?.length === 0) return [];
  let query = q.selectFrom('allocations').select(['host_id', 'threads_json', 'memory_mib', 'disk_gib', 'gpus_json']);
  if (hostIds) query = query.where('host_id', 'in', hostIds);
  return (await query.execute()).map((row) => ({
    ...row,
    memory_mib: Number(row.memory_mib),
    disk_gib: Number(row.disk_gib),
  }));
}

/** A placement group of a project by id or name. */
export async function readPlacementGroupOfProject(
  q: Queryable,
  projectId: string,
  ref: string,
): Promise<{ id: string } | null> {
  const row = await q
    .selectFrom('placement_groups')
    .select('id')
    .where('project_id', '=', projectId)
    .where((eb) => eb.or([eb('id', '=', ref), eb('name', '=', ref)]))
    .executeTakeFirst();
  return row ?? null;
}

const allocationColumns = [
  'server_id',
  'host_id',
  'threads_json',
  'numa_nodes_json',
  'memory_mib',
  'disk_gib',
  'gpus_json',
  'vfs_json',
] as const;

function numbersOf(rows: AllocationRow[]): AllocationRow[] {
  return rows.map((row) => ({ ...row, memory_mib: Number(row.memory_mib), disk_gib: Number(row.disk_gib) }));
}

/** A placement group's policy, or null when there is no such group. */
export async function readPlacementGroupPolicy(q: Queryable, groupId: string): Promise<string | null> {
  const row = await q.selectFrom('placement_groups').select('policy').where('id', '=', groupId).executeTakeFirst();
  return row?.policy ?? null;
}

export interface AllocationWriter {
  /** Inserts claims' rows (one statement per batch). */
  insert(tx: Tx, rows: readonly AllocationInput[], createdAt: string): Promise<void>;
  /** Deletes servers' rows; returns the host of each row deleted. */
  remove(tx: Tx, serverIds: readonly string[]): Promise<Map<string, string>>;
}

export function createAllocationWriter(dialect: DialectName): AllocationWriter {
  return dialect === 'postgres' ? postgresWriter() : sqliteWriter();
}

const columns =
  'server_id, host_id, threads_json, numa_nodes_json, memory_mib, disk_gib, gpus_json, vfs_json, created_at';

/**
 * SQLite: multi-row inserts of 64, 16, 4 and 1 rows (a few prepared statements, reused through the
 * driver's statement cache); deletes take the server ids as one JSON parameter. Parameters are anonymous
 * (`?`): node:sqlite looks up the name of every numbered one (`?NNN`) in a list, which costs more than the
 * insert itself at these sizes.
 */
function sqliteWriter(): AllocationWriter {
  const sizes = [64, 16, 4, 1];
  const tuple = '(?, ?, ?, ?, ?, ?, ?, ?, ?)';
  const inserts = new Map(
    sizes.map((size) => [
      size,
      `insert into allocations (${columns}) values ${Array.from({ length: size }, () => tuple).join(', ')}`,
    ]),
  );
  const remove = `delete from allocations where server_id in (select value from json_each(?)) returning server_id, host_id`;
  return {
    async insert(tx, rows, createdAt) {
      for (let start = 0; start < rows.length;) {
        const size = sizes.find((candidate) => candidate <= rows.length - start) as number;
        const parameters: Array<string | number> = [];
        for (let i = start; i < start + size; i++) {
          const { serverId, placement: p } = rows[i];
          parameters.push(
            serverId,
            p.hostId,
            jsonList(p.threads),
            jsonList(p.numaNodes),
            p.memoryMiB,
            p.diskGiB,
            jsonList(p.gpus),
            jsonList(p.vfs),
            createdAt,
          );
        }
        await tx.executeQuery(CompiledQuery.raw(inserts.get(size) as string, parameters));
        start += size;
      }
    },
    async remove(tx, serverIds) {
      if (serverIds.length === 0) return new Map();
      const result = await tx.executeQuery<{ server_id: string; host_id: string }>(
        CompiledQuery.raw(remove, [JSON.stringify(serverIds)]),
      );
      return new Map(result.rows.map((row) => [row.server_id, row.host_id]));
    },
  };
}

/** JSON text of a list as the columns hold it (`[]` without encoding when empty). */
function jsonList(list: readonly (number | string)[]): string {
  return list.length === 0 ? '[]' : JSON.stringify(list);
}

/** PostgreSQL: one statement per batch over `unnest` of parameter arrays. */
function postgresWriter(): AllocationWriter {
  const insert = `insert into allocations (${columns})
    select t.server_id, t.host_id, t.threads_json, t.numa_nodes_json, t.memory_mib, t.disk_gib, t.gpus_json, t.vfs_json, $9
    from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::integer[], $6::integer[], $7::text[], $8::text[])
      as t(server_id, host_id, threads_json, numa_nodes_json, memory_mib, disk_gib, gpus_json, vfs_json)`;
  const remove = 'delete from allocations where server_id = any($1::text[]) returning server_id, host_id';
  const json = jsonList;
  return {
    async insert(tx, rows, createdAt) {
      if (rows.length === 0) return;
      await tx.executeQuery(
        CompiledQuery.raw(insert, [
          rows.map((r) => r.serverId),
          rows.map((r) => r.placement.hostId),
          rows.map((r) => json(r.placement.threads)),
          rows.map((r) => json(r.placement.numaNodes)),
          rows.map((r) => r.placement.memoryMiB),
          rows.map((r) => r.placement.diskGiB),
          rows.map((r) => json(r.placement.gpus)),
          rows.map((r) => json(r.placement.vfs)),
          createdAt,
        ]),
      );
    },
    async remove(tx, serverIds) {
      if (serverIds.length === 0) return new Map();
      const result = await tx.executeQuery<{ server_id: string; host_id: string }>(
        CompiledQuery.raw(remove, [serverIds]),
      );
      return new Map(result.rows.map((row) => [row.server_id, row.host_id]));
    },
  };
}
