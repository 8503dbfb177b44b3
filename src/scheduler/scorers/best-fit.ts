/** Best fit: the node left with the least free capacity wins, so hosts fill up one by one. */
import { keysBy, type Scorer } from './scorer.ts';

export const bestFit: Scorer = {
  name: 'best-fit',
  nodeOrder: (need, maxFree, align) => keysBy(need, maxFree, align, (free) => free),
  hostWalk: 'ascending',
};
