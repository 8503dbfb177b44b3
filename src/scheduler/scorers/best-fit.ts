/** Best fit (the default): the node left with the least free capacity wins, so hosts fill up one by one. */
import type { Scorer } from './scorer.ts';

export const bestFit: Scorer = {
  name: 'best_fit',
  walk: 'ascending',
  score: (freeBefore, demanded) => -(freeBefore - demanded),
};
