/** Spread (placement groups): the node left with the most free capacity wins, away from busy hosts. */
import type { Scorer } from './scorer.ts';

export const spread: Scorer = {
  name: 'spread',
  walk: 'descending',
  score: (freeBefore, demanded) => freeBefore - demanded,
};
