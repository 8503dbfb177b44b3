import type { InstanceSpec, ObservedInstance } from '../compute/index.ts';
import type { DesiredInstance } from '../contract/index.ts';

export type { DesiredInstance };

export type DriverOperation =
  | { kind: 'start'; serverId: string; spec: InstanceSpec; rebootGeneration: number }
  | { kind: 'stop'; serverId: string; force: boolean }
  | { kind: 'reboot'; serverId: string; rebootGeneration: number; spec: InstanceSpec }
  | { kind: 'destroy'; serverId: string };

/**
 * The reconcile step of the host agent, pure: from desired and observed instances, the driver operations
 * that bring one closer to the other. A stopping instance is left alone until it settles; a starting one
 * is started again (drivers resume a boot that a previous agent left half done, and an agent never runs
 * two operations on one server at once); an instance the control plane does not know is an orphan and is
 * destroyed.
 */
export function planOperations(desired: DesiredInstance[], observed: ObservedInstance[]): DriverOperation[] {
  const seen = new Map(observed.map((o) => [o.serverId, o]));
  const operations: DriverOperation[] = [];
  for (const want of desired) {
    const serverId = want.spec.serverId;
    const have = seen.get(serverId);
    seen.delete(serverId);
    if (want.desired === 'deleted') {
      if (have) operations.push({ kind: 'destroy', serverId });
      continue;
    }
    if (want.desired === 'stopped') {
      if (have && (have.power === 'running' || have.power === 'starting'))
        operations.push({ kind: 'stop', serverId, force: want.forceStop });
      continue;
    }
    if (
      !have ||
      have.power === 'stopped' ||
      have.power === 'crashed' ||
      have.power === 'starting' ||
      have.power === 'failed'
    ) {
      operations.push({ kind: 'start', serverId, spec: want.spec, rebootGeneration: want.rebootGeneration });
    } else if (have.power === 'running' && have.rebootGeneration < want.rebootGeneration) {
      operations.push({ kind: 'reboot', serverId, rebootGeneration: want.rebootGeneration, spec: want.spec });
    }
  }
  for (const orphan of seen.keys()) operations.push({ kind: 'destroy', serverId: orphan });
  return operations;
}

/** How the agent retries a driver operation that fails: capped exponential backoff with jitter. */
export interface RetryPolicy {
  /** The wait after the first failure. */
  baseDelayMs: number;
  /** No wait is longer: retries go on at most this far apart, also after the agent gave up. */
  maxDelayMs: number;
  /** Each wait is drawn from [delay × (1 − jitterRatio), delay], so that hosts do not retry in step. */
  jitterRatio: number;
  /** Failures of one operation after which its server is reported `failed` with the driver's message. */
  maxAttempts: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  baseDelayMs: 1000,
  maxDelayMs: 5 * 60_000,
  jitterRatio: 0.5,
  maxAttempts: 5,
};

/** The wait before the next attempt after `failures` failures in a row; `random` is in [0, 1). Pure. */
export function backoffDelayMs(failures: number, policy: RetryPolicy, random: number): number {
  const exponential = policy.baseDelayMs * 2 ** Math.max(0, Math.min(failures - 1, 52));
  const capped = Math.min(policy.maxDelayMs, exponential);
  const jitter = Math.min(Math.max(policy.jitterRatio, 0), 1) * Math.min(Math.max(random, 0), 1);
  return Math.round(capped * (1 - jitter));
}

/** What the agent remembers of a server whose driver operation keeps failing. */
export interface RetryState {
  /** The failing operation, as `operationKey` names it: another operation starts afresh. */
  operation: string;
  kind: DriverOperation['kind'];
  /** Failures in a row. */
  failures: number;
  /** The driver's message of the last failure. */
  lastError: string;
  /** No new attempt before this time. */
  nextAttemptAtMs: number;
}

/** Names an operation for retry purposes: a forced stop or a newer reboot is not the same operation. Pure. */
export function operationKey(op: DriverOperation): string {
  switch (op.kind) {
    case 'stop':
      return op.force ? 'stop:force' : 'stop';
    case 'reboot':
      return `reboot:${op.rebootGeneration}`;
    default:
      return op.kind;
  }
}

/**
 * The wait after `failures` failures in a row: the backoff until `maxAttempts`, then the cap (with jitter),
 * since the server is reported failed by then and only a fix on the host (or a new request) can help. Pure.
 */
export function retryDelayMs(failures: number, policy: RetryPolicy, random: number): number {
  return failures >= policy.maxAttempts
    ? backoffDelayMs(Number.MAX_SAFE_INTEGER, policy, random)
    : backoffDelayMs(failures, policy, random);
}

/** The retry state after `op` failed with `message` at `nowMs`. Pure. */
export function recordFailure(
  previous: RetryState | undefined,
  op: DriverOperation,
  message: string,
  nowMs: number,
  policy: RetryPolicy,
  random: number,
): RetryState {
  const operation = operationKey(op);
  const failures = previous?.operation === operation ? previous.failures + 1 : 1;
  return {
    operation,
    kind: op.kind,
    failures,
    lastError: message,
    nextAttemptAtMs: nowMs + retryDelayMs(failures, policy, random),
  };
}

export function hasGivenUp(state: RetryState, policy: RetryPolicy): boolean {
  return state.failures >= policy.maxAttempts;
}

/**
 * Splits planned operations into those that may run now and those waiting out their backoff, and names
 * the servers whose retry state no longer applies (the plan wants nothing of them, or something else:
 * desired state changed, or the instance converged by itself). Pure.
 */
export function gateOperations(
  operations: DriverOperation[],
  retries: ReadonlyMap<string, RetryState>,
  nowMs: number,
): { ready: DriverOperation[]; waiting: DriverOperation[]; settled: string[] } {
  const ready: DriverOperation[] = [];
  const waiting: DriverOperation[] = [];
  const stillFailing = new Set<string>();
  for (const op of operations) {
    const retry = retries.get(op.serverId);
    if (retry && retry.operation === operationKey(op)) {
      stillFailing.add(op.serverId);
      if (nowMs < retry.nextAttemptAtMs) {
        waiting.push(op);
        continue;
      }
    }
    ready.push(op);
  }
  const settled = [...retries.keys()].filter((serverId) => !stillFailing.has(serverId));
  return { ready, waiting, settled };
}

const maxDetailLength = 1500;

/**
 * What the agent reports: the driver's observations, except that a server whose operation failed
 * `maxAttempts` times in a row is reported `failed` with the driver's message (listed even when the
 * driver has no instance for it, as after a start that could not find its image). Pure.
 */
export function reportedInstances(
  observed: ObservedInstance[],
  retries: ReadonlyMap<string, RetryState>,
  policy: RetryPolicy,
): ObservedInstance[] {
  const failed = new Map<string, RetryState>();
  for (const [serverId, state] of retries) if (hasGivenUp(state, policy)) failed.set(serverId, state);
  if (failed.size === 0) return observed;
  const asFailed = (serverId: string, state: RetryState, rebootGeneration: number): ObservedInstance => {
    const message =
      state.lastError.length > maxDetailLength ? `${state.lastError.slice(0, maxDetailLength)}…` : state.lastError;
    return {
      serverId,
      power: 'failed',
      rebootGeneration,
      detail: `${state.kind} failed ${state.failures} times: ${message}`,
    };
  };
  const reported = observed.map((o) => {
    const state = failed.get(o.serverId);
    return state ? asFailed(o.serverId, state, o.rebootGeneration) : o;
  });
  const listed = new Set(observed.map((o) => o.serverId));
  for (const [serverId, state] of failed) if (!listed.has(serverId)) reported.push(asFailed(serverId, state, 0));
  return reported;
}
