/**
 * A background pass run every `intervalMs`: a tick while the previous pass still runs is skipped (passes
 * never overlap), a failed pass is reported and the loop goes on, the timer does not hold the process
 * open, and `stop()` waits for the pass in flight. The control plane's housekeeping, backup, traffic,
 * billing and status loops are each one of these.
 */
export interface PeriodicLoop {
  start(): void;
  /** Runs a pass now, or once more right after the pass under way (work was just queued for it). */
  kick(): void;
  /** Stops the timer and resolves once the pass in flight (if any) has ended. */
  stop(): Promise<void>;
}

export interface PeriodicLoopOptions {
  name: string;
  intervalMs: number;
  pass: () => Promise<unknown>;
  /** Wraps each pass (e.g. the loop-duration metric); the identity by default. */
  time?: (name: string, pass: () => Promise<unknown>) => Promise<unknown>;
  onError: (name: string, error: unknown) => void;
}

export function periodicLoop(options: PeriodicLoopOptions): PeriodicLoop {
  const time = options.time ?? ((_name, pass) => pass());
  let timer: NodeJS.Timeout | null = null;
  let inFlight: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  const tick = (queue: boolean) => {
    if (inFlight) {
      if (queue) again = true;
      return;
    }
    inFlight = time(options.name, options.pass)
      .then(
        () => undefined,
        (error: unknown) => options.onError(options.name, error),
      )
      .finally(() => {
        inFlight = null;
        if (again && !stopped) {
          again = false;
          tick(false);
        }
      });
  };
  return {
    start() {
      if (timer) return;
      stopped = false;
      timer = setInterval(() => tick(false), options.intervalMs);
      timer.unref();
    },
    kick() {
      if (!stopped) tick(true);
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = null;
      // A pass that chained another (kick) leaves it in flight: wait until none is.
      while (inFlight) await inFlight;
    },
  };
}
