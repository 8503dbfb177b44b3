/** Custom images as the API shows them (the full view, and the catalog's `Image` shape for `GET /v1/images`). */
import type { CustomImage, Image } from '../contract/index.ts';
import type { CustomImageRecord } from './store.ts';

export const customImageView = (r: CustomImageRecord): CustomImage => ({
  id: r.id,
  slug: r.id,
  name: r.name,
  project_id: r.projectId,
  region: r.region,
  status: r.status,
  category: 'custom',
  os_family: r.osFamily,
  os_version: r.osVersion,
  requires_gpu: r.requiresGpu,
  min_disk_gib: r.minDiskGiB,
  source_server_id: r.sourceServerId,
  source_image: r.sourceImage,
  size_bytes: r.sizeBytes,
  sha256: r.sha256,
  error: r.errorMessage,
  created_at: r.createdAt,
});

/** The image as `POST /v1/servers` and the catalog list see it: slug = id, so hosts know it by its id. */
export const catalogImageOf = (r: CustomImageRecord): Image & { region: string } => ({
  id: r.id,
  slug: r.id,
  name: r.name,
  os_family: r.osFamily,
  os_version: r.osVersion,
  category: 'custom',
  requires_gpu: r.requiresGpu,
  min_disk_gib: r.minDiskGiB,
  status: r.status,
  region: r.region,
});
