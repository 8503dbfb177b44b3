/** What the host image store keeps per image, and the pure rules about slugs and formats. */

/** `iso` is a raw file with an ISO 9660 volume descriptor; it boots as a cdrom beside a blank disk. */
export type ImageFormat = 'qcow2' | 'raw' | 'iso';

/** Kernel and initrd shipped with an image that boots directly (no bootloader on its disk). */
export interface ImageBootFiles {
  kernelPath: string;
  initrdPath: string | null;
  /** Kernel command line; the driver appends nothing but its own `vmcloud.*` options. */
  append: string;
}

export interface StoredImage {
  slug: string;
  name: string;
  format: ImageFormat;
  /** sha256 of the disk file as imported, hex. */
  sha256: string;
  sizeBytes: number;
  /** Size of the disk the guest sees (for ISO: the ISO's size). */
  virtualSizeBytes: number;
  /** Absolute path of the disk file (read-only base of every server's overlay). */
  diskPath: string;
  boot: ImageBootFiles | null;
  importedAt: string;
}

const slugPattern = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export function isValidSlug(slug: string): boolean {
  return slugPattern.test(slug) && !slug.includes('..');
}

/** ISO 9660: the primary volume descriptor at byte 32768 reads `\x01CD001`. */
export const isoMagicOffset = 32769;

export function hasIsoMagic(bytesAtOffset: Uint8Array): boolean {
  return Buffer.from(bytesAtOffset.subarray(0, 5)).toString('latin1') === 'CD001';
}

/** File name of the disk inside the image's directory. */
export function diskFileName(format: ImageFormat): string {
  return `disk.${format}`;
}
