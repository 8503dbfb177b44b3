import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BucketIndex, type BucketEntry } from './bucket-index.ts';

test('bucket index finds the smallest (or largest) accepted key and re-keys in place', () => {
  const index = new BucketIndex<BucketEntry & { name: string }>();
  const entries = ['a', 'b', 'c'].map((name) => ({ name, key: 0, slot: -1 }));
  index.insert(entries[0], 5);
  index.insert(entries[1], 2);
  index.insert(entries[2], 9);
  assert.equal(index.findAscending(3, () => true)?.name, 'a');
  assert.equal(index.findAscending(0, (e) => e.name !== 'b')?.name, 'a');
  assert.equal(index.findDescending(0, () => true)?.name, 'c');
  index.rekey(entries[2], 1);
  assert.equal(index.findAscending(0, () => true)?.name, 'c');
  index.remove(entries[2]);
  assert.equal(index.size, 2);
  assert.equal(index.findAscending(0, () => true)?.name, 'b');
  assert.equal(
    index.findAscending(6, () => true),
    null,
  );
});
