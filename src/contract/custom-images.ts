/**
 * Custom images: a stopped server's disk made into an image of its project (`POST
 * /v1/servers/{id}/actions/create-image`), listed with the catalog's images to that project only, booted
 * by `POST /v1/servers` with `image` set to its name or id, deleted when no live server uses it.
 */
import { Type, type Static } from 'typebox';
import { IdParams, Literals, Nullable, Timestamp } from './common.ts';
import { Action, ActionAccepted } from './actions.ts';
import { defineOperation } from './operation.ts';

export const customImageStatuses = ['creating', 'available', 'error', 'deleted'] as const;
export const CustomImageStatus = Literals(customImageStatuses);
export type CustomImageStatus = (typeof customImageStatuses)[number];

export const CustomImageName = Type.String({
  minLength: 1,
  maxLength: 63,
  pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$',
  description:
    '1–63 lower-case letters, digits and hyphens, not starting or ending with a hyphen (an image is named like a slug); unique in the project',
});

export const CustomImage = Type.Object({
  id: Type.String({ description: 'cimg_… (also its slug: hosts know the image by it)' }),
  slug: Type.String({ description: 'the id: what `image` of a server shows' }),
  name: Type.String(),
  project_id: Type.String(),
  region: Type.String({ description: 'servers of this image are created in this region' }),
  status: CustomImageStatus,
  category: Type.Literal('custom'),
  os_family: Type.String(),
  os_version: Type.String(),
  requires_gpu: Type.Boolean(),
  min_disk_gib: Type.Integer({ description: 'the source server disk size' }),
  source_server_id: Type.String(),
  source_image: Type.String({ description: 'the catalog image the source server was built from' }),
  size_bytes: Nullable(Type.Integer({ description: 'the standalone qcow2 file (null on simulated hosts)' })),
  sha256: Nullable(Type.String()),
  error: Nullable(Type.String()),
  created_at: Timestamp,
});
export type CustomImage = Static<typeof CustomImage>;

export const CreateServerImageBody = Type.Object({ name: CustomImageName }, { additionalProperties: false });
export type CreateServerImageBody = Static<typeof CreateServerImageBody>;

export const CustomImageAccepted = Type.Object({ image: CustomImage, action: Action });
export type CustomImageAccepted = Static<typeof CustomImageAccepted>;

const tags = ['images'];

/** The same path as the operators' upload (`PUT /v1/images/{slug}`): here a custom image's id (`cimg_…`) or name. */
const ImageRefParams = Type.Object({
  slug: Type.String({ minLength: 1, maxLength: 100, description: 'a custom image id (cimg_…) or name' }),
});

export const createServerImage = defineOperation({
  operationId: 'createServerImage',
  method: 'POST',
  path: '/v1/servers/:id/actions/create-image',
  tags,
  summary: "Make a custom image of the project from a stopped server's disk",
  description:
    "The server must be stopped (409 `not_stopped`). The server's host converts its encrypted disk into a standalone plain qcow2 in its image store, which is then copied to the region's other hosts; the action finishes when the image is `available`. Counts against the project's `custom_images` quota.",
  auth: 'project',
  params: IdParams,
  body: CreateServerImageBody,
  status: 202,
  response: CustomImageAccepted,
  resource: 'custom_image',
});

export const getCustomImage = defineOperation({
  operationId: 'getCustomImage',
  method: 'GET',
  path: '/v1/images/:slug',
  tags,
  summary: 'Show a custom image of the project (by id or name)',
  auth: 'project',
  params: ImageRefParams,
  status: 200,
  response: Type.Object({ image: CustomImage }),
});

export const deleteCustomImage = defineOperation({
  operationId: 'deleteCustomImage',
  method: 'DELETE',
  path: '/v1/images/:slug',
  tags,
  summary: 'Delete a custom image of the project',
  description:
    "Refused with 409 `image_in_use` while a live server was built from it (hosts rebuild from it), and with 409 `locked` while it is being created. Its files are removed from the region's hosts.",
  auth: 'project',
  params: ImageRefParams,
  status: 202,
  response: ActionAccepted,
  resource: 'custom_image',
});

export const customImageOperations = { createServerImage, getCustomImage, deleteCustomImage };
