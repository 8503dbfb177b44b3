/**
 * The agent's telemetry loop: about once a minute, what its prober measured towards its peers and how much
 * CPU and disk each server used since the previous report (differences of the driver's counters), sent to
 * the control plane, which answers the peers to probe next. Failures are logged and the figures of that
 * report dropped (telemetry is a sample, not a ledger): the next report starts a new period.
 */
import type { Driver } from '../compute/index.ts';
import { readFile } from 'node:fs/promises';
import type { HostCpuSteal, TelemetryAnswer, TelemetryBody, ServerUsageDelta } from '../contract/index.ts';
import { systemClock, type Clock, type Logger } from '../core/index.ts';
import { cpuStealRatio, parseCpuTicks, usageDelta, type UsageCounters } from '../telemetry/index.ts';
import type { PeerProber } from './probes.ts';

export interface TelemetryLink {
  telemetry(hostId: string, body: TelemetryBody): Promise<TelemetryAnswer>;
}

export interface TelemetryLoopOptions {
  hostId: string;
  link: TelemetryLink;
  driver: Pick<Driver, 'usage'>;
  log: Logger;
  /** Absent: no peer probes (the report carries usage only). */
  prober?: PeerProber;
  /** Report the servers' counters (real hosts); the sim fleet's figures come from the model on the control plane. */
  reportUsage: boolean;
  /** The host's CPU steal since the previous call (null: none yet); absent: not reported. */
  cpuSteal?: () => Promise<HostCpuSteal | null>;
  /** Until the control plane says otherwise (default 60 s). */
  intervalMs?: number;
  clock?: Clock;
}

export function createTelemetryLoop(options: TelemetryLoopOptions) {
  const clock = options.clock ?? systemClock;
  let intervalMs = options.intervalMs ?? 60_000;
  let timer: NodeJS.Timeout | null = null;
  let running = false;
  let previous: { atMs: number; counters: Map<string, UsageCounters> } | null = null;
  let current: Promise<void> | null = null;

  async function usage(): Promise<ServerUsageDelta[] | undefined> {
    if (!options.reportUsage) return undefined;
    const atMs = clock.nowMs();
    const readings = (await options.driver.usage?.()) ?? [];
    const counters = new Map(readings.map((r) => [r.serverId, r as UsageCounters]));
    const deltas: ServerUsageDelta[] = [];
    if (previous) {
      const seconds = (atMs - previous.atMs) / 1000;
      for (const [serverId, now] of counters) {
        const delta = usageDelta(serverId, previous.counters.get(serverId), now, seconds);
        if (delta) deltas.push(delta);
      }
    }
    previous = { atMs, counters };
    return deltas;
  }

  async function once(): Promise<void> {
    try {
      const probes = options.prober?.take() ?? undefined;
      const deltas = await usage();
      const cpu = (await options.cpuSteal?.().catch(() => null)) ?? null;
      const answer = await options.link.telemetry(options.hostId, {
        ...(probes && { probes }),
        ...(cpu && { cpu }),
        ...(deltas && deltas.length > 0 && { usage: deltas }),
      });
      options.prober?.setPeers(answer.peers, answer.region);
      if (answer.reportIntervalMs >= 1000 && answer.reportIntervalMs !== intervalMs) {
        intervalMs = answer.reportIntervalMs;
        schedule();
      }
    } catch (error) {
      options.log.warn(
        { host_id: options.hostId, err: error instanceof Error ? error.message : String(error) },
        'telemetry failed',
      );
    }
  }

  function run(): Promise<void> {
    current ??= once().finally(() => (current = null));
    return current;
  }

  function schedule() {
    if (timer) clearInterval(timer);
    if (!running) return;
    timer = setInterval(() => void run(), intervalMs);
    timer.unref();
  }

  return {
    start() {
      if (running) return;
      running = true;
      schedule();
      void run();
    },
    /** One report now (tests, shutdown). */
    runOnce: run,
    async stop() {
      running = false;
      if (timer) clearInterval(timer);
      timer = null;
      await current;
    },
  };
}

export type TelemetryLoop = ReturnType<typeof createTelemetryLoop>;

/**
 * The host's CPU steal between calls from /proc/stat: steal ticks over all ticks of all CPUs since the
 * previous reading (the first call only reads). A guest of a hypervisor that makes it wait shows steal; bare
 * metal shows 0.
 */
export function createProcStatSteal(options: { path?: string; clock?: Clock } = {}) {
  const clock = options.clock ?? systemClock;
  let previous: { atMs: number; ticks: { total: number; steal: number } } | null = null;
  return async (): Promise<HostCpuSteal | null> => {
    const text = await readFile(options.path ?? '/proc/stat', 'utf8').catch(() => '');
    const ticks = parseCpuTicks(text);
    if (!ticks) return null;
    const atMs = clock.nowMs();
    const ratio = cpuStealRatio(previous?.ticks ?? null, ticks);
    const periodS = previous ? Math.min(86_400, (atMs - previous.atMs) / 1000) : 0;
    previous = { atMs, ticks };
    return ratio === null || !(periodS > 0) ? null : { periodS, stealRatio: ratio, method: 'procfs' };
  };
}

/** The sim fleet's CPU steal: none (its hosts are modelled as bare metal with pinned, unshared threads). */
export function createModelSteal(options: { clock?: Clock } = {}) {
  const clock = options.clock ?? systemClock;
  let previousMs: number | null = null;
  return async (): Promise<HostCpuSteal | null> => {
    const atMs = clock.nowMs();
    const periodS = previousMs === null ? 0 : Math.min(86_400, (atMs - previousMs) / 1000);
    previousMs = atMs;
    return periodS > 0 ? { periodS, stealRatio: 0, method: 'model' } : null;
  };
}
