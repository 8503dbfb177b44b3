import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aligned, alignedExact, bestFit, nodeAligned, scorers, spread, type Scorer } from './index.ts';
import { remainderAfter } from './scorer.ts';

/** The first (free, remainder) a scorer visits among candidates, for a demand of `need` units, align 8. */
function firstChoice(scorer: Scorer, need: number, candidates: Array<[number, number]>): [number, number] {
  const align = 8;
  const order = scorer.nodeOrder(need, 30, align);
  const keyOf = ([free, remainder]: [number, number]) => free * align + remainder;
  const ranked = candidates
    .filter(([free]) => free >= need)
    .sort((a, b) => order.indexOf(keyOf(a)) - order.indexOf(keyOf(b)));
  return ranked[0];
}

test('scorers visit candidates in their order', async (t) => {
  // Candidates as [free cores on the node, the host's free cores mod 8].
  const candidates: Array<[number, number]> = [
    [12, 0],
    [4, 0],
    [30, 3],
    [8, 5],
    [6, 2],
    [9, 1],
  ];
  const cases: Array<{ name: string; scorer: Scorer; need: number; expected: [number, number] }> = [
    { name: 'best fit: the fullest node that fits', scorer: bestFit, need: 1, expected: [4, 0] },
    { name: 'spread: the emptiest node', scorer: spread, need: 1, expected: [30, 3] },
    {
      name: 'aligned: a host whose remainder covers the server, fullest first',
      scorer: aligned,
      need: 2,
      expected: [6, 2],
    },
    { name: 'aligned: a remainder of 5 covers 4 cores', scorer: aligned, need: 4, expected: [8, 5] },
    { name: 'aligned: 8 cores strand nothing anywhere, so best fit', scorer: aligned, need: 8, expected: [8, 5] },
    { name: 'aligned-exact: the host left aligned first', scorer: alignedExact, need: 3, expected: [30, 3] },
    { name: 'node-aligned: the node left with a multiple of 8', scorer: nodeAligned, need: 1, expected: [9, 1] },
  ];
  for (const c of cases)
    await t.test(c.name, () => assert.deepEqual(firstChoice(c.scorer, c.need, candidates), c.expected));
});

test('every scorer visits every key that fits, exactly once', async (t) => {
  for (const scorer of Object.values(scorers))
    await t.test(scorer.name, () => {
      const order = scorer.nodeOrder(3, 10, 4);
      assert.equal(new Set(order).size, order.length);
      assert.deepEqual(
        [...order].sort((a, b) => a - b),
        Array.from({ length: (10 - 3 + 1) * 4 }, (_, i) => 3 * 4 + i),
      );
    });
});

test('remainderAfter: what is left of a host remainder once a server takes its cores', async (t) => {
  const cases: Array<[number, number, number, number]> = [
    [5, 2, 8, 3],
    [1, 2, 8, 7],
    [0, 8, 8, 0],
    [3, 3, 8, 0],
  ];
  for (const [remainder, need, align, expected] of cases)
    await t.test(`${remainder} − ${need} mod ${align}`, () =>
      assert.equal(remainderAfter(remainder, need, align), expected),
    );
});
