/**
 * INVENTORY'S TABLE `hosts`, as the scheduler uses it. Every statement of the scheduler that names `hosts`
 * is in this file, so that they can be routed through inventory's store later:
 * - reads of host rows (the fleet, or some hosts), of the generations of a region, of one host's topology,
 *   and of the claims whose host row is missing (for the audit);
 * - the claim guard: bump a host's generation only while it is the one the decision saw and the host still
 *   takes servers (`state = 'active'`, `health = 'up'`);
 * - the release bump: a freed claim moves its host's generation on too.
 */
import { CompiledQuery } from 'kysely';
import type { DialectName, Queryable, Tx } from '../../db/index.ts';
import type { AllocationRow } from './allocations.ts';

export interface HostRow {
  id: string;
  name: string;
  region: string;
  kind: string;
  state: string;
  health: string;
  generation: number;
  topology_json: string;
  images_json: string | null;
}

/** One page of host rows in id order after `afterId`, or exactly the hosts named. */
export async function readHostRows(
  q: Queryable,
  select: { hostIds: readonly string[] } | { afterId: string | null; limit: number },
): Promise<HostRow[]> {
  let query = q
    .selectFrom('hosts')
    .select(['id', 'name', 'region', 'kind', 'state', 'health', 'generation', 'topology_json', 'images_json']);
  if ('hostIds' in select) {
    if (select.hostIds.length === 0) return [];
    query = query.where('id', 'in', select.hostIds);
  } else {
    if (select.afterId !== null) query = query.where('id', '>', select.afterId);
    query = query.orderBy('id').limit(select.limit);
  }
  const rows = await query.execute();
  return rows.map((row) => ({ ...row, generation: Number(row.generation) }));
}

export async function readRegionGenerations(
  q: Queryable,
  region: string,
): Promise<Array<{ id: string; generation: number }>> {
  const rows = await q.selectFrom('hosts').select(['id', 'generation']).where('region', '=', region).execute();
  return rows.map((row) => ({ id: row.id, generation: Number(row.generation) }));
}

export async function readHostTopology(
  q: Queryable,
  hostId: string,
): Promise<{ region: string; topologyJson: string } | null> {
  const row = await q
    .selectFrom('hosts')
    .select(['region', 'topology_json'])
    .where('id', '=', hostId)
    .executeTakeFirst();
  return row ? { region: row.region, topologyJson: row.topology_json } : null;
}

/** Claims whose host is not among the hosts rows (found by the audit as `host_missing`). */
export async function readOrphanClaimRows(q: Queryable): Promise<AllocationRow[]> {
  const rows = await q
    .selectFrom('allocations as a')
    .leftJoin('hosts as h', 'h.id', 'a.host_id')
    .select([
      'a.server_id',
      'a.host_id',
      'a.threads_json',
      'a.numa_nodes_json',
      'a.memory_mib',
      'a.disk_gib',
      'a.gpus_json',
      'a.vfs_json',
    ])
    .where('h.id', 'is', null)
    .execute();
  return rows.map((row) => ({ ...row, memory_mib: Number(row.memory_mib), disk_gib: Number(row.disk_gib) }));
}

export interface GenerationBump {
  hostId: string;
  /** The generation the decisions saw. */
  expected: number;
  /** Claims written on the host in this batch: the generation moves on by as many. */
  count: number;
}

export interface HostGuard {
  /** The claim guard: returns the hosts bumped (the others moved on, or no longer take servers). */
  bump(tx: Tx, bumps: readonly GenerationBump[]): Promise<Set<string>>;
  /** After releases: moves each host on by its count; returns each host's new generation. */
  touch(tx: Tx, counts: ReadonlyMap<string, number>): Promise<Map<string, number>>;
}

export function createHostGuard(dialect: DialectName): HostGuard {
  return dialect === 'postgres' ? postgresGuard() : sqliteGuard();
}

/** SQLite: one statement per batch, its rows passed as one JSON parameter. */
function sqliteGuard(): HostGuard {
  const bump = `update hosts set generation = hosts.generation + b.n
    from (select value ->> 0 as id, value ->> 1 as expected, value ->> 2 as n from json_each(?)) as b
    where hosts.id = b.id and hosts.generation = b.expected and hosts.state = 'active' and hosts.health = 'up'
    returning hosts.id`;
  const touch = `update hosts set generation = hosts.generation + b.n
    from (select value ->> 0 as id, value ->> 1 as n from json_each(?)) as b
    where hosts.id = b.id
    returning hosts.id, hosts.generation`;
  return {
    async bump(tx, bumps) {
      if (bumps.length === 0) return new Set();
      const rows = JSON.stringify(bumps.map((b) => [b.hostId, b.expected, b.count]));
      const result = await tx.executeQuery<{ id: string }>(CompiledQuery.raw(bump, [rows]));
      return new Set(result.rows.map((row) => row.id));
    },
    async touch(tx, counts) {
      if (counts.size === 0) return new Map();
      const rows = JSON.stringify([...counts]);
      const result = await tx.executeQuery<{ id: string; generation: number }>(CompiledQuery.raw(touch, [rows]));
      return new Map(result.rows.map((row) => [row.id, Number(row.generation)]));
    },
  };
}

/** PostgreSQL: one statement per batch over `unnest` of parameter arrays. */
function postgresGuard(): HostGuard {
  const bump = `update hosts h set generation = h.generation + b.n
    from unnest($1::text[], $2::integer[], $3::integer[]) as b(id, expected, n)
    where h.id = b.id and h.generation = b.expected and h.state = 'active' and h.health = 'up'
    returning h.id`;
  const touch = `update hosts h set generation = h.generation + b.n
    from unnest($1::text[], $2::integer[]) as b(id, n)
    where h.id = b.id
    returning h.id, h.generation`;
  return {
    async bump(tx, bumps) {
      if (bumps.length === 0) return new Set();
      const result = await tx.executeQuery<{ id: string }>(
        CompiledQuery.raw(bump, [bumps.map((b) => b.hostId), bumps.map((b) => b.expected), bumps.map((b) => b.count)]),
      );
      return new Set(result.rows.map((row) => row.id));
    },
    async touch(tx, counts) {
      if (counts.size === 0) return new Map();
      const result = await tx.executeQuery<{ id: string; generation: number }>(
        CompiledQuery.raw(touch, [[...counts.keys()], [...counts.values()]]),
      );
      return new Map(result.rows.map((row) => [row.id, Number(row.generation)]));
    },
  };
}
