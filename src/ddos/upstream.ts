/**
 * The hook to the upstream scrubbing partner: announcing an attacked prefix diverts its traffic through the
 * partner's scrubbing centres (BGP, the provider's network — not testable here); withdrawing ends it. The
 * implementation here only logs what it would announce.
 */
import type { Logger } from '../core/index.ts';

export interface UpstreamScrubbing {
  announce(input: { prefix: string; attackId: string; bps: number }): Promise<string>;
  withdraw(input: { prefix: string; attackId: string }): Promise<string>;
}

export function createLoggingScrubbing(log: Logger): UpstreamScrubbing {
  return {
    async announce({ prefix, attackId, bps }) {
      log.warn({ prefix, attack_id: attackId, bps }, 'ddos: would announce the prefix to the scrubbing partner');
      return `upstream: announce ${prefix} to the scrubbing partner (logged)`;
    },
    async withdraw({ prefix, attackId }) {
      log.info({ prefix, attack_id: attackId }, 'ddos: would withdraw the prefix from the scrubbing partner');
      return `upstream: withdraw ${prefix} (logged)`;
    },
  };
}
