/**
 * `vmcloud image import FILE --slug SLUG --region REGION [--name NAME]` (operators): computes the file's
 * sha256 locally, then streams it to `PUT /v1/images/{slug}`; the hosts check the checksum, the size limit
 * and the format (qcow2, raw or ISO) while importing.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { VmcError } from '../../core/errors.ts';
import { requiredString, stringOf, type Command } from '../command.ts';
import { renderData, renderDetail } from '../output.ts';
import { normalizeRegion } from '../resolve.ts';
import { byteProgress, formatBytes, rawRequest } from './raw-http.ts';

interface UploadedImage {
  id: string;
  slug: string;
  name: string;
  category: string;
  status: string;
  format: string | null;
  size_bytes: number | null;
  sha256: string | null;
  min_disk_gib: number;
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

export const imageImportCommand: Command = {
  name: 'import',
  summary: 'upload an image file (qcow2, raw or ISO) to the hosts of a region (operators)',
  usage: 'FILE --slug SLUG --region REGION [--name NAME]',
  description:
    'Checksums FILE (sha256) here, then streams it through the API to the hosts of REGION, which check the checksum and the format with\n' +
    'qemu-img. A new slug becomes a `custom` image; a catalog slug gets its file. Needs an operator token.',
  args: [{ name: 'FILE', required: true }],
  options: {
    slug: { type: 'string', arg: 'SLUG', help: 'image slug: lower-case letters, digits, ".", "_", "-"' },
    region: { type: 'string', arg: 'REGION', help: 'region whose hosts get the image' },
    name: { type: 'string', arg: 'NAME', help: 'display name (default: the slug)' },
  },
  examples: ['vmcloud image import ./alpine.qcow2 --slug alpine-3.20 --name "Alpine 3.20" --region fra1'],
  async run(ctx, { values, positionals }) {
    const slug = requiredString(values, 'slug');
    const region = normalizeRegion(requiredString(values, 'region'));
    const name = stringOf(values, 'name');
    const file = resolvePath(ctx.cwd, positionals[0]);
    const info = await stat(file).catch(() => null);
    if (!info?.isFile())
      throw new VmcError('invalid', `${file} is not a readable file`, {
        fields: [{ field: 'FILE', message: 'not a file' }],
      });
    if (ctx.io.isTTY) ctx.err(`computing the sha256 of ${file} (${formatBytes(info.size)})…\n`);
    const sha256 = await sha256OfFile(file);
    const progress = byteProgress(ctx, `uploading ${slug}:`, info.size);
    let sent = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        sent += chunk.length;
        progress.update(sent);
        callback(null, chunk);
      },
    });
    const body = Readable.toWeb(createReadStream(file).pipe(counter)) as unknown as ReadableStream<Uint8Array>;
    let response: Response;
    try {
      response = await rawRequest(ctx, 'PUT', `/v1/images/${encodeURIComponent(slug)}`, {
        query: { region, name, sha256 },
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(info.size) },
        body,
        headersTimeoutMs: 24 * 3600_000,
      });
    } finally {
      progress.done();
    }
    const result = (await response.json()) as {
      image: UploadedImage;
      hosts: Array<{ host_id: string; status: string; error: string | null }>;
    };
    if (ctx.output !== 'table') {
      ctx.out(renderData(ctx.output, result));
      return 0;
    }
    const { image } = result;
    ctx.out(
      renderDetail([
        ['Slug', image.slug],
        ['ID', image.id],
        ['Name', image.name],
        ['Category', image.category],
        ['Status', image.status],
        ['Format', image.format],
        ['Size', image.size_bytes === null ? null : `${formatBytes(image.size_bytes)} (${image.size_bytes} bytes)`],
        ['SHA-256', image.sha256],
        ['Hosts', result.hosts.map((h) => `${h.host_id}: ${h.status}${h.error ? ` (${h.error})` : ''}`)],
      ]),
    );
    const failed = result.hosts.filter((h) => h.status !== 'imported');
    if (failed.length > 0)
      ctx.err(
        `warning: ${failed.length} host(s) of ${region} did not get the image; servers placed there cannot use it yet\n`,
      );
    return 0;
  },
};
