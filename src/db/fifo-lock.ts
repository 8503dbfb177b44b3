/**
 * A mutual-exclusion lock that hands itself to the next waiter in arrival order. Kysely's SQLite driver
 * guards its one connection with a mutex whose every release wakes every waiter (each re-checks and all
 * but one wait again): with n queries queued that is O(n) wake-ups per query, O(n²) in all — under a
 * thousand simulated agents the process spent a sixth of its time there. This one wakes exactly one.
 */
export interface FifoLock {
  acquire(): Promise<void>;
  release(): void;
  /** Callers waiting (not counting the holder). */
  readonly waiting: number;
}

export function createFifoLock(): FifoLock {
  let held = false;
  // A queue with a moving head: shift() on a long array would copy it at every release.
  let queue: Array<() => void> = [];
  let head = 0;
  return {
    acquire() {
      if (!held) {
        held = true;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => queue.push(resolve));
    },
    release() {
      if (head < queue.length) {
        const next = queue[head];
        queue[head++] = undefined as unknown as () => void;
        if (head > 1024 && head * 2 > queue.length) {
          queue = queue.slice(head);
          head = 0;
        }
        next();
      } else {
        held = false;
        queue = [];
        head = 0;
      }
    },
    get waiting() {
      return queue.length - head;
    },
  };
}
