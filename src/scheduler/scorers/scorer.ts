import type { Demand } from '../demand.ts';

/**
 * A scorer orders the candidates of a pool, best first, without scoring the fleet. The fleet index files
 * every node of a pool under the key `free × align + remainder`: `free` is what the node has free in the
 * pool's unit (cores, or GPUs of the pool's model), `remainder` its host's free units modulo `align`, the
 * units of the largest product the pool sells (8 cores for VPS-ENTERPRISE+; 1 in GPU pools). A scorer lists
 * the keys in the order they are visited for a demand of `need` units on one node; the first feasible
 * candidate in that order is the decision.
 */
export interface Scorer {
  name: string;
  /** Node keys to visit, best first, among those with `free ≥ need` (free up to `maxFree`). */
  nodeOrder(need: number, maxFree: number, align: number): number[];
  /** Multi-node layouts (host entries keyed by their free units): the fullest host first, or the emptiest. */
  hostWalk: 'ascending' | 'descending';
  /**
   * Optional second look: among the first `candidates` feasible nodes in key order, the one with the lowest
   * `cost` wins (for criteria the keys do not hold, such as memory).
   */
  lookahead?: { candidates: number; cost(node: NodeView, demand: Demand): number };
}

/** What a lookahead cost sees of a candidate node. */
export interface NodeView {
  threadsPerCore: number;
  freeCores: number;
  freeMemoryMiB: number;
  sellableCores: number;
  sellableMemoryMiB: number;
}

export function nodeKey(free: number, remainder: number, align: number): number {
  return free * align + remainder;
}

/** Every key with `free ≥ need`, sorted by `rank` (lower first; ties by free, then remainder, ascending). */
export function keysBy(
  need: number,
  maxFree: number,
  align: number,
  rank: (free: number, remainder: number) => number,
): number[] {
  const keys: Array<{ key: number; rank: number; free: number; remainder: number }> = [];
  for (let free = Math.max(0, need); free <= maxFree; free++)
    for (let remainder = 0; remainder < align; remainder++)
      keys.push({ key: nodeKey(free, remainder, align), rank: rank(free, remainder), free, remainder });
  keys.sort((a, b) => a.rank - b.rank || a.free - b.free || a.remainder - b.remainder);
  return keys.map((entry) => entry.key);
}

/** What a host's remainder becomes when `need` units leave it (`align` units make one whole large product). */
export function remainderAfter(remainder: number, need: number, align: number): number {
  return (((remainder - need) % align) + align) % align;
}
