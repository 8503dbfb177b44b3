/**
 * Servers: create (validate, count against the quota, place, record the action and the event in one
 * transaction), list, show, rename and relabel (If-Match checked in the UPDATE), and the lifecycle
 * actions. Returns the contract's types; the REST edge sends them as they are.
 */
import type { Db, DialectName, Tx, TxHooks } from '../db/index.ts';
import { inTransaction, isUniqueViolation } from '../db/index.ts';
import {
  conflict,
  filteredKeysetPage,
  newId,
  notFound,
  VmcError,
  type Clock,
  type Logger,
  type MetricFamily,
  pageLimitOf,
} from '../core/index.ts';
import type { EventInput, EventRecorder } from '../events/index.ts';
import type { CatalogService } from '../catalog/index.ts';
import type { PlacementScheduler } from '../scheduler/index.ts';
import { requireProject, type IdentityService, type Principal, type ProjectRole } from '../identity/index.ts';
import type {
  ActionAccepted,
  AttachIsoBody,
  CreateServerBody,
  RebuildServerBody,
  ResizeServerBody,
  ListServersQuery,
  Server,
  ServerCreated,
  ServerList,
  UpdateServerBody,
} from '../contract/index.ts';
import { sshKeyReferences, validateCreateServer } from './validation.ts';
import { parseSelector, matchesSelector, validateLabels } from './labels.ts';
import { createActions } from './actions.ts';
import { parsePool, addressAt } from './ipv4-pool.ts';
import { serverView, actionView } from './views.ts';
import { checkOrder } from './order-rules.ts';
import { createComputeStore, type ServerChange, type ServerRecord } from './store.ts';
import type { DiskKeyVault } from './disk-keys.ts';
import { createSettler } from './settle.ts';
import { createResize } from './resize.ts';
import { createResizeOptions } from './resize-options.ts';
import type { ActionCommand, ActionTarget } from './server-status.ts';
import type { Action, DesiredState, EventPayloads, Image, Labels, ServerStatus } from '../contract/index.ts';

type ServerEventType = Extract<keyof EventPayloads, `server.${string}`>;

export interface ComputeDeps {
  db: Db;
  dialect: DialectName;
  clock: Clock;
  log: Logger;
  events: EventRecorder;
  catalog: CatalogService;
  scheduler: PlacementScheduler;
  identity: IdentityService;
  /** Told after commit which hosts have new desired state, so their agents act at once. */
  onDesiredStateChanged?: (hostId: string) => void;
  /** Disk keys: every new server gets one, sealed in the key store (absent: disks are not encrypted). */
  diskKeys?: DiskKeyVault;
  /**
   * The driver of a host (`sim`, `qemu`): a resize may move a simulated server, never a real disk. Read
   * before the resize's transaction (never inside it: on SQLite that would wait for the transaction).
   */
  hostDriverOf?: (hostId: string) => Promise<string>;
  /**
   * A custom image of the project by id or name (src/custom-images), resolved before the catalog when a
   * server is created or rebuilt; null when the project has none by that reference. Its `region` is the
   * only region whose hosts hold it.
   */
  resolveCustomImage?: (projectId: string, ref: string) => Promise<(Image & { region: string }) | null>;
  /**
   * The public keys of the project's saved SSH keys (src/sshkeys) named by `refs` (ids or names), read
   * before the create's transaction; a reference it leaves out is refused (400, the `ssh_keys[i]` field).
   */
  resolveSshKeys?: (projectId: string, refs: readonly string[]) => Promise<ReadonlyMap<string, string>>;
  /**
   * The create's `networks` and `firewalls` (src/networks, src/firewalls): `resolve` reads them before the
   * create's transaction (refusing unknown ones and networks of another region), `attach` attaches the
   * networks and applies the firewalls inside it.
   */
  serverExtras?: {
    resolve(
      projectId: string,
      refs: { networks: readonly string[]; firewalls: readonly string[] },
      region: string,
    ): Promise<{ networkIds: string[]; firewallIds: string[] }>;
    attach(
      tx: Tx,
      hooks: TxHooks,
      projectId: string,
      serverId: string,
      ids: { networkIds: string[]; firewallIds: string[] },
    ): Promise<void>;
  };
}

/** A server as the routes that reach its host see it. */
export interface HostedServer {
  id: string;
  name: string;
  /** The host it is placed on; null before placement. */
  hostId: string | null;
  status: string;
}

/** What other domains (volumes) see of a server. */
export interface ServerRef {
  id: string;
  name: string;
  projectId: string;
  region: string;
  hostId: string | null;
  status: ServerStatus;
  desiredState: DesiredState;
  deleted: boolean;
  /** The image it was built from (a catalog slug or a custom image id), its product, and its disk if grown past it. */
  image: string;
  product: string;
  diskGiB: number | null;
}

/** A live server with its labels, for the domains that select servers by label (firewalls). */
export interface LabeledServer {
  id: string;
  name: string;
  projectId: string;
  hostId: string | null;
  labels: Labels;
}

const refOf = (server: ServerRecord & { deletedAt?: string | null }): ServerRef => ({
  id: server.id,
  name: server.name,
  projectId: server.projectId,
  region: server.region,
  hostId: server.hostId,
  status: server.status,
  desiredState: server.desiredState,
  deleted: server.status === 'deleted',
  image: server.image,
  product: server.product,
  diskGiB: server.diskGiB,
});

const encodeCursor = (id: string) => Buffer.from(id).toString('base64url');
function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString();
  if (!/^srv_[0-9a-z]{26}$/.test(id))
    throw new VmcError('invalid', 'cursor is not valid', {
      fields: [{ field: 'cursor', message: 'not a cursor returned by this API' }],
    });
  return id;
}

type PlanEvent =
  | { type: 'server.starting' | 'server.stopping' | 'server.rebooting' | 'server.deleting' }
  | { type: 'server.rebuilding'; data: { image: string; disk_generation: number } }
  | { type: 'server.iso_attached'; data: { iso: string } }
  | { type: 'server.iso_detached'; data: { iso: string | null } };

interface StatePlan {
  desired: DesiredState;
  status: ServerStatus;
  target: ActionTarget;
  event: PlanEvent;
  rebootGeneration?: number;
  forceStop?: boolean;
  /** Whether this command replaces running actions (delete, forced stop) or waits for them. */
  supersede: boolean;
  /** What else the command changes on the server (image, disk generation, ISO). */
  change?: ServerChange;
}

const protectedError = (name: string, what: 'delete' | 'rebuild') =>
  conflict(`server ${name} has ${what} protection on; turn it off first (vmcloud server unprotect ${name} --${what})`, {
    reason: 'protected',
    details: { protection: what },
  });

/** Attaching or detaching an ISO: a running server restarts to boot it, a stopped one boots it next time. */
function isoPlan(s: ServerRecord, iso: string | null, event: PlanEvent): StatePlan {
  if (s.desiredState === 'deleted') throw conflict(`server ${s.name} is being deleted`, { reason: 'deleting' });
  const running = s.desiredState === 'running';
  const rebootGeneration = running ? s.rebootGeneration + 1 : s.rebootGeneration;
  return {
    desired: s.desiredState,
    status: running ? (s.status === 'running' ? 'rebooting' : s.status) : s.status,
    target: running ? { status: 'running', rebootGeneration } : { status: s.status },
    event,
    rebootGeneration,
    supersede: false,
    change: { isoImage: iso },
  };
}

export function createComputeService(deps: ComputeDeps) {
  const { db, clock } = deps;
  const store = createComputeStore(db, deps.dialect);
  const actions = createActions({ store, clock, events: deps.events });
  const settle = createSettler({ ...deps, store, actions });

  const notify = (hooks: TxHooks, hostId: string | null) => {
    if (hostId && deps.onDesiredStateChanged) hooks.afterCommit(() => deps.onDesiredStateChanged!(hostId));
  };

  async function loadServer(q: Tx | Db, projectId: string, serverId: string): Promise<ServerRecord> {
    const server = await store.liveServer(q, projectId, serverId);
    if (!server) throw notFound('server', serverId);
    return server;
  }

  async function viewOf(q: Tx | Db, server: ServerRecord): Promise<Server> {
    const placements = await deps.scheduler.placementsOf(q, [server.id]);
    return serverView(server, placements.get(server.id));
  }

  /**
   * Inserts the server with a free address of its region's pool: random slots, the partial unique index
   * deciding (a taken address inserts nothing and the next slot is tried).
   */
  async function insertWithAddress(tx: Tx, server: ServerRecord, poolCidr: string): Promise<void> {
    const pool = parsePool(poolCidr);
    for (let attempt = 0; attempt < 32; attempt++) {
      server.ipv4 = addressAt(pool, Math.floor(Math.random() * pool.size));
      if (await store.insertServer(tx, server)) return;
    }
    throw new VmcError(
      'unavailable',
      `the IPv4 pool of ${server.region.toUpperCase()} (${poolCidr}) has no free address`,
      { reason: 'ipv4_pool_exhausted' },
    );
  }

  const recordServerEvent = <T extends ServerEventType>(
    tx: Tx,
    hooks: TxHooks,
    type: T,
    server: { id: string; projectId: string },
    data: EventPayloads[T],
  ) =>
    deps.events.record(tx, hooks, {
      type,
      projectId: server.projectId,
      resourceType: 'server',
      resourceId: server.id,
      data,
    } as EventInput<T>);

  /** Runs a state change on one server: desired state, version, event, action; one transaction. */
  async function mutate(
    principal: Principal,
    serverId: string,
    command: Exclude<ActionCommand, 'create'>,
    plan: (server: ServerRecord) => StatePlan,
  ): Promise<ActionAccepted> {
    const caller = requireProject(principal, 'member');
    return inTransaction(db, async (tx, hooks) => {
      // The server's row is locked (PostgreSQL): two lifecycle requests for one server take turns.
      const server = await store.liveServer(tx, caller.projectId, serverId, { lock: true });
      if (!server) throw notFound('server', serverId);
      const running = await actions.running(tx, server.id);
      const same = running.find((a) => a.command === command);
      if (same) return { action: actionView(same) };
      const change = plan(server);
      if (running.length > 0) {
        if (!change.supersede) {
          throw conflict(
            `server ${server.name} is busy with action ${running[0].id} (${running[0].command}); wait for it or delete the server`,
            { reason: 'locked', details: { action_id: running[0].id } },
          );
        }
        for (const other of running)
          await actions.finish(tx, hooks, other, {
            ok: false,
            code: 'superseded',
            message: `superseded by ${command}`,
          });
      }
      await store.changeServer(
        tx,
        server.id,
        {
          desiredState: change.desired,
          status: change.status,
          rebootGeneration: change.rebootGeneration ?? server.rebootGeneration,
          forceStop: change.forceStop === true,
          errorMessage: null,
          ...change.change,
        },
        { nowIso: clock.nowIso() },
      );
      const action = await actions.start(tx, {
        projectId: server.projectId,
        serverId: server.id,
        command,
        target: change.target,
      });
      await recordServerEvent(tx, hooks, change.event.type, server, {
        action_id: action.id,
        ...('data' in change.event ? change.event.data : {}),
      } as EventPayloads[typeof change.event.type]);
      if (change.status === change.target.status && change.target.rebootGeneration === undefined) {
        await actions.finish(tx, hooks, action, { ok: true });
      }
      if (change.desired === 'deleted' && server.hostId === null) {
        // No host will ever report on it (its host was forgotten): it is deleted now.
        const current = await loadServer(tx, caller.projectId, server.id);
        await settle(tx, hooks, current, 'deleted', current.observedRebootGeneration, null);
      }
      notify(hooks, server.hostId);
      return { action: actionView(await store.actionById(tx, action.id)) };
    });
  }

  /** The image a server is created or rebuilt from: the project's custom image first, then the catalog's. */
  async function resolveImage(projectId: string, ref: string, regionCode: string): Promise<Image> {
    const custom = deps.resolveCustomImage ? await deps.resolveCustomImage(projectId, ref) : null;
    if (!custom) return deps.catalog.getImage(ref);
    if (custom.region !== regionCode)
      throw new VmcError(
        'invalid',
        `custom image ${custom.name} is in ${custom.region.toUpperCase()}; servers of it are created there`,
        { reason: 'image_not_in_region', fields: [{ field: 'image', message: `in ${custom.region}` }] },
      );
    const { region: _region, ...image } = custom;
    return image;
  }

  const resize = createResize({
    ...deps,
    store,
    actions,
    loadServer,
    recordResized: (tx, hooks, server, data) => recordServerEvent(tx, hooks, 'server.resized', server, data),
    notify,
  });
  const resizeOptions = createResizeOptions({ ...deps, loadServer });

  return {
    async createServer(principal: Principal, body: CreateServerBody): Promise<ServerCreated> {
      const caller = requireProject(principal, 'member');
      const refs = sshKeyReferences(body);
      const savedKeys =
        refs.length > 0 && deps.resolveSshKeys ? await deps.resolveSshKeys(caller.projectId, refs) : undefined;
      const { labels, sshKeys } = validateCreateServer(body, savedKeys);
      const product = await deps.catalog.getProduct(body.product);
      const region = await deps.catalog.getRegionRecord(body.region).catch(() => {
        throw new VmcError('invalid', `unknown region ${body.region}`, {
          reason: 'unknown_region',
          fields: [{ field: 'region', message: `unknown region ${body.region}` }],
        });
      });
      const image = await resolveImage(caller.projectId, body.image, region.code);
      checkOrder({ region, product, image });
      let placementGroupId: string | null = null;
      if (body.placement_group) {
        const group = await deps.scheduler.findPlacementGroup(caller.projectId, body.placement_group);
        if (!group)
          throw new VmcError('invalid', `unknown placement group ${body.placement_group}`, {
            reason: 'unknown_placement_group',
            fields: [{ field: 'placement_group', message: 'unknown' }],
          });
        placementGroupId = group.id;
      }
      const gpus = product.gpu?.count ?? 0;
      const extraRefs = { networks: body.networks ?? [], firewalls: body.firewalls ?? [] };
      const wantsExtras = extraRefs.networks.length + extraRefs.firewalls.length > 0;
      if (wantsExtras && !deps.serverExtras)
        throw new VmcError('invalid', 'networks and firewalls are not available here', { reason: 'unsupported' });
      const extras =
        wantsExtras && deps.serverExtras
          ? await deps.serverExtras.resolve(caller.projectId, extraRefs, region.code)
          : null;

      try {
        return await inTransaction(db, async (tx, hooks) => {
          const now = clock.nowIso();
          const server: ServerRecord = {
            id: newId('server', clock.nowMs()),
            projectId: caller.projectId,
            name: body.name,
            region: region.code,
            product: product.code,
            image: image.slug,
            hostId: null,
            placementGroupId,
            status: 'pending',
            desiredState: 'running',
            rebootGeneration: 0,
            observedRebootGeneration: 0,
            forceStop: false,
            labels,
            sshKeys,
            userData: body.user_data ?? null,
            ipv4: null,
            errorMessage: null,
            version: 1,
            createdAt: now,
            updatedAt: now,
            diskKeySecretId: deps.diskKeys ? await deps.diskKeys.create(tx) : null,
            diskGeneration: 0,
            isoImage: null,
            diskGiB: null,
            deleteProtection: false,
            rebuildProtection: false,
          };
          await insertWithAddress(tx, server, region.ipv4Pool);
          const outcome = await deps.scheduler.place(tx, hooks, {
            serverId: server.id,
            projectId: caller.projectId,
            region: region.code,
            family: product.family,
            vcpus: product.vcpus,
            memoryMiB: product.memory_mib,
            diskGiB: product.disk_gib,
            gpuModel: product.gpu?.model ?? null,
            gpuCount: gpus,
            sriovVfs: product.sriov ? 1 : 0,
            placementGroupId,
            image: image.slug,
          });
          if (!outcome.ok) {
            // Hosts with room that lack the image are counted by the last filter, `image`.
            const withoutImage = outcome.failure.rejections.some((r) => r.filter === 'image' && r.hosts > 0);
            throw new VmcError(
              'conflict',
              withoutImage
                ? `no host in ${region.code.toUpperCase()} with room for ${product.code} holds the image ${image.slug}; ${outcome.failure.message}`
                : outcome.failure.message,
              {
                reason: withoutImage ? 'image_not_on_host' : 'no_capacity',
                details: { placement: outcome.failure },
              },
            );
          }
          // The quota is counted after the placement, as the transaction's last wait-free step: the project
          // row stays locked (PostgreSQL) only while nothing waits on the scheduler's memory. A transaction that
          // held it while waiting for a host another transaction owns could deadlock with a release that
          // needs it (invisible to PostgreSQL's deadlock detector: one of the waits is in this process).
          await deps.identity.reserveQuota(tx, caller.projectId, { servers: 1, vcpus: product.vcpus, gpus });
          server.hostId = outcome.placement.hostId;
          await store.changeServer(tx, server.id, { hostId: server.hostId }, { nowIso: now, bumpVersion: false });
          const action = await actions.start(tx, {
            projectId: caller.projectId,
            serverId: server.id,
            command: 'create',
            target: { status: 'running' },
          });
          await recordServerEvent(tx, hooks, 'server.created', server, {
            name: server.name,
            product: product.code,
            region: region.code,
            host_id: server.hostId,
            action_id: action.id,
          });
          if (extras) await deps.serverExtras!.attach(tx, hooks, caller.projectId, server.id, extras);
          notify(hooks, server.hostId);
          return {
            server: serverView(server, outcome.placement),
            action: actionView(action),
          };
        });
      } catch (error) {
        if (isUniqueViolation(error))
          throw conflict(`a server named ${body.name} already exists in this project`, {
            reason: 'name_taken',
            fields: [{ field: 'name', message: 'already used' }],
          });
        throw error;
      }
    },

    async listServers(principal: Principal, query: ListServersQuery): Promise<ServerList> {
      const caller = requireProject(principal, 'viewer');
      const limit = pageLimitOf(query.limit);
      const selector = query.label_selector ? parseSelector(query.label_selector) : [];
      const after = query.cursor ? decodeCursor(query.cursor) : null;
      const { page, nextAfterId } = await filteredKeysetPage({
        limit,
        afterId: after,
        read: (afterId, batch) =>
          store.listServers({
            projectId: caller.projectId,
            afterId,
            limit: batch,
            name: query.name,
            region: query.region?.toLowerCase(),
            status: query.status,
          }),
        keep: selector.length > 0 ? (row) => matchesSelector(row.labels, selector) : undefined,
      });
      const placements = await deps.scheduler.placementsOf(
        db,
        page.map((s) => s.id),
      );
      return {
        servers: page.map((s) => serverView(s, placements.get(s.id))),
        next_cursor: nextAfterId ? encodeCursor(nextAfterId) : null,
      };
    },

    /** The server if the principal may act on it with at least `role`; another project's server is not_found. */
    async requireServer(principal: Principal, serverId: string, role: ProjectRole): Promise<HostedServer> {
      const caller = requireProject(principal, role);
      const server = await loadServer(db, caller.projectId, serverId);
      return { id: server.id, name: server.name, hostId: server.hostId, status: server.status };
    },

    /**
     * For other domains (volumes): a live server of a project by id or name, inside their transaction (its
     * row locked on PostgreSQL with `lock`), or null.
     */
    async findServer(
      q: Tx | Db,
      projectId: string,
      ref: string,
      options: { lock?: boolean } = {},
    ): Promise<ServerRef | null> {
      const byId = await store.liveServer(q, projectId, ref, options);
      const server =
        byId ??
        (await store.listServers({ projectId, afterId: null, limit: 2, name: ref }, q)).find((s) => s.name === ref) ??
        null;
      if (!server) return null;
      if (!byId && options.lock) return store.liveServer(q, projectId, server.id, options).then((s) => s && refOf(s));
      return refOf(server);
    },

    /** For other domains: servers by id, deleted ones included (absent: no such row). */
    async serverRefs(q: Tx | Db, serverIds: readonly string[]): Promise<Map<string, ServerRef>> {
      const servers = await store.serversByIds(q, [...new Set(serverIds)]);
      return new Map(servers.map((server) => [server.id, refOf(server)]));
    },

    /** For other domains (custom images): the live servers of a project built from an image, at most `limit`. */
    liveServersWithImage: (q: Tx | Db, projectId: string, image: string, limit = 10): Promise<string[]> =>
      store.liveServerIdsWithImage(q, projectId, image, limit),

    /** For other domains: the ids of the live servers placed on a host. */
    serverIdsOnHost: (q: Tx | Db, hostId: string): Promise<string[]> => store.serverIdsOfHost(q, hostId),

    /**
     * For other domains (firewalls): the live servers of a project or of a host, with their labels (those
     * being deleted left out).
     */
    async labeledServers(q: Tx | Db, where: { projectId: string } | { hostId: string }): Promise<LabeledServer[]> {
      const records: ServerRecord[] = [];
      if ('hostId' in where) records.push(...(await store.serversOfHost(q, where.hostId)));
      else
        for (let after: string | null = null; ;) {
          const page = await store.listServers({ projectId: where.projectId, afterId: after, limit: 1000 }, q);
          records.push(...page);
          if (page.length < 1000) break;
          after = page[page.length - 1].id;
        }
      return records
        .filter((s) => s.desiredState !== 'deleted')
        .map((s) => ({ id: s.id, name: s.name, projectId: s.projectId, hostId: s.hostId, labels: s.labels }));
    },

    /** Metrics: live servers by region and status, failed actions by command and error code. */
    async metricFamilies(): Promise<MetricFamily[]> {
      const [servers, failed] = await Promise.all([store.countServersByStatus(), store.countFailedActions()]);
      return [
        {
          name: 'vmcloud_servers',
          help: 'Servers (not deleted) by region and status.',
          type: 'gauge',
          samples: servers.map((row) => ({ labels: { region: row.region, status: row.status }, value: row.count })),
        },
        {
          name: 'vmcloud_actions_failed_total',
          help: 'Actions that ended in error, by command and error code (e.g. a host operation that kept failing, a timeout).',
          type: 'counter',
          samples: failed.map((row) => ({ labels: { command: row.command, code: row.errorCode }, value: row.count })),
        },
      ];
    },

    /** Metrics: unfinished actions by command and the age of the oldest (the reconcilers' lag). */
    async runningActions(): Promise<Array<{ command: string; count: number; oldestAgeSeconds: number }>> {
      const nowMs = clock.nowMs();
      return (await store.runningActionsByCommand()).map((row) => ({
        command: row.command,
        count: row.count,
        oldestAgeSeconds: Math.max(0, (nowMs - Date.parse(row.oldestStartedAt)) / 1000),
      }));
    },

    /** A live server whatever its project, for the backup worker (which acts for no principal); null when deleted. */
    async serverForBackup(serverId: string) {
      const s = await store.serverById(db, serverId);
      if (!s || s.status === 'deleted' || s.desiredState === 'deleted') return null;
      const { id, name, projectId, region, product, image, hostId, status } = s;
      return { id, name, projectId, region, product, image, hostId, status: status as string };
    },

    async getServer(principal: Principal, serverId: string): Promise<{ server: Server; version: number }> {
      const caller = requireProject(principal, 'viewer');
      const server = await loadServer(db, caller.projectId, serverId);
      return { server: await viewOf(db, server), version: server.version };
    },

    /**
     * Renames a server, replaces its labels or sets its protection flags; `expectedVersion` (from If-Match)
     * refuses a lost update.
     */
    async updateServer(
      principal: Principal,
      serverId: string,
      body: UpdateServerBody,
      expectedVersion: number | null,
    ): Promise<{ server: Server; version: number }> {
      const caller = requireProject(principal, 'member');
      if (expectedVersion !== null && !Number.isInteger(expectedVersion)) {
        throw new VmcError('invalid', 'If-Match must be an ETag of this API, e.g. "v3"', {
          fields: [{ field: 'If-Match', message: 'not an ETag of this API' }],
        });
      }
      const labels = body.labels === undefined ? undefined : validateLabels(body.labels);
      const mismatch = (server: ServerRecord) =>
        new VmcError(
          'precondition_failed',
          `server ${server.name} changed since version ${expectedVersion} (now ${server.version}); read it again`,
          { reason: 'version_mismatch' },
        );
      try {
        return await inTransaction(db, async (tx, hooks) => {
          const server = await loadServer(tx, caller.projectId, serverId);
          if (expectedVersion !== null && expectedVersion !== server.version) throw mismatch(server);
          const renamed = body.name !== undefined && body.name !== server.name;
          const relabelled = labels !== undefined && JSON.stringify(labels) !== JSON.stringify(server.labels);
          const protection = {
            deleteProtection: body.delete_protection ?? server.deleteProtection,
            rebuildProtection: body.rebuild_protection ?? server.rebuildProtection,
          };
          const reprotected =
            protection.deleteProtection !== server.deleteProtection ||
            protection.rebuildProtection !== server.rebuildProtection;
          if (!renamed && !relabelled && !reprotected)
            return { server: await viewOf(tx, server), version: server.version };
          // The version check is part of the UPDATE: a writer that committed in between makes it match nothing.
          const applied = await store.changeServer(
            tx,
            server.id,
            { ...(renamed && { name: body.name }), ...(relabelled && { labels }), ...(reprotected && protection) },
            { nowIso: clock.nowIso(), expectedVersion: server.version },
          );
          if (!applied) throw mismatch({ ...server, version: server.version + 1 });
          if (reprotected)
            await recordServerEvent(tx, hooks, 'server.protection_changed', server, {
              delete_protection: protection.deleteProtection,
              rebuild_protection: protection.rebuildProtection,
            });
          const updated = await loadServer(tx, caller.projectId, serverId);
          return { server: await viewOf(tx, updated), version: updated.version };
        });
      } catch (error) {
        if (isUniqueViolation(error))
          throw conflict(`a server named ${body.name} already exists in this project`, {
            reason: 'name_taken',
            fields: [{ field: 'name', message: 'already used' }],
          });
        throw error;
      }
    },

    start(principal: Principal, serverId: string) {
      return mutate(principal, serverId, 'start', (s) => ({
        desired: 'running',
        status: s.status === 'running' ? 'running' : 'starting',
        target: { status: 'running' },
        event: { type: 'server.starting' },
        supersede: false,
      }));
    },

    stop(principal: Principal, serverId: string, options: { force?: boolean } = {}) {
      return mutate(principal, serverId, 'stop', (s) => ({
        desired: 'stopped',
        status: s.status === 'stopped' ? 'stopped' : 'stopping',
        target: { status: 'stopped' },
        event: { type: 'server.stopping' },
        forceStop: options.force === true,
        supersede: options.force === true,
      }));
    },

    reboot(principal: Principal, serverId: string) {
      return mutate(principal, serverId, 'reboot', (s) => {
        if (s.desiredState !== 'running' || s.status !== 'running') {
          throw conflict(`server ${s.name} is ${s.status}; only a running server can be rebooted`, {
            reason: 'not_running',
          });
        }
        const rebootGeneration = s.rebootGeneration + 1;
        return {
          desired: 'running',
          status: 'rebooting',
          target: { status: 'running', rebootGeneration },
          event: { type: 'server.rebooting' },
          rebootGeneration,
          supersede: false,
        };
      });
    },

    delete(principal: Principal, serverId: string) {
      return mutate(principal, serverId, 'delete', (s) => {
        if (s.deleteProtection) throw protectedError(s.name, 'delete');
        return {
          desired: 'deleted',
          status: 'deleting',
          target: { status: 'deleted' },
          event: { type: 'server.deleting' },
          supersede: true,
        };
      });
    },

    /**
     * Reinstalls the server from an image, keeping its id, address (and volumes): a new disk generation
     * the host applies by recreating the disk, then the server boots it (started if it was stopped).
     */
    async rebuild(principal: Principal, serverId: string, body: RebuildServerBody) {
      const caller = requireProject(principal, 'member');
      const current = await loadServer(db, caller.projectId, serverId);
      const [image, product, region] = await Promise.all([
        resolveImage(caller.projectId, body.image, current.region),
        deps.catalog.productSpec(current.product),
        deps.catalog.getRegionRecord(current.region),
      ]);
      checkOrder({
        region: { ...region, status: region.status === 'maintenance' ? 'operational' : region.status },
        product,
        image,
      });
      return mutate(principal, serverId, 'rebuild', (s) => {
        if (s.rebuildProtection) throw protectedError(s.name, 'rebuild');
        if (s.desiredState === 'deleted') throw conflict(`server ${s.name} is being deleted`, { reason: 'deleting' });
        const rebootGeneration = s.rebootGeneration + 1;
        const diskGeneration = s.diskGeneration + 1;
        return {
          desired: 'running',
          status: s.status === 'running' ? 'rebooting' : 'starting',
          target: { status: 'running', rebootGeneration },
          event: { type: 'server.rebuilding', data: { image: image.slug, disk_generation: diskGeneration } },
          rebootGeneration,
          supersede: false,
          change: { image: image.slug, diskGeneration },
        };
      });
    },

    /** Attaches an ISO image as a bootable cdrom: a running server restarts into it, a stopped one at its next start. */
    async attachIso(principal: Principal, serverId: string, body: AttachIsoBody) {
      requireProject(principal, 'member');
      const iso = await deps.catalog.getImage(body.iso);
      const format = await deps.catalog.imageFormat(iso.slug);
      if (format !== 'iso')
        throw new VmcError('invalid', `image ${iso.slug} is not an ISO image (format ${format ?? 'unknown'})`, {
          reason: 'not_an_iso',
          fields: [{ field: 'iso', message: 'not an ISO image' }],
        });
      if (iso.status !== 'available')
        throw new VmcError('invalid', `image ${iso.slug} is ${iso.status}`, {
          reason: 'image_not_available',
          fields: [{ field: 'iso', message: iso.status }],
        });
      return mutate(principal, serverId, 'attach_iso', (s) =>
        isoPlan(s, iso.slug, { type: 'server.iso_attached', data: { iso: iso.slug } }),
      );
    },

    detachIso(principal: Principal, serverId: string) {
      return mutate(principal, serverId, 'detach_iso', (s) =>
        isoPlan(s, null, { type: 'server.iso_detached', data: { iso: s.isoImage } }),
      );
    },

    resize: (principal: Principal, serverId: string, body: ResizeServerBody) => resize(principal, serverId, body),
    /** The products the server can be resized to, priced and checked against the fleet now. */
    resizeOptions: (principal: Principal, serverId: string) => resizeOptions(principal, serverId),

    /** The newest actions of some of the caller's servers, by server id (GraphQL's `Server.actions`). */
    async recentActionsOf(
      principal: Principal,
      serverIds: readonly string[],
      perServer: number,
    ): Promise<Map<string, Action[]>> {
      const caller = requireProject(principal, 'viewer');
      const out = new Map<string, Action[]>();
      for (const action of await store.recentActionsOf(caller.projectId, serverIds, perServer))
        out.set(action.resourceId, [...(out.get(action.resourceId) ?? []), actionView(action)]);
      return out;
    },

    async getAction(principal: Principal, actionId: string) {
      const caller = requireProject(principal, 'viewer');
      const action = await store.actionOfProject(caller.projectId, actionId);
      if (!action) throw notFound('action', actionId);
      return { action: actionView(action) };
    },

    /**
     * Records that the scheduler moved a server to another host (drain), inside the move's transaction:
     * the old host's agent destroys its copy, the new one boots it (a cold move of a simulated server).
     */
    async recordMove(
      tx: Tx,
      hooks: TxHooks,
      move: {
        serverId: string;
        fromHostId: string;
        fromHostDriver: string;
        fromHostName: string;
        placement: { hostId: string };
      },
    ): Promise<void> {
      const server = await store.serverById(tx, move.serverId);
      if (!server) throw notFound('server', move.serverId);
      if (move.fromHostDriver !== 'sim') {
        throw new VmcError(
          'unavailable',
          `server ${server.name} is on ${move.fromHostName} (${move.fromHostDriver}): moving a real disk between hosts is not supported yet; stop and recreate it, or leave the host in maintenance`,
          { reason: 'migration_unsupported' },
        );
      }
      const running = server.desiredState === 'running';
      await store.changeServer(
        tx,
        server.id,
        { hostId: move.placement.hostId, status: running ? 'starting' : server.status },
        { nowIso: clock.nowIso() },
      );
      if (running)
        await actions.start(tx, {
          projectId: server.projectId,
          serverId: server.id,
          command: 'migrate',
          target: { status: 'running' },
        });
      await recordServerEvent(tx, hooks, 'server.migrated', server, {
        from_host_id: move.fromHostId,
        to_host_id: move.placement.hostId,
      });
      notify(hooks, move.fromHostId);
      notify(hooks, move.placement.hostId);
    },
  };
}

export type ComputeService = ReturnType<typeof createComputeService>;
