/**
 * Who uses a region's repository in this worker, so that `restic prune` (which takes the repository's
 * exclusive lock: a backup started meanwhile would fail on restic's lock) runs alone: jobs `use` the
 * regions they touch, a prune is `exclusive` — it waits for the jobs in use to finish, and jobs arriving
 * meanwhile wait for it. A region is due for a prune when snapshots were forgotten there and its last prune
 * is older than the interval. The state is this replica's memory: the worker is a singleton (fenced
 * lease), and after a failover the next forget marks the region again (retention forgets after every
 * backup), so a prune is late at worst, never lost for long.
 */
export function createRepositoryGuard(options: { nowMs: () => number; pruneIntervalMs: number }) {
  const inUse = new Map<string, number>();
  const pruning = new Map<string, Promise<void>>();
  const idle = new Map<string, () => void>();
  const dirty = new Set<string>();
  const lastPrunedMs = new Map<string, number>();

  const count = (region: string) => inUse.get(region) ?? 0;

  return {
    async use<T>(regions: string[], work: () => Promise<T>): Promise<T> {
      for (;;) {
        const waits = regions.flatMap((r) => (pruning.has(r) ? [pruning.get(r)!] : []));
        if (waits.length === 0) break;
        await Promise.all(waits);
      }
      // No await from the check to here: a prune cannot start in between.
      for (const r of regions) inUse.set(r, count(r) + 1);
      try {
        return await work();
      } finally {
        for (const r of regions) {
          inUse.set(r, count(r) - 1);
          if (count(r) === 0) idle.get(r)?.();
        }
      }
    },

    async exclusive(region: string, work: () => Promise<void>): Promise<void> {
      while (pruning.has(region)) await pruning.get(region);
      let release!: () => void;
      const done = new Promise<void>((resolve) => (release = resolve));
      pruning.set(region, done);
      try {
        if (count(region) > 0) await new Promise<void>((resolve) => idle.set(region, resolve));
        idle.delete(region);
        dirty.delete(region);
        // An attempt counts, failed or not: a repository that cannot be pruned is retried at the next interval.
        lastPrunedMs.set(region, options.nowMs());
        await work();
      } catch (error) {
        dirty.add(region);
        throw error;
      } finally {
        pruning.delete(region);
        release();
      }
    },

    /** Snapshots were forgotten in the region's repository: its data is freed at its next prune. */
    forgotten(region: string): void {
      dirty.add(region);
    },

    /** Regions to prune now: forgotten snapshots, no prune running, the last one older than the interval. */
    duePrunes(): string[] {
      const nowMs = options.nowMs();
      return [...dirty].filter(
        (region) => !pruning.has(region) && nowMs - (lastPrunedMs.get(region) ?? -Infinity) >= options.pruneIntervalMs,
      );
    },
  };
}
