import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  defaultQemuImgLimits,
  explainInspectionFailure,
  inspectionArgv,
  type InspectionFailure,
} from './inspect-image.ts';

test('inspectionArgv: OpenStack limits, the format given, JSON out', () => {
  assert.deepEqual(
    inspectionArgv('/data/images/.incoming/x/incoming', 'qcow2', {
      qemuImgBinary: 'qemu-img',
      prlimitBinary: 'prlimit',
      limits: defaultQemuImgLimits,
    }),
    [
      '--cpu=30',
      '--as=1073741824',
      'qemu-img',
      'info',
      '-f',
      'qcow2',
      '--output=json',
      '/data/images/.incoming/x/incoming',
    ],
  );
});

test('explainInspectionFailure', async (t) => {
  const limits = { cpuSeconds: 30, addressSpaceBytes: 1024 ** 3, timeoutMs: 120_000 };
  const table: [string, InspectionFailure, string, RegExp][] = [
    [
      'wall clock timeout',
      { killed: true, signal: 'SIGTERM' },
      'image_inspection_limit',
      /did not finish within 120 s/,
    ],
    ['CPU limit (SIGXCPU)', { signal: 'SIGXCPU' }, 'image_inspection_limit', /CPU limit of 30 s/],
    ['CPU hard limit (SIGKILL)', { signal: 'SIGKILL' }, 'image_inspection_limit', /CPU limit of 30 s/],
    [
      'address space: thread creation failed and abort',
      { signal: 'SIGABRT', stderr: 'qemu: qemu_thread_create: Resource temporarily unavailable\n' },
      'image_inspection_limit',
      /address-space limit of 1024 MiB/,
    ],
    [
      'address space: allocation failure',
      { code: 1, stderr: "qemu-img: Could not open 'x': Cannot allocate memory" },
      'image_inspection_limit',
      /address-space limit/,
    ],
    [
      'an ordinary error',
      { code: 1, stderr: "qemu-img: Could not open 'x': Image is not in qcow2 format\n" },
      'image_unreadable',
      /^qemu-img could not read the image: qemu-img: Could not open 'x': Image is not in qcow2 format$/,
    ],
    ['no stderr', { code: 1 }, 'image_unreadable', /^qemu-img could not read the image$/],
  ];
  for (const [name, failure, reason, message] of table) {
    await t.test(name, () => {
      const error = explainInspectionFailure(failure, limits);
      assert.equal(error.code, 'invalid');
      assert.equal(error.reason, reason);
      assert.match(error.message, message);
    });
  }
});
