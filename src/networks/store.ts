/**
 * The only code that names the networks domain's tables: `networks`, `network_subnets`, `network_routes`,
 * `network_attachments` and IPAM's `address_allocations`. JSON columns are parsed here, once.
 */
import { sql } from 'kysely';
import type { Db, DialectName, Tx } from '../db/index.ts';
import type { AttachmentStatus, Labels } from '../contract/index.ts';

export interface NetworkRecord {
  id: string;
  projectId: string;
  name: string;
  region: string;
  ipRange: string;
  vni: number;
  mtu: number;
  labels: Labels;
  createdAt: string;
  updatedAt: string;
}

export interface SubnetRecord {
  networkId: string;
  ipRange: string;
  gateway: string;
}

export interface RouteRecord {
  networkId: string;
  destination: string;
  gateway: string;
}

export interface AttachmentRecord {
  networkId: string;
  serverId: string;
  projectId: string;
  ip: string;
  mac: string;
  status: AttachmentStatus;
  createdAt: string;
  updatedAt: string;
}

interface NetworkRow {
  id: string;
  project_id: string;
  name: string;
  region: string;
  ip_range: string;
  vni: number;
  mtu: number;
  labels_json: string;
  created_at: string;
  updated_at: string;
}

const networkOf = (r: NetworkRow): NetworkRecord => ({
  id: r.id,
  projectId: r.project_id,
  name: r.name,
  region: r.region,
  ipRange: r.ip_range,
  vni: Number(r.vni),
  mtu: Number(r.mtu),
  labels: JSON.parse(r.labels_json) as Labels,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const attachmentOf = (r: {
  network_id: string;
  server_id: string;
  project_id: string;
  ip: string;
  mac: string;
  status: string;
  created_at: string;
  updated_at: string;
}): AttachmentRecord => ({
  networkId: r.network_id,
  serverId: r.server_id,
  projectId: r.project_id,
  ip: r.ip,
  mac: r.mac,
  status: r.status as AttachmentStatus,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export interface NetworkListFilter {
  projectId: string;
  afterId: string | null;
  limit: number;
  name?: string;
  region?: string;
}

export function createNetworkStore(db: Db, dialect: DialectName) {
  return {
    async insert(tx: Tx, n: NetworkRecord): Promise<void> {
      await tx
        .insertInto('networks')
        .values({
          id: n.id,
          project_id: n.projectId,
          name: n.name,
          region: n.region,
          ip_range: n.ipRange,
          vni: n.vni,
          mtu: n.mtu,
          labels_json: JSON.stringify(n.labels),
          created_at: n.createdAt,
          updated_at: n.updatedAt,
          deleted_at: null,
        })
        .execute();
    },

    /** The next VNI: one more than the highest ever given (the unique index settles races). */
    async nextVni(tx: Tx, first: number): Promise<number> {
      const row = await tx
        .selectFrom('networks')
        .select((eb) => eb.fn.max('vni').as('max'))
        .executeTakeFirst();
      const max = row?.max === null || row?.max === undefined ? null : Number(row.max);
      return max === null ? first : Math.max(first, max + 1);
    },

    /**
     * Serializes the changes of one project's network ranges (PostgreSQL: a transaction-scoped advisory
     * lock; SQLite: its one writer already does), so two overlapping creates cannot both pass the check.
     */
    async lockProjectRanges(tx: Tx, projectId: string): Promise<void> {
      if (dialect === 'postgres')
        await sql`select pg_advisory_xact_lock(hashtext(${`networks:${projectId}`}))`.execute(tx);
    },

    /** A live network of the project by id or name (row locked on PostgreSQL with `lock`), or null. */
    async liveNetwork(
      q: Tx | Db,
      projectId: string,
      ref: string,
      options: { lock?: boolean } = {},
    ): Promise<NetworkRecord | null> {
      let query = q
        .selectFrom('networks')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('deleted_at', 'is', null)
        .where((eb) => (ref.startsWith('net_') ? eb('id', '=', ref) : eb('name', '=', ref)));
      if (options.lock && dialect === 'postgres') query = query.forUpdate();
      const row = await query.executeTakeFirst();
      return row ? networkOf(row) : null;
    },

    async projectNetworks(q: Tx | Db, projectId: string): Promise<NetworkRecord[]> {
      const rows = await q
        .selectFrom('networks')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('deleted_at', 'is', null)
        .orderBy('id')
        .execute();
      return rows.map(networkOf);
    },

    async byIds(q: Tx | Db, ids: readonly string[]): Promise<NetworkRecord[]> {
      if (ids.length === 0) return [];
      const rows = await q
        .selectFrom('networks')
        .selectAll()
        .where('id', 'in', [...ids])
        .execute();
      return rows.map(networkOf);
    },

    async regionNetworks(q: Tx | Db, region: string): Promise<NetworkRecord[]> {
      const rows = await q
        .selectFrom('networks')
        .selectAll()
        .where('region', '=', region)
        .where('deleted_at', 'is', null)
        .orderBy('id')
        .execute();
      return rows.map(networkOf);
    },

    async list(filter: NetworkListFilter): Promise<NetworkRecord[]> {
      let q = db
        .selectFrom('networks')
        .selectAll()
        .where('project_id', '=', filter.projectId)
        .where('deleted_at', 'is', null)
        .orderBy('id')
        .limit(filter.limit);
      if (filter.afterId) q = q.where('id', '>', filter.afterId);
      if (filter.name) q = q.where('name', '=', filter.name);
      if (filter.region) q = q.where('region', '=', filter.region);
      return (await q.execute()).map(networkOf);
    },

    async update(tx: Tx, id: string, change: { name?: string; labels?: Labels }, nowIso: string): Promise<void> {
      await tx
        .updateTable('networks')
        .set({
          ...(change.name !== undefined && { name: change.name }),
          ...(change.labels !== undefined && { labels_json: JSON.stringify(change.labels) }),
          updated_at: nowIso,
        })
        .where('id', '=', id)
        .execute();
    },

    async markDeleted(tx: Tx, id: string, nowIso: string): Promise<void> {
      await tx.updateTable('networks').set({ deleted_at: nowIso, updated_at: nowIso }).where('id', '=', id).execute();
    },

    // ---- subnets and routes ----

    async insertSubnet(tx: Tx, s: SubnetRecord, nowIso: string): Promise<void> {
      await tx
        .insertInto('network_subnets')
        .values({ network_id: s.networkId, ip_range: s.ipRange, gateway: s.gateway, created_at: nowIso })
        .execute();
    },

    async subnets(q: Tx | Db, networkIds: readonly string[]): Promise<SubnetRecord[]> {
      if (networkIds.length === 0) return [];
      const rows = await q
        .selectFrom('network_subnets')
        .selectAll()
        .where('network_id', 'in', [...networkIds])
        .orderBy('network_id')
        .orderBy('created_at')
        .orderBy('ip_range')
        .execute();
      return rows.map((r) => ({ networkId: r.network_id, ipRange: r.ip_range, gateway: r.gateway }));
    },

    async insertRoute(tx: Tx, r: RouteRecord, nowIso: string): Promise<void> {
      await tx
        .insertInto('network_routes')
        .values({ network_id: r.networkId, destination: r.destination, gateway: r.gateway, created_at: nowIso })
        .execute();
    },

    async deleteRoute(tx: Tx, r: RouteRecord): Promise<number> {
      const result = await tx
        .deleteFrom('network_routes')
        .where('network_id', '=', r.networkId)
        .where('destination', '=', r.destination)
        .where('gateway', '=', r.gateway)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async routes(q: Tx | Db, networkIds: readonly string[]): Promise<RouteRecord[]> {
      if (networkIds.length === 0) return [];
      const rows = await q
        .selectFrom('network_routes')
        .selectAll()
        .where('network_id', 'in', [...networkIds])
        .orderBy('network_id')
        .orderBy('destination')
        .execute();
      return rows.map((r) => ({ networkId: r.network_id, destination: r.destination, gateway: r.gateway }));
    },

    // ---- attachments ----

    async insertAttachment(tx: Tx, a: AttachmentRecord): Promise<void> {
      await tx
        .insertInto('network_attachments')
        .values({
          network_id: a.networkId,
          server_id: a.serverId,
          project_id: a.projectId,
          ip: a.ip,
          mac: a.mac,
          status: a.status,
          created_at: a.createdAt,
          updated_at: a.updatedAt,
        })
        .execute();
    },

    async attachments(q: Tx | Db, networkIds: readonly string[]): Promise<AttachmentRecord[]> {
      if (networkIds.length === 0) return [];
      const rows = await q
        .selectFrom('network_attachments')
        .selectAll()
        .where('network_id', 'in', [...networkIds])
        .orderBy('network_id')
        .orderBy('ip')
        .execute();
      return rows.map(attachmentOf);
    },

    async attachmentsOfServers(q: Tx | Db, serverIds: readonly string[]): Promise<AttachmentRecord[]> {
      if (serverIds.length === 0) return [];
      const rows = await q
        .selectFrom('network_attachments')
        .selectAll()
        .where('server_id', 'in', [...serverIds])
        .orderBy('network_id')
        .execute();
      return rows.map(attachmentOf);
    },

    async setAttachmentStatus(
      tx: Tx,
      networkId: string,
      serverId: string,
      status: AttachmentStatus,
      nowIso: string,
    ): Promise<void> {
      await tx
        .updateTable('network_attachments')
        .set({ status, updated_at: nowIso })
        .where('network_id', '=', networkId)
        .where('server_id', '=', serverId)
        .execute();
    },

    async deleteAttachment(tx: Tx, networkId: string, serverId: string): Promise<void> {
      await tx
        .deleteFrom('network_attachments')
        .where('network_id', '=', networkId)
        .where('server_id', '=', serverId)
        .execute();
    },

    // ---- IPAM ----

    /** Records `address` of `pool` as handed out; a unique violation says it already was. */
    async allocate(tx: Tx, pool: string, address: string, ownerId: string, nowIso: string): Promise<void> {
      await tx
        .insertInto('address_allocations')
        .values({ pool, address, owner_id: ownerId, created_at: nowIso })
        .execute();
    },

    async release(tx: Tx, pool: string, address: string): Promise<void> {
      await tx.deleteFrom('address_allocations').where('pool', '=', pool).where('address', '=', address).execute();
    },

    async taken(q: Tx | Db, pool: string): Promise<string[]> {
      const rows = await q.selectFrom('address_allocations').select('address').where('pool', '=', pool).execute();
      return rows.map((r) => r.address);
    },

    /** Which of `addresses` are handed out in `pool` (one primary-key lookup each). */
    async takenAmong(q: Tx | Db, pool: string, addresses: string[]): Promise<string[]> {
      if (addresses.length === 0) return [];
      const rows = await q
        .selectFrom('address_allocations')
        .select('address')
        .where('pool', '=', pool)
        .where('address', 'in', addresses)
        .execute();
      return rows.map((r) => r.address);
    },
  };
}

export type NetworkStore = ReturnType<typeof createNetworkStore>;
