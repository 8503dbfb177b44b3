/**
 * Loads what rating needs for a month — for one project (usage, SLA report) or for every project with
 * usage (the monthly run) — and computes each project's month with project-month.ts.
 */
import type { Db, Tx } from '../db/index.ts';
import type { AccountStore } from './account-store.ts';
import type { MeteringStore } from './metering-store.ts';
import type { BillingPorts } from './ports.ts';
import type { PriceVersion } from './prices.ts';
import type { ProductFacts, TrafficUsage, UsageInterval } from './rating.ts';
import type { DowntimeInterval, Window } from './sla.ts';
import { isSlaTier, type SlaTier } from './sla-tiers.ts';
import { projectMonth, type ProjectMonth } from './project-month.ts';
import type { MonthRange } from './months.ts';

export interface LoaderDeps {
  metering: MeteringStore;
  accounts: AccountStore;
  ports: BillingPorts;
  products: () => Promise<Map<string, ProductFacts>>;
}

export interface LoadedMonth {
  range: MonthRange;
  untilMs: number;
  prices: PriceVersion[];
  products: Map<string, ProductFacts>;
  usageByProject: Map<string, UsageInterval[]>;
  downtimeByProject: Map<string, DowntimeInterval[]>;
}

export async function loadMonth(
  deps: LoaderDeps,
  q: Db | Tx,
  range: MonthRange,
  untilMs: number,
  projectId?: string,
): Promise<LoadedMonth> {
  const until = Math.min(untilMs, range.endMs);
  const usageByProject = new Map<string, UsageInterval[]>();
  for (const u of await deps.metering.usageBetween(q, range.startMs, until, projectId)) {
    const list = usageByProject.get(u.projectId);
    if (list) list.push(u);
    else usageByProject.set(u.projectId, [u]);
  }
  if (projectId && !usageByProject.has(projectId)) usageByProject.set(projectId, []);
  const downtimeByProject = new Map<string, DowntimeInterval[]>();
  for (const d of await deps.metering.downtimeBetween(q, range.startMs, until, projectId)) {
    const list = downtimeByProject.get(d.projectId);
    if (list) list.push(d);
    else downtimeByProject.set(d.projectId, [d]);
  }
  return {
    range,
    untilMs: until,
    prices: await deps.accounts.prices(q),
    products: await deps.products(),
    usageByProject,
    downtimeByProject,
  };
}

/** The traffic figure the project's plan bills: the p95 only on `percentile95`, else the bytes. */
export function trafficOfPlan(usage: TrafficUsage | null, plan: string | undefined): TrafficUsage | null {
  if (!usage) return null;
  return plan === 'percentile95' ? usage : { ...usage, p95Mbps: null };
}

export async function computeProject(
  deps: LoaderDeps,
  loaded: LoadedMonth,
  projectId: string,
  /** The project's billing account (none: the standard tier, volume traffic). */
  account: { sla_tier: string; traffic_billing: string } | undefined,
): Promise<ProjectMonth> {
  const tier = account?.sla_tier;
  const own = loaded.usageByProject.get(projectId) ?? [];
  const downtime = loaded.downtimeByProject.get(projectId) ?? [];
  const maintenance = new Map<string, Window[]>();
  for (const d of downtime) {
    if (maintenance.has(d.serverId)) continue;
    const windows = await deps.ports.maintenance.announcedWindows({
      serverId: d.serverId,
      hostId: d.hostId,
      region: d.region,
      fromMs: loaded.range.startMs,
      toMs: loaded.range.endMs,
    });
    if (windows.length > 0) maintenance.set(d.serverId, windows);
  }
  const slaTier: SlaTier = tier && isSlaTier(tier) ? tier : 'standard';
  return projectMonth({
    range: loaded.range,
    untilMs: loaded.untilMs,
    intervals: own,
    downtime,
    maintenance,
    prices: loaded.prices,
    products: loaded.products,
    traffic: trafficOfPlan(
      await deps.ports.traffic.monthlyTrafficUsage(projectId, loaded.range.month),
      account?.traffic_billing,
    ),
    ddosTier: await deps.ports.ddos.ddosTierOf(projectId),
    slaTier,
  });
}
