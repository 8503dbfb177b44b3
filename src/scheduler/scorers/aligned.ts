/**
 * Leftovers that fit whole large products. A host can take ⌊free / align⌋ more of the largest product
 * (spanning nodes when needed), so the `free mod align` cores of each host are stranded for it. These
 * scorers place a server where it strands the fewest cores, then by best fit:
 * - `aligned`: the change of the host's stranded remainder (−need when the remainder covers the server,
 *   align − need when it does not);
 * - `aligned-exact`: the remainder left after the server (0 first: the host is left aligned);
 * - `node-aligned`: the node's own leftover modulo align (the node, not the host, is left aligned).
 */
import { keysBy, remainderAfter, type Scorer } from './scorer.ts';

export const aligned: Scorer = {
  name: 'aligned',
  nodeOrder: (need, maxFree, align) =>
    keysBy(
      need,
      maxFree,
      align,
      (free, remainder) => (remainderAfter(remainder, need, align) - remainder) * 1000 + free,
    ),
  hostWalk: 'ascending',
};

export const alignedExact: Scorer = {
  name: 'aligned-exact',
  nodeOrder: (need, maxFree, align) =>
    keysBy(need, maxFree, align, (free, remainder) => remainderAfter(remainder, need, align) * 1000 + free),
  hostWalk: 'ascending',
};

export const nodeAligned: Scorer = {
  name: 'node-aligned',
  nodeOrder: (need, maxFree, align) =>
    keysBy(need, maxFree, align, (free) => remainderAfter(free, need, align) * 1000 + free),
  hostWalk: 'ascending',
};
