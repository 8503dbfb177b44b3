/**
 * The image store of one host: `<dir>/<slug>/{image.json, disk.<format>, kernel, initrd}`. Imports stream
 * the file into `<dir>/.incoming/` while hashing (sha256) and counting bytes against the size limit, detect
 * the format from the file's magic bytes (refusing qcow2 backing and data files before any tool opens it),
 * check it with `qemu-img info -f <format>` under prlimit (inspect-image.ts), then rename into place, so a
 * crash never leaves a half image visible.
 * Stored disks are read-only bases: servers get their own qcow2 overlay on them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, copyFile, mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { VmcError, invalid, notFound, unavailable } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { classifyImage, type Classification } from './classify-image.ts';
import { imageHeadBytes, detectImageFormat } from './image-magic.ts';
import { defaultQemuImgLimits, inspectUntrustedImage, type QemuImgLimits } from './inspect-image.ts';
import { diskFileName, isoMagicOffset, isValidSlug, type StoredImage } from './image-record.ts';

export interface ImportOptions {
  /** Display name; defaults to the slug. */
  name?: string;
  /** When given, the import fails unless the file's sha256 (hex) matches. */
  expectedSha256?: string;
  /** Kernel, initrd and command line for images that boot directly (copied into the image's directory). */
  boot?: { kernelPath: string; initrdPath?: string | null; append: string };
  /**
   * Boot like this image of the store (its kernel, initrd and command line copied), when it boots directly:
   * a custom image made from a server's disk keeps its base image's boot method. Fails when it is absent.
   */
  bootLike?: string;
}

export interface ImageStore {
  readonly dir: string;
  importFile(slug: string, sourcePath: string, options?: ImportOptions): Promise<StoredImage>;
  /** Imports from a stream (an API upload); the size limit is enforced while reading. */
  importStream(
    slug: string,
    source: Readable | AsyncIterable<Uint8Array>,
    options?: ImportOptions,
  ): Promise<StoredImage>;
  get(slug: string): Promise<StoredImage | null>;
  /**
   * The image a server is created from. Throws `not_found` for an unknown slug and `unavailable`
   * (reason `image_not_on_host`) for a catalog image that has no file on this host.
   */
  require(slug: string): Promise<StoredImage>;
  list(): Promise<StoredImage[]>;
  /** Deletes the image. Servers' overlays use it as their base: the caller removes only unused images. */
  remove(slug: string): Promise<boolean>;
}

export interface ImageStoreOptions {
  dir: string;
  /** Largest disk file accepted, bytes (default 50 GiB). */
  maxBytes?: number;
  /** Slugs of the catalog: known images that may simply be missing on this host. */
  catalogSlugs?: string[];
  qemuImgBinary?: string;
  /** `prlimit` (util-linux), which runs every qemu-img on an uploaded file. */
  prlimitBinary?: string;
  /** Limits of qemu-img on uploaded files (default: 30 s CPU, 1 GiB address space, 120 s wall clock). */
  qemuImgLimits?: Partial<QemuImgLimits>;
  clock?: Clock;
  log?: Logger;
}

const GiB = 1024 ** 3;
const recordFile = 'image.json';

function sizeLimitedHasher(maxBytes: number) {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  const transform = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sizeBytes += chunk.length;
      if (sizeBytes > maxBytes) {
        callback(
          invalid(`the image is larger than the limit of ${maxBytes} bytes`, {
            reason: 'image_too_large',
            details: { maxBytes },
          }),
        );
        return;
      }
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  return { transform, result: () => ({ sha256: hash.digest('hex'), sizeBytes }) };
}

/** The first bytes of a file and the bytes at the ISO 9660 magic offset: all that format detection reads. */
async function readMagicBytes(path: string): Promise<{ head: Buffer; atIsoOffset: Buffer }> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(imageHeadBytes);
    const { bytesRead } = await handle.read(head, 0, imageHeadBytes, 0);
    const atIsoOffset = Buffer.alloc(5);
    const iso = await handle.read(atIsoOffset, 0, 5, isoMagicOffset);
    return { head: head.subarray(0, bytesRead), atIsoOffset: atIsoOffset.subarray(0, iso.bytesRead) };
  } finally {
    await handle.close();
  }
}

export function createImageStore(options: ImageStoreOptions): ImageStore {
  const { dir } = options;
  const maxBytes = options.maxBytes ?? 50 * GiB;
  const catalogSlugs = new Set(options.catalogSlugs ?? []);
  const qemuImg = options.qemuImgBinary ?? 'qemu-img';
  const clock = options.clock ?? systemClock;
  const log = options.log ?? silentLogger;
  const incomingDir = join(dir, '.incoming');

  const checkSlug = (slug: string) => {
    if (!isValidSlug(slug)) {
      throw invalid(
        `image slug ${JSON.stringify(slug)} is invalid: lowercase letters, digits, '.', '_' and '-', at most 63`,
        {
          fields: [{ field: 'slug', message: 'invalid image slug' }],
        },
      );
    }
  };

  const get = async (slug: string): Promise<StoredImage | null> => {
    if (!isValidSlug(slug)) return null;
    try {
      return JSON.parse(await readFile(join(dir, slug, recordFile), 'utf8')) as StoredImage;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  };

  const inspectOptions = {
    qemuImgBinary: qemuImg,
    prlimitBinary: options.prlimitBinary ?? 'prlimit',
    limits: { ...defaultQemuImgLimits, ...options.qemuImgLimits },
  };

  /**
   * The format from the file's own bytes first (a qcow2 with a backing or data file is refused here, before
   * any tool opens it), then `qemu-img info -f <format>` under prlimit.
   */
  const inspect = async (path: string, sizeBytes: number): Promise<Classification> => {
    const { head, atIsoOffset } = await readMagicBytes(path);
    const detected = detectImageFormat(head, atIsoOffset);
    if (!detected.ok) return detected;
    const info = await inspectUntrustedImage(path, detected.format === 'qcow2' ? 'qcow2' : 'raw', inspectOptions);
    return classifyImage(info, { isoMagic: detected.format === 'iso', sizeBytes });
  };

  const importStream: ImageStore['importStream'] = async (slug, source, importOptions = {}) => {
    checkSlug(slug);
    if (await get(slug))
      throw new VmcError('conflict', `image ${slug} already exists on this host`, { reason: 'image_exists' });
    await mkdir(incomingDir, { recursive: true });
    const staging = join(incomingDir, `${slug}.${randomBytes(6).toString('hex')}`);
    await mkdir(staging);
    try {
      const incomingDisk = join(staging, 'incoming');
      const hasher = sizeLimitedHasher(maxBytes);
      await pipeline(source, hasher.transform, createWriteStream(incomingDisk));
      const { sha256, sizeBytes } = hasher.result();
      if (importOptions.expectedSha256 && importOptions.expectedSha256.toLowerCase() !== sha256) {
        throw invalid(`the image's sha256 is ${sha256}, not the expected ${importOptions.expectedSha256}`, {
          reason: 'checksum_mismatch',
        });
      }
      const classification = await inspect(incomingDisk, sizeBytes);
      if (!classification.ok) throw invalid(classification.reason, { reason: 'image_format_refused' });
      const diskName = diskFileName(classification.format);
      await rename(incomingDisk, join(staging, diskName));
      await chmod(join(staging, diskName), 0o444);
      const finalDir = join(dir, slug);
      let boot: StoredImage['boot'] = null;
      if (importOptions.bootLike !== undefined && !importOptions.boot) {
        const like = await get(importOptions.bootLike);
        if (!like)
          throw new VmcError('conflict', `image ${importOptions.bootLike} (how ${slug} boots) is not on this host`, {
            reason: 'boot_image_missing',
          });
        if (like.boot)
          importOptions = {
            ...importOptions,
            boot: { kernelPath: like.boot.kernelPath, initrdPath: like.boot.initrdPath, append: like.boot.append },
          };
      }
      if (importOptions.boot) {
        await copyFile(importOptions.boot.kernelPath, join(staging, 'kernel'));
        if (importOptions.boot.initrdPath) await copyFile(importOptions.boot.initrdPath, join(staging, 'initrd'));
        boot = {
          kernelPath: join(finalDir, 'kernel'),
          initrdPath: importOptions.boot.initrdPath ? join(finalDir, 'initrd') : null,
          append: importOptions.boot.append,
        };
      }
      const record: StoredImage = {
        slug,
        name: importOptions.name ?? slug,
        format: classification.format,
        sha256,
        sizeBytes,
        virtualSizeBytes: classification.virtualSizeBytes,
        diskPath: join(finalDir, diskName),
        boot,
        importedAt: clock.nowIso(),
      };
      await writeFile(join(staging, recordFile), JSON.stringify(record, null, 2) + '\n');
      await rename(staging, finalDir);
      log.info({ slug, format: record.format, sizeBytes, sha256 }, 'image imported');
      return record;
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
  };

  return {
    dir,
    importStream,
    async importFile(slug, sourcePath, importOptions) {
      checkSlug(slug);
      const info = await stat(sourcePath).catch(() => null);
      if (!info?.isFile()) throw invalid(`${sourcePath} is not a readable file`, { reason: 'image_unreadable' });
      if (info.size > maxBytes) {
        throw invalid(`the image is larger than the limit of ${maxBytes} bytes`, {
          reason: 'image_too_large',
          details: { maxBytes },
        });
      }
      return importStream(slug, createReadStream(sourcePath), importOptions);
    },
    get,
    async require(slug) {
      const image = await get(slug);
      if (image) return image;
      if (catalogSlugs.has(slug)) {
        throw unavailable(
          `image ${slug} is in the catalog but has no file on this host; import it with \`vmcloud image import ${slug} FILE\``,
          {
            reason: 'image_not_on_host',
            details: { image: slug },
          },
        );
      }
      throw notFound('image', slug);
    },
    async list() {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      const images: StoredImage[] = [];
      for (const entry of entries) {
        if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
        const image = await get(entry.name);
        if (image) images.push(image);
      }
      return images.sort((a, b) => a.slug.localeCompare(b.slug));
    },
    async remove(slug) {
      if (!(await get(slug))) return false;
      await rm(join(dir, slug), { recursive: true, force: true });
      return true;
    },
  };
}
