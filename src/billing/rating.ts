/**
 * Rating: usage intervals and prices → invoice lines. Pure, and table-tested (rating.test.ts).
 *
 * - Time-based items (servers, volumes, backups, addresses): each interval clipped to the month (and to
 *   `untilMs` for a month still running), cut where the price changes; each piece's seconds rounded up to
 *   started hours; hours × unit price × quantity; the resource's total capped at the monthly cap × quantity
 *   (the cap of the version in force at the end of its use in the month). One line per resource, item and
 *   quantity. Stopped servers bill: an interval runs from creation to deletion, whatever the power state.
 * - Traffic: each server includes its product's traffic, prorated by its hours in the month; egress beyond
 *   the sum is billed per TiB (to the thousandth, rounded up). A project on 95th-percentile billing pays
 *   per Mbps of its 95th percentile instead.
 * - DDoS tier: a monthly price per tier (standard is included).
 * - SLA tier: a surcharge in percent of the server lines (sla.ts).
 * Amounts are computed in micro-euros and rounded to cents once per line, half up (ADR 0008).
 */
import { centsOfMicros, mulDivRound } from './money.ts';
import { hoursIn, type MonthRange } from './months.ts';
import { priceAt, priceSegments, productItem, type PriceVersion } from './prices.ts';
import { slaTiers, type SlaTier } from './sla-tiers.ts';

export interface UsageInterval {
  kind: 'server' | 'volume' | 'backup' | 'ip';
  resourceId: string;
  item: string;
  region: string;
  /** Units × 1000: one server is 1000, a 10 GiB volume 10 000. */
  quantityMilli: number;
  startMs: number;
  /** null: still open. */
  endMs: number | null;
}

export interface ProductFacts {
  trafficTiB: number;
  gpuCount: number;
  name: string;
}

export interface TrafficUsage {
  egressBytes: number;
  /** Set for a project on 95th-percentile billing: its 95th percentile in Mbps over the month. */
  p95Mbps: number | null;
}

export interface RatingInput {
  range: MonthRange;
  /** Open intervals (and closed ones) are clipped here; the month's end when it is over. */
  untilMs: number;
  intervals: readonly UsageInterval[];
  prices: readonly PriceVersion[];
  products: ReadonlyMap<string, ProductFacts>;
  traffic: TrafficUsage | null;
  ddosTier: string | null;
  slaTier: SlaTier;
}

export interface RatedLine {
  kind: 'server' | 'volume' | 'backup' | 'ip' | 'traffic' | 'ddos' | 'sla_surcharge' | 'sla_credit' | 'adjustment';
  resource_id: string | null;
  item: string;
  region: string | null;
  description: string;
  /** Units: servers 1, GiB for volumes and backups, TiB of overage, Mbps of p95. */
  quantity: number;
  /** Billed hours (started hours), for time-based items. */
  hours: number | null;
  /** GPU hours, for servers with GPUs. */
  gpu_hours: number | null;
  unit_micros: number;
  /** True when the monthly cap set the amount. */
  capped: boolean;
  amount_cents: number;
  from: string | null;
  to: string | null;
}

const hourMs = 3_600_000;
const tebibyte = 1024 ** 4;

interface Group {
  kind: UsageInterval['kind'];
  resourceId: string;
  item: string;
  region: string;
  quantityMilli: number;
  hours: number;
  micros: number;
  capMicros: number | null;
  fromMs: number;
  toMs: number;
}

/** Rates one project's month (or month so far). Lines in a stable order: resources, then traffic, tiers. */
export function rateMonth(input: RatingInput): RatedLine[] {
  const { range } = input;
  const until = Math.min(input.untilMs, range.endMs);
  const groups = new Map<string, Group>();
  for (const interval of input.intervals) {
    if (interval.quantityMilli === 0) continue;
    const from = Math.max(interval.startMs, range.startMs);
    const to = Math.min(interval.endMs ?? until, until);
    if (to <= from) continue;
    const key = `${interval.resourceId}\u0000${interval.item}\u0000${interval.quantityMilli}`;
    let group = groups.get(key);
    if (!group) {
      group = {
        kind: interval.kind,
        resourceId: interval.resourceId,
        item: interval.item,
        region: interval.region,
        quantityMilli: interval.quantityMilli,
        hours: 0,
        micros: 0,
        capMicros: null,
        fromMs: from,
        toMs: to,
      };
      groups.set(key, group);
    }
    group.fromMs = Math.min(group.fromMs, from);
    group.toMs = Math.max(group.toMs, to);
    for (const segment of priceSegments(input.prices, interval.item, interval.region, from, to)) {
      const hours = Math.ceil((segment.toMs - segment.fromMs) / hourMs);
      group.hours += hours;
      group.micros += mulDivRound(hours * segment.price.unitMicros, interval.quantityMilli, 1000);
    }
    const capVersion = priceAt(input.prices, interval.item, interval.region, to - 1);
    if (capVersion?.monthlyCapMicros != null) group.capMicros = capVersion.monthlyCapMicros;
  }

  const lines: RatedLine[] = [];
  let serverMicros = 0;
  let includedTrafficBytes = 0;
  const monthHours = hoursIn(range);
  const ordered = [...groups.values()].sort(
    (a, b) => kindOrder[a.kind] - kindOrder[b.kind] || a.fromMs - b.fromMs || a.resourceId.localeCompare(b.resourceId),
  );
  for (const g of ordered) {
    const cap = g.capMicros === null ? null : mulDivRound(g.capMicros, g.quantityMilli, 1000);
    const capped = cap !== null && g.micros > cap;
    const micros = capped ? cap : g.micros;
    const product = g.kind === 'server' ? input.products.get(g.item.replace(/^product:/, '')) : undefined;
    if (g.kind === 'server') {
      serverMicros += micros;
      if (product) includedTrafficBytes += (product.trafficTiB * tebibyte * Math.min(g.hours, monthHours)) / monthHours;
    }
    const quantity = g.quantityMilli / 1000;
    const price = priceAt(input.prices, g.item, g.region, g.toMs - 1);
    lines.push({
      kind: g.kind,
      resource_id: g.resourceId,
      item: g.item,
      region: g.region,
      description: describe(g, product),
      quantity,
      hours: g.hours,
      gpu_hours: product && product.gpuCount > 0 ? g.hours * product.gpuCount : null,
      unit_micros: price?.unitMicros ?? 0,
      capped,
      amount_cents: centsOfMicros(micros),
      from: new Date(g.fromMs).toISOString(),
      to: new Date(g.toMs).toISOString(),
    });
  }

  const monthEndMs = range.endMs - 1;
  if (input.traffic) {
    if (input.traffic.p95Mbps !== null) {
      const price = priceAt(input.prices, 'traffic_p95_mbps', '*', monthEndMs);
      if (price && input.traffic.p95Mbps > 0)
        lines.push(
          flatLine(
            'traffic',
            'traffic_p95_mbps',
            `95th-percentile bandwidth, ${input.traffic.p95Mbps} Mbps`,
            input.traffic.p95Mbps,
            price.unitMicros,
            price.unitMicros * input.traffic.p95Mbps,
          ),
        );
    } else {
      const overBytes = input.traffic.egressBytes - Math.floor(includedTrafficBytes);
      const price = priceAt(input.prices, 'traffic_overage_tib', '*', monthEndMs);
      if (price && overBytes > 0) {
        const milliTiB = Math.ceil((overBytes * 1000) / tebibyte);
        lines.push(
          flatLine(
            'traffic',
            'traffic_overage_tib',
            `Traffic beyond the included ${(includedTrafficBytes / tebibyte).toFixed(3)} TiB`,
            milliTiB / 1000,
            price.unitMicros,
            mulDivRound(price.unitMicros, milliTiB, 1000),
          ),
        );
      }
    }
  }
  if (input.ddosTier) {
    const price = priceAt(input.prices, `ddos:${input.ddosTier}`, '*', monthEndMs);
    if (price && price.unitMicros > 0)
      lines.push(
        flatLine(
          'ddos',
          `ddos:${input.ddosTier}`,
          `DDoS protection ${input.ddosTier}`,
          1,
          price.unitMicros,
          price.unitMicros,
        ),
      );
  }
  const surchargePercent = slaTiers[input.slaTier].surchargePercent;
  if (surchargePercent > 0 && serverMicros > 0)
    lines.push(
      flatLine(
        'sla_surcharge',
        `sla:${input.slaTier}`,
        `SLA ${input.slaTier} (+${surchargePercent} % of server charges)`,
        1,
        mulDivRound(serverMicros, surchargePercent, 100),
        mulDivRound(serverMicros, surchargePercent, 100),
      ),
    );
  return lines;
}

const kindOrder: Record<UsageInterval['kind'], number> = { server: 0, volume: 1, backup: 2, ip: 3 };

function describe(g: Group, product: ProductFacts | undefined): string {
  const hours = `${g.hours} h`;
  switch (g.kind) {
    case 'server':
      return `Server ${g.resourceId} (${product?.name ?? g.item.replace(/^product:/, '')}, ${g.region}), ${hours}`;
    case 'volume':
      return `Volume ${g.resourceId}, ${g.quantityMilli / 1000} GiB (${g.region}), ${hours}`;
    case 'backup':
      return `Backup storage ${g.resourceId}, ${g.quantityMilli / 1000} GiB (${g.region}), ${hours}`;
    case 'ip':
      return `${g.item === 'floating_ipv4' ? 'Floating' : 'Primary'} IPv4 ${g.resourceId} (${g.region}), ${hours}`;
  }
}

function flatLine(
  kind: RatedLine['kind'],
  item: string,
  description: string,
  quantity: number,
  unitMicros: number,
  micros: number,
): RatedLine {
  return {
    kind,
    resource_id: null,
    item,
    region: null,
    description,
    quantity,
    hours: null,
    gpu_hours: null,
    unit_micros: unitMicros,
    capped: false,
    amount_cents: centsOfMicros(micros),
    from: null,
    to: null,
  };
}

export const sumCents = (lines: readonly { amount_cents: number }[]) =>
  lines.reduce((total, line) => total + line.amount_cents, 0);

/** The price list's product versions from the catalog's products (hourly and monthly cents). */
export function productPriceVersion(
  code: string,
  hourlyCents: number,
  monthlyCents: number,
  validFromMs: number,
): PriceVersion {
  return {
    item: productItem(code),
    region: '*',
    currency: 'EUR',
    unitMicros: hourlyCents * 10_000,
    monthlyCapMicros: monthlyCents * 10_000,
    validFromMs,
  };
}
