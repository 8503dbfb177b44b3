/**
 * Flow records of what a server's firewall dropped, on a qemu host. Conntrack sees accepted connections
 * only; the firewall's chains (src/network/firewall-rules.ts) put every packet they drop into a dynamic
 * nftables set of the chain — one element per (source, destination, protocol, destination port) with its
 * own counter, expiring a fixed time after it was added (60 s by default; not refreshed by later packets).
 *
 * The tracker reads the sets each period. An element that is gone since the previous reading, or that was
 * replaced by a newer one with the same key (its counter went down, or it was added after the old one had
 * to expire), has ended and becomes one flow record: action `drop`, the rule that dropped it (every
 * firewall rule accepts; what none accepts falls to the chain's default deny, `firewall:default-deny`),
 * direction `in` for the chain of what reaches the server and `out` for what it sends, source port 0
 * (the set aggregates source ports: a scanner's retries are one record), packets and bytes of its last
 * reading, start = when it was added (the set's timeout less the time left) and end = the last reading
 * where its counter grew. A record covers at most the timeout, so a drop that lasts hours is reported
 * every timeout, not when it stops. Between the last reading and the expiry at most one period of packets
 * is lost, as with conntrack. Pure over its inputs (table-tested with recorded readings).
 */

export interface DropSetElement {
  ifname: string;
  direction: 'in' | 'out';
  src: string;
  dst: string;
  protocol: number;
  dstPort: number;
  packets: number;
  bytes: number;
  expiresSeconds: number | null;
  timeoutSeconds: number | null;
}

export interface DropFlow {
  serverId: string;
  direction: 'in' | 'out';
  srcAddr: string;
  dstAddr: string;
  srcPort: number;
  dstPort: number;
  protocol: number;
  packets: number;
  bytes: number;
  startMs: number;
  endMs: number;
  action: 'drop';
  rule: string;
}

/** The rule of a firewall drop: the chain's default deny (every firewall rule accepts). */
export const firewallDefaultDenyRule = 'firewall:default-deny';

const keyOf = (e: DropSetElement) => `${e.ifname} ${e.direction} ${e.src} ${e.dst} ${e.protocol} ${e.dstPort}`;

interface Followed {
  serverId: string;
  element: DropSetElement;
  startMs: number;
  lastMs: number;
  timeoutMs: number | null;
}

export function createFirewallDropFlows(options: {
  /** The drop sets' elements now (parseFirewallDrops of `nft -j list table bridge vmcloud_fw`). */
  read: () => Promise<DropSetElement[]>;
  /** The server of a tap, or null (elements of other taps are ignored). */
  serverOf: (ifname: string) => string | null;
  nowMs: () => number;
  /** Elements followed at most (each set is bounded too; this bounds the agent across all of them). */
  maxEntries?: number;
}) {
  const live = new Map<string, Followed>();
  const max = options.maxEntries ?? 100_000;
  const record = (f: Followed): DropFlow => ({
    serverId: f.serverId,
    direction: f.element.direction,
    srcAddr: f.element.src,
    dstAddr: f.element.dst,
    srcPort: 0,
    dstPort: f.element.dstPort,
    protocol: f.element.protocol,
    packets: f.element.packets,
    bytes: f.element.bytes,
    startMs: f.startMs,
    endMs: Math.max(f.startMs, f.lastMs),
    action: 'drop',
    rule: firewallDefaultDenyRule,
  });
  return {
    async drain(): Promise<DropFlow[]> {
      const nowMs = options.nowMs();
      const ended: DropFlow[] = [];
      const seen = new Set<string>();
      for (const element of await options.read()) {
        const serverId = options.serverOf(element.ifname);
        if (!serverId || element.packets <= 0) continue;
        const key = keyOf(element);
        seen.add(key);
        const timeoutMs = element.timeoutSeconds !== null ? element.timeoutSeconds * 1000 : null;
        // Added this long ago (whole seconds in nft's output): the set's timeout less the time left.
        const ageMs =
          timeoutMs !== null && element.expiresSeconds !== null
            ? Math.max(0, timeoutMs - element.expiresSeconds * 1000)
            : 0;
        const addedMs = nowMs - ageMs;
        const known = live.get(key);
        // The same key again after the element expired and a new packet added it back (1 s of rounding).
        const replaced =
          known !== undefined &&
          (element.packets < known.element.packets ||
            (known.timeoutMs !== null && addedMs >= known.startMs + known.timeoutMs - 1000));
        if (known && !replaced) {
          if (element.packets > known.element.packets) known.lastMs = nowMs;
          known.element = element;
          continue;
        }
        if (known) {
          ended.push(record(known));
          live.delete(key);
        }
        if (live.size < max) live.set(key, { serverId, element, startMs: addedMs, lastMs: nowMs, timeoutMs });
      }
      for (const [key, followed] of live) {
        if (seen.has(key)) continue;
        live.delete(key);
        ended.push(record(followed));
      }
      return ended;
    },
    /** Elements being followed (tests, metrics). */
    size: () => live.size,
  };
}
