/** The only code that names the custom-images domain's table, `custom_images`. JSON columns are typed here. */
import type { Selectable } from 'kysely';
import type { Db, DialectName, Tx } from '../db/index.ts';
import type { CustomImageStatus } from '../contract/index.ts';
import type { CustomImagesTable } from './tables.ts';

export interface CustomImageRecord {
  id: string;
  projectId: string;
  name: string;
  region: string;
  status: CustomImageStatus;
  sourceServerId: string;
  sourceHostId: string | null;
  sourceImage: string;
  osFamily: string;
  osVersion: string;
  requiresGpu: boolean;
  minDiskGiB: number;
  sizeBytes: number | null;
  sha256: string | null;
  /** The hosts that hold the image's file (a deleted image: those it is still to be removed from). */
  hostIds: string[];
  actionId: string | null;
  errorMessage: string | null;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
}

const recordOf = (r: Selectable<CustomImagesTable>): CustomImageRecord => ({
  id: r.id,
  projectId: r.project_id,
  name: r.name,
  region: r.region,
  status: r.status as CustomImageStatus,
  sourceServerId: r.source_server_id,
  sourceHostId: r.source_host_id,
  sourceImage: r.source_image,
  osFamily: r.os_family,
  osVersion: r.os_version,
  requiresGpu: Number(r.requires_gpu) === 1,
  minDiskGiB: Number(r.min_disk_gib),
  sizeBytes: r.size_bytes === null ? null : Number(r.size_bytes),
  sha256: r.sha256,
  hostIds: JSON.parse(r.hosts_json) as string[],
  actionId: r.action_id,
  errorMessage: r.error_message,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  deletedAt: r.deleted_at,
});

export interface CustomImageChange {
  status?: CustomImageStatus;
  sizeBytes?: number | null;
  sha256?: string | null;
  hostIds?: string[];
  actionId?: string | null;
  errorMessage?: string | null;
  deletedAt?: string;
}

export function createCustomImageStore(db: Db, dialect: DialectName) {
  const isId = (ref: string) => /^cimg_[0-9a-z]{26}$/.test(ref);
  return {
    async insert(tx: Tx, image: CustomImageRecord): Promise<void> {
      await tx
        .insertInto('custom_images')
        .values({
          id: image.id,
          project_id: image.projectId,
          name: image.name,
          region: image.region,
          status: image.status,
          source_server_id: image.sourceServerId,
          source_host_id: image.sourceHostId,
          source_image: image.sourceImage,
          os_family: image.osFamily,
          os_version: image.osVersion,
          requires_gpu: image.requiresGpu ? 1 : 0,
          min_disk_gib: image.minDiskGiB,
          size_bytes: image.sizeBytes,
          sha256: image.sha256,
          hosts_json: JSON.stringify(image.hostIds),
          action_id: image.actionId,
          error_message: image.errorMessage,
          created_at: image.createdAt,
          updated_at: image.updatedAt,
          deleted_at: null,
        })
        .execute();
    },

    /** A live (not deleted) image of the project by id or name; its row locked on PostgreSQL with `lock`. */
    async live(
      q: Tx | Db,
      projectId: string,
      ref: string,
      options: { lock?: boolean } = {},
    ): Promise<CustomImageRecord | null> {
      let query = q
        .selectFrom('custom_images')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('deleted_at', 'is', null)
        // Names are lower-case (the CLI lower-cases `--image` as it does catalog slugs): any case finds them.
        .where(isId(ref) ? 'id' : 'name', '=', ref.toLowerCase());
      if (options.lock && dialect === 'postgres') query = query.forUpdate();
      const row = await query.executeTakeFirst();
      return row ? recordOf(row) : null;
    },

    async byId(q: Tx | Db, id: string, options: { lock?: boolean } = {}): Promise<CustomImageRecord | null> {
      let query = q.selectFrom('custom_images').selectAll().where('id', '=', id);
      if (options.lock && dialect === 'postgres') query = query.forUpdate();
      const row = await query.executeTakeFirst();
      return row ? recordOf(row) : null;
    },

    /** The project's live images, oldest first. */
    async listLive(q: Tx | Db, projectId: string): Promise<CustomImageRecord[]> {
      const rows = await q
        .selectFrom('custom_images')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('deleted_at', 'is', null)
        .orderBy('id')
        .execute();
      return rows.map(recordOf);
    },

    /** What the worker has to do: images being created, and deleted images whose files remain on hosts. */
    async pending(q: Tx | Db = db): Promise<CustomImageRecord[]> {
      const rows = await q
        .selectFrom('custom_images')
        .selectAll()
        .where((eb) =>
          eb.or([eb('status', '=', 'creating'), eb.and([eb('status', '=', 'deleted'), eb('hosts_json', '!=', '[]')])]),
        )
        .orderBy('id')
        .limit(100)
        .execute();
      return rows.map(recordOf);
    },

    async change(tx: Tx, id: string, change: CustomImageChange, nowIso: string): Promise<void> {
      await tx
        .updateTable('custom_images')
        .set({
          updated_at: nowIso,
          ...(change.status !== undefined && { status: change.status }),
          ...(change.sizeBytes !== undefined && { size_bytes: change.sizeBytes }),
          ...(change.sha256 !== undefined && { sha256: change.sha256 }),
          ...(change.hostIds !== undefined && { hosts_json: JSON.stringify(change.hostIds) }),
          ...(change.actionId !== undefined && { action_id: change.actionId }),
          ...(change.errorMessage !== undefined && { error_message: change.errorMessage }),
          ...(change.deletedAt !== undefined && { deleted_at: change.deletedAt }),
        })
        .where('id', '=', id)
        .execute();
    },
  };
}

export type CustomImageStore = ReturnType<typeof createCustomImageStore>;
