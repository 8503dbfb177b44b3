import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filteredKeysetPage, pageLimitOf } from './keyset-page.ts';

const rows = Array.from({ length: 1000 }, (_, i) => ({ id: `r${String(i).padStart(4, '0')}`, even: i % 2 === 0 }));
const reads: number[] = [];
const read = async (afterId: string | null, batch: number) => {
  reads.push(batch);
  return rows.filter((r) => afterId === null || r.id > afterId).slice(0, batch);
};

test('keyset pages: unfiltered, filtered across batches, the last page, empty', async () => {
  const table: [string, Parameters<typeof filteredKeysetPage<(typeof rows)[number]>>[0], string[], string | null][] = [
    ['first page', { limit: 3, afterId: null, read }, ['r0000', 'r0001', 'r0002'], 'r0002'],
    ['after a cursor', { limit: 2, afterId: 'r0002', read }, ['r0003', 'r0004'], 'r0004'],
    ['the last page has no next', { limit: 5, afterId: 'r0997', read }, ['r0998', 'r0999'], null],
    ['exactly the rest: no next', { limit: 2, afterId: 'r0997', read }, ['r0998', 'r0999'], null],
    [
      'filtered: odd rows only, across several batches of 200',
      { limit: 3, afterId: 'r0990', read, keep: (r) => !r.even },
      ['r0991', 'r0993', 'r0995'],
      'r0995',
    ],
    ['nothing passes', { limit: 3, afterId: null, read, keep: () => false }, [], null],
  ];
  for (const [name, options, ids, next] of table) {
    const got = await filteredKeysetPage(options);
    assert.deepEqual(
      got.page.map((r) => r.id),
      ids,
      name,
    );
    assert.equal(got.nextAfterId, next, name);
  }
  reads.length = 0;
  await filteredKeysetPage({ limit: 10, afterId: null, read, keep: (r) => r.id === 'r0999' });
  assert.deepEqual(reads, [200, 200, 200, 200, 200, 200], 'a selective filter reads on in batches of 200 to the end');
});

test('pageLimitOf: 50 by default, an integer from 1 to 500, else 400 naming the field', () => {
  const table: [string | number | undefined, number | null][] = [
    [undefined, 50],
    ['1', 1],
    ['500', 500],
    [20, 20],
    ['0', null],
    ['501', null],
    ['1.5', null],
    ['ten', null],
    ['', null],
  ];
  for (const [input, expected] of table) {
    if (expected !== null) assert.equal(pageLimitOf(input), expected, String(input));
    else
      assert.throws(
        () => pageLimitOf(input),
        (error: unknown) =>
          (error as { code?: string; fields?: { field: string }[] }).code === 'invalid' &&
          (error as { fields: { field: string }[] }).fields[0].field === 'limit',
        String(input),
      );
  }
});
