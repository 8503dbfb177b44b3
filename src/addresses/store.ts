/** The only code that names the addresses domain's tables, `floating_ips` and `primary_ips`. */
import type { Db, DialectName, Tx } from '../db/index.ts';
import type { DnsPtr, IpType, Labels } from '../contract/index.ts';

export type AddressKind = 'floating' | 'primary';
const tableOf = { floating: 'floating_ips', primary: 'primary_ips' } as const;

export interface AddressRecord {
  kind: AddressKind;
  id: string;
  projectId: string;
  name: string;
  region: string;
  type: IpType;
  ip: string;
  serverId: string | null;
  observedServerId: string | null;
  dnsPtr: DnsPtr[];
  labels: Labels;
  /** Floating IPs only ('' for primary IPs). */
  description: string;
  /** Primary IPs only (false for floating IPs). */
  autoDelete: boolean;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  id: string;
  project_id: string;
  name: string;
  region: string;
  type: string;
  ip: string;
  server_id: string | null;
  observed_server_id: string | null;
  dns_ptr_json: string;
  labels_json: string;
  description?: string;
  auto_delete?: number;
  created_at: string;
  updated_at: string;
}

const recordOf = (kind: AddressKind, r: Row): AddressRecord => ({
  kind,
  id: r.id,
  projectId: r.project_id,
  name: r.name,
  region: r.region,
  type: r.type as IpType,
  ip: r.ip,
  serverId: r.server_id,
  observedServerId: r.observed_server_id,
  dnsPtr: JSON.parse(r.dns_ptr_json) as DnsPtr[],
  labels: JSON.parse(r.labels_json) as Labels,
  description: r.description ?? '',
  autoDelete: Number(r.auto_delete ?? 0) === 1,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export interface AddressChange {
  name?: string;
  serverId?: string | null;
  observedServerId?: string | null;
  dnsPtr?: DnsPtr[];
  labels?: Labels;
  autoDelete?: boolean;
  deletedAt?: string;
}

export interface AddressListFilter {
  projectId: string;
  afterId: string | null;
  limit: number;
  name?: string;
  region?: string;
  serverId?: string;
  type?: IpType;
}

export function createAddressStore(db: Db, dialect: DialectName) {
  // One table per kind with the same columns but one: the queries are the same, typed on floating_ips.
  const from = (q: Tx | Db, kind: AddressKind) => q.selectFrom(tableOf[kind] as 'floating_ips');
  return {
    async insert(tx: Tx, a: AddressRecord): Promise<void> {
      const common = {
        id: a.id,
        project_id: a.projectId,
        name: a.name,
        region: a.region,
        type: a.type,
        ip: a.ip,
        server_id: a.serverId,
        observed_server_id: a.observedServerId,
        dns_ptr_json: JSON.stringify(a.dnsPtr),
        labels_json: JSON.stringify(a.labels),
        created_at: a.createdAt,
        updated_at: a.updatedAt,
        deleted_at: null,
      };
      if (a.kind === 'floating')
        await tx
          .insertInto('floating_ips')
          .values({ ...common, description: a.description })
          .execute();
      else
        await tx
          .insertInto('primary_ips')
          .values({ ...common, auto_delete: a.autoDelete ? 1 : 0 })
          .execute();
    },

    async live(
      q: Tx | Db,
      kind: AddressKind,
      projectId: string,
      ref: string,
      options: { lock?: boolean } = {},
    ): Promise<AddressRecord | null> {
      const prefix = kind === 'floating' ? 'fip_' : 'pip_';
      let query = from(q, kind)
        .selectAll()
        .where('project_id', '=', projectId)
        .where('deleted_at', 'is', null)
        .where((eb) => (ref.startsWith(prefix) ? eb('id', '=', ref) : eb('name', '=', ref)));
      if (options.lock && dialect === 'postgres') query = query.forUpdate();
      const row = await query.executeTakeFirst();
      return row ? recordOf(kind, row as Row) : null;
    },

    async list(kind: AddressKind, filter: AddressListFilter): Promise<AddressRecord[]> {
      let q = from(db, kind)
        .selectAll()
        .where('project_id', '=', filter.projectId)
        .where('deleted_at', 'is', null)
        .orderBy('id')
        .limit(filter.limit);
      if (filter.afterId) q = q.where('id', '>', filter.afterId);
      if (filter.name) q = q.where('name', '=', filter.name);
      if (filter.region) q = q.where('region', '=', filter.region);
      if (filter.serverId) q = q.where('server_id', '=', filter.serverId);
      if (filter.type) q = q.where('type', '=', filter.type);
      return (await q.execute()).map((r) => recordOf(kind, r as Row));
    },

    /** Live addresses of a region that are assigned, or still observed on a server. */
    async routedInRegion(q: Tx | Db, kind: AddressKind, region: string): Promise<AddressRecord[]> {
      const rows = await from(q, kind)
        .selectAll()
        .where('region', '=', region)
        .where('deleted_at', 'is', null)
        .where((eb) => eb.or([eb('server_id', 'is not', null), eb('observed_server_id', 'is not', null)]))
        .orderBy('id')
        .execute();
      return rows.map((r) => recordOf(kind, r as Row));
    },

    /** Live addresses assigned to, or still observed on, one of these servers (chunks of 500 ids). */
    async routedForServers(q: Tx | Db, kind: AddressKind, serverIds: readonly string[]): Promise<AddressRecord[]> {
      const out = new Map<string, AddressRecord>();
      for (let at = 0; at < serverIds.length; at += 500) {
        const ids = serverIds.slice(at, at + 500);
        const rows = await from(q, kind)
          .selectAll()
          .where('deleted_at', 'is', null)
          .where((eb) => eb.or([eb('server_id', 'in', ids), eb('observed_server_id', 'in', ids)]))
          .execute();
        for (const row of rows) out.set((row as Row).id, recordOf(kind, row as Row));
      }
      return [...out.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },

    async ofServers(q: Tx | Db, kind: AddressKind, serverIds: readonly string[]): Promise<AddressRecord[]> {
      if (serverIds.length === 0) return [];
      const rows = await from(q, kind)
        .selectAll()
        .where('server_id', 'in', [...serverIds])
        .where('deleted_at', 'is', null)
        .orderBy('id')
        .execute();
      return rows.map((r) => recordOf(kind, r as Row));
    },

    async nameTaken(q: Tx | Db, projectId: string, name: string): Promise<boolean> {
      const row = await q
        .selectFrom('primary_ips')
        .select('id')
        .where('project_id', '=', projectId)
        .where('name', '=', name)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      return row !== undefined;
    },

    async change(tx: Tx, kind: AddressKind, id: string, change: AddressChange, nowIso: string): Promise<void> {
      const values = {
        ...(change.name !== undefined && { name: change.name }),
        ...(change.serverId !== undefined && { server_id: change.serverId }),
        ...(change.observedServerId !== undefined && { observed_server_id: change.observedServerId }),
        ...(change.dnsPtr !== undefined && { dns_ptr_json: JSON.stringify(change.dnsPtr) }),
        ...(change.labels !== undefined && { labels_json: JSON.stringify(change.labels) }),
        ...(change.deletedAt !== undefined && { deleted_at: change.deletedAt }),
        updated_at: nowIso,
      };
      if (kind === 'floating') await tx.updateTable('floating_ips').set(values).where('id', '=', id).execute();
      else
        await tx
          .updateTable('primary_ips')
          .set({ ...values, ...(change.autoDelete !== undefined && { auto_delete: change.autoDelete ? 1 : 0 }) })
          .where('id', '=', id)
          .execute();
    },
  };
}

export type AddressStore = ReturnType<typeof createAddressStore>;
