/**
 * The scheduler's store: every SQL statement of the scheduler is in this folder. It owns `allocations` and
 * `placement_groups` (allocations.ts), reads and guards inventory's `hosts` (hosts.ts, kept apart), and
 * joins compute's `servers` where a claim needs its server. It turns rows into host views and back.
 */
import type { DialectName, Queryable, Tx } from '../../db/index.ts';
import type { AuditAllocation, AuditHost, AuditServer } from '../audit.ts';
import { createLayoutCache, layoutOfTopology, type HostLayout } from '../host-layout.ts';
import { applyClaim, coresOfThreads, createHostState, type Claim, type HostState } from '../host-state.ts';
import {
  createAllocationWriter,
  readClaimRows,
  readLoadedClaimRows,
  readPlacementGroupPolicy,
  type AllocationInput,
  type AllocationRow,
  type ClaimRow,
  type LoadedClaimRow,
} from './allocations.ts';
import {
  createHostGuard,
  readHostRows,
  readHostTopology,
  readOrphanClaimRows,
  readRegionGenerations,
  type GenerationBump,
  type HostRow,
} from './hosts.ts';

export type { AllocationInput, ClaimRow } from './allocations.ts';

export interface PendingClaim {
  row: AllocationInput;
  /** Generation the decision saw; claims on one host in one batch carry consecutive generations. */
  expectedGeneration: number;
}

export interface ReleasedClaims {
  /** Host of each server whose row was deleted. */
  hostOf: Map<string, string>;
  /** How many rows each host lost, and its generation after the bump. */
  count: Map<string, number>;
  generation: Map<string, number>;
}

export interface AuditPage {
  hosts: AuditHost[];
  allocations: AuditAllocation[];
  servers: Map<string, AuditServer>;
}

export interface SchedulerStore {
  /** Every host with its claims, read page by page (hosts, then the claims of those hosts). */
  loadFleet(q: Queryable): Promise<HostState[]>;
  /** Some hosts with their claims (missing hosts are left out). */
  loadHosts(q: Queryable, hostIds: readonly string[]): Promise<HostState[]>;
  regionGenerations(q: Queryable, region: string): Promise<Array<{ id: string; generation: number }>>;
  /**
   * Writes a batch of claims: bumps each host's generation once by its number of claims (the guard), then
   * inserts the rows of the hosts bumped. A host's claims are all written or none. Returns the servers written.
   */
  writeClaims(tx: Tx, claims: readonly PendingClaim[], createdAt: string): Promise<Set<string>>;
  /** Deletes servers' claims and moves their hosts' generations on. */
  releaseClaims(tx: Tx, serverIds: readonly string[]): Promise<ReleasedClaims>;
  placementGroupPolicy(q: Queryable, groupId: string): Promise<string | null>;
  /** The rows the audit needs, host page by host page; the last page holds claims of missing hosts. */
  auditPages(q: Queryable, onPage: (page: AuditPage) => void): Promise<{ hosts: number; allocations: number }>;
  /** One host's region and GPU models by address, and its claims. */
  hostClaims(
    q: Queryable,
    hostId: string,
  ): Promise<{ region: string; gpuModels: Map<string, string>; claims: ClaimRow[] } | null>;
}

/** Hosts per page when reading the fleet (bounded memory: topology texts are a few KiB each). */
const pageSize = 1000;

const emptyLayout = layoutOfTopology({
  sockets: 0,
  numaNodes: [],
  reservedThreads: [],
  reservedMemoryMiBPerNode: 0,
  diskGiB: 0,
  gpus: [],
  nics: [],
});

export function createSchedulerStore(dialect: DialectName): SchedulerStore {
  const guard = createHostGuard(dialect);
  const writer = createAllocationWriter(dialect);
  let layoutOf = createLayoutCache();

  /**
   * The layout of a stored topology, or an empty one when the text cannot be read (a host inventory has
   * marked `unusable`): the audit then reports that host's claims as unknown threads and devices.
   */
  function readableLayout(topologyJson: string): HostLayout {
    try {
      return layoutOf(topologyJson);
    } catch {
      return emptyLayout;
    }
  }

  async function buildHosts(q: Queryable, rows: HostRow[]): Promise<HostState[]> {
    // Host rows first, claims second: the claims read are at least those of the generation read.
    const claims = await readLoadedClaimRows(
      q,
      rows.map((row) => row.id),
    );
    const hosts = new Map<string, HostState>();
    for (const row of rows) {
      // A quarantined host (its stored topology is invalid, see inventory) is never read into the index.
      if (row.health === 'unusable') continue;
      hosts.set(row.id, hostOfRow(row, layoutOf(row.topology_json)));
    }
    for (const row of claims) {
      const host = hosts.get(row.host_id);
      if (host) applyClaim(host, row.server_id, claimOfRow(host.layout, row));
    }
    return [...hosts.values()];
  }

  return {
    async loadFleet(q) {
      layoutOf = createLayoutCache();
      const hosts: HostState[] = [];
      for (let afterId: string | null = null; ;) {
        const rows = await readHostRows(q, { afterId, limit: pageSize });
        hosts.push(...(await buildHosts(q, rows)));
        if (rows.length < pageSize) return hosts;
        afterId = rows[rows.length - 1].id;
      }
    },
    async loadHosts(q, hostIds) {
      const hosts: HostState[] = [];
      for (let start = 0; start < hostIds.length; start += pageSize) {
        const rows = await readHostRows(q, { hostIds: hostIds.slice(start, start + pageSize) });
        hosts.push(...(await buildHosts(q, rows)));
      }
      return hosts;
    },
    regionGenerations: readRegionGenerations,
    async writeClaims(tx, claims, createdAt) {
      const bumps = new Map<string, GenerationBump>();
      const broken = new Set<string>();
      for (const { row, expectedGeneration } of claims) {
        const bump = bumps.get(row.placement.hostId);
        if (!bump)
          bumps.set(row.placement.hostId, { hostId: row.placement.hostId, expected: expectedGeneration, count: 1 });
        else if (expectedGeneration === bump.expected + bump.count) bump.count++;
        else broken.add(row.placement.hostId);
      }
      for (const hostId of broken) bumps.delete(hostId);
      const bumped = await guard.bump(tx, [...bumps.values()]);
      const rows = claims.filter((claim) => bumped.has(claim.row.placement.hostId)).map((claim) => claim.row);
      await writer.insert(tx, rows, createdAt);
      return new Set(rows.map((row) => row.serverId));
    },
    async releaseClaims(tx, serverIds) {
      const hostOf = await writer.remove(tx, serverIds);
      const count = new Map<string, number>();
      for (const hostId of hostOf.values()) count.set(hostId, (count.get(hostId) ?? 0) + 1);
      const generation = await guard.touch(tx, count);
      return { hostOf, count, generation };
    },
    placementGroupPolicy: readPlacementGroupPolicy,
    async auditPages(q, onPage) {
      let hostCount = 0;
      let allocationCount = 0;
      for (let afterId: string | null = null; ;) {
        const rows = await readHostRows(q, { afterId, limit: pageSize });
        const claims = await readClaimRows(
          q,
          rows.map((row) => row.id),
        );
        hostCount += rows.length;
        allocationCount += claims.length;
        const servers = new Map<string, AuditServer>();
        for (const claim of claims)
          if (claim.server_exists)
            servers.set(claim.server_id, { id: claim.server_id, deletedAt: claim.server_deleted_at });
        onPage({
          hosts: rows.map((row) => ({ id: row.id, topology: readableLayout(row.topology_json).topology })),
          allocations: claims.map(auditAllocationOf),
          servers,
        });
        if (rows.length < pageSize) break;
        afterId = rows[rows.length - 1].id;
      }
      const orphans = await readOrphanClaimRows(q);
      if (orphans.length > 0) {
        allocationCount += orphans.length;
        onPage({ hosts: [], allocations: orphans.map(auditAllocationOf), servers: new Map() });
      }
      return { hosts: hostCount, allocations: allocationCount };
    },
    async hostClaims(q, hostId) {
      const host = await readHostTopology(q, hostId);
      if (!host) return null;
      const layout = readableLayout(host.topologyJson);
      return {
        region: host.region,
        gpuModels: new Map(layout.gpus.map((gpu) => [gpu.pciAddress, gpu.model])),
        claims: await readClaimRows(q, [hostId]),
      };
    },
  };
}

function hostOfRow(row: HostRow, layout: HostLayout): HostState {
  return createHostState({
    id: row.id,
    name: row.name,
    region: row.region,
    kind: row.kind,
    // A host whose agent stopped heartbeating takes nothing new, whatever its operator state.
    state: row.health !== 'up' ? 'down' : row.state,
    generation: row.generation,
    layout,
    images: row.images_json === null ? null : (JSON.parse(row.images_json) as string[]),
  });
}

const none: readonly string[] = [];

function claimOfRow(layout: HostLayout, row: LoadedClaimRow): Claim {
  const threads = JSON.parse(row.threads_json) as number[];
  return {
    cores: coresOfThreads(layout, threads),
    vcpus: threads.length,
    memoryMiB: Number(row.memory_mib),
    diskGiB: Number(row.disk_gib),
    gpus: row.gpus_json === '[]' ? none : (JSON.parse(row.gpus_json) as string[]),
    vfs: row.vfs_json === '[]' ? none : (JSON.parse(row.vfs_json) as string[]),
    placementGroupId: row.placement_group_id ?? null,
  };
}

function auditAllocationOf(row: AllocationRow): AuditAllocation {
  return {
    serverId: row.server_id,
    hostId: row.host_id,
    threads: JSON.parse(row.threads_json) as number[],
    numaNodes: JSON.parse(row.numa_nodes_json) as number[],
    memoryMiB: row.memory_mib,
    diskGiB: row.disk_gib,
    gpus: JSON.parse(row.gpus_json) as string[],
    vfs: JSON.parse(row.vfs_json) as string[],
  };
}
