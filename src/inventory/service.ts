import type { Selectable } from 'kysely';
import type { Db, Tx, HostsTable } from '../db/index.ts';
import { inTransaction } from '../db/index.ts';
import { invalid, newId, notFound, VmcError, type Clock, type Logger } from '../core/index.ts';
import type { EventRecorder } from '../events/index.ts';
import type { FleetEntry } from '../catalog/index.ts';
import { hostShapes, topologyOfShape } from './shapes.ts';
import { memoryMiBTotal, sellableMemoryMiB, sellableThreadCount, threadCount, type HostTopology } from './topology.ts';

export type HostState = 'active' | 'maintenance' | 'draining';
export const hostStates: HostState[] = ['active', 'maintenance', 'draining'];

export interface HostView {
  id: string;
  name: string;
  region: string;
  kind: string;
  state: string;
  health: string;
  driver: string;
  cpu_model: string;
  topology: {
    sockets: number;
    numa_nodes: Array<{ id: number; cores: number; threads: number; memory_mib: number }>;
    threads: number;
    reserved_threads: number[];
    gpus: HostTopology['gpus'];
    nics: Array<{ name: string; pci_address: string; numa_node: number; speed_gbps: number; vfs: number }>;
  };
  capacity: { vcpus: number; memory_mib: number; disk_gib: number; gpus: number };
  usage: { servers: number; vcpus: number; memory_mib: number; disk_gib: number; gpus: number };
  generation: number;
  last_heartbeat_at: string | null;
  agent_version: string | null;
}

export interface RegisterHostInput {
  name: string;
  region: string;
  driver: string;
  cpuModel: string;
  topology: HostTopology;
  agentVersion: string | null;
  /** The agent's host API (console, snapshots, export), and the key the control plane presents to it. */
  address: string | null;
  agentKey?: string | null;
}

function hostView(row: Selectable<HostsTable>, usage: HostView['usage'] | undefined): HostView {
  const topology = JSON.parse(row.topology_json) as HostTopology;
  return {
    id: row.id,
    name: row.name,
    region: row.region,
    kind: row.kind,
    state: row.state,
    health: row.health,
    driver: row.driver,
    cpu_model: row.cpu_model,
    topology: {
      sockets: topology.sockets,
      numa_nodes: topology.numaNodes.map((n) => ({ id: n.id, cores: n.cores.length, threads: n.cores.reduce((s, c) => s + c.threads.length, 0), memory_mib: n.memoryMiB })),
      threads: threadCount(topology),
      reserved_threads: topology.reservedThreads,
      gpus: topology.gpus,
      nics: topology.nics.map((n) => ({ name: n.name, pci_address: n.pciAddress, numa_node: n.numaNode, speed_gbps: n.speedGbps, vfs: n.vfs.length })),
    },
    capacity: { vcpus: sellableThreadCount(topology), memory_mib: sellableMemoryMiB(topology), disk_gib: topology.diskGiB, gpus: topology.gpus.length },
    usage: usage ?? { servers: 0, vcpus: 0, memory_mib: 0, disk_gib: 0, gpus: 0 },
    generation: row.generation,
    last_heartbeat_at: row.last_heartbeat_at,
    agent_version: row.agent_version,
  };
}

export function createInventoryService(deps: { db: Db; clock: Clock; log: Logger; events: EventRecorder; onHostChanged?: (hostId: string) => void }) {
  const { db, clock } = deps;

  async function usageByHost(hostIds: string[] | null): Promise<Map<string, HostView['usage']>> {
    let query = db
      .selectFrom('allocations')
      .innerJoin('servers', 'servers.id', 'allocations.server_id')
      .innerJoin('products', 'products.code', 'servers.product')
      .select((eb) => [
        'allocations.host_id',
        eb.fn.countAll<number>().as('servers'),
        eb.fn.sum<number>('products.vcpus').as('vcpus'),
        eb.fn.sum<number>('allocations.memory_mib').as('memory_mib'),
        eb.fn.sum<number>('allocations.disk_gib').as('disk_gib'),
        eb.fn.sum<number>('products.gpu_count').as('gpus'),
      ])
      .groupBy('allocations.host_id');
    if (hostIds) query = query.where('allocations.host_id', 'in', hostIds);
    const rows = await query.execute();
    return new Map(rows.map((r) => [r.host_id, { servers: Number(r.servers), vcpus: Number(r.vcpus ?? 0), memory_mib: Number(r.memory_mib ?? 0), disk_gib: Number(r.disk_gib ?? 0), gpus: Number(r.gpus ?? 0) }]));
  }

  async function insertHost(input: RegisterHostInput, now: string, into: Db | Tx = db): Promise<string> {
    const id = newId('host', clock.nowMs());
    await into
      .insertInto('hosts')
      .values({
        id,
        name: input.name,
        region: input.region,
        kind: input.topology.gpus.length > 0 ? 'gpu' : 'standard',
        state: 'active',
        health: 'up',
        driver: input.driver,
        cpu_model: input.cpuModel,
        sockets: input.topology.sockets,
        threads_total: threadCount(input.topology),
        memory_mib: memoryMiBTotal(input.topology),
        disk_gib: input.topology.diskGiB,
        gpu_model: input.topology.gpus[0]?.model ?? null,
        gpu_count: input.topology.gpus.length,
        topology_json: JSON.stringify(input.topology),
        generation: 1,
        last_heartbeat_at: now,
        agent_version: input.agentVersion,
        address: input.address,
        agent_key: input.agentKey ?? null,
        created_at: now,
        updated_at: now,
      })
      .execute();
    return id;
  }

  return {
    /** Creates the simulated hosts of `fleet` that are missing (by name); returns how many were made. */
    async seedFleet(fleet: FleetEntry[], options: { scale?: number } = {}): Promise<number> {
      const scale = options.scale ?? 1;
      const existing = new Set((await db.selectFrom('hosts').select('name').execute()).map((r) => r.name));
      const now = clock.nowIso();
      let made = 0;
      await inTransaction(db, async (tx) => {
        for (const entry of fleet) {
          const shape = hostShapes[entry.shape];
          const count = Math.max(1, Math.round(entry.count * scale));
          for (let i = 1; i <= count; i++) {
            const name = `${entry.region}-${shape.name}-${String(i).padStart(3, '0')}`;
            if (existing.has(name)) continue;
            await insertHost({ name, region: entry.region, driver: 'sim', cpuModel: shape.cpuModel, topology: topologyOfShape(shape), agentVersion: 'sim', address: null }, now, tx);
            made++;
          }
        }
      });
      return made;
    },

    async listHosts(filter: { region?: string; driver?: string } = {}): Promise<HostView[]> {
      let query = db.selectFrom('hosts').selectAll().orderBy('region').orderBy('name');
      if (filter.region) query = query.where('region', '=', filter.region.toLowerCase());
      if (filter.driver) query = query.where('driver', '=', filter.driver);
      const rows = await query.execute();
      const usage = await usageByHost(null);
      return rows.map((r) => hostView(r, usage.get(r.id)));
    },

    async getHost(hostId: string): Promise<HostView> {
      const row = await db.selectFrom('hosts').selectAll().where('id', '=', hostId).executeTakeFirst();
      if (!row) throw notFound('host', hostId);
      return hostView(row, (await usageByHost([hostId])).get(hostId));
    },

    /** Operator state: only active hosts take new servers. The generation bump tells every scheduler. */
    async setHostState(hostId: string, state: string): Promise<HostView> {
      if (!(hostStates as string[]).includes(state)) throw invalid(`state must be one of ${hostStates.join(', ')}`, { fields: [{ field: 'state', message: `must be one of ${hostStates.join(', ')}` }] });
      await inTransaction(db, async (tx, hooks) => {
        const row = await tx.selectFrom('hosts').select(['state']).where('id', '=', hostId).executeTakeFirst();
        if (!row) throw notFound('host', hostId);
        await tx.updateTable('hosts').set((eb) => ({ state, generation: eb('generation', '+', 1), updated_at: clock.nowIso() })).where('id', '=', hostId).execute();
        await deps.events.record(tx, hooks, { type: 'host.state_changed', projectId: null, resourceType: 'host', resourceId: hostId, data: { from: row.state, to: state } });
        hooks.afterCommit(() => deps.onHostChanged?.(hostId));
      });
      return this.getHost(hostId);
    },

    /** A real agent registers (or re-registers) its host by name, with the topology it read from /sys. */
    async registerHost(input: RegisterHostInput): Promise<{ hostId: string; created: boolean; ipv4Pool: string }> {
      const region = await db.selectFrom('regions').select(['code', 'ipv4_pool']).where('code', '=', input.region.toLowerCase()).executeTakeFirst();
      if (!region) throw invalid(`unknown region ${input.region}`, { fields: [{ field: 'region', message: 'unknown region' }] });
      const now = clock.nowIso();
      const existing = await db.selectFrom('hosts').selectAll().where('name', '=', input.name).executeTakeFirst();
      if (!existing) {
        const hostId = await insertHost({ ...input, region: region.code }, now);
        await inTransaction(db, (tx, hooks) => deps.events.record(tx, hooks, { type: 'host.registered', projectId: null, resourceType: 'host', resourceId: hostId, data: { name: input.name, region: region.code } }));
        deps.onHostChanged?.(hostId);
        return { hostId, created: true, ipv4Pool: region.ipv4_pool };
      }
      if (existing.region !== region.code) throw new VmcError('conflict', `host ${input.name} is registered in ${existing.region}, not ${region.code}`, { reason: 'host_region_mismatch' });
      await db
        .updateTable('hosts')
        .set((eb) => ({
          topology_json: JSON.stringify(input.topology),
          threads_total: threadCount(input.topology),
          memory_mib: memoryMiBTotal(input.topology),
          disk_gib: input.topology.diskGiB,
          gpu_model: input.topology.gpus[0]?.model ?? null,
          gpu_count: input.topology.gpus.length,
          cpu_model: input.cpuModel,
          driver: input.driver,
          agent_version: input.agentVersion,
          address: input.address,
          agent_key: input.agentKey ?? null,
          last_heartbeat_at: now,
          generation: eb('generation', '+', 1),
          updated_at: now,
        }))
        .where('id', '=', existing.id)
        .execute();
      deps.onHostChanged?.(existing.id);
      return { hostId: existing.id, created: false, ipv4Pool: region.ipv4_pool };
    },

    /** Records a heartbeat; a host that was down is up again. */
    async heartbeat(hostId: string): Promise<void> {
      const now = clock.nowIso();
      const row = await db.selectFrom('hosts').select(['health']).where('id', '=', hostId).executeTakeFirst();
      if (!row) throw notFound('host', hostId);
      if (row.health === 'up') {
        await db.updateTable('hosts').set({ last_heartbeat_at: now }).where('id', '=', hostId).execute();
        return;
      }
      await inTransaction(db, async (tx, hooks) => {
        await tx.updateTable('hosts').set((eb) => ({ last_heartbeat_at: now, health: 'up', generation: eb('generation', '+', 1), updated_at: now })).where('id', '=', hostId).execute();
        await deps.events.record(tx, hooks, { type: 'host.up', projectId: null, resourceType: 'host', resourceId: hostId });
        hooks.afterCommit(() => deps.onHostChanged?.(hostId));
      });
    },

    /** Hosts whose last heartbeat is older than `staleAfterMs` are marked down; returns their ids. */
    async markStaleHostsDown(staleAfterMs: number): Promise<string[]> {
      const cutoff = new Date(clock.nowMs() - staleAfterMs).toISOString();
      const stale = await db.selectFrom('hosts').select('id').where('health', '=', 'up').where('last_heartbeat_at', '<', cutoff).execute();
      for (const { id } of stale) {
        await inTransaction(db, async (tx, hooks) => {
          await tx.updateTable('hosts').set((eb) => ({ health: 'down', generation: eb('generation', '+', 1), updated_at: clock.nowIso() })).where('id', '=', id).where('health', '=', 'up').execute();
          await deps.events.record(tx, hooks, { type: 'host.down', projectId: null, resourceType: 'host', resourceId: id, data: { stale_after_ms: staleAfterMs } });
          hooks.afterCommit(() => deps.onHostChanged?.(id));
        });
      }
      return stale.map((s) => s.id);
    },
  };
}

export type InventoryService = ReturnType<typeof createInventoryService>;
