/**
 * A scorer orders candidate NUMA nodes by their free capacity in the pool's key (free cores, or free GPUs
 * of the model); higher score wins. The fleet index visits candidates in exactly that order (`walk`), so
 * the first feasible candidate is the best one without scoring the whole fleet.
 */
export interface Scorer {
  name: string;
  walk: 'ascending' | 'descending';
  score(freeBefore: number, demanded: number): number;
}
