/** Closed-loop load against an HTTP API: N workers, each sends its next request when the last one answered. */

export interface PhaseResult {
  op: string;
  concurrency: number;
  requests: number;
  ok: number;
  errors: number;
  elapsedS: number;
  perSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Counts of error kinds, e.g. `409 no_capacity` or `fetch failed`. */
  errorKinds: Record<string, number>;
}

export interface Outcome {
  ok: boolean;
  /** For errors: what went wrong, short (status and problem reason/code). */
  kind?: string;
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const at = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[at];
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * Runs `send` from `concurrency` workers until `maxRequests` were sent or `durationMs` passed, whichever
 * comes first, and returns throughput (successful requests per second) and latency percentiles of all requests.
 */
export async function runPhase(input: {
  op: string;
  concurrency: number;
  maxRequests: number;
  durationMs: number;
  send: (index: number) => Promise<Outcome>;
}): Promise<PhaseResult> {
  const latencies = new Float64Array(input.maxRequests);
  const errorKinds: Record<string, number> = {};
  let issued = 0;
  let completed = 0;
  let ok = 0;
  const started = performance.now();
  const deadline = started + input.durationMs;

  async function worker() {
    while (issued < input.maxRequests && performance.now() < deadline) {
      const index = issued++;
      const t0 = performance.now();
      let outcome: Outcome;
      try {
        outcome = await input.send(index);
      } catch (error) {
        outcome = { ok: false, kind: (error as Error).message.slice(0, 80) };
      }
      latencies[completed++] = performance.now() - t0;
      if (outcome.ok) ok++;
      else errorKinds[outcome.kind ?? 'error'] = (errorKinds[outcome.kind ?? 'error'] ?? 0) + 1;
    }
  }

  await Promise.all(Array.from({ length: input.concurrency }, () => worker()));
  const elapsedS = (performance.now() - started) / 1000;
  const sorted = latencies.subarray(0, completed).sort();
  return {
    op: input.op,
    concurrency: input.concurrency,
    requests: completed,
    ok,
    errors: completed - ok,
    elapsedS: round(elapsedS, 2),
    perSec: round(ok / elapsedS, 1),
    p50Ms: round(percentile(sorted, 50), 2),
    p99Ms: round(percentile(sorted, 99), 2),
    errorKinds,
  };
}
