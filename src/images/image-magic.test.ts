import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectImageFormat, imageHeadBytes, parseQcow2Header, type ImageDetection } from './image-magic.ts';

/** A qcow2 header as QEMU writes it (docs/interop/qcow2.txt), with the fields a test wants changed. */
function qcow2Header(
  fields: {
    version?: number;
    backingOffset?: bigint;
    backingSize?: number;
    crypt?: number;
    incompatible?: bigint;
  } = {},
): Buffer {
  const bytes = Buffer.alloc(imageHeadBytes);
  bytes.write('QFI\xfb', 0, 'latin1');
  bytes.writeUInt32BE(fields.version ?? 3, 4);
  bytes.writeBigUInt64BE(fields.backingOffset ?? 0n, 8);
  bytes.writeUInt32BE(fields.backingSize ?? 0, 16);
  bytes.writeUInt32BE(16, 20); // cluster_bits
  bytes.writeBigUInt64BE(64n * 1024n * 1024n, 24); // size
  bytes.writeUInt32BE(fields.crypt ?? 0, 32);
  bytes.writeBigUInt64BE(fields.incompatible ?? 0n, 72);
  bytes.writeUInt32BE(4, 96); // refcount_order
  bytes.writeUInt32BE(112, 100); // header_length
  return bytes;
}

const withMagic = (offset: number, magic: string | number[]) => {
  const bytes = Buffer.alloc(imageHeadBytes);
  (typeof magic === 'string' ? Buffer.from(magic, 'latin1') : Buffer.from(magic)).copy(bytes, offset);
  return bytes;
};
const noIso = Buffer.alloc(5);
const iso = Buffer.from('CD001', 'latin1');
const refused = (reason: string): ImageDetection => ({ ok: false, reason });

test('detectImageFormat', async (t) => {
  const plainHeader = parseQcow2Header(qcow2Header())!;
  const table: [string, Buffer, Buffer, ImageDetection][] = [
    ['qcow2 v3', qcow2Header(), noIso, { ok: true, format: 'qcow2', header: plainHeader }],
    [
      'qcow2 v2',
      qcow2Header({ version: 2, incompatible: 0xffn }),
      noIso,
      { ok: true, format: 'qcow2', header: { ...plainHeader, version: 2, incompatibleFeatures: 0n } },
    ],
    [
      'qcow2 dirty (lazy refcounts) is readable',
      qcow2Header({ incompatible: 1n }),
      noIso,
      { ok: true, format: 'qcow2', header: { ...plainHeader, incompatibleFeatures: 1n } },
    ],
    [
      'qcow2 with a backing file',
      qcow2Header({ backingOffset: 0x1f8n, backingSize: 11 }),
      noIso,
      refused('qcow2 images with a backing file are refused'),
    ],
    [
      'qcow2 with an external data file',
      qcow2Header({ incompatible: 0b100n }),
      noIso,
      refused('qcow2 images with an external data file are refused'),
    ],
    ['encrypted qcow2 (AES)', qcow2Header({ crypt: 1 }), noIso, refused('encrypted qcow2 images are refused')],
    ['encrypted qcow2 (LUKS)', qcow2Header({ crypt: 2 }), noIso, refused('encrypted qcow2 images are refused')],
    ['corrupt qcow2', qcow2Header({ incompatible: 0b10n }), noIso, refused('the qcow2 image is marked corrupt')],
    [
      'qcow2 with an unknown incompatible feature',
      qcow2Header({ incompatible: 1n << 40n }),
      noIso,
      refused('the qcow2 image uses features this host does not know'),
    ],
    ['qcow2 version 4', qcow2Header({ version: 4 }), noIso, refused('qcow2 version 4 is not supported')],
    ['truncated qcow2', qcow2Header().subarray(0, 40), noIso, refused('the qcow2 header is truncated')],
    ['qed', withMagic(0, 'QED\0'), noIso, refused('image format qed is not supported (qcow2, raw or ISO)')],
    ['vmdk (sparse)', withMagic(0, 'KDMV'), noIso, refused('image format vmdk is not supported (qcow2, raw or ISO)')],
    [
      'vmdk (descriptor naming other files)',
      withMagic(0, '# Disk DescriptorFile\nRW 8 FLAT "/etc/shadow" 0'),
      noIso,
      refused('image format vmdk is not supported (qcow2, raw or ISO)'),
    ],
    ['vhdx', withMagic(0, 'vhdxfile'), noIso, refused('image format vhdx is not supported (qcow2, raw or ISO)')],
    ['vpc', withMagic(0, 'conectix'), noIso, refused('image format vpc is not supported (qcow2, raw or ISO)')],
    [
      'vdi (magic at 64)',
      withMagic(64, [0x7f, 0x10, 0xda, 0xbe]),
      noIso,
      refused('image format vdi is not supported (qcow2, raw or ISO)'),
    ],
    [
      'luks',
      withMagic(0, [0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]),
      noIso,
      refused('image format luks is not supported (qcow2, raw or ISO)'),
    ],
    ['iso', Buffer.alloc(imageHeadBytes), iso, { ok: true, format: 'iso' }],
    ['raw (zeros)', Buffer.alloc(imageHeadBytes), noIso, { ok: true, format: 'raw' }],
    ['raw (an MBR)', withMagic(510, [0x55, 0xaa]), noIso, { ok: true, format: 'raw' }],
    ['empty file', Buffer.alloc(0), Buffer.alloc(0), { ok: true, format: 'raw' }],
  ];
  for (const [name, head, atIso, expected] of table)
    await t.test(name, () => assert.deepEqual(detectImageFormat(head, atIso), expected));
});
