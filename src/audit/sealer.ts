import type { Logger } from '../core/index.ts';
import type { AuditLog } from './log.ts';

export interface AuditSealer {
  start(): void;
  stop(): Promise<void>;
  /** Seals everything settled now; returns how many rows. */
  sealNow(): Promise<number>;
}

/**
 * Runs `audit.seal()` every `intervalMs`, on the replica that `gate` lets (a lease: one sealer at a time
 * among replicas; without a gate, on every replica: sealers take turns on the chain row, which is correct
 * but wasteful). A failure is logged and retried at the next tick.
 */
export function createAuditSealer(deps: {
  audit: AuditLog;
  log: Logger;
  intervalMs?: number;
  batchSize?: number;
  /** Whether this replica seals at this tick (takes or renews a lease). */
  gate?: () => Promise<boolean>;
}) {
  const intervalMs = deps.intervalMs ?? 1000;
  const batchSize = deps.batchSize ?? 500;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> | null = null;

  async function sealNow(): Promise<number> {
    let total = 0;
    for (;;) {
      const sealed = await deps.audit.seal({ batchSize });
      total += sealed;
      if (sealed < batchSize) return total;
    }
  }

  const sealer: AuditSealer = {
    start() {
      if (timer) return;
      timer = setInterval(() => {
        if (running) return;
        running = (deps.gate ? deps.gate() : Promise.resolve(true))
          .then((mine) => (mine ? sealNow() : 0))
          .catch((error) => deps.log.error({ err: String(error) }, 'audit sealing failed; retried at the next tick'))
          .finally(() => {
            running = null;
          });
      }, intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await running;
    },
    sealNow,
  };
  return sealer;
}
