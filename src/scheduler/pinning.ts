/**
 * Pinning, pure: which cores, threads, GPUs and VFs a choice of nodes turns into. Lowest-numbered free
 * cores first; vCPU i runs on thread i mod t of core ⌊i / t⌋ (t threads per core), so a server's vCPUs
 * fill sibling pairs and the idle sibling of an odd count stays with the server.
 */

/** The first `count` ids of an ascending list of free ids. */
export function pickLowest(freeIdsAscending: readonly number[], count: number): number[] {
  return freeIdsAscending.slice(0, count);
}

/** vCPU i → host thread, over the sibling thread lists of the claimed cores (in core order). */
export function threadsForVcpus(coreThreads: ReadonlyArray<readonly number[]>, vcpus: number): number[] {
  const threads: number[] = [];
  for (const siblings of coreThreads) {
    for (const thread of siblings) {
      if (threads.length === vcpus) return threads;
      threads.push(thread);
    }
  }
  return threads;
}
