import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bestFit, spread } from './index.ts';

test('best fit prefers the candidate left fullest; spread the emptiest', () => {
  const candidates = [12, 4, 30, 8];
  const winner = (score: (free: number, need: number) => number) =>
    candidates.reduce((best, free) => (score(free, 4) > score(best, 4) ? free : best));
  assert.equal(winner(bestFit.score), 4);
  assert.equal(winner(spread.score), 30);
  assert.equal(bestFit.walk, 'ascending');
  assert.equal(spread.walk, 'descending');
});
