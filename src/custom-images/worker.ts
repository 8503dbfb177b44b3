/**
 * The custom-image worker (one replica at a time, under the fenced lease `custom-image-worker`): makes the
 * images that are `creating` and removes the files of deleted images from the hosts. Level-triggered: a
 * crash or an unreachable host leaves the row as it was and the next pass does the work again.
 *
 * On a QEMU host the source server's host converts its stopped, encrypted disk (overlay and base) into a
 * standalone plain qcow2 (the host API's export), which is imported into that host's image store under the
 * image's id; each other up host of the region gets a copy streamed from the first (as an operator's upload).
 * The scheduler then places servers of the image only on the hosts that hold it. A simulated host has no
 * files: the image is recorded on the region's simulated hosts.
 */
import type { Readable } from 'node:stream';
import { inTransaction } from '../db/index.ts';
import { isVmcError, type Logger } from '../core/index.ts';
import type { ServerRef } from '../compute/index.ts';
import type { CustomImageService } from './service.ts';
import type { CustomImageRecord } from './store.ts';

/** What the worker needs of a host's API (src/agent/host-client), narrowed to images. */
export interface CustomImageHostClient {
  exportDisk(
    serverId: string,
    options?: { format?: 'qcow2' | 'raw' },
  ): Promise<{ stream: Readable; fromRunningServer: boolean }>;
  uploadImage(
    slug: string,
    source: Readable,
    options?: { name?: string; sha256?: string; bootLike?: string },
  ): Promise<{ size_bytes: number; sha256: string; name: string }>;
  downloadImage(slug: string): Promise<{ stream: Readable }>;
  deleteImage(slug: string): Promise<void>;
}

export interface CustomImageWorkerDeps {
  service: CustomImageService;
  clock: { nowIso(): string };
  log: Logger;
  /** The server as it is now (deleted ones included), or null. */
  server(serverId: string): Promise<ServerRef | null>;
  /** `sim` or `qemu`; null when the host is gone. */
  hostDriverOf(hostId: string): Promise<'sim' | 'qemu' | null>;
  hostClientFor(hostId: string): Promise<CustomImageHostClient>;
  /** The up hosts of a region that can take images (a host API), and its simulated hosts. */
  hostsInRegion(region: string): Promise<{ qemu: string[]; sim: string[] }>;
  /** The host holds the image now: the scheduler may place servers of it there. */
  hostHasImage(hostId: string, slug: string): Promise<void>;
  /** The host no longer holds it. */
  hostLostImage(hostId: string, slug: string): Promise<void>;
}

const messageOf = (error: unknown) =>
  isVmcError(error) ? `${error.message}${error.reason ? ` (${error.reason})` : ''}` : String(error);

export function createCustomImageWorker(deps: CustomImageWorkerDeps) {
  const { service, log } = deps;
  const { store } = service;

  async function settle(
    image: CustomImageRecord,
    outcome: { hostIds: string[]; sizeBytes: number | null; sha256: string | null } | { error: string; code: string },
  ) {
    await inTransaction(service.db, async (tx, hooks) => {
      const current = await store.byId(tx, image.id, { lock: true });
      if (!current || current.status !== 'creating') return;
      const now = deps.clock.nowIso();
      const running = await service.actions.running(tx, current.id);
      if ('error' in outcome) {
        await store.change(tx, image.id, { status: 'error', errorMessage: outcome.error }, now);
        await service.recordEvent(tx, hooks, 'custom_image.error', image, { error: outcome.error });
        for (const action of running)
          await service.actions.finish(tx, hooks, action, { ok: false, code: outcome.code, message: outcome.error });
      } else {
        await store.change(
          tx,
          image.id,
          { status: 'available', hostIds: outcome.hostIds, sizeBytes: outcome.sizeBytes, sha256: outcome.sha256 },
          now,
        );
        await service.recordEvent(tx, hooks, 'custom_image.available', image, {
          hosts: outcome.hostIds,
          size_bytes: outcome.sizeBytes,
        });
        for (const action of running) await service.actions.finish(tx, hooks, action, { ok: true });
      }
    });
  }

  async function build(image: CustomImageRecord): Promise<void> {
    const server = await deps.server(image.sourceServerId);
    // Where the disk is now (a simulated server may have moved since), else where it was when asked.
    const hostId = server?.hostId ?? image.sourceHostId;
    if (!hostId || !server || server.deleted)
      return settle(image, { code: 'source_gone', error: 'the source server or its host is gone' });
    if (server.status !== 'stopped' || server.desiredState !== 'stopped')
      return settle(image, {
        code: 'not_stopped',
        error: `server ${server.name} was ${server.status} while its image was being made; stop it and try again`,
      });
    const driver = await deps.hostDriverOf(hostId);
    const hosts = await deps.hostsInRegion(image.region);
    if (driver === 'sim') {
      for (const id of hosts.sim) await deps.hostHasImage(id, image.id);
      return settle(image, { hostIds: hosts.sim, sizeBytes: null, sha256: null });
    }
    if (driver === null) return settle(image, { code: 'source_gone', error: 'the source server’s host is gone' });

    // The source host: its disk converted to a standalone plain qcow2, imported into its own image store.
    const source = await deps.hostClientFor(hostId);
    let facts: { size_bytes: number; sha256: string } | null = null;
    try {
      const exported = await source.exportDisk(image.sourceServerId, { format: 'qcow2' });
      if (exported.fromRunningServer) {
        exported.stream.destroy();
        return settle(image, {
          code: 'not_stopped',
          error: `server ${server.name} was started while its image was being made; stop it and try again`,
        });
      }
      facts = await source.uploadImage(image.id, exported.stream, { name: image.name, bootLike: image.sourceImage });
    } catch (error) {
      // A pass that crashed after the import left the file there: it is the image.
      if (!(isVmcError(error) && error.reason === 'image_exists')) throw error;
    }
    const holders = [hostId];
    for (const other of hosts.qemu.filter((id) => id !== hostId)) {
      try {
        const client = await deps.hostClientFor(other);
        const download = await source.downloadImage(image.id);
        await client.uploadImage(image.id, download.stream, {
          name: image.name,
          bootLike: image.sourceImage,
          ...(facts ? { sha256: facts.sha256 } : {}),
        });
        holders.push(other);
      } catch (error) {
        if (isVmcError(error) && error.reason === 'image_exists') holders.push(other);
        else
          log.warn({ image_id: image.id, host_id: other, err: messageOf(error) }, 'custom image copy to a host failed');
      }
    }
    for (const id of holders) await deps.hostHasImage(id, image.id);
    await settle(image, { hostIds: holders, sizeBytes: facts?.size_bytes ?? null, sha256: facts?.sha256 ?? null });
  }

  /** A deleted image: its file removed from each host that held it; the delete action finishes when none does. */
  async function remove(image: CustomImageRecord): Promise<void> {
    const left: string[] = [];
    for (const hostId of image.hostIds) {
      try {
        const driver = await deps.hostDriverOf(hostId);
        if (driver === 'qemu') await (await deps.hostClientFor(hostId)).deleteImage(image.id);
        await deps.hostLostImage(hostId, image.id);
      } catch (error) {
        if (isVmcError(error) && error.code === 'not_found') continue;
        log.warn(
          { image_id: image.id, host_id: hostId, err: messageOf(error) },
          'custom image removal from a host failed',
        );
        left.push(hostId);
      }
    }
    await inTransaction(service.db, async (tx, hooks) => {
      await store.change(tx, image.id, { hostIds: left }, deps.clock.nowIso());
      if (left.length > 0) return;
      for (const action of await service.actions.running(tx, image.id))
        await service.actions.finish(tx, hooks, action, { ok: true });
    });
  }

  return {
    /** One pass: every pending image, one at a time. Returns how many it handled. */
    async runOnce(): Promise<number> {
      const pending = await store.pending();
      for (const image of pending) {
        try {
          if (image.status === 'creating') await build(image);
          else await remove(image);
        } catch (error) {
          // Unreachable host, transient failure: the row stays as it is, the next pass tries again.
          log.warn({ image_id: image.id, err: messageOf(error) }, 'custom image pass failed; retried next pass');
          if (isVmcError(error) && error.code !== 'unavailable' && image.status === 'creating')
            await settle(image, { code: error.reason ?? error.code, error: messageOf(error) });
        }
      }
      return pending.length;
    },
  };
}

export type CustomImageWorker = ReturnType<typeof createCustomImageWorker>;
