import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quotaOverrun, sameKind } from './resize-options.ts';
import type { Product } from '../contract/index.ts';

test('quotaOverrun: only a growth past the quota, named as the resize names it', () => {
  const project = { quotas: { vcpus: 16, gpus: 1 }, usage: { vcpus: 12, gpus: 1 } };
  const cases: [number, number, string | null][] = [
    [4, 0, null],
    [6, 0, 'vCPUs 12+6/16'],
    [-2, 0, null],
    [0, 1, 'GPUs 1+1/1'],
    [8, 1, 'vCPUs 12+8/16, GPUs 1+1/1'],
    [-4, -1, null],
  ];
  for (const [vcpus, gpus, expected] of cases)
    assert.equal(quotaOverrun(project, vcpus, gpus), expected, `${vcpus} ${gpus}`);
});

test('sameKind: the family and the GPU model, as resize requires', () => {
  const product = (family: 'vps' | 'gpu', gpu: string | null) =>
    ({ family, gpu: gpu ? { model: gpu, count: 1 } : null }) as Product;
  assert.equal(sameKind(product('vps', null), product('vps', null)), true);
  assert.equal(sameKind(product('vps', null), product('gpu', 'T4')), false);
  assert.equal(sameKind(product('gpu', 'T4'), product('gpu', 'T4')), true);
  assert.equal(sameKind(product('gpu', 'T4'), product('gpu', 'A100')), false);
});
