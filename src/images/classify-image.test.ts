import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyImage, type QemuImgInfo } from './classify-image.ts';
import { hasIsoMagic, isValidSlug } from './image-record.ts';

const qcow2 = (extra: Partial<QemuImgInfo> = {}): QemuImgInfo => ({
  format: 'qcow2',
  'virtual-size': 67108864,
  'format-specific': { type: 'qcow2', data: { corrupt: false } },
  ...extra,
});

test('classifyImage', async (t) => {
  const table: [string, QemuImgInfo, { isoMagic: boolean; sizeBytes: number }, ReturnType<typeof classifyImage>][] = [
    [
      'plain qcow2',
      qcow2(),
      { isoMagic: false, sizeBytes: 200704 },
      { ok: true, format: 'qcow2', virtualSizeBytes: 67108864 },
    ],
    [
      'qcow2 with backing file',
      qcow2({ 'backing-filename': '/etc/shadow' }),
      { isoMagic: false, sizeBytes: 200704 },
      { ok: false, reason: 'qcow2 images with a backing file are refused' },
    ],
    [
      'qcow2 with data file',
      qcow2({ 'format-specific': { type: 'qcow2', data: { 'data-file': '/dev/sda' } } }),
      { isoMagic: false, sizeBytes: 1 },
      { ok: false, reason: 'qcow2 images with an external data file are refused' },
    ],
    [
      'corrupt qcow2',
      qcow2({ 'format-specific': { type: 'qcow2', data: { corrupt: true } } }),
      { isoMagic: false, sizeBytes: 1 },
      { ok: false, reason: 'the qcow2 image is marked corrupt' },
    ],
    [
      'raw disk',
      { format: 'raw', 'virtual-size': 1048576 },
      { isoMagic: false, sizeBytes: 1048576 },
      { ok: true, format: 'raw', virtualSizeBytes: 1048576 },
    ],
    [
      'raw, not whole sectors',
      { format: 'raw', 'virtual-size': 3000 },
      { isoMagic: false, sizeBytes: 3000 },
      { ok: false, reason: 'a raw disk image must be a non-empty whole number of 512-byte sectors' },
    ],
    [
      'empty raw',
      { format: 'raw', 'virtual-size': 0 },
      { isoMagic: false, sizeBytes: 0 },
      { ok: false, reason: 'a raw disk image must be a non-empty whole number of 512-byte sectors' },
    ],
    [
      'iso',
      { format: 'raw', 'virtual-size': 358400 },
      { isoMagic: true, sizeBytes: 358400 },
      { ok: true, format: 'iso', virtualSizeBytes: 358400 },
    ],
    [
      'truncated iso',
      { format: 'raw', 'virtual-size': 358401 },
      { isoMagic: true, sizeBytes: 358401 },
      { ok: false, reason: 'an ISO image must be whole 2048-byte sectors' },
    ],
    [
      'vmdk',
      { format: 'vmdk', 'virtual-size': 1 },
      { isoMagic: false, sizeBytes: 1 },
      { ok: false, reason: 'image format vmdk is not supported (qcow2, raw or ISO)' },
    ],
  ];
  for (const [name, info, options, expected] of table)
    await t.test(name, () => assert.deepEqual(classifyImage(info, options), expected));
});

test('isValidSlug', async (t) => {
  const table: [string, boolean][] = [
    ['vmcloud-test', true],
    ['debian-12', true],
    ['ubuntu-24.04', true],
    ['', false],
    ['../etc', false],
    ['a..b', false],
    ['Upper', false],
    ['-leading-dash', false],
    ['x'.repeat(63), true],
    ['x'.repeat(64), false],
  ];
  for (const [slug, expected] of table)
    await t.test(JSON.stringify(slug), () => assert.equal(isValidSlug(slug), expected));
});

test('hasIsoMagic', () => {
  assert.equal(hasIsoMagic(Buffer.from('CD001\x01')), true);
  assert.equal(hasIsoMagic(Buffer.from('QFI\xfb\0')), false);
  assert.equal(hasIsoMagic(Buffer.alloc(0)), false);
});
