import type { RegionCapacity, Availability } from '../scheduler/index.ts';

export interface CustomerCapacity {
  region: string;
  orderable: boolean;
  products: Array<{ product: string; availability: Availability }>;
}

/**
 * What customers see of capacity: a coarse availability per product and region, never host counts. A
 * region that is not orderable (maintenance, planned) shows `none` for everything. Pure.
 */
export function customerCapacity(
  report: RegionCapacity[],
  regionStatus: ReadonlyMap<string, string>,
): CustomerCapacity[] {
  return report.map((region) => {
    const orderable = regionStatus.get(region.region) === 'operational';
    return {
      region: region.region,
      orderable,
      products: region.products.map((p) => ({ product: p.product, availability: orderable ? p.availability : 'none' })),
    };
  });
}
