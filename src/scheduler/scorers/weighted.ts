/**
 * Best fit by a weighted resource vector: among the first candidates in best-fit order, the node whose
 * leftover cores and memory, each as a share of what the node sells, sum lowest (so that nodes do not run
 * out of memory with cores left, or the reverse).
 */
import { keysBy, type Scorer } from './scorer.ts';

export const weighted: Scorer = {
  name: 'weighted',
  nodeOrder: (need, maxFree, align) => keysBy(need, maxFree, align, (free) => free),
  hostWalk: 'ascending',
  lookahead: {
    candidates: 8,
    cost: (node, demand) =>
      (node.freeCores - Math.ceil(demand.vcpus / node.threadsPerCore)) / Math.max(1, node.sellableCores) +
      (node.freeMemoryMiB - demand.memoryMiB) / Math.max(1, node.sellableMemoryMiB),
  },
};
