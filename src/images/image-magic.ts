/**
 * The format of an uploaded file, decided from its own bytes before any tool opens it: a qcow2 header at
 * byte 0, an ISO 9660 volume descriptor at 32 KiB, the magic of a format we do not take, else raw. The qcow2
 * header is read here too, so a backing file, an external data file or encryption is refused before
 * `qemu-img` runs at all (an external data file is opened by QEMU even by `qemu-img info`). Pure.
 */
import { hasIsoMagic } from './image-record.ts';

/** Bytes to read from the start of the file: the qcow2 header (v3 with extensions fits) and the other magics. */
export const imageHeadBytes = 512;

export interface Qcow2Header {
  version: number;
  backingFileOffset: bigint;
  backingFileSize: number;
  cryptMethod: number;
  /** v3 only (0 for v2). */
  incompatibleFeatures: bigint;
  sizeBytes: bigint;
}

export type ImageDetection =
  | { ok: true; format: 'qcow2'; header: Qcow2Header }
  | { ok: true; format: 'iso' | 'raw' }
  | { ok: false; reason: string };

const qcow2Magic = Buffer.from([0x51, 0x46, 0x49, 0xfb]); // "QFI\xfb"

/** Formats QEMU knows that we refuse, by their magic at offset 0 (VDI's is at 64). */
const otherFormats: { name: string; offset: number; magic: Buffer }[] = [
  { name: 'qed', offset: 0, magic: Buffer.from('QED\0', 'latin1') },
  { name: 'vmdk', offset: 0, magic: Buffer.from('KDMV', 'latin1') },
  { name: 'vmdk', offset: 0, magic: Buffer.from('# Disk DescriptorFile', 'latin1') },
  { name: 'vhdx', offset: 0, magic: Buffer.from('vhdxfile', 'latin1') },
  { name: 'vpc', offset: 0, magic: Buffer.from('conectix', 'latin1') },
  { name: 'vdi', offset: 64, magic: Buffer.from([0x7f, 0x10, 0xda, 0xbe]) },
  { name: 'luks', offset: 0, magic: Buffer.from([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]) },
  { name: 'cloop', offset: 0, magic: Buffer.from('#!/bin/sh\n#V2.0 Format', 'latin1') },
  { name: 'dmg', offset: 0, magic: Buffer.from('koly', 'latin1') },
];

/** Incompatible feature bits of qcow2 v3 (QEMU docs/interop/qcow2.txt). */
const qcow2Incompatible = { dirty: 0n, corrupt: 1n, externalDataFile: 2n, compressionType: 3n, extendedL2: 4n };
const knownIncompatibleMask = 0b11111n;

export function parseQcow2Header(head: Uint8Array): Qcow2Header | null {
  const bytes = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (bytes.length < 72 || !bytes.subarray(0, 4).equals(qcow2Magic)) return null;
  const version = bytes.readUInt32BE(4);
  return {
    version,
    backingFileOffset: bytes.readBigUInt64BE(8),
    backingFileSize: bytes.readUInt32BE(16),
    sizeBytes: bytes.readBigUInt64BE(24),
    cryptMethod: bytes.readUInt32BE(32),
    incompatibleFeatures: version >= 3 && bytes.length >= 80 ? bytes.readBigUInt64BE(72) : 0n,
  };
}

const bit = (features: bigint, index: bigint) => ((features >> index) & 1n) === 1n;

/** Why a qcow2 header is refused, or null when the image stands alone and is readable. */
export function qcow2Refusal(header: Qcow2Header): string | null {
  if (header.version !== 2 && header.version !== 3) return `qcow2 version ${header.version} is not supported`;
  if (header.backingFileOffset !== 0n || header.backingFileSize !== 0)
    return 'qcow2 images with a backing file are refused';
  if (bit(header.incompatibleFeatures, qcow2Incompatible.externalDataFile))
    return 'qcow2 images with an external data file are refused';
  if (header.cryptMethod !== 0) return 'encrypted qcow2 images are refused';
  if (bit(header.incompatibleFeatures, qcow2Incompatible.corrupt)) return 'the qcow2 image is marked corrupt';
  if ((header.incompatibleFeatures & ~knownIncompatibleMask) !== 0n)
    return 'the qcow2 image uses features this host does not know';
  return null;
}

/**
 * The format of a file from its first `imageHeadBytes` bytes and the 5 bytes at `isoMagicOffset`. Pure.
 */
export function detectImageFormat(head: Uint8Array, bytesAtIsoOffset: Uint8Array): ImageDetection {
  const bytes = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (bytes.subarray(0, 4).equals(qcow2Magic)) {
    const header = parseQcow2Header(bytes);
    if (!header) return { ok: false, reason: 'the qcow2 header is truncated' };
    const refusal = qcow2Refusal(header);
    return refusal ? { ok: false, reason: refusal } : { ok: true, format: 'qcow2', header };
  }
  for (const other of otherFormats) {
    if (bytes.subarray(other.offset, other.offset + other.magic.length).equals(other.magic))
      return { ok: false, reason: `image format ${other.name} is not supported (qcow2, raw or ISO)` };
  }
  if (hasIsoMagic(bytesAtIsoOffset)) return { ok: true, format: 'iso' };
  return { ok: true, format: 'raw' };
}
