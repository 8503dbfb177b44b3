import type { Logger } from '../core/index.ts';
import type { Leases } from './lease.ts';

/**
 * A singleton role among replicas (e.g. running the simulated hosts' agents): the replica holding lease
 * `name` plays it. Every `renewEveryMs` each replica tries to take or renew the lease (`ttlMs`); the holder
 * starts the role when it gets the lease and stops it when it loses it — including when it cannot reach
 * the database for longer than the lease lasts (another replica may have taken over meanwhile). When the
 * holder dies, another replica takes the role within `ttlMs + renewEveryMs`.
 */
export interface Singleton {
  /** One round: take/renew the lease, start or stop the role (the first round runs at `start`). */
  tick(): Promise<void>;
  start(): Promise<void>;
  /** Stops the role (if played) and gives the lease up. */
  stop(): Promise<void>;
  holding(): boolean;
}

export function createSingleton(deps: {
  leases: Leases;
  name: string;
  ttlMs: number;
  renewEveryMs: number;
  log: Logger;
  onAcquired: () => Promise<void>;
  onLost: () => Promise<void>;
  nowMs?: () => number;
}): Singleton {
  const nowMs = deps.nowMs ?? (() => performance.now());
  let holding = false;
  let renewedAtMs = 0;
  let timer: NodeJS.Timeout | null = null;
  let round: Promise<void> = Promise.resolve();
  let stopped = false;

  async function lose(reason: string) {
    holding = false;
    deps.log.warn({ lease: deps.name, reason }, 'singleton role stopped in this replica');
    await deps.onLost().catch((error: unknown) => deps.log.error({ err: error, lease: deps.name }, 'stopping failed'));
  }

  async function once() {
    if (stopped) return;
    const startedMs = nowMs();
    let held: boolean;
    try {
      held = (await deps.leases.acquire(deps.name, deps.ttlMs)) !== null;
    } catch (error) {
      // Unknown: keep playing while our last renewal is surely still valid, not longer.
      if (holding && nowMs() - renewedAtMs > deps.ttlMs / 2) await lose(`database unreachable: ${String(error)}`);
      return;
    }
    if (stopped) return;
    if (held) {
      renewedAtMs = startedMs;
      if (!holding) {
        holding = true;
        deps.log.info({ lease: deps.name }, 'singleton role taken by this replica');
        try {
          await deps.onAcquired();
        } catch (error) {
          deps.log.error({ err: error, lease: deps.name }, 'starting a singleton role failed; retried');
          await lose('start failed');
          await deps.leases.release(deps.name).catch(() => undefined);
        }
      }
    } else if (holding) await lose('lease taken by another replica');
  }

  const tick = () => {
    round = round.then(once, once);
    return round;
  };

  return {
    tick,
    async start() {
      stopped = false;
      await tick();
      if (timer) return;
      timer = setInterval(() => void tick(), deps.renewEveryMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      stopped = true;
      await round;
      if (holding) {
        holding = false;
        await deps.onLost().catch(() => undefined);
        await deps.leases.release(deps.name).catch(() => undefined);
      }
    },
    holding: () => holding,
  };
}
