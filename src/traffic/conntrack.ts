/**
 * Flow records on a qemu host from its connection tracking table (`/proc/net/nf_conntrack`, with
 * `net.netfilter.nf_conntrack_acct=1` so entries carry packets and bytes per direction). The table is read
 * each period; an entry of one of the host's servers that is gone since the previous reading has ended
 * (conntrack destroyed it: a TCP close, a UDP or ICMP timeout) and becomes flow records — one per direction
 * that carried packets, from the server's point of view (`out`: the server sent it) — with the counters
 * of its last reading, its first and last sight as start and end. Accepted traffic only: what a firewall
 * drops never gets a conntrack entry (drops come from the rules' own counters and logs).
 *
 * A reading every few seconds loses at most the packets of the entry's last period; an entry that lives
 * longer than the host keeps it is reported when it ends. Parsing is pure (table-tested).
 */

export interface ConntrackTuple {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  packets: number;
  bytes: number;
}

export interface ConntrackEntry {
  /** IANA protocol number (6 tcp, 17 udp, 1 icmp, 58 ipv6-icmp…). */
  protocol: number;
  orig: ConntrackTuple;
  reply: ConntrackTuple;
}

/** The protocol, original and reply tuples of an entry: the identity of a connection while it lives. */
const identity = (e: ConntrackEntry) =>
  `${e.protocol} ${e.orig.src} ${e.orig.sport} ${e.orig.dst} ${e.orig.dport} ${e.reply.src} ${e.reply.sport}`;

/** Lines of `/proc/net/nf_conntrack` → entries (lines it cannot read are skipped). */
export function parseConntrack(text: string): ConntrackEntry[] {
  const out: ConntrackEntry[] = [];
  for (const line of text.split('\n')) {
    const tokens = line.trim().split(/\s+/);
    // ipv4 2 udp 17 29 [state] key=value… : the protocol number is the 4th token.
    if (tokens.length < 8 || !/^ipv[46]$/.test(tokens[0])) continue;
    const protocol = Number(tokens[3]);
    if (!Number.isInteger(protocol)) continue;
    const tuples: Array<Partial<Record<string, string>>> = [{}, {}];
    let which = 0;
    for (const token of tokens.slice(5)) {
      const eq = token.indexOf('=');
      if (eq < 0) continue;
      const key = token.slice(0, eq);
      if (key === 'src' && tuples[which].src !== undefined) which = 1;
      if (which > 1) break;
      if (tuples[which][key] === undefined) tuples[which][key] = token.slice(eq + 1);
    }
    const tuple = (t: Partial<Record<string, string>>): ConntrackTuple | null =>
      t.src && t.dst
        ? {
            src: t.src,
            dst: t.dst,
            sport: Number(t.sport ?? 0),
            dport: Number(t.dport ?? 0),
            packets: Number(t.packets ?? 0),
            bytes: Number(t.bytes ?? 0),
          }
        : null;
    const orig = tuple(tuples[0]);
    const reply = tuple(tuples[1]);
    if (orig && reply) out.push({ protocol, orig, reply });
  }
  return out;
}

export interface ConntrackFlow {
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
  action: 'accept';
  rule: null;
}

/** Flow records of an ended entry for the servers it touches (`serverOf`: the server of an address). */
export function flowsOfEntry(
  entry: ConntrackEntry,
  serverOf: (address: string) => string | null,
  startMs: number,
  endMs: number,
): ConntrackFlow[] {
  const out: ConntrackFlow[] = [];
  // The reply tuple's source is where the original was going after any NAT: the server's own address.
  const directions: Array<[ConntrackTuple, string, string]> = [
    [entry.orig, entry.orig.src, entry.reply.src],
    [entry.reply, entry.reply.src, entry.orig.src],
  ];
  for (const [tuple, from, to] of directions) {
    if (tuple.packets <= 0) continue;
    const sender = serverOf(from);
    const receiver = serverOf(to);
    for (const [serverId, direction] of [
      [sender, 'out'],
      [receiver, 'in'],
    ] as const)
      if (serverId)
        out.push({
          serverId,
          direction,
          srcAddr: tuple.src,
          dstAddr: tuple.dst,
          srcPort: tuple.sport,
          dstPort: tuple.dport,
          protocol: entry.protocol,
          packets: tuple.packets,
          bytes: tuple.bytes,
          startMs,
          endMs,
          action: 'accept',
          rule: null,
        });
  }
  return out;
}

/** The tracker: call `drain` each period; it answers the flows that ended since the previous call. */
export function createConntrackFlows(options: {
  read: () => Promise<string>;
  /** The server of one of the host's addresses, or null (entries of no server are ignored). */
  serverOf: (address: string) => string | null;
  nowMs: () => number;
  /** Entries kept in memory at most (a host under a SYN flood must not grow the agent without bound). */
  maxEntries?: number;
}) {
  const live = new Map<string, { entry: ConntrackEntry; firstMs: number; lastMs: number }>();
  const max = options.maxEntries ?? 200_000;
  return {
    async drain(): Promise<ConntrackFlow[]> {
      const nowMs = options.nowMs();
      const seen = new Set<string>();
      for (const entry of parseConntrack(await options.read())) {
        if (
          !options.serverOf(entry.orig.src) &&
          !options.serverOf(entry.orig.dst) &&
          !options.serverOf(entry.reply.src)
        )
          continue;
        const id = identity(entry);
        seen.add(id);
        const known = live.get(id);
        if (known) {
          known.entry = entry;
          known.lastMs = nowMs;
        } else if (live.size < max) live.set(id, { entry, firstMs: nowMs, lastMs: nowMs });
      }
      const ended: ConntrackFlow[] = [];
      for (const [id, flow] of live) {
        if (seen.has(id)) continue;
        live.delete(id);
        ended.push(...flowsOfEntry(flow.entry, options.serverOf, flow.firstMs, flow.lastMs));
      }
      return ended;
    },
    /** Entries being followed (tests, metrics). */
    size: () => live.size,
  };
}
