/**
 * The seed's promises beside the platform's own measurements, as a pure function of what the other domains
 * report (billing's SLA overview, backups' RPO/RTO, the placement audit, probes, incidents). A figure the
 * platform cannot measure yet says `measured: null` and why — never an invented number.
 */
import type { BackupStats, PromiseMeasure, SlaOverview } from '../contract/index.ts';

export interface PromiseInputs {
  /** This month's SLA figures per region and tier, and MTTR per tier (billing), or null if unavailable. */
  sla: SlaOverview | null;
  /** RPO/RTO per region (backups), or null if unavailable. */
  backups: Pick<BackupStats, 'regions' | 'promise'> | null;
  /** The placement audit: violated invariants (oversold threads, memory, GPUs…), or null if unavailable. */
  placementViolations: number | null;
  /** Major/critical incidents of the last 365 days and their minutes (resolution or now). */
  majorIncidents: { count: number; minutes: number };
  /** Average uptime of all components over 90 days from the probes (null: no sample). */
  uptime90dPercent: number | null;
  /** API probe latency of the last 24 h in ms (null: no sample). */
  apiLatencyP50Ms: number | null;
  apiLatencyP99Ms: number | null;
  /** Whether the fleet has simulated hosts (their figures are simulated). */
  simulatedFleet: boolean;
  /**
   * Agents' probes of the other hosts of their region over `windowHours` (src/telemetry), per region; null:
   * the source failed; absent: not wired.
   */
  intraDc?: {
    windowHours: number;
    regions: Array<{
      region: string;
      sent: number;
      p50Ms: number | null;
      lossRatio: number | null;
      simulated: boolean;
    }>;
  } | null;
  /**
   * Agents' probes of a couple of hosts of each other region over `windowHours`, per region pair (both
   * directions summed); null: the source failed; absent: not wired.
   */
  interRegion?: {
    windowHours: number;
    pairs: Array<{
      regions: [string, string];
      sent: number;
      p50Ms: number | null;
      p99Ms: number | null;
      simulated: boolean;
    }>;
  } | null;
  /** Each host's CPU steal over `windowHours` from its agent; null: the source failed; absent: not wired. */
  cpuSteal?: {
    windowHours: number;
    hosts: Array<{
      hostId: string;
      region: string;
      stealPercent: number | null;
      periodSeconds: number;
      simulated: boolean;
    }>;
  } | null;
}

/** The seed's SLA table (Performance & Fiabilité). */
const slaClaims = [
  { tier: 'standard', uptime: 99.9, mttrMinutes: 240, label: 'Standard' },
  { tier: 'business', uptime: 99.95, mttrMinutes: 120, label: 'Business' },
  { tier: 'enterprise', uptime: 99.99, mttrMinutes: 30, label: 'Enterprise' },
] as const;

function holds(measured: number | null, target: PromiseMeasure['target']): boolean | null {
  if (measured === null || target === null) return null;
  if (target.comparison === 'gte') return measured >= target.value;
  if (target.comparison === 'lte') return measured <= target.value;
  return measured < target.value;
}

function row(input: Omit<PromiseMeasure, 'holds'>): PromiseMeasure {
  return { ...input, holds: holds(input.measured, input.target) };
}

const maxOrNull = (values: ReadonlyArray<number | null>): number | null => {
  const present = values.filter((v): v is number => v !== null);
  return present.length === 0 ? null : Math.max(...present);
};

export function buildPromises(input: PromiseInputs): PromiseMeasure[] {
  const out: PromiseMeasure[] = [];
  const month = input.sla?.month ?? 'this month';
  for (const claim of slaClaims) {
    const regions = input.sla?.regions.filter((r) => r.tier === claim.tier && r.servers > 0) ?? [];
    const worst = regions.length === 0 ? null : Math.min(...regions.map((r) => r.availability_percent));
    out.push(
      row({
        id: `uptime.${claim.tier}`,
        claim: `SLA ${claim.label} : uptime ${claim.uptime} %`,
        target: { value: claim.uptime, unit: 'percent', comparison: 'gte' },
        measured: worst,
        unit: 'percent',
        window: `${month} (calendar month so far)`,
        method:
          'availability of the servers of projects on this tier, per region, from their recorded downtime (the SLA credits computation); the worst region counts',
        simulated: input.simulatedFleet,
        reason:
          input.sla === null
            ? 'the SLA overview could not be computed'
            : worst === null
              ? 'no server on this tier this month'
              : null,
      }),
    );
  }
  for (const claim of slaClaims) {
    const mttr = input.sla?.mttr.find((m) => m.tier === claim.tier) ?? null;
    const measured = mttr?.mttr_minutes ?? null;
    out.push(
      row({
        id: `mttr.${claim.tier}`,
        claim: `SLA ${claim.label} : MTTR < ${claim.mttrMinutes >= 60 ? `${claim.mttrMinutes / 60}h` : `${claim.mttrMinutes}min`}`,
        target: { value: claim.mttrMinutes, unit: 'minutes', comparison: 'lt' },
        measured,
        unit: 'minutes',
        window: `${month} (calendar month so far)`,
        method: 'mean duration of the downtime intervals of servers on this tier (server down to server back)',
        simulated: input.simulatedFleet,
        reason:
          input.sla === null
            ? 'the SLA overview could not be computed'
            : measured === null
              ? 'no downtime on this tier this month: nothing to repair'
              : null,
      }),
    );
  }
  const rpo = maxOrNull(input.backups?.regions.map((r) => r.rpo_s.p99) ?? []);
  out.push(
    row({
      id: 'rpo',
      claim: 'RPO : < 6 heures',
      target: { value: input.backups?.promise.rpo_s ?? 21_600, unit: 'seconds', comparison: 'lt' },
      measured: rpo,
      unit: 'seconds',
      window: 'now',
      method: 'age of the newest restorable backup of each scheduled server, 99th percentile, worst region',
      simulated: input.simulatedFleet,
      reason: input.backups === null ? 'backup statistics unavailable' : rpo === null ? 'no backup yet' : null,
    }),
  );
  const rto = maxOrNull(input.backups?.regions.map((r) => r.rto_s.p99) ?? []);
  out.push(
    row({
      id: 'rto',
      claim: 'RTO : < 1 heure',
      target: { value: input.backups?.promise.rto_s ?? 3600, unit: 'seconds', comparison: 'lt' },
      measured: rto,
      unit: 'seconds',
      window: 'the last restore of each server',
      method: 'duration of the last restore per server, 99th percentile, worst region',
      simulated: input.simulatedFleet,
      reason: input.backups === null ? 'backup statistics unavailable' : rto === null ? 'no restore yet' : null,
    }),
  );
  out.push(
    row({
      id: 'uptime.average',
      claim: 'Uptime moyen : 99.97 % (2024)',
      target: { value: 99.97, unit: 'percent', comparison: 'gte' },
      measured: input.uptime90dPercent,
      unit: 'percent',
      window: 'last 90 days',
      method:
        'probe passes per component (a major outage counts fully as down, a partial outage at 30 %), averaged over all components',
      simulated: input.simulatedFleet,
      reason: input.uptime90dPercent === null ? 'no probe result yet' : null,
    }),
  );
  out.push(
    row({
      id: 'incidents.major',
      claim: 'Incidents majeurs : 2 (2024)',
      target: { value: 2, unit: 'incidents', comparison: 'lte' },
      measured: input.majorIncidents.count,
      unit: 'incidents',
      window: 'last 365 days',
      method: 'incidents declared by operators with impact major or critical',
      simulated: false,
      reason: null,
    }),
  );
  out.push(
    row({
      id: 'incidents.major_minutes',
      claim: 'Incidents majeurs : total 47 min (2024)',
      target: { value: 47, unit: 'minutes', comparison: 'lte' },
      measured: input.majorIncidents.minutes,
      unit: 'minutes',
      window: 'last 365 days',
      method: 'opening to resolution (or now) of those incidents, summed',
      simulated: false,
      reason: null,
    }),
  );
  out.push(
    row({
      id: 'latency.api',
      claim: 'API (VMCloud) : no figure in the seed',
      target: null,
      measured: input.apiLatencyP99Ms,
      unit: 'milliseconds',
      window: 'last 24 hours',
      method: `the control plane requests its own /healthz each probe pass; 99th percentile (P50 ${input.apiLatencyP50Ms ?? '—'} ms)`,
      simulated: false,
      reason: input.apiLatencyP99Ms === null ? 'no probe result yet' : null,
    }),
  );
  out.push(interRegionRow(input.interRegion));
  out.push(...intraDcRows(input.intraDc));
  out.push(
    row({
      id: 'no_overselling',
      claim: "Pas d'overselling : ressources garanties",
      target: { value: 0, unit: 'violations', comparison: 'lte' },
      measured: input.placementViolations,
      unit: 'violations',
      window: 'now',
      method:
        'the placement audit re-derives every host’s usage from its claims: a thread, GPU or memory given twice, or more than the host sells, is a violation',
      simulated: input.simulatedFleet,
      reason: input.placementViolations === null ? 'the placement audit could not run' : null,
    }),
  );
  out.push(cpuStealRow(input.cpuSteal));
  return out;
}

/**
 * Intra-DC latency (median) and packet loss, per region from the agents' probes of each other; the row's
 * figure is the worst region's (the promise holds only where every region keeps it).
 */
function intraDcRows(intraDc: PromiseInputs['intraDc']): PromiseMeasure[] {
  const window = intraDc ? `last ${intraDc.windowHours} hours` : '—';
  const measuredRegions = intraDc?.regions.filter((r) => r.sent > 0) ?? [];
  const simulated = measuredRegions.some((r) => r.simulated);
  const reason = (measured: number | null) =>
    intraDc === undefined
      ? 'not measured: agent telemetry is not wired in this control plane'
      : intraDc === null
        ? 'the probe figures could not be read'
        : measured === null
          ? 'no probe yet: a region needs two hosts whose agents probe each other'
          : null;
  const method =
    'agents probe up to 8 other hosts of their region once a second (UDP echo between agents on the host API port; the simulated fleet: a deterministic model); probes summed per region, the worst region counts';
  const latency = { value: 0.8, unit: 'milliseconds', comparison: 'lte' as const };
  const loss = { value: 0.01, unit: 'percent', comparison: 'lt' as const };
  const perRegion = (
    target: NonNullable<PromiseMeasure['target']>,
    value: (r: (typeof measuredRegions)[number]) => number | null,
  ) =>
    measuredRegions.map((r) => {
      const measured = value(r);
      return { region: r.region, measured, holds: holds(measured, target), simulated: r.simulated, samples: r.sent };
    });
  const latencyRegions = perRegion(latency, (r) => r.p50Ms);
  const lossRegions = perRegion(loss, (r) => (r.lossRatio === null ? null : Math.round(r.lossRatio * 100 * 1e6) / 1e6));
  const p50 = maxOrNull(latencyRegions.map((r) => r.measured));
  const lost = maxOrNull(lossRegions.map((r) => r.measured));
  return [
    row({
      id: 'latency.intra_dc_p50',
      claim: 'Latence P50 : 0.8ms (intra-DC)',
      target: latency,
      measured: p50,
      unit: 'milliseconds',
      window,
      method: `round trip between hosts of one region, median: ${method}`,
      simulated,
      reason: reason(p50),
      regions: latencyRegions,
    }),
    row({
      id: 'packet_loss',
      claim: 'Packet loss : < 0.01 %',
      target: loss,
      measured: lost,
      unit: 'percent',
      window,
      method: `share of those probes left unanswered within 1 s: ${method}`,
      simulated,
      reason: reason(lost),
      regions: lossRegions,
    }),
  ];
}

/**
 * Intra-EU latency: each pair of regions' round trips (agents probe two hosts of every other region, both
 * directions summed); the row's figure is the worst pair's 99th percentile — a guarantee is what nearly
 * every packet sees, not the median — with the pair and its median in the method.
 */
export function interRegionRow(interRegion: PromiseInputs['interRegion']): PromiseMeasure {
  const target = { value: 30, unit: 'milliseconds', comparison: 'lt' as const };
  const pairs = interRegion?.pairs.filter((p) => p.sent > 0 && p.p99Ms !== null) ?? [];
  const detail = pairs.map((p) => ({
    region: `${p.regions[0]} <-> ${p.regions[1]}`,
    pair: [...p.regions],
    measured: p.p99Ms,
    holds: holds(p.p99Ms, target),
    simulated: p.simulated,
    samples: p.sent,
  }));
  const worst = [...pairs].sort((a, b) => b.p99Ms! - a.p99Ms!)[0] ?? null;
  const measured = worst?.p99Ms ?? null;
  return row({
    id: 'latency.intra_eu',
    claim: 'Latence garantie : < 30ms intra-EU',
    target,
    measured,
    unit: 'milliseconds',
    window: interRegion ? `last ${interRegion.windowHours} hours` : '—',
    method:
      'round trip between hosts of different regions: every agent also probes 2 hosts of each other region once a second (UDP echo between agents; the simulated fleet: a deterministic model of 8–25 ms per pair), both directions summed per pair; 99th percentile of the worst pair' +
      (worst ? ` (${worst.regions[0]} <-> ${worst.regions[1]}, P50 ${worst.p50Ms ?? '—'} ms)` : ''),
    simulated: pairs.some((p) => p.simulated),
    reason:
      interRegion === undefined
        ? 'not measured: agent telemetry is not wired in this control plane'
        : interRegion === null
          ? 'the probe figures could not be read'
          : measured === null
            ? 'no probe between regions yet: it needs hosts up in two regions whose agents probe each other'
            : null,
    regions: detail,
  });
}

/**
 * No throttling: each host's CPU steal (time its CPUs waited for a hypervisor under them, /proc/stat) over
 * the time its agent reported; the row's figure is the worst host's, below 1 % holds (docs/status-page.md).
 */
export function cpuStealRow(cpuSteal: PromiseInputs['cpuSteal']): PromiseMeasure {
  const target = { value: 1, unit: 'percent', comparison: 'lt' as const };
  const hosts = cpuSteal?.hosts.filter((h) => h.periodSeconds > 0 && h.stealPercent !== null) ?? [];
  const worstOf = new Map<string, (typeof hosts)[number]>();
  for (const h of hosts) {
    const seen = worstOf.get(h.region);
    if (!seen || h.stealPercent! > seen.stealPercent!) worstOf.set(h.region, h);
  }
  const detail = [...worstOf.values()]
    .sort((a, b) => a.region.localeCompare(b.region))
    .map((h) => ({
      region: h.region,
      measured: h.stealPercent,
      holds: holds(h.stealPercent, target),
      simulated: hosts.some((x) => x.region === h.region && x.simulated),
      samples: hosts.filter((x) => x.region === h.region).reduce((sum, x) => sum + x.periodSeconds, 0),
    }));
  const worst = [...hosts].sort((a, b) => b.stealPercent! - a.stealPercent!)[0] ?? null;
  const measured = worst?.stealPercent ?? null;
  return row({
    id: 'no_throttling',
    claim: 'Pas de throttling : performance constante',
    target,
    measured,
    unit: 'percent',
    window: cpuSteal ? `last ${cpuSteal.windowHours} hours` : '—',
    method:
      'CPU steal of each host from its agent (steal ticks over all ticks of all CPUs, /proc/stat, each minute; the simulated fleet: modelled as none), over the time reported; the worst host counts' +
      (worst ? ` (${worst.hostId})` : '') +
      '. Host-wide, not per pinned thread: steal on any CPU of the host counts',
    simulated: hosts.some((h) => h.simulated),
    reason:
      cpuSteal === undefined
        ? 'not measured: agent telemetry is not wired in this control plane'
        : cpuSteal === null
          ? 'the CPU steal figures could not be read'
          : measured === null
            ? 'no CPU steal report yet: agents report it with their telemetry about once a minute'
            : null,
    regions: detail,
  });
}

/** The p-th percentile (nearest rank) of some numbers, or null. */
export function percentileOf(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}
