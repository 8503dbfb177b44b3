/**
 * Resize: a stopped server to another product of the same kind, in one transaction — its claim given back
 * and taken again for the new size on the same host, or (simulated hosts only) on any host of the region
 * that takes it; a server on a real host that does not fit stays where it is (`migration_unsupported`).
 * The disk keeps its size when the new product's is smaller (a disk never shrinks); the quota follows the
 * difference in vCPUs and GPUs. The host applies the new size at the next start.
 */
import type { Db, Tx, TxHooks } from '../db/index.ts';
import { inTransaction } from '../db/index.ts';
import { conflict, notFound, VmcError, type Clock } from '../core/index.ts';
import type { CatalogService } from '../catalog/index.ts';
import type { PlacementScheduler } from '../scheduler/index.ts';
import { requireProject, type IdentityService, type Principal } from '../identity/index.ts';
import type { ActionAccepted, EventPayloads, ResizeServerBody } from '../contract/index.ts';
import type { Actions } from './actions.ts';
import type { ComputeStore, ServerRecord } from './store.ts';
import { actionView } from './views.ts';
import { sameKind } from './resize-options.ts';

export interface ResizeDeps {
  db: Db;
  clock: Clock;
  catalog: CatalogService;
  scheduler: PlacementScheduler;
  identity: IdentityService;
  store: ComputeStore;
  actions: Actions;
  hostDriverOf?: (hostId: string) => Promise<string>;
  loadServer(q: Db, projectId: string, serverId: string): Promise<ServerRecord>;
  recordResized(tx: Tx, hooks: TxHooks, server: ServerRecord, data: EventPayloads['server.resized']): Promise<unknown>;
  notify(hooks: TxHooks, hostId: string | null): void;
}

export function createResize(deps: ResizeDeps) {
  const { db, clock, store, actions, notify } = deps;
  return async function resize(
    principal: Principal,
    serverId: string,
    body: ResizeServerBody,
  ): Promise<ActionAccepted> {
    const caller = requireProject(principal, 'member');
    const before = await deps.loadServer(db, caller.projectId, serverId);
    const [product, from] = await Promise.all([
      deps.catalog.getProduct(body.product),
      deps.catalog.productSpec(before.product),
    ]);
    if (!sameKind(product, from)) {
      throw new VmcError(
        'invalid',
        `${from.name} can only be resized to a product of the same kind (${from.family}${from.gpu ? ` ${from.gpu.model}` : ''}); ${product.name} is not`,
        { reason: 'product_kind_mismatch', fields: [{ field: 'product', message: 'another kind of product' }] },
      );
    }
    if (!product.regions.includes(before.region))
      throw new VmcError('invalid', `${product.name} is not sold in ${before.region.toUpperCase()}`, {
        reason: 'product_not_in_region',
        fields: [{ field: 'product', message: `not sold in ${before.region}` }],
      });
    const driver = before.hostId && deps.hostDriverOf ? await deps.hostDriverOf(before.hostId) : 'sim';
    return inTransaction(db, async (tx, hooks) => {
      const server = await store.liveServer(tx, caller.projectId, serverId, { lock: true });
      if (!server) throw notFound('server', serverId);
      if (server.hostId !== before.hostId)
        throw conflict(`server ${server.name} moved meanwhile; retry`, { reason: 'locked' });
      const running = await actions.running(tx, server.id);
      if (running.length > 0)
        throw conflict(
          `server ${server.name} is busy with action ${running[0].id} (${running[0].command}); wait for it`,
          { reason: 'locked', details: { action_id: running[0].id } },
        );
      if (server.desiredState !== 'stopped' || server.status !== 'stopped')
        throw conflict(`server ${server.name} is ${server.status}; stop it before resizing`, {
          reason: 'not_stopped',
        });
      if (server.product === product.code) {
        // Already this size (a retry): an action that succeeded, nothing changed.
        const action = await actions.start(tx, {
          projectId: server.projectId,
          serverId: server.id,
          command: 'resize',
          target: { status: 'stopped' },
        });
        await actions.finish(tx, hooks, action, { ok: true });
        return { action: actionView(await store.actionById(tx, action.id)) };
      }
      const currentDiskGiB = server.diskGiB ?? from.disk_gib;
      const diskGiB = Math.max(currentDiskGiB, product.disk_gib);
      const request = {
        serverId: server.id,
        projectId: server.projectId,
        region: server.region,
        family: product.family,
        vcpus: product.vcpus,
        memoryMiB: product.memory_mib,
        diskGiB,
        gpuModel: product.gpu?.model ?? null,
        gpuCount: product.gpu?.count ?? 0,
        sriovVfs: product.sriov ? 1 : 0,
        placementGroupId: server.placementGroupId,
      };
      await deps.scheduler.release(tx, hooks, server.id);
      let outcome = await deps.scheduler.place(
        tx,
        hooks,
        server.hostId ? { ...request, onlyHostId: server.hostId } : request,
      );
      if (!outcome.ok && server.hostId && driver !== 'sim') {
        throw new VmcError(
          'conflict',
          `${product.name} does not fit on the host of ${server.name} (${outcome.failure.message}), and a real disk cannot move between hosts until live migration exists`,
          { reason: 'migration_unsupported', details: { placement: outcome.failure } },
        );
      }
      if (!outcome.ok && server.hostId) outcome = await deps.scheduler.place(tx, hooks, request);
      if (!outcome.ok)
        throw new VmcError('conflict', outcome.failure.message, {
          reason: 'no_capacity',
          details: { placement: outcome.failure },
        });
      const vcpus = product.vcpus - from.vcpus;
      const gpus = (product.gpu?.count ?? 0) - (from.gpu?.count ?? 0);
      if (vcpus > 0 || gpus > 0)
        await deps.identity.reserveQuota(tx, server.projectId, {
          servers: 0,
          vcpus: Math.max(vcpus, 0),
          gpus: Math.max(gpus, 0),
        });
      if (vcpus < 0 || gpus < 0)
        await deps.identity.releaseQuota(tx, server.projectId, {
          servers: 0,
          vcpus: Math.max(-vcpus, 0),
          gpus: Math.max(-gpus, 0),
        });
      const toHostId = outcome.placement.hostId;
      await store.changeServer(
        tx,
        server.id,
        { product: product.code, hostId: toHostId, diskGiB: diskGiB === product.disk_gib ? null : diskGiB },
        { nowIso: clock.nowIso() },
      );
      const action = await actions.start(tx, {
        projectId: server.projectId,
        serverId: server.id,
        command: 'resize',
        target: { status: 'stopped' },
      });
      await deps.recordResized(tx, hooks, server, {
        action_id: action.id,
        from_product: from.code,
        to_product: product.code,
        from_host_id: server.hostId,
        to_host_id: toHostId,
      });
      // The server is stopped: the new size is in place; its host applies it (and grows the disk) at the next start.
      await actions.finish(tx, hooks, action, { ok: true });
      notify(hooks, server.hostId);
      if (toHostId !== server.hostId) notify(hooks, toHostId);
      return { action: actionView(await store.actionById(tx, action.id)) };
    });
  };
}
