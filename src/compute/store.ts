/** The only code that names compute's tables: `servers` and `actions`. JSON columns are typed here, once. */
import type { Db, DialectName, Tx, ActionsTable, ServersTable } from '../db/index.ts';
import { sql, type Selectable } from 'kysely';
import type { Action, DesiredState, Labels, ServerStatus } from '../contract/index.ts';
import type { ActionCommand, ActionTarget } from './server-status.ts';

export interface ServerRecord {
  id: string;
  projectId: string;
  name: string;
  region: string;
  product: string;
  image: string;
  hostId: string | null;
  placementGroupId: string | null;
  status: ServerStatus;
  desiredState: DesiredState;
  rebootGeneration: number;
  observedRebootGeneration: number;
  forceStop: boolean;
  labels: Labels;
  sshKeys: string[];
  userData: string | null;
  ipv4: string | null;
  errorMessage: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
  /** The sealed secret holding the disk's LUKS key (null: a server made before disks were encrypted). */
  diskKeySecretId: string | null;
  diskGeneration: number;
  isoImage: string | null;
  /** The disk's size in GiB when it is not the product's (kept through a resize to a smaller product). */
  diskGiB: number | null;
  deleteProtection: boolean;
  rebuildProtection: boolean;
}

export interface ActionRecord {
  id: string;
  projectId: string | null;
  resourceType: string;
  resourceId: string;
  command: string;
  status: Action['status'];
  progress: number;
  target: ActionTarget;
  errorCode: string | null;
  errorMessage: string | null;
  startedAt: string;
  finishedAt: string | null;
}

type ServerRow = Selectable<ServersTable>;

const serverOf = (r: ServerRow): ServerRecord => ({
  id: r.id,
  projectId: r.project_id,
  name: r.name,
  region: r.region,
  product: r.product,
  image: r.image,
  hostId: r.host_id,
  placementGroupId: r.placement_group_id,
  status: r.status as ServerStatus,
  desiredState: r.desired_state as DesiredState,
  rebootGeneration: Number(r.reboot_generation),
  observedRebootGeneration: Number(r.observed_reboot_generation),
  forceStop: Number(r.force_stop) === 1,
  labels: JSON.parse(r.labels_json) as Labels,
  sshKeys: JSON.parse(r.ssh_keys_json) as string[],
  userData: r.user_data,
  ipv4: r.ipv4,
  errorMessage: r.error_message,
  version: Number(r.version),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  diskKeySecretId: r.disk_key_secret_id,
  diskGeneration: Number(r.disk_generation),
  isoImage: r.iso_image,
  diskGiB: r.disk_gib === null ? null : Number(r.disk_gib),
  deleteProtection: Number(r.delete_protection) === 1,
  rebuildProtection: Number(r.rebuild_protection) === 1,
});

type ActionRow = Selectable<ActionsTable>;

const actionOf = (r: ActionRow): ActionRecord => ({
  id: r.id,
  projectId: r.project_id,
  resourceType: r.resource_type,
  resourceId: r.resource_id,
  command: r.command,
  status: r.status as Action['status'],
  progress: Number(r.progress),
  target: JSON.parse(r.target_json) as ActionTarget,
  errorCode: r.error_code,
  errorMessage: r.error_message,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

export interface ServerListFilter {
  projectId: string;
  afterId: string | null;
  limit: number;
  name?: string | null;
  region?: string | null;
  status?: string | null;
}

/** The fields a state change may set on a server. */
export interface ServerChange {
  status?: ServerStatus;
  desiredState?: DesiredState;
  rebootGeneration?: number;
  observedRebootGeneration?: number;
  forceStop?: boolean;
  errorMessage?: string | null;
  hostId?: string | null;
  name?: string;
  labels?: Labels;
  deletedAt?: string;
  product?: string;
  image?: string;
  diskGeneration?: number;
  isoImage?: string | null;
  diskGiB?: number | null;
  deleteProtection?: boolean;
  rebuildProtection?: boolean;
}

function changeColumns(change: ServerChange) {
  return {
    ...(change.status !== undefined && { status: change.status }),
    ...(change.desiredState !== undefined && { desired_state: change.desiredState }),
    ...(change.rebootGeneration !== undefined && { reboot_generation: change.rebootGeneration }),
    ...(change.observedRebootGeneration !== undefined && {
      observed_reboot_generation: change.observedRebootGeneration,
    }),
    ...(change.forceStop !== undefined && { force_stop: change.forceStop ? 1 : 0 }),
    ...(change.errorMessage !== undefined && { error_message: change.errorMessage }),
    ...(change.hostId !== undefined && { host_id: change.hostId }),
    ...(change.name !== undefined && { name: change.name }),
    ...(change.labels !== undefined && { labels_json: JSON.stringify(change.labels) }),
    ...(change.deletedAt !== undefined && { deleted_at: change.deletedAt }),
    ...(change.product !== undefined && { product: change.product }),
    ...(change.image !== undefined && { image: change.image }),
    ...(change.diskGeneration !== undefined && { disk_generation: change.diskGeneration }),
    ...(change.isoImage !== undefined && { iso_image: change.isoImage }),
    ...(change.diskGiB !== undefined && { disk_gib: change.diskGiB }),
    ...(change.deleteProtection !== undefined && { delete_protection: change.deleteProtection ? 1 : 0 }),
    ...(change.rebuildProtection !== undefined && { rebuild_protection: change.rebuildProtection ? 1 : 0 }),
  };
}

export function createComputeStore(db: Db, dialect: DialectName) {
  return {
    /**
     * Inserts a server; false (nothing written) when its IPv4 address is taken by a live server of the
     * region — the partial unique index decides, so two writers can never take one address.
     */
    async insertServer(tx: Tx, server: Omit<ServerRecord, 'updatedAt'>): Promise<boolean> {
      const result = await tx
        .insertInto('servers')
        .values({
          id: server.id,
          project_id: server.projectId,
          name: server.name,
          region: server.region,
          product: server.product,
          image: server.image,
          host_id: server.hostId,
          placement_group_id: server.placementGroupId,
          status: server.status,
          desired_state: server.desiredState,
          reboot_generation: server.rebootGeneration,
          observed_reboot_generation: server.observedRebootGeneration,
          force_stop: server.forceStop ? 1 : 0,
          labels_json: JSON.stringify(server.labels),
          ssh_keys_json: JSON.stringify(server.sshKeys),
          user_data: server.userData,
          ipv4: server.ipv4,
          error_message: server.errorMessage,
          version: server.version,
          created_at: server.createdAt,
          updated_at: server.createdAt,
          deleted_at: null,
          disk_key_secret_id: server.diskKeySecretId,
          disk_generation: server.diskGeneration,
          iso_image: server.isoImage,
          disk_gib: server.diskGiB,
          delete_protection: server.deleteProtection ? 1 : 0,
          rebuild_protection: server.rebuildProtection ? 1 : 0,
        })
        .onConflict((oc) =>
          oc.columns(['region', 'ipv4']).where('deleted_at', 'is', null).where('ipv4', 'is not', null).doNothing(),
        )
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    /** A live server of the project, or null (another project's server is not found either). */
    /** A live server of the project (locked for update on PostgreSQL with `lock`), or null. */
    async liveServer(
      q: Tx | Db,
      projectId: string,
      serverId: string,
      options: { lock?: boolean } = {},
    ): Promise<ServerRecord | null> {
      let query = q
        .selectFrom('servers')
        .selectAll()
        .where('id', '=', serverId)
        .where('project_id', '=', projectId)
        .where('deleted_at', 'is', null);
      if (options.lock && dialect === 'postgres') query = query.forUpdate();
      const row = await query.executeTakeFirst();
      return row ? serverOf(row) : null;
    },

    /** Servers by id, deleted ones included, in chunks of 500 ids per statement. */
    async serversByIds(q: Tx | Db, serverIds: readonly string[]): Promise<ServerRecord[]> {
      const out: ServerRecord[] = [];
      for (let at = 0; at < serverIds.length; at += 500) {
        const rows = await q
          .selectFrom('servers')
          .selectAll()
          .where('id', 'in', serverIds.slice(at, at + 500))
          .execute();
        out.push(...rows.map(serverOf));
      }
      return out;
    },

    /** The ids of the live servers placed on a host. */
    async liveServerIdsWithImage(q: Tx | Db, projectId: string, image: string, limit: number): Promise<string[]> {
      const rows = await q
        .selectFrom('servers')
        .select('id')
        .where('project_id', '=', projectId)
        .where('image', '=', image)
        .where('deleted_at', 'is', null)
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map((r) => r.id);
    },

    async serverIdsOfHost(q: Tx | Db, hostId: string): Promise<string[]> {
      const rows = await q
        .selectFrom('servers')
        .select('id')
        .where('host_id', '=', hostId)
        .where('deleted_at', 'is', null)
        .execute();
      return rows.map((r) => r.id);
    },

    async serverById(q: Tx | Db, serverId: string): Promise<ServerRecord | null> {
      const row = await q.selectFrom('servers').selectAll().where('id', '=', serverId).executeTakeFirst();
      return row ? serverOf(row) : null;
    },

    /** One page of a project's live servers in id order, after `afterId`. */
    async listServers(filter: ServerListFilter, q0: Tx | Db = db): Promise<ServerRecord[]> {
      let q = q0
        .selectFrom('servers')
        .selectAll()
        .where('project_id', '=', filter.projectId)
        .where('deleted_at', 'is', null)
        .orderBy('id')
        .limit(filter.limit);
      if (filter.afterId) q = q.where('id', '>', filter.afterId);
      if (filter.name) q = q.where('name', '=', filter.name);
      if (filter.region) q = q.where('region', '=', filter.region);
      if (filter.status) q = q.where('status', '=', filter.status);
      return (await q.execute()).map(serverOf);
    },

    /** The live servers placed on a host (all of them, or those named). */
    async serversOfHost(q: Tx | Db, hostId: string, serverIds?: readonly string[]): Promise<ServerRecord[]> {
      if (serverIds?.length === 0) return [];
      let query = q
        .selectFrom('servers')
        .selectAll()
        .where('host_id', '=', hostId)
        .where('deleted_at', 'is', null)
        .orderBy('id');
      if (serverIds) query = query.where('id', 'in', serverIds);
      return (await query.execute()).map(serverOf);
    },

    /**
     * Applies a change and bumps the version; with `expectedVersion` only if the row is still at it (the
     * check is in the UPDATE itself, so two writers can never both pass it). Returns whether it applied.
     */
    async changeServer(
      tx: Tx,
      serverId: string,
      change: ServerChange,
      options: { nowIso: string; expectedVersion?: number; bumpVersion?: boolean },
    ): Promise<boolean> {
      let query = tx
        .updateTable('servers')
        .set((eb) => ({
          ...changeColumns(change),
          ...(options.bumpVersion === false ? {} : { version: eb('version', '+', 1) }),
          updated_at: options.nowIso,
        }))
        .where('id', '=', serverId);
      if (options.expectedVersion !== undefined) query = query.where('version', '=', options.expectedVersion);
      return Number((await query.executeTakeFirst()).numUpdatedRows) > 0;
    },

    // ---- actions -----------------------------------------------------------------------------------------

    async insertAction(tx: Tx, action: ActionRecord): Promise<void> {
      await tx
        .insertInto('actions')
        .values({
          id: action.id,
          project_id: action.projectId,
          resource_type: action.resourceType,
          resource_id: action.resourceId,
          command: action.command,
          status: action.status,
          progress: action.progress,
          target_json: JSON.stringify(action.target),
          error_code: action.errorCode,
          error_message: action.errorMessage,
          started_at: action.startedAt,
          finished_at: action.finishedAt,
        })
        .execute();
    },

    async setActionProgress(tx: Tx, actionId: string, progress: number): Promise<void> {
      await tx
        .updateTable('actions')
        .set({ progress })
        .where('id', '=', actionId)
        .where('status', '=', 'running')
        .execute();
    },

    /** Finishes a running action; false when it was finished already. */
    async finishAction(
      tx: Tx,
      actionId: string,
      outcome: { ok: true } | { ok: false; code: string; message: string },
      nowIso: string,
    ): Promise<boolean> {
      const result = await tx
        .updateTable('actions')
        .set(
          outcome.ok
            ? { status: 'success', progress: 100, finished_at: nowIso }
            : { status: 'error', error_code: outcome.code, error_message: outcome.message, finished_at: nowIso },
        )
        .where('id', '=', actionId)
        .where('status', '=', 'running')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /** The running actions of several resources (chunks of 500 ids), oldest first. */
    async runningActionsOf(tx: Tx | Db, resourceIds: readonly string[]): Promise<ActionRecord[]> {
      const out: ActionRecord[] = [];
      for (let at = 0; at < resourceIds.length; at += 500) {
        const rows = await tx
          .selectFrom('actions')
          .selectAll()
          .where('resource_id', 'in', resourceIds.slice(at, at + 500))
          .where('status', '=', 'running')
          .orderBy('id')
          .execute();
        out.push(...rows.map(actionOf));
      }
      return out;
    },

    async runningActions(tx: Tx | Db, serverId: string): Promise<ActionRecord[]> {
      const rows = await tx
        .selectFrom('actions')
        .selectAll()
        .where('resource_id', '=', serverId)
        .where('status', '=', 'running')
        .orderBy('id')
        .execute();
      return rows.map(actionOf);
    },

    async actionOfProject(projectId: string, actionId: string): Promise<ActionRecord | null> {
      const row = await db
        .selectFrom('actions')
        .selectAll()
        .where('id', '=', actionId)
        .where('project_id', '=', projectId)
        .executeTakeFirst();
      return row ? actionOf(row) : null;
    },

    /** The newest `perResource` actions of each of a project's resources, newest first (one statement). */
    async recentActionsOf(
      projectId: string,
      resourceIds: readonly string[],
      perResource: number,
    ): Promise<ActionRecord[]> {
      if (resourceIds.length === 0) return [];
      const ranked = db
        .selectFrom('actions')
        .selectAll()
        .select(sql<number>`row_number() over (partition by resource_id order by id desc)`.as('rank'))
        .where('project_id', '=', projectId)
        .where('resource_id', 'in', [...resourceIds]);
      const rows = await db
        .selectFrom(ranked.as('ranked'))
        .selectAll()
        .where('rank', '<=', perResource)
        .orderBy('id', 'desc')
        .execute();
      return rows.map((row) => actionOf(row as unknown as Selectable<ActionsTable>));
    },

    async actionById(tx: Tx, actionId: string): Promise<ActionRecord> {
      return actionOf(await tx.selectFrom('actions').selectAll().where('id', '=', actionId).executeTakeFirstOrThrow());
    },

    /** Live servers by region and status (metrics). */
    async countServersByStatus(): Promise<Array<{ region: string; status: string; count: number }>> {
      const rows = await db
        .selectFrom('servers')
        .select(['region', 'status', (eb) => eb.fn.countAll<number>().as('count')])
        .where('deleted_at', 'is', null)
        .groupBy(['region', 'status'])
        .execute();
      return rows.map((row) => ({ region: row.region, status: row.status, count: Number(row.count) }));
    },

    /** Unfinished actions by command and when the oldest started (metrics: the reconcilers' lag). */
    async runningActionsByCommand(): Promise<Array<{ command: string; count: number; oldestStartedAt: string }>> {
      const rows = await db
        .selectFrom('actions')
        .select(['command', (eb) => eb.fn.countAll<number>().as('count'), (eb) => eb.fn.min('started_at').as('oldest')])
        .where('status', '=', 'running')
        .groupBy('command')
        .execute();
      return rows.map((row) => ({
        command: row.command,
        count: Number(row.count),
        oldestStartedAt: String(row.oldest),
      }));
    },

    /** Actions that ended in error, by command and error code, ever (metrics: a counter). */
    async countFailedActions(): Promise<Array<{ command: string; errorCode: string; count: number }>> {
      const rows = await db
        .selectFrom('actions')
        .select(['command', 'error_code', (eb) => eb.fn.countAll<number>().as('count')])
        .where('status', '=', 'error')
        .groupBy(['command', 'error_code'])
        .execute();
      return rows.map((row) => ({
        command: row.command,
        errorCode: row.error_code ?? 'unknown',
        count: Number(row.count),
      }));
    },

    async runningActionsStartedBefore(tx: Tx, cutoffIso: string): Promise<ActionRecord[]> {
      const rows = await tx
        .selectFrom('actions')
        .selectAll()
        .where('status', '=', 'running')
        .where('started_at', '<', cutoffIso)
        .execute();
      return rows.map(actionOf);
    },
  };
}

export type ComputeStore = ReturnType<typeof createComputeStore>;

export const commandOf = (command: string) => command as ActionCommand;
