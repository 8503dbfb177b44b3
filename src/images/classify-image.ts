/**
 * Decides from `qemu-img info -f <format> --output=json` (and the ISO magic) whether an uploaded file is an
 * image we accept. Refused: formats other than qcow2/raw, qcow2 with a backing file or an external data file
 * (they would make QEMU open arbitrary host files), raw files that are not whole sectors. The header check of
 * image-magic.ts refuses those qcow2 files before qemu-img runs; this is the second look, at what qemu-img saw.
 */
import type { ImageFormat } from './image-record.ts';

export interface QemuImgInfo {
  format: string;
  'virtual-size': number;
  'actual-size'?: number;
  'backing-filename'?: string;
  'format-specific'?: { type: string; data?: { 'data-file'?: string; corrupt?: boolean; encrypt?: unknown } };
  encrypted?: boolean;
}

export type Classification =
  { ok: true; format: ImageFormat; virtualSizeBytes: number } | { ok: false; reason: string };

export function classifyImage(info: QemuImgInfo, options: { isoMagic: boolean; sizeBytes: number }): Classification {
  if (info.format === 'qcow2') {
    if (info['backing-filename']) return { ok: false, reason: 'qcow2 images with a backing file are refused' };
    const data = info['format-specific']?.data;
    if (data?.['data-file']) return { ok: false, reason: 'qcow2 images with an external data file are refused' };
    if (data?.corrupt) return { ok: false, reason: 'the qcow2 image is marked corrupt' };
    if (info.encrypted || data?.encrypt) return { ok: false, reason: 'encrypted qcow2 images are refused' };
    return { ok: true, format: 'qcow2', virtualSizeBytes: info['virtual-size'] };
  }
  if (info.format === 'raw') {
    if (options.isoMagic) {
      if (options.sizeBytes % 2048 !== 0) return { ok: false, reason: 'an ISO image must be whole 2048-byte sectors' };
      return { ok: true, format: 'iso', virtualSizeBytes: options.sizeBytes };
    }
    if (options.sizeBytes === 0 || options.sizeBytes % 512 !== 0) {
      return { ok: false, reason: 'a raw disk image must be a non-empty whole number of 512-byte sectors' };
    }
    return { ok: true, format: 'raw', virtualSizeBytes: info['virtual-size'] };
  }
  return { ok: false, reason: `image format ${info.format} is not supported (qcow2, raw or ISO)` };
}
