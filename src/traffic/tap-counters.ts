/**
 * Counters of a server's tap interface on a qemu host (`/sys/class/net/<tap>/statistics`), and the delta
 * between two readings. A tap is seen from the host: what the host receives on it (`rx`) is what the guest
 * sent, so the server's tx is the tap's rx. Taps are recreated when a server restarts or moves, which
 * resets their counters: a reading lower than the previous one is a reset, and the delta is the new value.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface InterfaceCounters {
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
}

const fields = { rxBytes: 'rx_bytes', txBytes: 'tx_bytes', rxPackets: 'rx_packets', txPackets: 'tx_packets' } as const;

/** Reads an interface's counters (root: where `/sys/class/net` is, for tests). Null when it does not exist. */
export async function readInterfaceCounters(
  ifname: string,
  root = '/sys/class/net',
): Promise<InterfaceCounters | null> {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(ifname)) throw new RangeError(`not an interface name: ${ifname}`);
  try {
    const entries = await Promise.all(
      Object.entries(fields).map(
        async ([key, file]) =>
          [key, Number((await readFile(join(root, ifname, 'statistics', file), 'utf8')).trim())] as const,
      ),
    );
    return Object.fromEntries(entries) as unknown as InterfaceCounters;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** The host's view of a tap turned into the server's view (rx ↔ tx). */
export const serverViewOfTap = (tap: InterfaceCounters): InterfaceCounters => ({
  rxBytes: tap.txBytes,
  txBytes: tap.rxBytes,
  rxPackets: tap.txPackets,
  txPackets: tap.rxPackets,
});

/** What moved between two readings of the same counters; a counter that went down was reset. */
export function counterDelta(previous: InterfaceCounters | null, next: InterfaceCounters): InterfaceCounters {
  const one = (key: keyof InterfaceCounters) => {
    const before = previous?.[key];
    if (before === undefined) return 0; // the first reading is a baseline, not traffic
    return next[key] >= before ? next[key] - before : next[key];
  };
  return { rxBytes: one('rxBytes'), txBytes: one('txBytes'), rxPackets: one('rxPackets'), txPackets: one('txPackets') };
}
