/** Spread (placement groups): the node left with the most free capacity wins, away from busy hosts. */
import { keysBy, type Scorer } from './scorer.ts';

export const spread: Scorer = {
  name: 'spread',
  nodeOrder: (need, maxFree, align) => keysBy(need, maxFree, align, (free) => -free),
  hostWalk: 'descending',
};
