import type { Driver, DriverVolume, ObservedInstance } from '../compute/index.ts';
import type { ObservedVolume } from '../contract/index.ts';
import type { HostDataPlane } from './network-pass.ts';
import { createNetworkPass } from './network-pass.ts';
import { planVolumeOperations, volumeOperationKeys, type VolumeOperation } from './volume-plan.ts';
import { systemClock, type Clock, type Logger } from '../core/index.ts';
import type { ControlPlaneLink } from './link.ts';
import { createTelemetryLoop, type TelemetryLoopOptions } from './telemetry.ts';
import {
  defaultRetryPolicy,
  gateOperations,
  hasGivenUp,
  planOperations,
  recordFailure,
  reportedInstances,
  retryDelayMs,
  type DriverOperation,
  type RetryPolicy,
  type RetryState,
} from './plan.ts';

export interface AgentOptions {
  hostId: string;
  link: ControlPlaneLink;
  driver: Driver;
  log: Logger;
  /** A full pass (desired, observed, full report) at least this often, even with no poke. */
  resyncIntervalMs: number;
  heartbeatIntervalMs: number;
  gracefulStopTimeoutMs: number;
  /** Backoff of failed driver operations (default `defaultRetryPolicy`: 1 s doubling to 5 min, 5 attempts). */
  retryPolicy?: Partial<RetryPolicy>;
  clock?: Clock;
  /** Jitter source, in [0, 1) (default Math.random). */
  random?: () => number;
  /**
   * The image slugs the host can boot now (its image store); a heartbeat carries them whenever they
   * differ from what the control plane last took. Absent: the host boots every image (simulated hosts).
   */
  images?: () => Promise<string[]>;
  /** The host's network data plane (private segments, public routes); absent: the agent leaves networks alone. */
  dataPlane?: HostDataPlane;
  /** Peer probes and per-server usage sent about once a minute (needs `link.telemetry`); absent: none. */
  telemetry?: Pick<TelemetryLoopOptions, 'prober' | 'reportUsage' | 'intervalMs' | 'cpuSteal'>;
}

/** A server whose driver operation failed and is being retried (for metrics, the host API, tests). */
export interface OperationFailure {
  serverId: string;
  operation: DriverOperation['kind'];
  failures: number;
  lastError: string;
  nextAttemptAtMs: number;
  /** `maxAttempts` reached: the server is reported `failed`; retries go on at the capped interval. */
  gaveUp: boolean;
}

export interface Agent {
  start(): void;
  /** Something changed for this host: run a pass soon. */
  poke(): void;
  /** Resolves once a pass has run with no operation left in flight (tests, shutdown). */
  idle(): Promise<void>;
  stop(): Promise<void>;
  /** Servers whose last driver operation failed. */
  failures(): OperationFailure[];
}

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : typeof error === 'string' ? error : JSON.stringify(error);

/**
 * The host agent loop, the same for simulated and real hosts: read desired state, converge through the
 * driver, report what is. Level-triggered: a pass may run at any time and repeats nothing that is done.
 *
 * No driver error ends the loop or the process: every driver promise is settled into a value before
 * anything else is awaited, a failed operation waits out a capped exponential backoff with jitter before
 * it runs again (never a tight loop), and after `maxAttempts` failures in a row its server is reported
 * `failed` with the driver's message, which the control plane shows as `error`. Retries go on at the cap,
 * so a server whose cause was fixed (its image imported) converges by itself.
 */
export function createAgent(options: AgentOptions): Agent {
  const { hostId, link, driver, log } = options;
  const policy: RetryPolicy = { ...defaultRetryPolicy, ...options.retryPolicy };
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const inFlight = new Map<string, Promise<void>>();
  const retries = new Map<string, RetryState>();
  let running = false;
  let passQueued = false;
  let passPromise: Promise<void> | null = null;
  let resyncTimer: NodeJS.Timeout | null = null;
  let heartbeatTimer: NodeJS.Timeout | null = null;
  let retryTimer: NodeJS.Timeout | null = null;
  /** When the last pass compared the servers' and the volumes' retries with the clock. */
  let serversCheckedAtMs = -Infinity;
  let volumesCheckedAtMs = -Infinity;
  /** What the control plane was last told of each instance, by partial or full reports. */
  const reported = new Map<string, string>();
  let forceFullReport = true;
  /** Volumes: operations failing (backoff, like instances), and what the last volume report said. */
  const volumeRetries = new Map<string, { failures: number; lastError: string; nextAttemptAtMs: number }>();
  let reportedVolumes: string | null = null;
  const volumesEnabled = () => link.desiredVolumes !== undefined && link.reportVolumes !== undefined;
  const networkPass = createNetworkPass({ hostId, link, dataPlane: options.dataPlane, driver, log });
  const telemetryLink = link.telemetry?.bind(link);
  const telemetry =
    options.telemetry && telemetryLink
      ? createTelemetryLoop({ hostId, link: { telemetry: telemetryLink }, driver, log, clock, ...options.telemetry })
      : null;

  async function execute(op: DriverOperation): Promise<void> {
    switch (op.kind) {
      case 'start':
        return driver.start(op.spec, op.rebootGeneration);
      case 'stop':
        return driver.stop(op.serverId, { gracefulTimeoutMs: op.force ? 0 : options.gracefulStopTimeoutMs });
      case 'reboot':
        return driver.reboot(op.serverId, op.rebootGeneration, op.spec);
      case 'destroy':
        return driver.destroy(op.serverId);
    }
  }

  /** The driver's instances as the control plane is to see them (failed servers overlaid). */
  async function observe(): Promise<ObservedInstance[]> {
    return reportedInstances(await driver.list(), retries, policy);
  }

  /**
   * Reports go out one at a time, each observing the driver once it is its turn: an observation taken
   * earlier can never land after a later one. Two reports in flight at once (an operation's "stopped" and a
   * pass's full report that saw "stopping") would otherwise race at the control plane, and the stale one,
   * committed last, would turn a server that had reached `stopped` (its action finished) back to `stopping`.
   */
  let reportQueue: Promise<unknown> = Promise.resolve();
  function inTurn<T>(report: () => Promise<T>): Promise<T> {
    const turn = reportQueue.then(report, report);
    reportQueue = turn.catch(() => {});
    return turn;
  }

  async function reportPartial(observed: ObservedInstance[]): Promise<void> {
    if (observed.length === 0) return;
    await link.report(hostId, observed, { full: false });
    for (const o of observed) reported.set(o.serverId, JSON.stringify(o));
  }

  /** What the driver says of one server now, in its turn (the transition report, the outcome's). */
  function reportOne(serverId: string, options: { goneMeansFull: boolean }): Promise<void> {
    return inTurn(async () => {
      const observed = (await observe()).filter((o) => o.serverId === serverId);
      // Gone: only a full report can say so.
      if (observed.length === 0) {
        if (options.goneMeansFull) await reportFull(true);
      } else await reportPartial(observed);
    });
  }

  /** A full report when something changed that no report has said yet (or when forced: resync). */
  async function reportFull(force: boolean): Promise<void> {
    const observed = await observe();
    const news =
      observed.some((o) => reported.get(o.serverId) !== JSON.stringify(o)) || reported.size !== observed.length;
    if (!force && !news) return;
    await link.report(hostId, observed, { full: true });
    reported.clear();
    for (const o of observed) reported.set(o.serverId, JSON.stringify(o));
  }

  /**
   * Wakes a pass when the earliest backoff ends that no pass has yet seen ended: a retry whose time had come
   * when the last pass looked was launched by it (or is no longer wanted), one still in flight wakes a pass
   * when it ends. Measured against when the last pass looked, not against now: a pass that skipped a retry
   * a millisecond before its time and ended after it must still be followed by one (it stalled until the
   * resync), and a retry in flight past its time must not wake passes in a loop while it runs. Re-armed by
   * every pass, so a timer that fires early (timers and the wall clock round apart) is followed by another.
   */
  function scheduleRetryPass() {
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = null;
    const unseen = (checkedAtMs: number) => (entry: [string, { nextAttemptAtMs: number }]) =>
      !inFlight.has(entry[0]) && entry[1].nextAttemptAtMs > checkedAtMs;
    const times = [
      ...[...retries].filter(unseen(serversCheckedAtMs)),
      ...[...volumeRetries].filter(unseen(volumesCheckedAtMs)),
    ].map(([, state]) => state.nextAttemptAtMs);
    if (!running || times.length === 0) return;
    const next = Math.min(...times);
    retryTimer = setTimeout(
      () => {
        retryTimer = null;
        requestPass();
      },
      Math.max(0, next - clock.nowMs()),
    );
    retryTimer.unref();
  }

  function noteFailure(op: DriverOperation, message: string) {
    const state = recordFailure(retries.get(op.serverId), op, message, clock.nowMs(), policy, random());
    retries.set(op.serverId, state);
    const fields = {
      host_id: hostId,
      server_id: op.serverId,
      op: op.kind,
      attempt: state.failures,
      max_attempts: policy.maxAttempts,
      retry_in_ms: state.nextAttemptAtMs - clock.nowMs(),
      err: message,
    };
    if (state.failures === policy.maxAttempts)
      log.error(fields, 'driver operation failed too often: server reported failed, retrying at the capped interval');
    else log.warn(fields, 'driver operation failed: will retry after a backoff');
    scheduleRetryPass();
  }

  /** One operation: never rejects, whatever the driver does and whenever it does it. */
  async function runOperation(op: DriverOperation): Promise<void> {
    // Settled into a value at once: a driver that rejects while the transition report below is still
    // awaiting I/O leaves no rejection unhandled.
    const outcome: Promise<{ error: unknown } | null> = execute(op).then(
      () => null,
      (error: unknown) => ({ error }),
    );
    // Tell the control plane about the transition (starting, stopping) while it happens.
    await reportOne(op.serverId, { goneMeansFull: false }).catch((error: unknown) =>
      log.warn({ host_id: hostId, server_id: op.serverId, err: messageOf(error) }, 'report failed'),
    );
    const failed = await outcome;
    let failure = failed ? messageOf(failed.error) : null;
    if (!failure && op.kind === 'start') {
      // A start that "worked" into a crashed instance failed too (a guest that cannot boot): back off.
      const after = (await driver.list().catch(() => [])).find((o) => o.serverId === op.serverId);
      if (after?.power === 'crashed') failure = after.detail ?? 'the instance crashed as it started';
    }
    if (failure) noteFailure(op, failure);
    else if (retries.delete(op.serverId)) scheduleRetryPass();
    await reportOne(op.serverId, { goneMeansFull: true }).catch((error: unknown) =>
      log.warn({ host_id: hostId, server_id: op.serverId, err: messageOf(error) }, 'report failed'),
    );
  }

  function launch(op: DriverOperation) {
    const work = runOperation(op)
      .catch((error: unknown) =>
        log.error({ host_id: hostId, server_id: op.serverId, err: messageOf(error) }, 'agent operation failed'),
      )
      .finally(() => {
        inFlight.delete(op.serverId);
        requestPass();
      });
    inFlight.set(op.serverId, work);
  }

  async function executeVolume(op: VolumeOperation): Promise<void> {
    switch (op.kind) {
      case 'create':
        return driver.createVolume(op.volumeId, op.sizeGiB, op.source);
      case 'resize':
        return driver.resizeVolume(op.volumeId, op.sizeGiB);
      case 'attach':
        return driver.attachVolume(op.volumeId, op.serverId);
      case 'detach':
        return driver.detachVolume(op.volumeId);
      case 'delete':
        return driver.deleteVolume(op.volumeId);
    }
  }

  /** Every volume as the control plane is to see it: those whose operation failed too often are `failed`. */
  function volumeReport(observed: DriverVolume[]): ObservedVolume[] {
    const failed = (volumeId: string) => {
      const state = volumeRetries.get(volumeId);
      return state && state.failures >= policy.maxAttempts ? state : null;
    };
    const report: ObservedVolume[] = observed.map((v) => {
      const state = failed(v.volumeId);
      return state ? { ...v, state: 'failed', detail: state.lastError.slice(0, 1500) } : { ...v };
    });
    for (const [volumeId, state] of volumeRetries)
      if (state.failures >= policy.maxAttempts && !observed.some((v) => v.volumeId === volumeId))
        report.push({ volumeId, sizeGiB: 0, serverId: null, state: 'failed', detail: state.lastError.slice(0, 1500) });
    return report;
  }

  /** The volumes as they are now, in their turn among the reports (a stale list never lands last). */
  function reportVolumes(force: boolean): Promise<void> {
    if (!volumesEnabled()) return Promise.resolve();
    return inTurn(async () => {
      const report = volumeReport(await driver.listVolumes());
      const text = JSON.stringify(report);
      if (!force && text === reportedVolumes) return;
      await link.reportVolumes!(hostId, report);
      reportedVolumes = text;
    });
  }

  async function runVolumeOperation(op: VolumeOperation): Promise<void> {
    const outcome = await executeVolume(op).then(
      () => null,
      (error: unknown) => messageOf(error),
    );
    if (outcome) {
      const previous = volumeRetries.get(op.volumeId);
      const failures = (previous?.failures ?? 0) + 1;
      volumeRetries.set(op.volumeId, {
        failures,
        lastError: `${op.kind} failed ${failures} times: ${outcome}`,
        nextAttemptAtMs: clock.nowMs() + retryDelayMs(failures, policy, random()),
      });
      log.warn(
        { host_id: hostId, volume_id: op.volumeId, op: op.kind, attempt: failures, err: outcome },
        'volume operation failed',
      );
      scheduleRetryPass();
    } else volumeRetries.delete(op.volumeId);
    await reportVolumes(false).catch((error: unknown) =>
      log.warn({ host_id: hostId, volume_id: op.volumeId, err: messageOf(error) }, 'volume report failed'),
    );
  }

  async function volumePass(instances: ObservedInstance[], force: boolean): Promise<void> {
    if (!volumesEnabled()) return;
    const [desired, observed] = await Promise.all([link.desiredVolumes!(hostId), driver.listVolumes()]);
    driver.learnVolumeKeys?.(desired.flatMap((v) => (v.key ? [{ volumeId: v.volumeId, key: v.key }] : [])));
    // A volume this host never made (its create failed) and no longer wanted: its failures are over, or it
    // would be reported `failed` forever and its deletion never seen done.
    const present = new Set(desired.filter((v) => v.desired === 'present').map((v) => v.volumeId));
    for (const volumeId of [...volumeRetries.keys()])
      if (!present.has(volumeId) && !observed.some((v) => v.volumeId === volumeId) && !inFlight.has(volumeId))
        volumeRetries.delete(volumeId);
    const nowMs = clock.nowMs();
    volumesCheckedAtMs = nowMs;
    for (const op of planVolumeOperations(desired, observed, instances)) {
      const keys = volumeOperationKeys(op);
      if (keys.some((key) => inFlight.has(key))) continue;
      const retry = volumeRetries.get(op.volumeId);
      if (retry && nowMs < retry.nextAttemptAtMs) continue;
      const work = runVolumeOperation(op)
        .catch((error: unknown) =>
          log.error({ host_id: hostId, volume_id: op.volumeId, err: messageOf(error) }, 'volume operation failed'),
        )
        .finally(() => {
          for (const key of keys) inFlight.delete(key);
          requestPass();
        });
      for (const key of keys) inFlight.set(key, work);
    }
    await reportVolumes(force);
  }

  async function pass(): Promise<void> {
    const [desired, observed] = await Promise.all([link.desired(hostId), driver.list()]);
    driver.learn?.(desired.map((d) => d.spec));
    const force = forceFullReport;
    // The network first: a server about to start has its firewall in place before its first packet.
    await networkPass(force);
    serversCheckedAtMs = clock.nowMs();
    const { ready, settled } = gateOperations(planOperations(desired, observed), retries, serversCheckedAtMs);
    for (const serverId of settled) if (!inFlight.has(serverId)) retries.delete(serverId);
    for (const op of ready) if (!inFlight.has(op.serverId)) launch(op);
    scheduleRetryPass();
    forceFullReport = false;
    await inTurn(() => reportFull(force));
    await volumePass(observed, force);
    scheduleRetryPass();
  }

  function requestPass() {
    if (!running) return;
    if (passPromise) {
      passQueued = true;
      return;
    }
    passPromise = pass()
      .catch((error: unknown) => log.warn({ host_id: hostId, err: messageOf(error) }, 'reconcile pass failed'))
      .finally(() => {
        passPromise = null;
        if (passQueued) {
          passQueued = false;
          requestPass();
        }
      });
  }

  /** The image list the control plane last took (sorted JSON), or null before the first. */
  let imagesReported: string | null = null;
  const heartbeat = async () => {
    try {
      const images = options.images ? [...new Set(await options.images())].sort() : null;
      const imagesJson = images ? JSON.stringify(images) : null;
      const changed = images !== null && imagesJson !== imagesReported;
      await link.heartbeat(hostId, changed ? { images } : undefined);
      if (changed) imagesReported = imagesJson;
    } catch (error) {
      log.warn({ host_id: hostId, err: messageOf(error) }, 'heartbeat failed');
    }
  };

  return {
    start() {
      if (running) return;
      running = true;
      requestPass();
      const jitter = Math.floor(random() * options.resyncIntervalMs * 0.2);
      resyncTimer = setInterval(() => {
        forceFullReport = true;
        requestPass();
      }, options.resyncIntervalMs + jitter);
      heartbeatTimer = setInterval(() => void heartbeat(), options.heartbeatIntervalMs);
      resyncTimer.unref();
      heartbeatTimer.unref();
      void heartbeat();
      telemetry?.start();
    },
    poke() {
      requestPass();
    },
    async idle() {
      while (passPromise || inFlight.size > 0 || passQueued) {
        await Promise.all([passPromise, ...inFlight.values()]);
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
    async stop() {
      running = false;
      if (resyncTimer) clearInterval(resyncTimer);
      if (heartbeatTimer) clearInterval(heartbeatTimer);
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = null;
      await telemetry?.stop();
      await passPromise;
      await Promise.allSettled(inFlight.values());
    },
    failures() {
      return [...retries].map(([serverId, state]) => ({
        serverId,
        operation: state.kind,
        failures: state.failures,
        lastError: state.lastError,
        nextAttemptAtMs: state.nextAttemptAtMs,
        gaveUp: hasGivenUp(state, policy),
      }));
    },
  };
}
