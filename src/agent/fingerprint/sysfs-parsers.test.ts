import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  gpuModelName,
  parseCpuList,
  parseCpuModel,
  parseHexId,
  parseNodeMemTotalMiB,
  parseNumaNode,
  parseSpeedGbps,
  pciKind,
} from './sysfs-parsers.ts';

test('parseCpuList', () => {
  const table: [string, number[]][] = [
    ['0\n', [0]],
    ['0-3,8,10-11', [0, 1, 2, 3, 8, 10, 11]],
    ['0-31,64-95', [...Array.from({ length: 32 }, (_, i) => i), ...Array.from({ length: 32 }, (_, i) => 64 + i)]],
    ['', []],
  ];
  for (const [text, expected] of table) assert.deepEqual(parseCpuList(text), expected, JSON.stringify(text));
});

test('parseNodeMemTotalMiB', () => {
  const table: [string, number][] = [
    ['Node 0 MemTotal:        6908108 kB\nNode 0 MemFree:         6177968 kB\n', 6746],
    ['Node 1 MemTotal:       264040960 kB\n', 257852],
    ['garbage', 0],
  ];
  for (const [text, expected] of table) assert.equal(parseNodeMemTotalMiB(text), expected);
});

test('parseHexId, parseNumaNode, parseSpeedGbps', () => {
  assert.equal(parseHexId('0x10de\n'), 0x10de);
  assert.equal(parseHexId('0x030200'), 0x030200);
  assert.equal(parseHexId(null), null);
  const nodes: [string | null, number][] = [
    ['1\n', 1],
    ['-1\n', 0],
    [null, 0],
    ['x', 0],
  ];
  for (const [text, expected] of nodes) assert.equal(parseNumaNode(text), expected, String(text));
  const speeds: [string | null, number][] = [
    ['25000\n', 25],
    ['100000', 100],
    ['-1', 0],
    [null, 0],
  ];
  for (const [text, expected] of speeds) assert.equal(parseSpeedGbps(text), expected, String(text));
});

test('pciKind', () => {
  const table: [number | null, string][] = [
    [0x030000, 'gpu'],
    [0x030200, 'gpu'],
    [0x020000, 'ethernet'],
    [0x010802, 'other'],
    [0x060000, 'other'],
    [null, 'other'],
  ];
  for (const [classCode, expected] of table) assert.equal(pciKind(classCode), expected, String(classCode));
});

test('gpuModelName maps fleet GPUs to catalog models', () => {
  const table: [number, number, string][] = [
    [0x10de, 0x1eb8, 'nvidia-t4'],
    [0x10de, 0x2684, 'nvidia-rtx4090'],
    [0x10de, 0x20b5, 'nvidia-a100-80g'],
    [0x1002, 0x740f, 'pci-1002:740f'],
  ];
  for (const [vendor, device, expected] of table) assert.equal(gpuModelName(vendor, device), expected);
});

test('parseCpuModel', () => {
  assert.equal(
    parseCpuModel('processor\t: 0\nmodel name\t: AMD EPYC 7543 32-Core Processor\n'),
    'AMD EPYC 7543 32-Core Processor',
  );
  assert.equal(parseCpuModel(''), 'unknown');
});
