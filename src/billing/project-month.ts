/**
 * One project's month, from what was loaded: the rated lines, the SLA report of its servers, and the
 * credit lines a breach earns (negative, with their downtime intervals listed). Pure.
 */
import type { SlaReport, UsageLine } from '../contract/index.ts';
import { minutesIn, type MonthRange } from './months.ts';
import { priceAt, type PriceVersion } from './prices.ts';
import { rateMonth, type ProductFacts, type TrafficUsage, type UsageInterval } from './rating.ts';
import { serverAvailability, type DowntimeInterval, type Window } from './sla.ts';
import { slaTiers, type SlaTier } from './sla-tiers.ts';

export interface ProjectMonthInput {
  range: MonthRange;
  untilMs: number;
  intervals: readonly UsageInterval[];
  downtime: readonly DowntimeInterval[];
  maintenance: ReadonlyMap<string, readonly Window[]>;
  prices: readonly PriceVersion[];
  products: ReadonlyMap<string, ProductFacts>;
  traffic: TrafficUsage | null;
  ddosTier: string | null;
  slaTier: SlaTier;
}

export interface ProjectMonth {
  lines: UsageLine[];
  sla: SlaReport;
}

export function projectMonth(input: ProjectMonthInput): ProjectMonth {
  const { range, slaTier } = input;
  const until = Math.min(input.untilMs, range.endMs);
  const rated = rateMonth(input);
  const terms = slaTiers[slaTier];

  const servers = new Map<string, { region: string; item: string; existedMs: number }>();
  for (const i of input.intervals) {
    if (i.kind !== 'server') continue;
    const from = Math.max(i.startMs, range.startMs);
    const to = Math.min(i.endMs ?? until, until);
    if (to <= from) continue;
    const s = servers.get(i.resourceId) ?? { region: i.region, item: i.item, existedMs: 0 };
    s.existedMs += to - from;
    s.item = i.item;
    servers.set(i.resourceId, s);
  }
  const chargedCents = new Map<string, number>();
  for (const line of rated)
    if (line.kind === 'server' && line.resource_id)
      chargedCents.set(line.resource_id, (chargedCents.get(line.resource_id) ?? 0) + line.amount_cents);

  const downtimeOf = new Map<string, DowntimeInterval[]>();
  for (const d of input.downtime) downtimeOf.set(d.serverId, [...(downtimeOf.get(d.serverId) ?? []), d]);

  const report: SlaReport['servers'] = [];
  const credits: UsageLine[] = [];
  for (const [serverId, s] of servers) {
    const monthly = priceAt(input.prices, s.item, s.region, range.endMs - 1)?.monthlyCapMicros ?? 0;
    const availability = serverAvailability(
      range,
      until,
      {
        serverId,
        region: s.region,
        existedMinutes: Math.ceil(s.existedMs / 60_000),
        monthlyPriceMicros: monthly,
        chargedMicros: (chargedCents.get(serverId) ?? 0) * 10_000,
      },
      downtimeOf.get(serverId) ?? [],
      input.maintenance.get(serverId) ?? [],
      slaTier,
    );
    report.push(availability);
    if (availability.credit_cents > 0)
      credits.push({
        kind: 'sla_credit',
        resource_id: serverId,
        item: `sla_credit:${slaTier}`,
        region: s.region,
        description: `SLA credit ${serverId}: ${availability.downtime_minutes} min down, availability ${availability.availability_percent} % < ${terms.targetPercent} % (${terms.creditMultiplier}x the prorated price)`,
        quantity: availability.downtime_minutes,
        hours: null,
        gpu_hours: null,
        unit_micros: Math.round((terms.creditMultiplier * monthly) / minutesIn(range)),
        capped: availability.credit_cents === chargedCents.get(serverId),
        amount_cents: -availability.credit_cents,
        from: availability.downtime[0]?.from ?? null,
        to: availability.downtime.at(-1)?.to ?? null,
        downtime: availability.downtime,
      });
  }
  report.sort((a, b) => a.server_id.localeCompare(b.server_id));
  const lines: UsageLine[] = [...rated, ...credits];
  return {
    lines,
    sla: {
      month: range.month,
      tier: slaTier,
      target_percent: terms.targetPercent,
      credit_multiplier: terms.creditMultiplier,
      servers: report,
      breaches: report.filter((r) => r.breached).length,
      credits_cents: report.reduce((sum, r) => sum + r.credit_cents, 0),
    },
  };
}
