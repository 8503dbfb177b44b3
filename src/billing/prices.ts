/**
 * Versioned prices: every change is a new row with the date it holds from; rating reads the version in
 * force at each moment of use, so a price change never rewrites the past. Pure.
 *
 * Items:
 * - `product:<code>` (`product:vps-starter`) — a server of that product, per hour, capped per server and month (the catalog's prices);
 * - `volume_gib`, `backup_gib` — per GiB and hour, capped per GiB and month;
 * - `ipv4`, `floating_ipv4` — per address and hour, capped per address and month;
 * - `traffic_overage_tib` — per TiB of egress beyond the included traffic;
 * - `traffic_p95_mbps` — per Mbps of the 95th percentile, for projects on 95th-percentile billing;
 * - `ddos:<tier>` — per month.
 */
export interface PriceVersion {
  item: string;
  /** A region code, or `*` (any region without its own price). */
  region: string;
  currency: string;
  unitMicros: number;
  monthlyCapMicros: number | null;
  validFromMs: number;
}

/** The version in force for `item` in `region` at `atMs`: the region's own price wins over `*`. */
export function priceAt(
  versions: readonly PriceVersion[],
  item: string,
  region: string,
  atMs: number,
): PriceVersion | null {
  let own: PriceVersion | null = null;
  let any: PriceVersion | null = null;
  for (const v of versions) {
    if (v.item !== item || v.validFromMs > atMs) continue;
    if (v.region === region) {
      if (!own || v.validFromMs > own.validFromMs) own = v;
    } else if (v.region === '*') {
      if (!any || v.validFromMs > any.validFromMs) any = v;
    }
  }
  return own ?? any;
}

export interface PricedSegment {
  fromMs: number;
  toMs: number;
  price: PriceVersion;
}

/** [fromMs, toMs) cut where the price of `item` in `region` changes; gaps without a price are left out. */
export function priceSegments(
  versions: readonly PriceVersion[],
  item: string,
  region: string,
  fromMs: number,
  toMs: number,
): PricedSegment[] {
  const cuts = versions
    .filter((v) => v.item === item && (v.region === region || v.region === '*'))
    .map((v) => v.validFromMs)
    .filter((ms) => ms > fromMs && ms < toMs);
  const bounds = [fromMs, ...[...new Set(cuts)].sort((a, b) => a - b), toMs];
  const segments: PricedSegment[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const price = priceAt(versions, item, region, bounds[i]!);
    if (!price) continue;
    const last = segments.at(-1);
    if (last && last.price === price && last.toMs === bounds[i]) last.toMs = bounds[i + 1]!;
    else segments.push({ fromMs: bounds[i]!, toMs: bounds[i + 1]!, price });
  }
  return segments;
}

/** Prices of everything that is not a product (products come from the catalog). Our choice; docs/billing.md. */
export const defaultPriceList: ReadonlyArray<Omit<PriceVersion, 'validFromMs' | 'region' | 'currency'>> = [
  // €0.044 per GiB and month (Hetzner's volume price), hourly: 60 µ€ per GiB-hour.
  { item: 'volume_gib', unitMicros: 60, monthlyCapMicros: 44_000 },
  // €0.02 per GiB and month of backup storage.
  { item: 'backup_gib', unitMicros: 27, monthlyCapMicros: 20_000 },
  // €0.50 per primary IPv4 and month, €1 per floating IPv4.
  { item: 'ipv4', unitMicros: 700, monthlyCapMicros: 500_000 },
  { item: 'floating_ipv4', unitMicros: 1_400, monthlyCapMicros: 1_000_000 },
  { item: 'traffic_overage_tib', unitMicros: 1_000_000, monthlyCapMicros: null },
  { item: 'traffic_p95_mbps', unitMicros: 500_000, monthlyCapMicros: null },
  { item: 'ddos:standard', unitMicros: 0, monthlyCapMicros: null },
  { item: 'ddos:business', unitMicros: 50_000_000, monthlyCapMicros: null },
  { item: 'ddos:enterprise', unitMicros: 500_000_000, monthlyCapMicros: null },
];

/** When the default prices hold from: before any usage can exist. */
export const defaultPricesValidFrom = '2025-01-01T00:00:00.000Z';

export const productItem = (code: string) => `product:${code}`;
