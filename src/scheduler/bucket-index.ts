/**
 * Entries kept in buckets by a small integer key (free cores or GPUs, see scorers/scorer.ts), so that the
 * best candidate for a demand is found by visiting buckets in a scorer's order (or walking keys up or down)
 * without scanning the fleet. Insert, remove and re-key are O(1) (swap-remove).
 */
export interface BucketEntry {
  key: number;
  /** Position in its bucket, -1 when not indexed. */
  slot: number;
}

export class BucketIndex<E extends BucketEntry> {
  buckets: E[][] = [];
  size = 0;

  insert(entry: E, key: number): void {
    while (this.buckets.length <= key) this.buckets.push([]);
    const bucket = this.buckets[key];
    entry.key = key;
    entry.slot = bucket.length;
    bucket.push(entry);
    this.size++;
  }

  remove(entry: E): void {
    if (entry.slot < 0) return;
    const bucket = this.buckets[entry.key];
    const last = bucket.pop() as E;
    if (last !== entry) {
      bucket[entry.slot] = last;
      last.slot = entry.slot;
    }
    entry.slot = -1;
    this.size--;
  }

  rekey(entry: E, key: number): void {
    if (entry.slot >= 0 && entry.key === key) return;
    this.remove(entry);
    this.insert(entry, key);
  }

  get maxKey(): number {
    return this.buckets.length - 1;
  }

  /** First entry accepted by `accept`, visiting the buckets of `keys` in order; most recently re-keyed first in a bucket. */
  findInOrder(keys: readonly number[], accept: (entry: E) => boolean): E | null {
    const buckets = this.buckets;
    for (let k = 0; k < keys.length; k++) {
      const bucket = buckets[keys[k]];
      if (bucket === undefined) continue;
      for (let i = bucket.length - 1; i >= 0; i--) if (accept(bucket[i])) return bucket[i];
    }
    return null;
  }

  /** First entry accepted by `accept`, walking keys from `fromKey` up; most recently re-keyed first in a bucket. */
  findAscending(fromKey: number, accept: (entry: E) => boolean): E | null {
    for (let key = Math.max(0, fromKey); key < this.buckets.length; key++) {
      const bucket = this.buckets[key];
      for (let i = bucket.length - 1; i >= 0; i--) if (accept(bucket[i])) return bucket[i];
    }
    return null;
  }

  /** First entry accepted by `accept`, walking keys from the top down to `downToKey`. */
  findDescending(downToKey: number, accept: (entry: E) => boolean): E | null {
    for (let key = this.buckets.length - 1; key >= Math.max(0, downToKey); key--) {
      const bucket = this.buckets[key];
      for (let i = bucket.length - 1; i >= 0; i--) if (accept(bucket[i])) return bucket[i];
    }
    return null;
  }
}
