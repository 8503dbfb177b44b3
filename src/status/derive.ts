/**
 * How a component's status is derived, as pure functions: each probe or host census gives a signal, a
 * component takes the worst of its signals (the measured status), hysteresis keeps it from flapping (a
 * new status must be seen for N passes in a row), and incidents and maintenances raise it when read
 * (an incident's affected components take at least its impact). Uptime counts the passes per status.
 */
import type {
  ComponentStatus,
  IncidentImpact,
  MaintenanceStatus,
  globalComponentKinds,
  regionalComponentKinds,
} from '../contract/index.ts';

/** Best first: a component shows the worst status any of its signals gives. */
export const severity: Record<ComponentStatus, number> = {
  operational: 0,
  under_maintenance: 1,
  degraded_performance: 2,
  partial_outage: 3,
  major_outage: 4,
};

export const worstOf = (a: ComponentStatus, b: ComponentStatus): ComponentStatus => (severity[b] > severity[a] ? b : a);

/** What an incident's impact imposes on its components at least. */
export const impactStatus: Record<IncidentImpact, ComponentStatus> = {
  none: 'operational',
  minor: 'degraded_performance',
  major: 'partial_outage',
  critical: 'major_outage',
};

export interface Signal {
  status: ComponentStatus;
  reason: string;
}

export interface HostCensusEntry {
  /** active | maintenance | draining */
  state: string;
  /** up | down | unusable */
  health: string;
  /** Milliseconds since its last heartbeat (null: never heartbeated). */
  heartbeatAgeMs: number | null;
}

/**
 * Hosts of a region: none down → operational; a heartbeat late (past `staleAfterMs`, not yet marked down)
 * → degraded; some down → partial outage; half or more down, or no host in service → major outage. Hosts
 * an operator put in maintenance are out of service on purpose: all of them → under maintenance.
 */
export function hostsSignal(hosts: readonly HostCensusEntry[], staleAfterMs: number): Signal {
  const inService = hosts.filter((h) => h.state !== 'maintenance');
  if (hosts.length > 0 && inService.length === 0)
    return { status: 'under_maintenance', reason: `all ${hosts.length} hosts in maintenance` };
  if (inService.length === 0) return { status: 'major_outage', reason: 'no host in service' };
  const down = inService.filter((h) => h.health !== 'up').length;
  const late = inService.filter(
    (h) => h.health === 'up' && (h.heartbeatAgeMs === null || h.heartbeatAgeMs > staleAfterMs),
  ).length;
  const of = `of ${inService.length} hosts`;
  if (down * 2 >= inService.length) return { status: 'major_outage', reason: `${down} ${of} down` };
  if (down > 0) return { status: 'partial_outage', reason: `${down} ${of} down` };
  if (late > 0) return { status: 'degraded_performance', reason: `${late} ${of} with a late heartbeat` };
  return { status: 'operational', reason: `${inService.length} hosts up` };
}

export interface ProbeOutcome {
  ok: boolean;
  latencyMs: number | null;
  /** What went wrong (failed probes). */
  error?: string | null;
}

/** The API probe: failed → major outage; slower than `slowAfterMs` → degraded. */
export function apiSignal(probe: ProbeOutcome | null, slowAfterMs: number): Signal | null {
  if (!probe) return null;
  if (!probe.ok) return { status: 'major_outage', reason: `API probe failed: ${probe.error ?? 'no answer'}` };
  if (probe.latencyMs !== null && probe.latencyMs > slowAfterMs)
    return { status: 'degraded_performance', reason: `API answered in ${probe.latencyMs} ms` };
  return { status: 'operational', reason: `API answered in ${probe.latencyMs ?? '?'} ms` };
}

/** The last canary of a region: failed → partial outage; create-to-running slower than `slowAfterMs` → degraded. */
export function canarySignal(probe: ProbeOutcome | null, slowAfterMs: number): Signal | null {
  if (!probe) return null;
  if (!probe.ok) return { status: 'partial_outage', reason: `canary server failed: ${probe.error ?? 'unknown'}` };
  if (probe.latencyMs !== null && probe.latencyMs > slowAfterMs)
    return { status: 'degraded_performance', reason: `canary running after ${probe.latencyMs} ms` };
  return { status: 'operational', reason: `canary running after ${probe.latencyMs ?? '?'} ms` };
}

/** A simple dependency check (billing's store answered): failed → major outage. */
export function checkSignal(name: string, probe: ProbeOutcome | null): Signal | null {
  if (!probe) return null;
  return probe.ok
    ? { status: 'operational', reason: `${name} answered` }
    : { status: 'major_outage', reason: `${name} check failed: ${probe.error ?? 'unknown'}` };
}

/** The worst signal; no signal at all → operational with the reason "no probe result yet". */
export function measure(signals: ReadonlyArray<Signal | null>): Signal {
  const present = signals.filter((s): s is Signal => s !== null);
  if (present.length === 0) return { status: 'operational', reason: 'no probe result yet' };
  let worst = present[0];
  for (const s of present) if (severity[s.status] > severity[worst.status]) worst = s;
  const sameStatus = present.filter((s) => s.status === worst.status).map((s) => s.reason);
  return { status: worst.status, reason: [...new Set(sameStatus)].join('; ') };
}

export interface HysteresisState {
  status: ComponentStatus;
  candidate: ComponentStatus | null;
  candidateCount: number;
}

/**
 * One observation through hysteresis: the status changes only when the same new status was observed
 * `required` passes in a row (a first observation is taken as is). Returns the next state and whether the
 * status changed.
 */
export function applyHysteresis(
  previous: HysteresisState | null,
  observed: ComponentStatus,
  required: number,
): { next: HysteresisState; changed: boolean } {
  if (!previous) return { next: { status: observed, candidate: null, candidateCount: 0 }, changed: false };
  if (observed === previous.status)
    return { next: { status: previous.status, candidate: null, candidateCount: 0 }, changed: false };
  const count = previous.candidate === observed ? previous.candidateCount + 1 : 1;
  if (count >= Math.max(1, required))
    return { next: { status: observed, candidate: null, candidateCount: 0 }, changed: true };
  return { next: { status: previous.status, candidate: observed, candidateCount: count }, changed: false };
}

/** A maintenance's status from its window: cancelled wins; then before, during, after. */
export function maintenanceStatusAt(
  m: { startsAt: string; endsAt: string; cancelledAt: string | null },
  nowMs: number,
): MaintenanceStatus {
  if (m.cancelledAt !== null) return 'cancelled';
  if (nowMs < Date.parse(m.startsAt)) return 'scheduled';
  if (nowMs < Date.parse(m.endsAt)) return 'in_progress';
  return 'completed';
}

/** The status a component shows: its measured status, raised by active incidents and maintenances in progress. */
export function effectiveStatus(
  componentId: string,
  measured: Signal,
  incidents: ReadonlyArray<{ title: string; impact: IncidentImpact; components: readonly string[] }>,
  maintenancesInProgress: ReadonlyArray<{ title: string; components: readonly string[] }>,
): Signal {
  let shown = measured;
  for (const m of maintenancesInProgress) {
    if (m.components.includes(componentId) && severity.under_maintenance > severity[shown.status])
      shown = { status: 'under_maintenance', reason: `maintenance: ${m.title}` };
  }
  for (const incident of incidents) {
    const imposed = impactStatus[incident.impact];
    if (incident.components.includes(componentId) && severity[imposed] > severity[shown.status])
      shown = { status: imposed, reason: `incident: ${incident.title}` };
  }
  return shown;
}

export interface StatusCounts {
  samples: number;
  operational: number;
  maintenance: number;
  degraded: number;
  partial: number;
  major: number;
}

export const emptyCounts = (): StatusCounts => ({
  samples: 0,
  operational: 0,
  maintenance: 0,
  degraded: 0,
  partial: 0,
  major: 0,
});

const countKey: Record<ComponentStatus, Exclude<keyof StatusCounts, 'samples'>> = {
  operational: 'operational',
  under_maintenance: 'maintenance',
  degraded_performance: 'degraded',
  partial_outage: 'partial',
  major_outage: 'major',
};

export function addSample(counts: StatusCounts, status: ComponentStatus): StatusCounts {
  return { ...counts, samples: counts.samples + 1, [countKey[status]]: counts[countKey[status]] + 1 };
}

/** How much of a partial outage counts as down (Atlassian Statuspage weighs it at 30 %). */
export const partialOutageWeight = 0.3;

/**
 * Uptime in percent, rounded down to 3 decimals (never flattering): a major outage counts fully as down, a
 * partial outage at 30 %; degraded performance and announced maintenance count as up. Null without samples.
 */
export function uptimePercent(counts: StatusCounts): number | null {
  if (counts.samples === 0) return null;
  const down = counts.major + partialOutageWeight * counts.partial;
  return Math.floor(((counts.samples - down) / counts.samples) * 100_000) / 1000;
}

export function sumCounts(all: readonly StatusCounts[]): StatusCounts {
  const total = emptyCounts();
  for (const c of all) {
    total.samples += c.samples;
    total.operational += c.operational;
    total.maintenance += c.maintenance;
    total.degraded += c.degraded;
    total.partial += c.partial;
    total.major += c.major;
  }
  return total;
}

/** The worst status seen in a day's counts (null: no sample). */
export function worstSeen(counts: StatusCounts): ComponentStatus | null {
  if (counts.samples === 0) return null;
  if (counts.major > 0) return 'major_outage';
  if (counts.partial > 0) return 'partial_outage';
  if (counts.degraded > 0) return 'degraded_performance';
  if (counts.maintenance > 0) return 'under_maintenance';
  return 'operational';
}

export interface DayBar {
  day: string;
  uptimePercent: number | null;
  worst: ComponentStatus | null;
}

export const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The last `days` days ending today (UTC), oldest first, each with its uptime (null: no data that day). */
export function dailyBars(byDay: ReadonlyMap<string, StatusCounts>, todayMs: number, days = 90): DayBar[] {
  const bars: DayBar[] = [];
  for (let i = days - 1; i >= 0; i--) {
    const day = dayOf(todayMs - i * 86_400_000);
    const counts = byDay.get(day) ?? emptyCounts();
    bars.push({ day, uptimePercent: uptimePercent(counts), worst: worstSeen(counts) });
  }
  return bars;
}

/** The Statuspage page indicator: the worst shown status or unresolved incident impact. */
export function pageIndicator(
  statuses: readonly ComponentStatus[],
  activeImpacts: readonly IncidentImpact[],
): { indicator: 'none' | 'minor' | 'major' | 'critical' | 'maintenance'; worst: ComponentStatus } {
  let worst: ComponentStatus = 'operational';
  for (const s of statuses) worst = worstOf(worst, s);
  const byStatus = {
    operational: 0,
    under_maintenance: 0,
    degraded_performance: 1,
    partial_outage: 2,
    major_outage: 3,
  };
  const byImpact = { none: 0, minor: 1, major: 2, critical: 3 };
  const level = Math.max(byStatus[worst], ...activeImpacts.map((i) => byImpact[i]));
  const indicator = (['none', 'minor', 'major', 'critical'] as const)[level];
  return { indicator: indicator === 'none' && worst === 'under_maintenance' ? 'maintenance' : indicator, worst };
}

export type RegionalKind = (typeof regionalComponentKinds)[number];
export type GlobalKind = (typeof globalComponentKinds)[number];
