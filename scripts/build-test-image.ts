/**
 * `npm run image:test`: builds the tiny test guest (Debian cloud kernel + busybox-static initramfs) and
 * imports it into the host image store as image `vmcloud-test`.
 *
 *   node scripts/build-test-image.ts [--store DIR] [--force]
 *
 * The store defaults to $VMCLOUD_IMAGE_DIR or ./data/images. With --force an existing `vmcloud-test` is
 * replaced: destroy the servers created from the old one first (their overlays use its disk as base).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildTestGuest, createImageStore, importTestImage, testImageSlug } from '../src/images/index.ts';

const { values } = parseArgs({
  options: {
    store: { type: 'string', default: process.env.VMCLOUD_IMAGE_DIR ?? join('data', 'images') },
    force: { type: 'boolean', default: false },
  },
});

const store = createImageStore({ dir: resolve(values.store) });
const existing = await store.get(testImageSlug);
if (existing && !values.force) {
  console.log(
    `image ${testImageSlug} is already in ${store.dir} (sha256 ${existing.sha256.slice(0, 12)}…); --force rebuilds it`,
  );
  process.exit(0);
}
const started = performance.now();
const workDir = await mkdtemp(join(tmpdir(), 'vmcloud-test-image-'));
try {
  const files = await buildTestGuest({ outDir: workDir });
  if (existing) await store.remove(testImageSlug);
  const image = await importTestImage(store, files);
  const elapsedMs = Math.round(performance.now() - started);
  console.log(
    `image ${image.slug} imported into ${store.dir} in ${elapsedMs} ms: kernel ${files.kernelVersion}, initrd ${files.initrdBytes} B, disk ${image.format} sha256 ${image.sha256.slice(0, 12)}…`,
  );
} finally {
  await rm(workDir, { recursive: true, force: true });
}
