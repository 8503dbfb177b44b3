/** The host image store: import (qcow2, raw, ISO), checksum, format check, lookup by slug; the test guest. */
export { createImageStore } from './image-store.ts';
export type { ImageStore, ImageStoreOptions, ImportOptions } from './image-store.ts';
export type { ImageFormat, ImageBootFiles, StoredImage } from './image-record.ts';
export { isValidSlug } from './image-record.ts';
export { detectImageFormat } from './image-magic.ts';
export type { ImageDetection } from './image-magic.ts';
export { defaultQemuImgLimits } from './inspect-image.ts';
export type { QemuImgLimits } from './inspect-image.ts';
export {
  buildTestGuest,
  findCloudKernel,
  guestMarkers,
  importTestImage,
  testDiskMarker,
  testImageAppend,
  testImageSlug,
} from './test-image/build-test-guest.ts';
export type { BuildTestGuestOptions, TestGuestFiles } from './test-image/build-test-guest.ts';
