/**
 * Attack detection, pure: per public address, a baseline of packet and bit rates learned as exponential
 * moving averages (mean and mean absolute deviation), and a threshold per tier — an observation is an attack
 * when a rate is above the tier's floor AND above both `mean + k·deviation` and `multiple × mean`. The
 * baseline learns only from calm observations, so an attack never teaches it that floods are normal. The
 * same function serves the 5-minute counters and the per-second fast path (nftables meters).
 *
 * The attack's life: `trackAttack` starts an incident on the first attack observation, follows its peak,
 * and ends it once no observation has been above the threshold for the tier's quiet time.
 */

export interface Observation {
  atMs: number;
  /** Inbound packets and bits per second towards the address. */
  pps: number;
  bps: number;
  /** Optional breakdown (packets/s) that names the vector. */
  synPps?: number;
  udpPps?: number;
  icmpPps?: number;
  /** UDP packets/s from well-known reflector ports (19, 53, 123, 161, 389, 1900, 11211). */
  reflectorPps?: number;
}

export interface Baseline {
  ppsMean: number;
  ppsDev: number;
  bpsMean: number;
  bpsDev: number;
  samples: number;
}

export interface Thresholds {
  minPps: number;
  minBps: number;
  deviations: number;
  baselineMultiple: number;
}

export type AttackVector = 'syn_flood' | 'udp_amplification' | 'udp_flood' | 'icmp_flood' | 'volumetric';

export interface Verdict {
  attack: boolean;
  /** Which rates crossed (`pps`, `bps`). */
  crossed: Array<'pps' | 'bps'>;
  vector: AttackVector | null;
  ppsThreshold: number;
  bpsThreshold: number;
  baseline: Baseline;
}

export const emptyBaseline: Baseline = { ppsMean: 0, ppsDev: 0, bpsMean: 0, bpsDev: 0, samples: 0 };

/** Weight of a new calm observation in the averages (≈ the last 20 observations). */
export const emaAlpha = 0.1;

export const reflectorPorts = [19, 53, 123, 161, 389, 1900, 11211] as const;

/**
 * Observations an address needs before its baseline is trusted. Until then (a new address) the floors are
 * multiplied by `baselineMultiple`: a new busy server is not flagged, a flood still is.
 */
export const warmupSamples = 12;

export function thresholdsOf(baseline: Baseline, t: Thresholds): { pps: number; bps: number } {
  const learned = baseline.samples > 0;
  const warm = baseline.samples >= warmupSamples ? 1 : t.baselineMultiple;
  return {
    pps: Math.max(
      t.minPps * warm,
      learned ? baseline.ppsMean + t.deviations * baseline.ppsDev : 0,
      baseline.ppsMean * t.baselineMultiple,
    ),
    bps: Math.max(
      t.minBps * warm,
      learned ? baseline.bpsMean + t.deviations * baseline.bpsDev : 0,
      baseline.bpsMean * t.baselineMultiple,
    ),
  };
}

/** The vector of an attack observation (FastNetMon's rule: a kind above 90 % of packets names it). */
export function vectorOf(o: Observation): AttackVector {
  const share = (x: number | undefined) => (o.pps > 0 ? (x ?? 0) / o.pps : 0);
  if (share(o.reflectorPps) > 0.1) return 'udp_amplification';
  if (share(o.synPps) > 0.9) return 'syn_flood';
  if (share(o.udpPps) > 0.9) return 'udp_flood';
  if (share(o.icmpPps) > 0.9) return 'icmp_flood';
  return 'volumetric';
}

function learn(b: Baseline, o: Observation): Baseline {
  if (b.samples === 0) return { ppsMean: o.pps, ppsDev: 0, bpsMean: o.bps, bpsDev: 0, samples: 1 };
  const next = (mean: number, dev: number, x: number) => {
    const m = mean + emaAlpha * (x - mean);
    return [m, dev + emaAlpha * (Math.abs(x - m) - dev)] as const;
  };
  const [ppsMean, ppsDev] = next(b.ppsMean, b.ppsDev, o.pps);
  const [bpsMean, bpsDev] = next(b.bpsMean, b.bpsDev, o.bps);
  return { ppsMean, ppsDev, bpsMean, bpsDev, samples: b.samples + 1 };
}

/** One observation against the baseline: the verdict and the baseline to keep. */
export function detect(baseline: Baseline, o: Observation, t: Thresholds): Verdict {
  const limit = thresholdsOf(baseline, t);
  const crossed: Array<'pps' | 'bps'> = [];
  if (o.pps > limit.pps) crossed.push('pps');
  if (o.bps > limit.bps) crossed.push('bps');
  const attack = crossed.length > 0;
  return {
    attack,
    crossed,
    vector: attack ? vectorOf(o) : null,
    ppsThreshold: limit.pps,
    bpsThreshold: limit.bps,
    baseline: attack ? baseline : learn(baseline, o),
  };
}

export interface TrackedAttack {
  startedAtMs: number;
  lastAboveMs: number;
  peakPps: number;
  peakBps: number;
  vector: AttackVector;
}

export interface AddressState {
  baseline: Baseline;
  attack: TrackedAttack | null;
}

export type Transition =
  | { kind: 'started'; attack: TrackedAttack }
  | { kind: 'continues'; attack: TrackedAttack }
  | { kind: 'ended'; attack: TrackedAttack; endedAtMs: number }
  | { kind: 'calm' };

/** One step of an address: detect, then start, follow or end its attack (quiet for `quietMs` ends it). */
export function trackAttack(
  state: AddressState,
  o: Observation,
  t: Thresholds & { quietMs: number },
): { state: AddressState; transition: Transition; verdict: Verdict } {
  const verdict = detect(state.baseline, o, t);
  const current = state.attack;
  if (verdict.attack) {
    const attack: TrackedAttack = current
      ? {
          ...current,
          lastAboveMs: o.atMs,
          peakPps: Math.max(current.peakPps, o.pps),
          peakBps: Math.max(current.peakBps, o.bps),
        }
      : { startedAtMs: o.atMs, lastAboveMs: o.atMs, peakPps: o.pps, peakBps: o.bps, vector: verdict.vector! };
    return {
      state: { baseline: verdict.baseline, attack },
      transition: current ? { kind: 'continues', attack } : { kind: 'started', attack },
      verdict,
    };
  }
  if (current && o.atMs - current.lastAboveMs >= t.quietMs) {
    return {
      state: { baseline: verdict.baseline, attack: null },
      transition: { kind: 'ended', attack: current, endedAtMs: o.atMs },
      verdict,
    };
  }
  return {
    state: { baseline: verdict.baseline, attack: current },
    transition: current ? { kind: 'continues', attack: current } : { kind: 'calm' },
    verdict,
  };
}
