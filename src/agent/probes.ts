/**
 * Agents probe each other inside a region. A real agent binds one UDP socket on its host API's address and
 * port number (UDP and TCP ports are separate): it answers other agents' echo requests and sends its own,
 * one per peer per `intervalMs`, timing the answers with the monotonic clock. No root, no ICMP. The sim
 * fleet's agents have no sockets: `createModelProber` reports the deterministic model's figures instead.
 *
 * The packet (24 bytes): "VMPR", a type byte (1 request, 2 answer), 3 bytes zero, the sender's 8-byte
 * nonce, a 4-byte sequence number, 4 bytes zero. An answer is the request with its type changed, the same
 * size: the responder amplifies nothing and never answers an answer (no loops between two responders).
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import type { ProbePeer, ProbeReport } from '../contract/index.ts';
import { simInterRegionRoundTripMs, splitByRegion, summarizeProbes, type ProbeSample } from '../telemetry/index.ts';
import { systemClock, type Clock, type Logger } from '../core/index.ts';

const magic = Buffer.from('VMPR');
const packetBytes = 24;

export interface PeerProber {
  /**
   * The peers to probe from now on (those gone stop being probed; their probes in flight still count).
   * Peers with a `region` are hosts of other regions: their figures are reported apart, per region.
   */
  setPeers(peers: readonly ProbePeer[], selfRegion?: string): void;
  /** What was measured since the previous take (probes still within their timeout wait for the next). */
  take(): ProbeReport | null;
  close(): Promise<void>;
}

export interface UdpProberOptions {
  host: string;
  port: number;
  /** One probe per peer this often (default 1 s); 0: only `tick()` sends (tests). */
  intervalMs?: number;
  /** An answer later than this is a lost probe (default 1 s). */
  timeoutMs?: number;
  /** The responder leaves every Nth request unanswered (tests: induced loss). */
  dropEvery?: number;
  clock?: Clock;
  log?: Logger;
}

export interface UdpProber extends PeerProber {
  /** The UDP port bound (the option's, or the one the system chose for 0). */
  readonly port: number;
  /** Sends one probe to every peer now. */
  tick(): void;
  /** Requests this responder received and answered (tests). */
  answered(): number;
}

/** The agent's UDP echo responder and prober, bound on `host:port`. */
export async function createUdpProber(options: UdpProberOptions): Promise<UdpProber> {
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? 1000;
  const family = options.host.includes(':') ? 'udp6' : 'udp4';
  const socket: Socket = createSocket({ type: family, reuseAddr: false });
  const nonce = randomBytes(8);
  let peers: ProbePeer[] = [];
  const regionOf = new Map<string, string>();
  let seq = 0;
  let requests = 0;
  let answered = 0;
  let periodStartMs = clock.nowMs();
  /** Probes in flight: sequence → peer and when it left (hrtime, ns). */
  const pending = new Map<number, { peer: string; sentNs: bigint }>();
  let done: ProbeSample[] = [];

  socket.on('message', (message, remote) => {
    if (message.length !== packetBytes || !message.subarray(0, 4).equals(magic)) return;
    const type = message[4];
    if (type === 1) {
      requests++;
      if (options.dropEvery && requests % options.dropEvery === 0) return;
      const answer = Buffer.from(message);
      answer[4] = 2;
      answered++;
      socket.send(answer, remote.port, remote.address);
    } else if (type === 2 && message.subarray(8, 16).equals(nonce)) {
      const number = message.readUInt32BE(16);
      const probe = pending.get(number);
      if (!probe) return; // late (already counted lost) or not ours
      pending.delete(number);
      const rttMs = Number(process.hrtime.bigint() - probe.sentNs) / 1e6;
      done.push({ peer: probe.peer, rttMs: rttMs > timeoutMs ? null : rttMs });
    }
  });
  socket.on('error', (error) => options.log?.warn({ err: error.message }, 'probe socket error'));

  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(options.port, options.host, () => {
      socket.off('error', reject);
      resolve();
    });
  });

  /** Probes older than the timeout are lost. */
  function expire() {
    const now = process.hrtime.bigint();
    for (const [number, probe] of pending)
      if (Number(now - probe.sentNs) / 1e6 > timeoutMs) {
        pending.delete(number);
        done.push({ peer: probe.peer, rttMs: null });
      }
  }

  function tick() {
    expire();
    for (const peer of peers) {
      if (!peer.address || !peer.port) continue;
      seq = (seq + 1) >>> 0;
      const packet = Buffer.alloc(packetBytes);
      magic.copy(packet, 0);
      packet[4] = 1;
      nonce.copy(packet, 8);
      packet.writeUInt32BE(seq, 16);
      pending.set(seq, { peer: peer.hostId, sentNs: process.hrtime.bigint() });
      socket.send(packet, peer.port, peer.address, (error) => {
        // Unroutable or refused at once: a lost probe all the same (it stays pending until its timeout).
        if (error) options.log?.debug({ err: error.message, peer: peer.hostId }, 'probe not sent');
      });
    }
  }

  const intervalMs = options.intervalMs ?? 1000;
  const timer = intervalMs > 0 ? setInterval(tick, intervalMs) : null;
  timer?.unref();

  return {
    port: socket.address().port,
    tick,
    answered: () => answered,
    setPeers(next) {
      peers = next.filter((p) => p.address && p.port);
      for (const peer of next) if (peer.region) regionOf.set(peer.hostId, peer.region);
    },
    take() {
      expire();
      const samples = done;
      done = [];
      const nowMs = clock.nowMs();
      const periodS = Math.max(0, (nowMs - periodStartMs) / 1000);
      periodStartMs = nowMs;
      return reportOf(samples, regionOf, periodS, 'sockets');
    },
    async close() {
      if (timer) clearInterval(timer);
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}

/**
 * The sim fleet's prober: for the time since the previous take, one probe per peer per `intervalMs`
 * (numbered by time, so every replica and restart agrees), each round trip from `simRoundTripMs`.
 */
export function createModelProber(options: { hostId: string; intervalMs?: number; clock?: Clock }): PeerProber {
  const clock = options.clock ?? systemClock;
  const intervalMs = options.intervalMs ?? 1000;
  let peers: ProbePeer[] = [];
  let region: string | undefined;
  const regionOf = new Map<string, string>();
  let fromMs = clock.nowMs();
  return {
    setPeers(next, selfRegion) {
      peers = [...next];
      region = selfRegion ?? region;
      for (const peer of next) if (peer.region) regionOf.set(peer.hostId, peer.region);
    },
    take() {
      const toMs = clock.nowMs();
      const first = Math.ceil(fromMs / intervalMs);
      const last = Math.floor(toMs / intervalMs);
      const periodS = Math.max(0, (toMs - fromMs) / 1000);
      fromMs = toMs;
      // At most an hour of probes per take (an agent stopped for a day sends no day of figures).
      const start = Math.max(first, last - Math.floor(3_600_000 / intervalMs));
      const samples: ProbeSample[] = [];
      for (const peer of peers) {
        // A host of another region is probed only once the own region is known (both ends of the model).
        if (peer.region && !region) continue;
        const peerRegion = peer.region ?? region ?? '';
        for (let n = start; n < last; n++)
          samples.push({
            peer: peer.hostId,
            rttMs: simInterRegionRoundTripMs(region ?? '', options.hostId, peerRegion, peer.hostId, n),
          });
      }
      return reportOf(samples, regionOf, periodS, 'model');
    },
    async close() {},
  };
}

/** The report of some probes: the own region's figures, and those of other regions apart; null when none. */
export function reportOf(
  samples: readonly ProbeSample[],
  regionOf: ReadonlyMap<string, string>,
  periodS: number,
  method: ProbeReport['method'],
): ProbeReport | null {
  if (samples.length === 0) return null;
  const { local, remote } = splitByRegion(samples, regionOf);
  return { periodS, ...summarizeProbes(local), method, ...(remote.length > 0 && { remote }) };
}
