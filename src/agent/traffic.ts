/**
 * The agent's traffic loop on a qemu host: every second it reads the DDoS meter (`inet vmcloud_ddos_meter`,
 * per protected address: an IPv4, an IPv6 /64) into one observation per address; at each 5-minute slot
 * boundary it closes the slot of every server — the tap's counters (bytes and packets in/out, the server's
 * view) and the nft accounting counters (`inet vmcloud_acct`: the bytes to and from the provider's sites,
 * unmetered) — and sends both, with the flow records its flow sources drained (conntrack's ended
 * connections; the firewall's drop sets, src/traffic/firewall-drops.ts), to the control plane
 * (`POST /v1/agent/hosts/:id/traffic`). The answer is the mitigation the host should have: tables are
 * installed, replaced or deleted to match, and the packets they dropped are reported with the next report.
 *
 * A failed report keeps its samples, flows and drops for the next one (bounded), so a slot is never lost to
 * a short control-plane outage; observations older than a minute are dropped (detection wants the present).
 */
import type { HostMitigation, HostTrafficAnswer, HostTrafficBody } from '../contract/index.ts';
import { systemClock, type Clock, type Logger } from '../core/index.ts';
import {
  accountingRuleset,
  accountingTable,
  counterDelta,
  counterNames,
  createConntrackFlows,
  createFirewallDropFlows,
  parseNftCounters,
  readInterfaceCounters,
  serverViewOfTap,
  type InterfaceCounters,
} from '../traffic/index.ts';
import {
  compileMitigation,
  meterRuleset,
  meterTable,
  mitigationCounters,
  mitigationTable,
  observationOf,
  parseNftCountersJson,
  protectedTarget,
  type MeterReading,
} from '../ddos/index.ts';
import { firewallTable, parseFirewallDrops } from '../network/index.ts';

export interface HostTap {
  serverId: string;
  /** The tap interface on the host. */
  ifname: string;
  /** Public addresses of the server the fast path watches (IPv4; IPv6 per /64), besides those the control
   * plane names in its answers. */
  addresses: string[];
}

export interface TrafficLink {
  traffic(hostId: string, body: HostTrafficBody): Promise<HostTrafficAnswer>;
}

export interface TrafficLoopOptions {
  hostId: string;
  link: TrafficLink;
  log: Logger;
  /** The servers' taps now. */
  taps: () => Promise<HostTap[]>;
  /** `nft` with arguments and optional stdin (nftRunner of src/ddos). */
  nft: (args: string[], input?: string) => Promise<string>;
  /** The provider's own prefixes (unmetered) until the control plane's answer names them. */
  unmetered?: { v4: readonly string[]; v6: readonly string[] };
  /** Where the interfaces' counters are (default /sys/class/net). */
  sysClassNet?: string;
  /**
   * The connection tracking table's text (`/proc/net/nf_conntrack`, with nf_conntrack_acct=1): ended
   * connections of the servers become flow records (src/traffic/conntrack.ts). Absent: no flow records.
   */
  readConntrack?: () => Promise<string>;
  /**
   * Read the firewall's drop sets (`nft -j list table bridge vmcloud_fw`) each period: what the servers'
   * firewalls dropped becomes flow records with action `drop` (src/traffic/firewall-drops.ts).
   */
  firewallDrops?: boolean;
  /** The meter period (default 1 s) and how many periods a report gathers (default 1). */
  tickMs?: number;
  reportEveryTicks?: number;
  /** The accounting slot (default 300 s; tests shorten it). */
  slotSeconds?: number;
  /** The hook of the mitigation tables (default forward: the guests' traffic is routed or bridged). */
  mitigationHook?: 'forward' | 'input' | 'prerouting';
  clock?: Clock;
}

const keyOf = (serverId: string) => `s_${serverId.replace(/[^A-Za-z0-9]/g, '_').slice(0, 36)}`;
const maxPending = 50_000;

export function createTrafficLoop(options: TrafficLoopOptions) {
  const clock = options.clock ?? systemClock;
  const tickMs = options.tickMs ?? 1000;
  const slotMs = (options.slotSeconds ?? 300) * 1000;
  const every = Math.max(1, options.reportEveryTicks ?? 1);
  let timer: NodeJS.Timeout | null = null;
  let current: Promise<void> | null = null;
  let ticks = 0;
  let rulesetKey = '';
  let unmetered = options.unmetered ?? { v4: [], v6: [] };
  /** Which server each watched target (an IPv4, an IPv6 /64) belongs to: conntrack entries → servers. */
  let targetServer = new Map<string, string>();
  const flowSource = options.readConntrack
    ? createConntrackFlows({
        read: options.readConntrack,
        serverOf: (address) => {
          try {
            return targetServer.get(protectedTarget(address).text) ?? null;
          } catch {
            return null;
          }
        },
        nowMs: () => clock.nowMs(),
      })
    : null;
  /** Which server each tap belongs to (the taps of the last tick): drop-set elements → servers. */
  let tapServer = new Map<string, string>();
  const dropSource = options.firewallDrops
    ? createFirewallDropFlows({
        read: async () => {
          const json = await options.nft(['-j', 'list', 'table', 'bridge', firewallTable]).catch(() => null);
          try {
            return json ? parseFirewallDrops(json) : [];
          } catch {
            return [];
          }
        },
        serverOf: (ifname) => tapServer.get(ifname) ?? null,
        nowMs: () => clock.nowMs(),
      })
    : null;
  /** The addresses the control plane says each server has (its last answer). */
  let watch = new Map<string, string[]>();
  const addressesOf = (tap: HostTap) => [...new Set([...tap.addresses, ...(watch.get(tap.serverId) ?? [])])];
  let meter: MeterReading | null = null;
  /** Per server: the slot being counted and the readings at its start. */
  const open = new Map<
    string,
    { slot: number; tap: InterfaceCounters | null; acct: { txUnmetered: number; rxUnmetered: number } }
  >();
  const installed = new Map<string, { input: string; attackId: string; dropped: number }>();
  let pending: Required<Pick<HostTrafficBody, 'samples' | 'flows' | 'observations' | 'dropped'>> = {
    samples: [],
    flows: [],
    observations: [],
    dropped: [],
  };

  async function readAcct(): Promise<Map<string, { packets: number; bytes: number }>> {
    const json = await options.nft(['-j', 'list', 'counters', 'table', 'inet', accountingTable]).catch(() => null);
    return json ? parseNftCounters(json) : new Map();
  }

  async function ensureRulesets(taps: HostTap[]) {
    const key = JSON.stringify([taps.map((t) => [t.serverId, t.ifname, addressesOf(t)]), unmetered]);
    if (key === rulesetKey) return;
    // Replacing the accounting table restarts its counters from 0: what the open slots counted so far is
    // carried over (their baseline becomes minus that), so a change of servers or prefixes loses nothing.
    const before = open.size > 0 ? await readAcct() : new Map<string, { packets: number; bytes: number }>();
    for (const [serverId, state] of open) {
      const c = counterNames(keyOf(serverId));
      state.acct = {
        txUnmetered: state.acct.txUnmetered - (before.get(c.txUnmetered)?.bytes ?? state.acct.txUnmetered),
        rxUnmetered: state.acct.rxUnmetered - (before.get(c.rxUnmetered)?.bytes ?? state.acct.rxUnmetered),
      };
    }
    await options.nft(
      ['-f', '-'],
      accountingRuleset({
        unmetered4: unmetered.v4,
        unmetered6: unmetered.v6,
        taps: taps.map((t) => ({ ifname: t.ifname, key: keyOf(t.serverId) })),
      }),
    );
    const addresses = taps.flatMap(addressesOf).filter((a) => {
      try {
        protectedTarget(a);
        return true;
      } catch {
        return false;
      }
    });
    await options.nft(['-f', '-'], meterRuleset(addresses));
    targetServer = new Map(
      taps.flatMap((t) =>
        addressesOf(t).flatMap((a) => {
          try {
            return [[protectedTarget(a).text, t.serverId] as const];
          } catch {
            return [];
          }
        }),
      ),
    );
    options.log.debug(
      { servers: taps.length, addresses: addresses.length },
      'traffic: accounting and meter tables replaced',
    );
    rulesetKey = key;
    // The meter's counters started again from 0: its next reading is a new baseline.
    meter = null;
  }

  async function account(taps: HostTap[], nowMs: number) {
    const slotNow = Math.floor(nowMs / slotMs);
    const acct = await readAcct();
    const unmetered = (serverId: string) => {
      const c = counterNames(keyOf(serverId));
      return { txUnmetered: acct.get(c.txUnmetered)?.bytes ?? 0, rxUnmetered: acct.get(c.rxUnmetered)?.bytes ?? 0 };
    };
    for (const tap of taps) {
      const raw = await readInterfaceCounters(tap.ifname, options.sysClassNet);
      const reading = raw ? serverViewOfTap(raw) : null;
      const state = open.get(tap.serverId);
      if (!state) {
        open.set(tap.serverId, { slot: slotNow, tap: reading, acct: unmetered(tap.serverId) });
        continue;
      }
      if (state.slot === slotNow || !reading) continue;
      // The slot is over: what moved since its start is its sample (slots are 5 minutes, counted
      // from the server's first full slot; the agent's own first partial slot is a baseline).
      const d = counterDelta(state.tap, reading);
      const u = unmetered(tap.serverId);
      // A counter below its baseline was reset outside the loop (a table deleted by hand): count from 0.
      const du = (now: number, before: number) => (now >= before ? now - before : now);
      const sampleSlot = (state.slot * slotMs) / 300_000;
      if (state.tap)
        pending.samples.push({
          serverId: tap.serverId,
          slot: Math.floor(sampleSlot),
          ...d,
          rxUnmeteredBytes: Math.min(d.rxBytes, du(u.rxUnmetered, state.acct.rxUnmetered)),
          txUnmeteredBytes: Math.min(d.txBytes, du(u.txUnmetered, state.acct.txUnmetered)),
        });
      open.set(tap.serverId, { slot: slotNow, tap: reading, acct: u });
    }
    for (const serverId of open.keys()) if (!taps.some((t) => t.serverId === serverId)) open.delete(serverId);
  }

  async function observe(taps: HostTap[], nowMs: number) {
    const json = await options.nft(['-j', 'list', 'counters', 'table', 'inet', meterTable]).catch(() => null);
    if (!json) return;
    const reading: MeterReading = { atMs: nowMs, counters: parseNftCountersJson(json) };
    if (meter) {
      const targets = new Set<string>();
      for (const a of taps.flatMap(addressesOf))
        try {
          targets.add(protectedTarget(a).text);
        } catch {
          // not an address the meter watches
        }
      for (const target of targets)
        pending.observations.push({ address: target, ...observationOf(target, meter, reading) });
    }
    meter = reading;
    pending.observations = pending.observations.filter((o) => o.atMs > nowMs - 60_000);
  }

  async function readDropped(address: string): Promise<number> {
    const json = await options
      .nft(['-j', 'list', 'counters', 'table', 'inet', mitigationTable(address)])
      .catch(() => null);
    if (!json) return 0;
    const counters = parseNftCountersJson(json);
    return mitigationCounters.reduce((sum, name) => sum + (counters.get(name)?.packets ?? 0), 0);
  }

  async function collectDrops() {
    for (const [address, table] of installed) {
      const total = await readDropped(address);
      if (total > table.dropped) {
        pending.dropped.push({ address, attackId: table.attackId, packets: total - table.dropped });
        table.dropped = total;
      }
    }
  }

  async function applyMitigations(desired: HostMitigation[]) {
    const wanted = new Map(desired.map((m) => [protectedTarget(m.address).text, m]));
    for (const [address, m] of wanted) {
      const input = compileMitigation({
        address,
        customRules: m.customRules,
        perSourcePps: m.perSourcePps,
        synPps: m.synPps,
        hook: options.mitigationHook ?? 'forward',
      });
      const have = installed.get(address);
      if (have?.input === input && have.attackId === m.attackId) continue;
      // `nft -f` of the table flushes it first: its counters restart, and so does what was reported.
      await options.nft(['-f', '-'], input);
      installed.set(address, { input, attackId: m.attackId, dropped: 0 });
      options.log.warn({ address, attack_id: m.attackId }, 'ddos: mitigation installed');
    }
    for (const [address, have] of installed) {
      if (wanted.has(address)) continue;
      const total = await readDropped(address);
      if (total > have.dropped)
        pending.dropped.push({ address, attackId: have.attackId, packets: total - have.dropped });
      await options.nft(['delete', 'table', 'inet', mitigationTable(address)]).catch(() => undefined);
      installed.delete(address);
      options.log.info({ address, attack_id: have.attackId }, 'ddos: mitigation removed');
    }
  }

  async function once(): Promise<void> {
    try {
      const nowMs = clock.nowMs();
      const taps = await options.taps();
      await ensureRulesets(taps);
      await observe(taps, nowMs);
      await account(taps, nowMs);
      if (flowSource) pending.flows.push(...(await flowSource.drain()));
      tapServer = new Map(taps.map((t) => [t.ifname, t.serverId]));
      if (dropSource) pending.flows.push(...(await dropSource.drain()));
      await collectDrops();
      ticks++;
      if (ticks % every !== 0 && pending.samples.length === 0) return;
      const body = pending;
      pending = { samples: [], flows: [], observations: [], dropped: [] };
      let answer: HostTrafficAnswer;
      try {
        answer = await options.link.traffic(options.hostId, {
          ...(body.samples.length && { samples: body.samples.slice(0, 10_000) }),
          ...(body.flows.length && { flows: body.flows.slice(0, 50_000) }),
          ...(body.observations.length && { observations: body.observations.slice(-10_000) }),
          ...(body.dropped.length && { dropped: body.dropped }),
        });
      } catch (error) {
        // Keep what is a ledger (samples, flows, drops) for the next report, bounded; observations age out.
        pending = {
          samples: [...body.samples, ...pending.samples].slice(-maxPending),
          flows: [...body.flows, ...pending.flows].slice(-maxPending),
          observations: [...body.observations, ...pending.observations],
          dropped: [...body.dropped, ...pending.dropped],
        };
        throw error;
      }
      // What did not fit this report waits for the next.
      pending.samples.unshift(...body.samples.slice(10_000));
      pending.flows.unshift(...body.flows.slice(50_000));
      unmetered = answer.unmetered;
      watch = new Map(answer.watch.map((w) => [w.serverId, w.addresses]));
      await applyMitigations(answer.mitigations);
    } catch (error) {
      options.log.warn(
        { host_id: options.hostId, err: error instanceof Error ? error.message : String(error) },
        'traffic report failed',
      );
    }
  }

  function run(): Promise<void> {
    current ??= once().finally(() => (current = null));
    return current;
  }

  return {
    start() {
      if (timer) return;
      timer = setInterval(() => void run(), tickMs);
      timer.unref();
      void run();
    },
    /** One tick now (tests). */
    runOnce: run,
    /** The mitigation tables in place (address → attack). */
    installed: () => new Map([...installed].map(([a, t]) => [a, t.attackId])),
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await current;
    },
  };
}
export type TrafficLoop = ReturnType<typeof createTrafficLoop>;
