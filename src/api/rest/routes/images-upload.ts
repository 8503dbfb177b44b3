/**
 * `PUT /v1/images/{slug}` (operators): an image file streamed through the control plane to the hosts of a
 * region, never buffered whole. The body goes to the first host the caller lists (the host checks size,
 * format and sha256 while importing); then each other host gets a copy streamed from that first host;
 * then the `images` row is inserted or updated with the format, size and checksum the host measured.
 */
import { Transform, type Readable } from 'node:stream';
import type { Api } from '../server.ts';
import type { Route } from '../route.ts';
import type { VmcError } from '../../../core/index.ts';
import { invalid, isVmcError, unavailable } from '../../../core/index.ts';
import { isValidSlug } from '../../../images/index.ts';
import type { ImageFacts, ImageRecord } from '../../../catalog/index.ts';
import type { HostClient, HostImageWire } from '../../../agent/host-client/index.ts';
import { uploadImage, type ImageHostCopy } from '../../../contract/index.ts';

export interface ImageUploadRouteDeps {
  /** The hosts of the region that can take images (up, with a host API), the preferred one first. */
  hostClientsInRegion: (region: string) => Promise<Array<{ hostId: string; client: HostClient }>>;
  /** Whether a region exists (the catalog's). */
  regionExists: (code: string) => Promise<boolean>;
  /** Makes the uploaded file an image of the catalog. */
  recordImage: (input: {
    slug: string;
    name: string | null;
    fileName: string;
    facts: ImageFacts;
  }) => Promise<ImageRecord>;
  /** The host holds the image now: the scheduler may place servers of that image there. */
  hostHasImage: (hostId: string, slug: string) => Promise<void>;
  /** Largest upload, bytes (default 50 GiB, the hosts' own default limit). */
  maxBytes?: number;
}

const GiB = 1024 ** 3;

/** Counts bytes through and fails past the limit (the host counts too; this stops the upload earlier). */
function byteLimit(maxBytes: number) {
  let bytes = 0;
  let failure: VmcError | null = null;
  const transform = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      if (bytes > maxBytes) {
        failure = invalid(`the image is larger than the limit of ${maxBytes} bytes`, {
          reason: 'body_too_large',
          details: { max_bytes: maxBytes },
        });
        callback(failure);
        return;
      }
      callback(null, chunk);
    },
  });
  return { transform, failure: () => failure, bytes: () => bytes };
}

export function registerImageUploadRoutes(app: Api, route: Route, deps: ImageUploadRouteDeps) {
  const maxBytes = deps.maxBytes ?? 50 * GiB;
  // The octet-stream parser hands the request stream on, unread.
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));

  route(uploadImage, async ({ params, query, request, reply }) => {
    const { slug } = params;
    const body = request.body as Readable | undefined;
    const fail = (error: unknown): never => {
      // The client may still be sending: answer, then close, rather than read gigabytes for nothing.
      if (body && !body.readableEnded) reply.header('connection', 'close');
      throw error;
    };
    if (!body || typeof body.pipe !== 'function') {
      return fail(
        invalid('send the image file as the body with Content-Type: application/octet-stream', {
          reason: 'unsupported_media_type',
        }),
      );
    }
    if (!isValidSlug(slug))
      return fail(
        invalid(`slug ${slug} is invalid: lower-case letters, digits, '.', '_', '-'`, {
          fields: [{ field: 'slug', message: 'invalid slug' }],
        }),
      );
    const declared = Number(request.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > maxBytes) {
      return fail(
        invalid(`the image is larger than the limit of ${maxBytes} bytes`, {
          reason: 'body_too_large',
          details: { max_bytes: maxBytes },
        }),
      );
    }
    const region = query.region.toLowerCase();
    if (!(await deps.regionExists(region)))
      return fail(
        invalid(`unknown region ${query.region}`, { fields: [{ field: 'region', message: 'unknown region' }] }),
      );
    const hosts = await deps.hostClientsInRegion(region);
    if (hosts.length === 0)
      return fail(
        unavailable(`no host of ${region} can take an image now (none is up with a host API)`, {
          reason: 'no_host_available',
        }),
      );

    const [first, ...others] = hosts;
    const limit = byteLimit(maxBytes);
    body.on('error', (error) => limit.transform.destroy(error));
    let image: HostImageWire;
    try {
      image = await first.client.uploadImage(slug, body.pipe(limit.transform), {
        name: query.name,
        sha256: query.sha256?.toLowerCase(),
      });
    } catch (error) {
      return fail(limit.failure() ?? error);
    }
    request.log.info(
      { slug, host_id: first.hostId, size_bytes: image.size_bytes, format: image.format },
      'image uploaded to a host',
    );

    const copies: ImageHostCopy[] = [{ host_id: first.hostId, status: 'imported', error: null }];
    for (const other of others) {
      try {
        const download = await first.client.downloadImage(slug);
        await other.client.uploadImage(slug, download.stream, { name: image.name, sha256: image.sha256 });
        copies.push({ host_id: other.hostId, status: 'imported', error: null });
      } catch (error) {
        const message = isVmcError(error)
          ? `${error.message} (${error.code}${error.reason ? `/${error.reason}` : ''})`
          : String(error);
        request.log.warn({ slug, host_id: other.hostId, err: message }, 'image copy to a host failed');
        copies.push({ host_id: other.hostId, status: 'failed', error: message });
      }
    }

    for (const copy of copies) if (copy.status === 'imported') await deps.hostHasImage(copy.host_id, slug);
    const recorded = await deps.recordImage({
      slug,
      name: query.name ?? null,
      fileName: image.name,
      facts: {
        format: image.format,
        sizeBytes: image.size_bytes,
        sha256: image.sha256,
        minDiskGiB: Math.max(1, Math.ceil(image.virtual_size_bytes / GiB)),
      },
    });
    const { sizeBytes, ...rest } = recorded;
    return { image: { ...rest, size_bytes: sizeBytes }, hosts: copies };
  });
}
