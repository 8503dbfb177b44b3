/**
 * The two writes of the scheduler, as prepared SQL per dialect (the hot path skips the query builder).
 * A claim bumps the host's generation only if it is still the one the decision saw and the host is still
 * active, and inserts the allocations row in the same statement (PostgreSQL) or transaction (SQLite).
 */
import { CompiledQuery } from 'kysely';
import type { DialectName, Tx } from '../db/index.ts';

export interface AllocationValues {
  serverId: string;
  hostId: string;
  threadsJson: string;
  numaNodesJson: string;
  memoryMiB: number;
  diskGiB: number;
  gpusJson: string;
  vfsJson: string;
  createdAt: string;
}

export interface PendingClaim {
  values: AllocationValues;
  /** Generation the decision saw; claims on one host in one batch carry consecutive generations. */
  expectedGeneration: number;
}

export interface ClaimWriter {
  /**
   * Writes a batch of claims; returns the server ids written. A host's claims are all written or none
   * (none when the host moved on: another writer bumped its generation or changed its state).
   */
  claimBatch(tx: Tx, claims: readonly PendingClaim[]): Promise<Set<string>>;
  /** Deletes a server's allocation and bumps its host; null when the server had none. */
  release(tx: Tx, serverId: string): Promise<{ hostId: string; generation: number } | null>;
}

const columns = 'server_id, host_id, threads_json, numa_nodes_json, memory_mib, disk_gib, gpus_json, vfs_json, created_at';

export function createClaimWriter(dialect: DialectName): ClaimWriter {
  return dialect === 'postgres' ? postgresWriter() : sqliteWriter();
}

function sqliteWriter(): ClaimWriter {
  const bump = "update hosts set generation = generation + 1 where id = ? and generation = ? and state = 'active' and health = 'up'";
  const insert = `insert into allocations (${columns}) values (?, ?, ?, ?, ?, ?, ?, ?, ?)`;
  const remove = 'delete from allocations where server_id = ? returning host_id';
  const touch = 'update hosts set generation = generation + 1 where id = ? returning generation';
  return {
    async claimBatch(tx, claims) {
      const written = new Set<string>();
      const failedHosts = new Set<string>();
      for (const { values: v, expectedGeneration } of claims) {
        if (failedHosts.has(v.hostId)) continue;
        const bumped = await tx.executeQuery(CompiledQuery.raw(bump, [v.hostId, expectedGeneration]));
        if (bumped.numAffectedRows !== 1n) {
          failedHosts.add(v.hostId);
          continue;
        }
        await tx.executeQuery(
          CompiledQuery.raw(insert, [v.serverId, v.hostId, v.threadsJson, v.numaNodesJson, v.memoryMiB, v.diskGiB, v.gpusJson, v.vfsJson, v.createdAt]),
        );
        written.add(v.serverId);
      }
      return written;
    },
    async release(tx, serverId) {
      const removed = await tx.executeQuery<{ host_id: string }>(CompiledQuery.raw(remove, [serverId]));
      const hostId = removed.rows[0]?.host_id;
      if (hostId === undefined) return null;
      const touched = await tx.executeQuery<{ generation: number }>(CompiledQuery.raw(touch, [hostId]));
      return { hostId, generation: Number(touched.rows[0]?.generation ?? -1) };
    },
  };
}

function postgresWriter(): ClaimWriter {
  // One statement per batch: bump each host once by its number of claims if its generation is still the
  // first one seen, then insert the claims of the hosts that were bumped.
  const claim = `with input as (
      select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::integer[], $6::integer[], $7::text[], $8::text[], $9::text[], $10::integer[])
        as t(server_id, host_id, threads_json, numa_nodes_json, memory_mib, disk_gib, gpus_json, vfs_json, created_at, expected)),
    per_host as (select host_id, min(expected) as expected, count(*)::integer as n from input group by host_id),
    bumped as (
      update hosts h set generation = h.generation + p.n from per_host p
      where h.id = p.host_id and h.generation = p.expected and h.state = 'active' and h.health = 'up' returning h.id)
    insert into allocations (${columns})
    select i.server_id, i.host_id, i.threads_json, i.numa_nodes_json, i.memory_mib, i.disk_gib, i.gpus_json, i.vfs_json, i.created_at
    from input i join bumped b on b.id = i.host_id
    returning server_id`;
  const release = `with removed as (delete from allocations where server_id = $1 returning host_id)
    update hosts set generation = generation + 1 where id in (select host_id from removed)
    returning id, generation`;
  return {
    async claimBatch(tx, claims) {
      const column = <T>(pick: (claim: PendingClaim) => T) => claims.map(pick);
      const result = await tx.executeQuery<{ server_id: string }>(
        CompiledQuery.raw(claim, [
          column((c) => c.values.serverId),
          column((c) => c.values.hostId),
          column((c) => c.values.threadsJson),
          column((c) => c.values.numaNodesJson),
          column((c) => c.values.memoryMiB),
          column((c) => c.values.diskGiB),
          column((c) => c.values.gpusJson),
          column((c) => c.values.vfsJson),
          column((c) => c.values.createdAt),
          column((c) => c.expectedGeneration),
        ]),
      );
      return new Set(result.rows.map((row) => row.server_id));
    },
    async release(tx, serverId) {
      const result = await tx.executeQuery<{ id: string; generation: number }>(CompiledQuery.raw(release, [serverId]));
      const row = result.rows[0];
      return row ? { hostId: row.id, generation: Number(row.generation) } : null;
    },
  };
}
