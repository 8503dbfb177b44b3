import type { Db, DialectName, Tx, TxHooks } from '../db/index.ts';
import { inTransaction, isUniqueViolation } from '../db/index.ts';
import { conflict, newId, notFound, VmcError, type Clock, type EventType, type Logger } from '../core/index.ts';
import type { EventRecorder } from '../events/index.ts';
import type { CatalogService } from '../catalog/index.ts';
import { normalizeCode } from '../catalog/index.ts';
import type { Scheduler } from '../scheduler/types.ts';
import { requireProject, type Principal } from '../identity/index.ts';
import { parseCreateServer, isValidServerName } from './validation.ts';
import { parseSelector, matchesSelector, validateLabels, type Labels } from './labels.ts';
import { createActionStore } from './actions.ts';
import { parsePool, addressAt } from './ipv4-pool.ts';
import { serverView, actionView, type ServerView, type ActionView } from './views.ts';
import type { ActionCommand, ActionTarget } from './server-status.ts';

export interface ComputeDeps {
  db: Db;
  dialect: DialectName;
  clock: Clock;
  log: Logger;
  events: EventRecorder;
  catalog: CatalogService;
  scheduler: Scheduler;
  /** Told after commit which hosts have new desired state, so their agents act at once. */
  onDesiredStateChanged?: (hostId: string) => void;
}

export interface ListServersQuery {
  limit?: number;
  cursor?: string | null;
  labelSelector?: string | null;
  name?: string | null;
  region?: string | null;
  status?: string | null;
}

export interface Mutation {
  server: ServerView;
  action: ActionView;
}

const encodeCursor = (id: string) => Buffer.from(id).toString('base64url');
function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString();
  if (!/^srv_[0-9a-z]{26}$/.test(id)) throw new VmcError('invalid', 'cursor is not valid', { fields: [{ field: 'cursor', message: 'not a cursor returned by this API' }] });
  return id;
}

export function createComputeService(deps: ComputeDeps) {
  const { db, clock } = deps;
  const actions = createActionStore({ clock, events: deps.events });

  const notify = (hooks: TxHooks, hostId: string | null) => {
    if (hostId && deps.onDesiredStateChanged) hooks.afterCommit(() => deps.onDesiredStateChanged!(hostId));
  };

  async function lockProject(tx: Tx, projectId: string) {
    let query = tx.selectFrom('projects').selectAll().where('id', '=', projectId);
    if (deps.dialect === 'postgres') query = query.forUpdate();
    const project = await query.executeTakeFirst();
    if (!project) throw notFound('project', projectId);
    return project;
  }

  async function projectUsage(q: Tx | Db, projectId: string) {
    const row = await q.selectFrom('projects').select(['used_servers', 'used_vcpus', 'used_gpus']).where('id', '=', projectId).executeTakeFirst();
    if (!row) throw notFound('project', projectId);
    return { servers: row.used_servers, vcpus: row.used_vcpus, gpus: row.used_gpus };
  }

  /** A free address of the region's pool: random slots, checked against live servers (unique index backs it). */
  async function allocateIpv4(tx: Tx, region: string): Promise<string> {
    const row = await tx.selectFrom('regions').select('ipv4_pool').where('code', '=', region).executeTakeFirstOrThrow();
    const pool = parsePool(row.ipv4_pool);
    for (let attempt = 0; attempt < 32; attempt++) {
      const candidate = addressAt(pool, Math.floor(Math.random() * pool.size));
      const taken = await tx.selectFrom('servers').select('id').where('region', '=', region).where('ipv4', '=', candidate).where('deleted_at', 'is', null).executeTakeFirst();
      if (!taken) return candidate;
    }
    throw new VmcError('unavailable', `the IPv4 pool of ${region.toUpperCase()} (${row.ipv4_pool}) has no free address`, { reason: 'ipv4_pool_exhausted' });
  }

  async function loadServer(tx: Tx | Db, projectId: string, serverId: string) {
    const row = await tx.selectFrom('servers').selectAll().where('id', '=', serverId).where('project_id', '=', projectId).where('deleted_at', 'is', null).executeTakeFirst();
    if (!row) throw notFound('server', serverId);
    return row;
  }

  async function viewOf(tx: Tx | Db, serverId: string): Promise<ServerView> {
    const row = await tx.selectFrom('servers').selectAll().where('id', '=', serverId).executeTakeFirstOrThrow();
    const allocation = await tx.selectFrom('allocations').select(['numa_nodes_json', 'gpus_json']).where('server_id', '=', serverId).executeTakeFirst();
    return serverView(row, allocation);
  }

  async function recordServerEvent(tx: Tx, hooks: TxHooks, type: EventType, server: { id: string; project_id: string }, data: Record<string, unknown> = {}) {
    await deps.events.record(tx, hooks, { type, projectId: server.project_id, resourceType: 'server', resourceId: server.id, data });
  }

  /** Runs a state change on one server: desired state, version, event, action; one transaction. */
  async function mutate(
    principal: Principal,
    serverId: string,
    command: Exclude<ActionCommand, 'create'>,
    change: (server: Awaited<ReturnType<typeof loadServer>>) => { desired: 'running' | 'stopped' | 'deleted'; status: string; target: ActionTarget; event: EventType; rebootGeneration?: number; forceStop?: boolean; supersede: boolean },
  ): Promise<ActionView> {
    const caller = requireProject(principal, 'member');
    return inTransaction(db, async (tx, hooks) => {
      await lockProject(tx, caller.projectId);
      const server = await loadServer(tx, caller.projectId, serverId);
      const running = await actions.running(tx, server.id);
      const same = running.find((a) => a.command === command);
      if (same) return actionView(same);
      const plan = change(server);
      if (running.length > 0) {
        if (!plan.supersede) {
          throw conflict(`server ${server.name} is busy with action ${running[0].id} (${running[0].command}); wait for it or delete the server`, { reason: 'locked', details: { action_id: running[0].id } });
        }
        for (const other of running) await actions.finish(tx, hooks, other, { ok: false, code: 'superseded', message: `superseded by ${command}` });
      }
      await tx
        .updateTable('servers')
        .set({
          desired_state: plan.desired,
          status: plan.status,
          reboot_generation: plan.rebootGeneration ?? server.reboot_generation,
          force_stop: plan.forceStop ? 1 : 0,
          error_message: null,
          version: server.version + 1,
          updated_at: clock.nowIso(),
        })
        .where('id', '=', server.id)
        .execute();
      const action = await actions.start(tx, { projectId: server.project_id, serverId: server.id, command, target: plan.target });
      await recordServerEvent(tx, hooks, plan.event, server, { action_id: action.id });
      if (plan.status === plan.target.status && plan.target.rebootGeneration === undefined) {
        await actions.finish(tx, hooks, action, { ok: true });
      }
      notify(hooks, server.host_id);
      const finished = await tx.selectFrom('actions').selectAll().where('id', '=', action.id).executeTakeFirstOrThrow();
      return actionView(finished);
    });
  }

  return {
    async createServer(principal: Principal, body: Record<string, unknown>): Promise<Mutation> {
      const caller = requireProject(principal, 'member');
      const input = parseCreateServer(body);
      const product = await deps.catalog.getProduct(input.product);
      const region = await deps.catalog.getRegion(input.region).catch(() => {
        throw new VmcError('invalid', `unknown region ${input.region}`, { reason: 'unknown_region', fields: [{ field: 'region', message: `unknown region ${input.region}` }] });
      });
      if (region.status === 'planned') {
        throw new VmcError('invalid', `region ${region.code.toUpperCase()} is planned${region.opens ? ` (opens ${region.opens})` : ''} and not orderable yet`, { reason: 'region_not_orderable', fields: [{ field: 'region', message: 'not orderable' }] });
      }
      if (region.status === 'maintenance') {
        throw new VmcError('conflict', `region ${region.code.toUpperCase()} is in maintenance and takes no new servers; existing servers keep running`, { reason: 'region_in_maintenance' });
      }
      if (!product.regions.includes(region.code)) {
        throw new VmcError('invalid', `${product.name} is not sold in ${region.code.toUpperCase()}; it is sold in ${product.regions.map((r) => r.toUpperCase()).join(', ')}`, { reason: 'product_not_in_region', fields: [{ field: 'product', message: `not sold in ${region.code}` }] });
      }
      const image = await deps.catalog.getImage(input.image);
      if (image.requires_gpu && product.family !== 'gpu') {
        throw new VmcError('invalid', `image ${image.slug} needs a GPU product (GPU-T4, GPU-RTX4090, GPU-A100)`, { reason: 'image_needs_gpu', fields: [{ field: 'image', message: 'needs a GPU product' }] });
      }
      if (image.status !== 'available') throw new VmcError('invalid', `image ${image.slug} is ${image.status}`, { reason: 'image_not_available', fields: [{ field: 'image', message: image.status }] });
      if (image.min_disk_gib > product.disk_gib) {
        throw new VmcError('invalid', `image ${image.slug} needs ${image.min_disk_gib} GiB of disk; ${product.name} has ${product.disk_gib}`, { reason: 'image_too_large', fields: [{ field: 'image', message: 'too large for the product disk' }] });
      }
      let placementGroupId: string | null = null;
      if (input.placementGroup) {
        const group = await db.selectFrom('placement_groups').select('id').where('project_id', '=', caller.projectId).where((eb) => eb.or([eb('id', '=', input.placementGroup!), eb('name', '=', input.placementGroup!)])).executeTakeFirst();
        if (!group) throw new VmcError('invalid', `unknown placement group ${input.placementGroup}`, { reason: 'unknown_placement_group', fields: [{ field: 'placement_group', message: 'unknown' }] });
        placementGroupId = group.id;
      }

      try {
        return await inTransaction(db, async (tx, hooks) => {
          const project = await lockProject(tx, caller.projectId);
          const usage = { servers: project.used_servers, vcpus: project.used_vcpus, gpus: project.used_gpus };
          const over: string[] = [];
          if (usage.servers + 1 > project.quota_servers) over.push(`servers ${usage.servers}/${project.quota_servers}`);
          if (usage.vcpus + product.vcpus > project.quota_vcpus) over.push(`vCPUs ${usage.vcpus}+${product.vcpus}/${project.quota_vcpus}`);
          if (product.gpu && usage.gpus + product.gpu.count > project.quota_gpus) over.push(`GPUs ${usage.gpus}+${product.gpu.count}/${project.quota_gpus}`);
          if (over.length > 0) {
            throw new VmcError('forbidden', `project quota exceeded: ${over.join(', ')}; ask support to raise it`, { reason: 'quota_exceeded', details: { quotas: { servers: project.quota_servers, vcpus: project.quota_vcpus, gpus: project.quota_gpus }, usage } });
          }
          const ipv4 = await allocateIpv4(tx, region.code);
          const now = clock.nowIso();
          const serverId = newId('server', clock.nowMs());
          await tx
            .insertInto('servers')
            .values({
              id: serverId,
              project_id: caller.projectId,
              name: input.name,
              region: region.code,
              product: product.code,
              image: image.slug,
              host_id: null,
              placement_group_id: placementGroupId,
              status: 'pending',
              desired_state: 'running',
              reboot_generation: 0,
              observed_reboot_generation: 0,
              labels_json: JSON.stringify(input.labels),
              ssh_keys_json: JSON.stringify(input.sshKeys),
              user_data: input.userData,
              ipv4,
              error_message: null,
              version: 1,
              created_at: now,
              updated_at: now,
              deleted_at: null,
            })
            .execute();
          const outcome = await deps.scheduler.place(tx, hooks, {
            serverId,
            projectId: caller.projectId,
            region: region.code,
            family: product.family,
            vcpus: product.vcpus,
            memoryMiB: product.memory_mib,
            diskGiB: product.disk_gib,
            gpuModel: product.gpu?.model ?? null,
            gpuCount: product.gpu?.count ?? 0,
            sriovVfs: 0,
            placementGroupId,
          });
          if (!outcome.ok) {
            throw new VmcError('conflict', outcome.failure.message, { reason: 'no_capacity', details: { placement: outcome.failure } });
          }
          await tx.updateTable('servers').set({ host_id: outcome.placement.hostId }).where('id', '=', serverId).execute();
          await tx
            .updateTable('projects')
            .set((eb) => ({ used_servers: eb('used_servers', '+', 1), used_vcpus: eb('used_vcpus', '+', product.vcpus), used_gpus: eb('used_gpus', '+', product.gpu?.count ?? 0) }))
            .where('id', '=', caller.projectId)
            .execute();
          const action = await actions.start(tx, { projectId: caller.projectId, serverId, command: 'create', target: { status: 'running' } });
          await recordServerEvent(tx, hooks, 'server.created', { id: serverId, project_id: caller.projectId }, { name: input.name, product: product.code, region: region.code, host_id: outcome.placement.hostId, action_id: action.id });
          notify(hooks, outcome.placement.hostId);
          return { server: await viewOf(tx, serverId), action: actionView(action) };
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict(`a server named ${input.name} already exists in this project`, { reason: 'name_taken', fields: [{ field: 'name', message: 'already used' }] });
        throw error;
      }
    },

    async listServers(principal: Principal, query: ListServersQuery): Promise<{ servers: ServerView[]; nextCursor: string | null }> {
      const caller = requireProject(principal, 'viewer');
      const limit = query.limit ?? 50;
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new VmcError('invalid', 'limit must be 1 to 500', { fields: [{ field: 'limit', message: 'must be 1 to 500' }] });
      const selector = query.labelSelector ? parseSelector(query.labelSelector) : [];
      let after = query.cursor ? decodeCursor(query.cursor) : null;
      const page: ServerView[] = [];
      let more = false;
      const batch = Math.max(limit + 1, selector.length > 0 ? 200 : 0);
      for (;;) {
        let q = db
          .selectFrom('servers')
          .leftJoin('allocations', 'allocations.server_id', 'servers.id')
          .selectAll('servers')
          .select(['allocations.numa_nodes_json', 'allocations.gpus_json'])
          .where('servers.project_id', '=', caller.projectId)
          .where('servers.deleted_at', 'is', null)
          .orderBy('servers.id')
          .limit(batch);
        if (after) q = q.where('servers.id', '>', after);
        if (query.name) q = q.where('servers.name', '=', query.name);
        if (query.region) q = q.where('servers.region', '=', normalizeCode(query.region));
        if (query.status) q = q.where('servers.status', '=', query.status);
        const rows = await q.execute();
        for (const row of rows) {
          if (selector.length > 0 && !matchesSelector(JSON.parse(row.labels_json) as Labels, selector)) continue;
          if (page.length === limit) {
            more = true;
            break;
          }
          page.push(serverView(row, row.numa_nodes_json && row.gpus_json ? { numa_nodes_json: row.numa_nodes_json, gpus_json: row.gpus_json } : null));
        }
        if (more || rows.length < batch) break;
        after = rows[rows.length - 1].id;
      }
      return { servers: page, nextCursor: more ? encodeCursor(page[page.length - 1].id) : null };
    },

    /** The server a host-side route acts on, in the caller's project and with at least `role`. */
    async requireServer(principal: Principal, serverId: string, role: 'viewer' | 'member' | 'owner'): Promise<{ id: string; name: string; hostId: string | null; status: string }> {
      const caller = requireProject(principal, role);
      const row = await loadServer(db, caller.projectId, serverId);
      return { id: row.id, name: row.name, hostId: row.host_id, status: row.status };
    },

    async getServer(principal: Principal, serverId: string): Promise<{ view: ServerView; version: number }> {
      const caller = requireProject(principal, 'viewer');
      const row = await loadServer(db, caller.projectId, serverId);
      return { view: await viewOf(db, serverId), version: row.version };
    },

    /** Renames a server or replaces its labels; `expectedVersion` (from If-Match) refuses a lost update. */
    async updateServer(principal: Principal, serverId: string, body: { name?: string; labels?: Record<string, string> }, expectedVersion: number | null): Promise<{ view: ServerView; version: number }> {
      const caller = requireProject(principal, 'member');
      if (expectedVersion !== null && !Number.isInteger(expectedVersion)) {
        throw new VmcError('invalid', 'If-Match must be an ETag of this API, e.g. "v3"', { fields: [{ field: 'If-Match', message: 'not an ETag of this API' }] });
      }
      if (body.name !== undefined && !isValidServerName(body.name)) {
        throw new VmcError('invalid', 'name must be a hostname', { fields: [{ field: 'name', message: 'must be a hostname: 1-63 letters, digits and hyphens' }] });
      }
      const labels = body.labels === undefined ? undefined : validateLabels(body.labels);
      try {
        return await inTransaction(db, async (tx) => {
          const server = await loadServer(tx, caller.projectId, serverId);
          if (expectedVersion !== null && expectedVersion !== server.version) {
            throw new VmcError('precondition_failed', `server ${server.name} changed since version ${expectedVersion} (now ${server.version}); read it again`, { reason: 'version_mismatch' });
          }
          const renamed = body.name !== undefined && body.name !== server.name;
          const relabelled = labels !== undefined && JSON.stringify(labels) !== server.labels_json;
          if (!renamed && !relabelled) return { view: await viewOf(tx, server.id), version: server.version };
          await tx
            .updateTable('servers')
            .set({ ...(body.name !== undefined && { name: body.name }), ...(labels !== undefined && { labels_json: JSON.stringify(labels) }), version: server.version + 1, updated_at: clock.nowIso() })
            .where('id', '=', server.id)
            .execute();
          return { view: await viewOf(tx, server.id), version: server.version + 1 };
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict(`a server named ${body.name} already exists in this project`, { reason: 'name_taken', fields: [{ field: 'name', message: 'already used' }] });
        throw error;
      }
    },

    start(principal: Principal, serverId: string) {
      return mutate(principal, serverId, 'start', (s) => ({
        desired: 'running',
        status: s.status === 'running' ? 'running' : 'starting',
        target: { status: 'running' },
        event: 'server.starting',
        supersede: false,
      }));
    },

    stop(principal: Principal, serverId: string, options: { force?: boolean } = {}) {
      return mutate(principal, serverId, 'stop', (s) => ({
        desired: 'stopped',
        status: s.status === 'stopped' ? 'stopped' : 'stopping',
        target: { status: 'stopped' },
        event: 'server.stopping',
        forceStop: options.force === true,
        supersede: options.force === true,
      }));
    },

    reboot(principal: Principal, serverId: string) {
      return mutate(principal, serverId, 'reboot', (s) => {
        if (s.desired_state !== 'running' || s.status !== 'running') {
          throw conflict(`server ${s.name} is ${s.status}; only a running server can be rebooted`, { reason: 'not_running' });
        }
        const rebootGeneration = s.reboot_generation + 1;
        return { desired: 'running', status: 'rebooting', target: { status: 'running', rebootGeneration }, event: 'server.rebooting', rebootGeneration, supersede: false };
      });
    },

    delete(principal: Principal, serverId: string) {
      return mutate(principal, serverId, 'delete', () => ({ desired: 'deleted', status: 'deleting', target: { status: 'deleted' }, event: 'server.deleting', supersede: true }));
    },

    async getAction(principal: Principal, actionId: string): Promise<ActionView> {
      const caller = requireProject(principal, 'viewer');
      const row = await db.selectFrom('actions').selectAll().where('id', '=', actionId).where('project_id', '=', caller.projectId).executeTakeFirst();
      if (!row) throw notFound('action', actionId);
      return actionView(row);
    },

    /**
     * Records that the scheduler moved a server to another host (drain), inside the move's transaction:
     * the old host's agent destroys its copy, the new one boots it (a cold move of a simulated server).
     */
    async recordMove(tx: Tx, hooks: TxHooks, move: { serverId: string; fromHostId: string; placement: { hostId: string } }): Promise<void> {
      const server = await tx.selectFrom('servers').selectAll().where('id', '=', move.serverId).executeTakeFirstOrThrow();
      const source = await tx.selectFrom('hosts').select(['driver', 'name']).where('id', '=', move.fromHostId).executeTakeFirstOrThrow();
      if (source.driver !== 'sim') {
        throw new VmcError('unavailable', `server ${server.name} is on ${source.name} (${source.driver}): moving a real disk between hosts is not supported yet; stop and recreate it, or leave the host in maintenance`, { reason: 'migration_unsupported' });
      }
      const running = server.desired_state === 'running';
      await tx
        .updateTable('servers')
        .set({ host_id: move.placement.hostId, status: running ? 'starting' : server.status, version: server.version + 1, updated_at: clock.nowIso() })
        .where('id', '=', server.id)
        .execute();
      if (running) await actions.start(tx, { projectId: server.project_id, serverId: server.id, command: 'migrate', target: { status: 'running' } });
      await recordServerEvent(tx, hooks, 'server.migrated', server, { from_host_id: move.fromHostId, to_host_id: move.placement.hostId });
      notify(hooks, move.fromHostId);
      notify(hooks, move.placement.hostId);
    },

    async usage(projectId: string) {
      return projectUsage(db, projectId);
    },
  };
}

export type ComputeService = ReturnType<typeof createComputeService>;
