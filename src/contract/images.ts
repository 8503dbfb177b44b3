/** Images: OS, application and AI images, and custom uploads. */
import { Type, type Static } from 'typebox';
import { Nullable } from './common.ts';
import { defineOperation } from './operation.ts';

export const Image = Type.Object({
  id: Type.String({ description: 'img_…' }),
  slug: Type.String({ description: 'e.g. debian-12' }),
  name: Type.String(),
  os_family: Type.String(),
  os_version: Type.String(),
  category: Type.String({ description: 'os | app | ai | custom' }),
  requires_gpu: Type.Boolean(),
  min_disk_gib: Type.Integer(),
  status: Type.String({
    description: 'available | deleted; a custom image of the project: creating | available | error',
  }),
});
export type Image = Static<typeof Image>;

export const UploadedImage = Type.Object({
  ...Image.properties,
  format: Nullable(Type.String()),
  size_bytes: Nullable(Type.Integer()),
  sha256: Nullable(Type.String()),
});
export type UploadedImage = Static<typeof UploadedImage>;

export const ImageHostCopy = Type.Object({
  host_id: Type.String(),
  status: Type.Union([Type.Literal('imported'), Type.Literal('failed')]),
  error: Nullable(Type.String()),
});
export type ImageHostCopy = Static<typeof ImageHostCopy>;

export const imageSlugPattern = '^[a-z0-9][a-z0-9._-]{0,62}$';

export const UploadImageQuery = Type.Object(
  {
    region: Type.String({ minLength: 1, maxLength: 16 }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    sha256: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{64}$' })),
  },
  { additionalProperties: false },
);
export type UploadImageQuery = Static<typeof UploadImageQuery>;

export const ImageUploaded = Type.Object({ image: UploadedImage, hosts: Type.Array(ImageHostCopy) });
export type ImageUploaded = Static<typeof ImageUploaded>;

export const listImages = defineOperation({
  operationId: 'listImages',
  method: 'GET',
  path: '/v1/images',
  tags: ['catalog'],
  summary: 'List images',
  description:
    "The catalog's images; with a project token, the project's custom images too (category `custom`, slug `cimg_…`, not deleted).",
  auth: 'any',
  status: 200,
  response: Type.Object({ images: Type.Array(Image) }),
});

export const uploadImage = defineOperation({
  operationId: 'uploadImage',
  method: 'PUT',
  path: '/v1/images/:slug',
  tags: ['catalog'],
  summary: 'Upload an image file (operators)',
  description:
    'Streams the body (application/octet-stream: qcow2, raw or ISO) to the hosts of `region`, which check its format with qemu-img and its sha256, then makes the image available in the catalog (category `custom` for a new slug). The answer lists which hosts hold the file.',
  auth: 'operator',
  params: Type.Object({ slug: Type.String({ minLength: 1, maxLength: 63 }) }),
  query: UploadImageQuery,
  consumes: 'application/octet-stream',
  status: 201,
  response: ImageUploaded,
  resource: 'image',
});

export const imageOperations = { listImages, uploadImage };
