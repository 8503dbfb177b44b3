/**
 * Custom images: a stopped server's disk made into an image of its project. Creating one is a transaction
 * (the quota, the `creating` row, the `create_image` action, the event); the worker (worker.ts) then makes
 * the file on the hosts and settles the image `available` or `error`. Listed to its project only, resolved
 * by `POST /v1/servers` before the catalog, deleted when no live server was built from it.
 */
import type { Db, DialectName, Tx, TxHooks } from '../db/index.ts';
import { inTransaction, isUniqueViolation } from '../db/index.ts';
import { conflict, newId, notFound, type Clock } from '../core/index.ts';
import type { EventInput, EventRecorder } from '../events/index.ts';
import type { CatalogService } from '../catalog/index.ts';
import { requireProject, type IdentityService, type Principal } from '../identity/index.ts';
import type { ResourceActions, ServerRef } from '../compute/index.ts';
import type {
  ActionAccepted,
  CreateServerImageBody,
  CustomImage,
  CustomImageAccepted,
  EventPayloads,
  Image,
} from '../contract/index.ts';
import { createCustomImageStore, type CustomImageRecord } from './store.ts';
import { catalogImageOf, customImageView } from './views.ts';

type CustomImageEventType = Extract<keyof EventPayloads, `custom_image.${string}`>;

/** What custom images need of servers (compute). */
export interface CustomImageServers {
  findServer(q: Tx | Db, projectId: string, ref: string, options?: { lock?: boolean }): Promise<ServerRef | null>;
  liveServersWithImage(q: Tx | Db, projectId: string, image: string, limit?: number): Promise<string[]>;
}

export interface CustomImagesDeps {
  db: Db;
  dialect: DialectName;
  clock: Clock;
  events: EventRecorder;
  catalog: CatalogService;
  identity: IdentityService;
  actions: ResourceActions;
  servers: CustomImageServers;
  /** Told after commit that there is work for the worker (an image to make or to remove from hosts). */
  onWork?: () => void;
}

export function createCustomImageService(deps: CustomImagesDeps) {
  const { db, clock } = deps;
  const store = createCustomImageStore(db, deps.dialect);

  const recordEvent = <T extends CustomImageEventType>(
    tx: Tx,
    hooks: TxHooks,
    type: T,
    image: { id: string; projectId: string },
    data: EventPayloads[T],
  ) =>
    deps.events.record(tx, hooks, {
      type,
      projectId: image.projectId,
      resourceType: 'custom_image',
      resourceId: image.id,
      data,
    } as EventInput<T>);

  const work = (hooks: TxHooks) => {
    if (deps.onWork) hooks.afterCommit(() => deps.onWork!());
  };

  /** What the image inherits from the source server's own image (a catalog image, or a custom image). */
  async function originOf(
    server: ServerRef,
  ): Promise<{ sourceImage: string; osFamily: string; osVersion: string; requiresGpu: boolean }> {
    if (server.image.startsWith('cimg_')) {
      const parent = await store.byId(db, server.image);
      if (parent)
        return {
          sourceImage: parent.sourceImage,
          osFamily: parent.osFamily,
          osVersion: parent.osVersion,
          requiresGpu: parent.requiresGpu,
        };
    }
    const image = await deps.catalog.getImage(server.image).catch(() => null);
    return {
      sourceImage: server.image,
      osFamily: image?.os_family ?? 'unknown',
      osVersion: image?.os_version ?? '',
      requiresGpu: image?.requires_gpu ?? false,
    };
  }

  const notStopped = (server: ServerRef) =>
    conflict(`server ${server.name} is ${server.status}; stop it first (vmcloud server stop ${server.name} --wait)`, {
      reason: 'not_stopped',
      details: { server_status: server.status },
    });
  const isStopped = (server: ServerRef) => server.status === 'stopped' && server.desiredState === 'stopped';

  return {
    /** `POST /v1/servers/{id}/actions/create-image`: the stopped server's disk becomes a custom image. */
    async createImage(
      principal: Principal,
      serverRef: string,
      body: CreateServerImageBody,
    ): Promise<CustomImageAccepted> {
      const caller = requireProject(principal, 'member');
      const server = await deps.servers.findServer(db, caller.projectId, serverRef);
      if (!server || server.deleted) throw notFound('server', serverRef);
      if (!isStopped(server)) throw notStopped(server);
      const origin = await originOf(server);
      const product = await deps.catalog.productSpec(server.product).catch(() => null);
      const minDiskGiB = Math.max(server.diskGiB ?? 0, product?.disk_gib ?? 1);
      try {
        return await inTransaction(db, async (tx, hooks) => {
          // The server's row locked (PostgreSQL): a start waits for this transaction, then the worker sees it.
          const locked = await deps.servers.findServer(tx, caller.projectId, server.id, { lock: true });
          if (!locked || locked.deleted) throw notFound('server', serverRef);
          if (!isStopped(locked)) throw notStopped(locked);
          const now = clock.nowIso();
          const image: CustomImageRecord = {
            id: newId('customImage', clock.nowMs()),
            projectId: caller.projectId,
            name: body.name,
            region: locked.region,
            status: 'creating',
            sourceServerId: locked.id,
            sourceHostId: locked.hostId,
            ...origin,
            minDiskGiB,
            sizeBytes: null,
            sha256: null,
            hostIds: [],
            actionId: null,
            errorMessage: null,
            createdAt: now,
            updatedAt: now,
            deletedAt: null,
          };
          await store.insert(tx, image);
          await deps.identity.reserveQuota(tx, caller.projectId, { custom_images: 1 });
          const action = await deps.actions.start(tx, {
            projectId: caller.projectId,
            resourceType: 'custom_image',
            resourceId: image.id,
            command: 'create_image',
            target: { status: 'available' },
          });
          image.actionId = action.id;
          await store.change(tx, image.id, { actionId: action.id }, now);
          await recordEvent(tx, hooks, 'custom_image.creating', image, {
            name: image.name,
            region: image.region,
            source_server_id: image.sourceServerId,
            action_id: action.id,
          });
          work(hooks);
          return { image: customImageView(image), action: await deps.actions.view(tx, action.id) };
        });
      } catch (error) {
        if (isUniqueViolation(error))
          throw conflict(`an image named ${body.name} already exists in this project`, {
            reason: 'name_taken',
            fields: [{ field: 'name', message: 'already used' }],
          });
        throw error;
      }
    },

    /** `GET /v1/images`: the catalog's images, and the caller project's custom images after them. */
    async listImages(principal: Principal): Promise<Image[]> {
      const catalog = await deps.catalog.listImages();
      if (principal.kind !== 'project') return catalog;
      const custom = await store.listLive(db, principal.projectId);
      return [
        ...catalog,
        ...custom.map((record) => {
          const { region: _region, ...image } = catalogImageOf(record);
          return image;
        }),
      ];
    },

    async getImage(principal: Principal, ref: string): Promise<CustomImage> {
      const caller = requireProject(principal, 'viewer');
      const image = await store.live(db, caller.projectId, ref);
      if (!image) throw notFound('image', ref);
      return customImageView(image);
    },

    /** For compute: the project's custom image by id or name, in the shape of a catalog image, or null. */
    async resolve(projectId: string, ref: string): Promise<(Image & { region: string }) | null> {
      const image = await store.live(db, projectId, ref);
      return image ? catalogImageOf(image) : null;
    },

    /**
     * `DELETE /v1/images/{id}`: refused while the image is being made or a live server was built from it
     * (its host rebuilds from it); otherwise deleted now, its quota given back, and its files removed from
     * the hosts by the worker (the action finishes then).
     */
    async deleteImage(principal: Principal, ref: string): Promise<ActionAccepted> {
      const caller = requireProject(principal, 'member');
      return inTransaction(db, async (tx, hooks) => {
        const image = await store.live(tx, caller.projectId, ref, { lock: true });
        if (!image) throw notFound('image', ref);
        if (image.status === 'creating')
          throw conflict(`image ${image.name} is being created; wait for action ${image.actionId}`, {
            reason: 'locked',
            details: { action_id: image.actionId },
          });
        const users = await deps.servers.liveServersWithImage(tx, caller.projectId, image.id, 10);
        if (users.length > 0)
          throw conflict(
            `image ${image.name} is used by ${users.length === 10 ? '10 or more' : users.length} live server(s); delete or rebuild them first`,
            {
              reason: 'image_in_use',
              details: { server_ids: users },
            },
          );
        const now = clock.nowIso();
        const action = await deps.actions.start(tx, {
          projectId: caller.projectId,
          resourceType: 'custom_image',
          resourceId: image.id,
          command: 'delete',
          target: { status: 'deleted' },
        });
        await store.change(tx, image.id, { status: 'deleted', deletedAt: now, actionId: action.id }, now);
        await deps.identity.releaseQuota(tx, caller.projectId, { custom_images: 1 });
        await recordEvent(tx, hooks, 'custom_image.deleted', image, { name: image.name });
        if (image.hostIds.length === 0) await deps.actions.finish(tx, hooks, action, { ok: true });
        else work(hooks);
        return { action: await deps.actions.view(tx, action.id) };
      });
    },

    /** For the worker (worker.ts): the same handle, store, actions and event recorder. */
    db,
    store,
    actions: deps.actions,
    recordEvent,
  };
}

export type CustomImageService = ReturnType<typeof createCustomImageService>;
