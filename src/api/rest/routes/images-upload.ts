/**
 * `PUT /v1/images/{slug}` (operators): an image file streamed through the control plane to the hosts of a
 * region, never buffered whole. The body goes to the first host the caller lists (the host checks size,
 * format and sha256 while importing); then each other host gets a copy streamed from that first host;
 * then the `images` row is inserted or updated with the format, size and checksum the host measured.
 */
import { Transform, type Readable } from 'node:stream';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Api } from '../server.ts';
import type { Db } from '../../../db/index.ts';
import { invalid, isVmcError, newId, unavailable, VmcError, type Clock } from '../../../core/index.ts';
import { requireOperator } from '../../../identity/index.ts';
import { isValidSlug } from '../../../images/index.ts';
import type { HostClient, HostImageWire } from '../../../agent/host-client/index.ts';
import { principalOf } from '../context.ts';
import { errorResponses, Image } from '../schemas.ts';

export interface ImageUploadRouteDeps {
  db: Db;
  clock: Clock;
  /** The hosts of the region that can take images (up, with a host API), the preferred one first. */
  hostClientsInRegion: (region: string) => Promise<Array<{ hostId: string; client: HostClient }>>;
  /** Largest upload, bytes (default 50 GiB, the hosts' own default limit). */
  maxBytes?: number;
  /** Told after an image row was written, so that cached catalogs show it at once. */
  onImagesChanged?: () => void;
}

const GiB = 1024 ** 3;

const UploadedImage = Type.Object({
  ...Image.properties,
  format: Type.Union([Type.String(), Type.Null()]),
  size_bytes: Type.Union([Type.Integer(), Type.Null()]),
  sha256: Type.Union([Type.String(), Type.Null()]),
});

const HostCopy = Type.Object({
  host_id: Type.String(),
  status: Type.Union([Type.Literal('imported'), Type.Literal('failed')]),
  error: Type.Union([Type.String(), Type.Null()]),
});

/** Counts bytes through and fails past the limit (the host counts too; this stops the upload earlier). */
function byteLimit(maxBytes: number) {
  let bytes = 0;
  let failure: VmcError | null = null;
  const transform = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      if (bytes > maxBytes) {
        failure = invalid(`the image is larger than the limit of ${maxBytes} bytes`, { reason: 'body_too_large', details: { max_bytes: maxBytes } });
        callback(failure);
        return;
      }
      callback(null, chunk);
    },
  });
  return { transform, failure: () => failure, bytes: () => bytes };
}

export function registerImageUploadRoutes(app: Api, deps: ImageUploadRouteDeps) {
  const maxBytes = deps.maxBytes ?? 50 * GiB;

  // The octet-stream parser is scoped to this plugin: it hands the request stream on, unread.
  app.register(async (plugin) => {
    const scope = plugin.withTypeProvider<TypeBoxTypeProvider>();
    scope.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));

    scope.put(
      '/v1/images/:slug',
      {
        schema: {
          tags: ['catalog'],
          summary: 'Upload an image file (operators)',
          description:
            'Streams the body (application/octet-stream: qcow2, raw or ISO) to the hosts of `region`, which check its format with qemu-img and its sha256, then makes the image available in the catalog (category `custom` for a new slug). The answer lists which hosts hold the file.',
          params: Type.Object({ slug: Type.String({ minLength: 1, maxLength: 63 }) }),
          querystring: Type.Object(
            {
              region: Type.String({ minLength: 1, maxLength: 16 }),
              name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
              sha256: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{64}$' })),
            },
            { additionalProperties: false },
          ),
          consumes: ['application/octet-stream'],
          response: { 201: Type.Object({ image: UploadedImage, hosts: Type.Array(HostCopy) }), 413: errorResponses[400], ...errorResponses },
        },
      },
      async (request, reply) => {
        requireOperator(principalOf(request.principal));
        const { slug } = request.params;
        request.auditResource = { type: 'image', id: slug };
        const body = request.body as Readable | undefined;
        const fail = (error: unknown): never => {
          // The client may still be sending: answer, then close, rather than read gigabytes for nothing.
          if (body && !body.readableEnded) reply.header('connection', 'close');
          throw error;
        };
        if (!body || typeof body.pipe !== 'function') {
          return fail(invalid('send the image file as the body with Content-Type: application/octet-stream', { reason: 'unsupported_media_type' }));
        }
        if (!isValidSlug(slug)) return fail(invalid(`slug ${slug} is invalid: lower-case letters, digits, '.', '_', '-'`, { fields: [{ field: 'slug', message: 'invalid slug' }] }));
        const declared = Number(request.headers['content-length'] ?? NaN);
        if (Number.isFinite(declared) && declared > maxBytes) {
          return fail(invalid(`the image is larger than the limit of ${maxBytes} bytes`, { reason: 'body_too_large', details: { max_bytes: maxBytes } }));
        }
        const region = request.query.region.toLowerCase();
        const regionRow = await deps.db.selectFrom('regions').select('code').where('code', '=', region).executeTakeFirst();
        if (!regionRow) return fail(invalid(`unknown region ${request.query.region}`, { fields: [{ field: 'region', message: 'unknown region' }] }));
        const hosts = await deps.hostClientsInRegion(region);
        if (hosts.length === 0) return fail(unavailable(`no host of ${region} can take an image now (none is up with a host API)`, { reason: 'no_host_available' }));

        const [first, ...others] = hosts;
        const limit = byteLimit(maxBytes);
        body.on('error', (error) => limit.transform.destroy(error));
        let image: HostImageWire;
        try {
          image = await first.client.uploadImage(slug, body.pipe(limit.transform), { name: request.query.name, sha256: request.query.sha256?.toLowerCase() });
        } catch (error) {
          return fail(limit.failure() ?? error);
        }
        request.log.info({ slug, host_id: first.hostId, size_bytes: image.size_bytes, format: image.format }, 'image uploaded to a host');

        const copies: Array<{ host_id: string; status: 'imported' | 'failed'; error: string | null }> = [{ host_id: first.hostId, status: 'imported', error: null }];
        for (const other of others) {
          try {
            const download = await first.client.downloadImage(slug);
            await other.client.uploadImage(slug, download.stream, { name: image.name, sha256: image.sha256 });
            copies.push({ host_id: other.hostId, status: 'imported', error: null });
          } catch (error) {
            const message = isVmcError(error) ? `${error.message} (${error.code}${error.reason ? `/${error.reason}` : ''})` : String(error);
            request.log.warn({ slug, host_id: other.hostId, err: message }, 'image copy to a host failed');
            copies.push({ host_id: other.hostId, status: 'failed', error: message });
          }
        }

        const row = await upsertImageRow(deps, slug, request.query.name ?? null, image);
        request.auditResource = { type: 'image', id: row.id };
        return reply.code(201).send({
          image: {
            id: row.id,
            slug: row.slug,
            name: row.name,
            os_family: row.os_family,
            os_version: row.os_version,
            category: row.category,
            requires_gpu: row.requires_gpu === 1,
            min_disk_gib: row.min_disk_gib,
            status: row.status,
            format: row.format,
            size_bytes: row.size_bytes === null ? null : Number(row.size_bytes),
            sha256: row.sha256,
          },
          hosts: copies,
        });
      },
    );
  });
}

/** A new slug becomes a `custom` image; an existing one (a catalog image, say) gets its file's facts. */
async function upsertImageRow(deps: ImageUploadRouteDeps, slug: string, name: string | null, image: HostImageWire) {
  try {
    return await writeImageRow(deps, slug, name, image);
  } finally {
    deps.onImagesChanged?.();
  }
}

async function writeImageRow(deps: ImageUploadRouteDeps, slug: string, name: string | null, image: HostImageWire) {
  const minDiskGiB = Math.max(1, Math.ceil(image.virtual_size_bytes / GiB));
  const existing = await deps.db.selectFrom('images').selectAll().where('slug', '=', slug).executeTakeFirst();
  if (existing) {
    await deps.db
      .updateTable('images')
      .set({
        status: 'available',
        format: image.format,
        size_bytes: image.size_bytes,
        sha256: image.sha256,
        min_disk_gib: Math.max(existing.min_disk_gib, minDiskGiB),
        ...(name && existing.category === 'custom' ? { name } : {}),
      })
      .where('id', '=', existing.id)
      .execute();
  } else {
    await deps.db
      .insertInto('images')
      .values({
        id: newId('image', deps.clock.nowMs()),
        slug,
        name: name ?? image.name,
        os_family: image.format === 'iso' ? 'iso' : 'custom',
        os_version: '',
        category: 'custom',
        requires_gpu: 0,
        min_disk_gib: minDiskGiB,
        project_id: null,
        status: 'available',
        format: image.format,
        size_bytes: image.size_bytes,
        sha256: image.sha256,
        created_at: deps.clock.nowIso(),
      })
      .execute();
  }
  const row = await deps.db.selectFrom('images').selectAll().where('slug', '=', slug).executeTakeFirst();
  if (!row) throw new VmcError('internal', `image ${slug} vanished after its upload`);
  return row;
}
