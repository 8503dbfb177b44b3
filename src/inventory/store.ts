/** The only code that names the `hosts` table (the scheduler's claim guard aside: see src/scheduler/store.ts). */
import type { Db, Tx, HostsTable } from '../db/index.ts';
import type { Selectable } from 'kysely';
import type { HostTopology } from './topology.ts';
import { memoryMiBTotal, threadCount } from './topology.ts';

export interface HostRecord {
  id: string;
  name: string;
  region: string;
  kind: 'standard' | 'gpu';
  state: string;
  health: string;
  healthReason: string | null;
  driver: string;
  cpuModel: string;
  /** Parsed lazily: a corrupt row must not stop a listing (see quarantine). */
  topologyJson: string;
  generation: number;
  lastHeartbeatAt: string | null;
  agentVersion: string | null;
  address: string | null;
  agentKey: string | null;
  /** The image slugs the host can boot; null: every image of the catalog. */
  images: string[] | null;
}

export interface HostSummary {
  id: string;
  region: string;
  driver: string;
  state: string;
  health: string;
}

export interface NewHost {
  id: string;
  name: string;
  region: string;
  driver: string;
  cpuModel: string;
  topology: HostTopology;
  agentVersion: string | null;
  address: string | null;
  agentKey: string | null;
  /** The image slugs the host can boot; null: every image of the catalog. */
  images: readonly string[] | null;
  nowIso: string;
}

/** The stored form of a host's images: sorted, so that an unchanged list compares equal. */
export const imagesJsonOf = (images: readonly string[] | null): string | null =>
  images === null ? null : JSON.stringify([...new Set(images)].sort());

type Row = Pick<Selectable<HostsTable>, (typeof columns)[number]>;

const recordOf = (row: Row): HostRecord => ({
  id: row.id,
  name: row.name,
  region: row.region,
  kind: row.kind === 'gpu' ? 'gpu' : 'standard',
  state: row.state,
  health: row.health,
  healthReason: row.health_reason,
  driver: row.driver,
  cpuModel: row.cpu_model,
  topologyJson: row.topology_json,
  generation: Number(row.generation),
  lastHeartbeatAt: row.last_heartbeat_at,
  agentVersion: row.agent_version,
  address: row.address,
  agentKey: row.agent_key,
  images: row.images_json ? (JSON.parse(row.images_json) as string[]) : null,
});

const topologyColumns = (topology: HostTopology) => ({
  kind: topology.gpus.length > 0 ? 'gpu' : 'standard',
  sockets: topology.sockets,
  threads_total: threadCount(topology),
  memory_mib: memoryMiBTotal(topology),
  disk_gib: topology.diskGiB,
  gpu_model: topology.gpus[0]?.model ?? null,
  gpu_count: topology.gpus.length,
  topology_json: JSON.stringify(topology),
});

const columns = [
  'id',
  'name',
  'region',
  'kind',
  'state',
  'health',
  'health_reason',
  'driver',
  'cpu_model',
  'topology_json',
  'generation',
  'last_heartbeat_at',
  'agent_version',
  'address',
  'agent_key',
  'images_json',
] as const;

export function createInventoryStore(db: Db) {
  return {
    async insert(q: Tx | Db, host: NewHost): Promise<void> {
      await q
        .insertInto('hosts')
        .values({
          id: host.id,
          name: host.name,
          region: host.region,
          state: 'active',
          health: 'up',
          driver: host.driver,
          cpu_model: host.cpuModel,
          ...topologyColumns(host.topology),
          generation: 1,
          last_heartbeat_at: host.nowIso,
          agent_version: host.agentVersion,
          address: host.address,
          agent_key: host.agentKey,
          images_json: imagesJsonOf(host.images),
          created_at: host.nowIso,
          updated_at: host.nowIso,
        })
        .execute();
    },

    async names(): Promise<Set<string>> {
      return new Set((await db.selectFrom('hosts').select('name').execute()).map((r) => r.name));
    },

    async byName(q: Tx | Db, name: string): Promise<HostRecord | null> {
      const row = await q.selectFrom('hosts').select(columns).where('name', '=', name).executeTakeFirst();
      return row ? recordOf(row) : null;
    },

    async byId(q: Tx | Db, id: string): Promise<HostRecord | null> {
      const row = await q.selectFrom('hosts').select(columns).where('id', '=', id).executeTakeFirst();
      return row ? recordOf(row) : null;
    },

    async list(filter: { region?: string; driver?: string; health?: string } = {}): Promise<HostRecord[]> {
      let query = db.selectFrom('hosts').select(columns).orderBy('region').orderBy('name');
      if (filter.region) query = query.where('region', '=', filter.region);
      if (filter.driver) query = query.where('driver', '=', filter.driver);
      if (filter.health) query = query.where('health', '=', filter.health);
      return (await query.execute()).map(recordOf);
    },

    async summary(id: string): Promise<HostSummary | undefined> {
      return db
        .selectFrom('hosts')
        .select(['id', 'region', 'driver', 'state', 'health'])
        .where('id', '=', id)
        .executeTakeFirst();
    },

    /** Every host's identity and state, without its topology (fleet-wide reads at a high rate). */
    async summaries(): Promise<HostSummary[]> {
      return db.selectFrom('hosts').select(['id', 'region', 'driver', 'state', 'health']).orderBy('id').execute();
    },

    async updateRegistration(tx: Tx, id: string, input: Omit<NewHost, 'id' | 'name' | 'region'>): Promise<void> {
      await tx
        .updateTable('hosts')
        .set((eb) => ({
          ...topologyColumns(input.topology),
          cpu_model: input.cpuModel,
          driver: input.driver,
          agent_version: input.agentVersion,
          address: input.address,
          agent_key: input.agentKey,
          images_json: imagesJsonOf(input.images),
          last_heartbeat_at: input.nowIso,
          health: 'up',
          health_reason: null,
          generation: eb('generation', '+', 1),
          updated_at: input.nowIso,
        }))
        .where('id', '=', id)
        .execute();
    },

    /**
     * Records the images a host reports, when they differ from those stored; the generation bump tells
     * every scheduler (a decision made on the old list cannot be written). True when this call changed it.
     */
    async setImages(tx: Tx, id: string, images: readonly string[], nowIso: string): Promise<boolean> {
      const imagesJson = imagesJsonOf(images);
      const result = await tx
        .updateTable('hosts')
        .set((eb) => ({ images_json: imagesJson, generation: eb('generation', '+', 1), updated_at: nowIso }))
        .where('id', '=', id)
        .where((eb) => eb.or([eb('images_json', 'is', null), eb('images_json', '!=', imagesJson)]))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /** The images stored for a host (null: every image of the catalog). */
    async images(q: Tx | Db, id: string): Promise<string[] | null> {
      const row = await q.selectFrom('hosts').select('images_json').where('id', '=', id).executeTakeFirst();
      return row?.images_json ? (JSON.parse(row.images_json) as string[]) : null;
    },

    async setState(tx: Tx, id: string, state: string, nowIso: string): Promise<void> {
      await tx
        .updateTable('hosts')
        .set((eb) => ({ state, generation: eb('generation', '+', 1), updated_at: nowIso }))
        .where('id', '=', id)
        .execute();
    },

    /** `touchIfUp` for many hosts in one statement; returns the ids it touched (those up). */
    async touchManyIfUp(ids: string[], nowIso: string): Promise<Set<string>> {
      if (ids.length === 0) return new Set();
      const rows = await db
        .updateTable('hosts')
        .set({ last_heartbeat_at: nowIso })
        .where('id', 'in', ids)
        .where('health', '=', 'up')
        .returning('id')
        .execute();
      return new Set(rows.map((row) => row.id));
    },

    /** down → up with a heartbeat; true when this call changed it. Unusable hosts stay unusable. */
    async markUp(tx: Tx, id: string, nowIso: string): Promise<boolean> {
      const result = await tx
        .updateTable('hosts')
        .set((eb) => ({
          last_heartbeat_at: nowIso,
          health: 'up',
          generation: eb('generation', '+', 1),
          updated_at: nowIso,
        }))
        .where('id', '=', id)
        .where('health', '=', 'down')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async staleUpHostIds(cutoffIso: string): Promise<string[]> {
      const rows = await db
        .selectFrom('hosts')
        .select('id')
        .where('health', '=', 'up')
        .where('last_heartbeat_at', '<', cutoffIso)
        .execute();
      return rows.map((r) => r.id);
    },

    /** up → down when its heartbeat is still older than the cutoff; true when this call changed it. */
    async markDownIfStale(tx: Tx, id: string, cutoffIso: string, nowIso: string): Promise<boolean> {
      const result = await tx
        .updateTable('hosts')
        .set((eb) => ({ health: 'down', generation: eb('generation', '+', 1), updated_at: nowIso }))
        .where('id', '=', id)
        .where('health', '=', 'up')
        .where('last_heartbeat_at', '<', cutoffIso)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async quarantine(tx: Tx, id: string, reason: string, nowIso: string): Promise<boolean> {
      const result = await tx
        .updateTable('hosts')
        .set((eb) => ({
          health: 'unusable',
          health_reason: reason,
          generation: eb('generation', '+', 1),
          updated_at: nowIso,
        }))
        .where('id', '=', id)
        .where('health', '!=', 'unusable')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /** Makes the next housekeeping pass see the host as silent (its credentials were revoked). */
    async expireHeartbeat(q: Tx | Db, id: string): Promise<void> {
      await q
        .updateTable('hosts')
        .set({ last_heartbeat_at: '1970-01-01T00:00:00.000Z' })
        .where('id', '=', id)
        .execute();
    },

    /** Hosts by region and health (metrics). */
    async countByHealth(): Promise<Array<{ region: string; health: string; count: number }>> {
      const rows = await db
        .selectFrom('hosts')
        .select(['region', 'health', (eb) => eb.fn.countAll<number>().as('count')])
        .groupBy(['region', 'health'])
        .execute();
      return rows.map((row) => ({ region: row.region, health: row.health, count: Number(row.count) }));
    },

    async remove(tx: Tx, id: string): Promise<void> {
      await tx.deleteFrom('hosts').where('id', '=', id).execute();
    },
  };
}

export type InventoryStore = ReturnType<typeof createInventoryStore>;
