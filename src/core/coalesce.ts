/**
 * Coalesces calls made within a short window into one batch: `add(key)` resolves with what the batch
 * function answered for that key. Many callers of the same key in one window share one entry. A failed
 * batch rejects every call of it. Used where thousands of small writes a second (agents' heartbeats)
 * would otherwise each be a statement of their own.
 */
export interface Coalescer<K, R> {
  add(key: K): Promise<R>;
  /** Runs the pending batch now (tests, shutdown). */
  flush(): Promise<void>;
}

export function coalesce<K, R>(options: {
  windowMs: number;
  /** The most keys per call of `run`; a larger batch is split. */
  maxBatch: number;
  run: (keys: K[]) => Promise<Map<K, R>>;
  /** The answer for a key `run` did not mention. */
  missing: R;
}): Coalescer<K, R> {
  let pending = new Map<K, Array<{ resolve: (value: R) => void; reject: (error: unknown) => void }>>();
  let timer: NodeJS.Timeout | null = null;
  async function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = null;
    const batch = pending;
    pending = new Map();
    const keys = [...batch.keys()];
    for (let start = 0; start < keys.length; start += options.maxBatch) {
      const chunk = keys.slice(start, start + options.maxBatch);
      try {
        const answers = await options.run(chunk);
        for (const key of chunk)
          for (const waiter of batch.get(key)!) waiter.resolve(answers.has(key) ? answers.get(key)! : options.missing);
      } catch (error) {
        for (const key of chunk) for (const waiter of batch.get(key)!) waiter.reject(error);
      }
    }
  }
  return {
    add(key) {
      return new Promise<R>((resolve, reject) => {
        const waiters = pending.get(key);
        if (waiters) waiters.push({ resolve, reject });
        else pending.set(key, [{ resolve, reject }]);
        if (!timer) {
          timer = setTimeout(() => void flush(), options.windowMs);
          timer.unref();
        }
      });
    },
    flush,
  };
}
