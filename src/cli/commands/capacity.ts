/**
 * `vmcloud capacity`: what can still be ordered, per product and region. Customers get an availability;
 * operators also get how many more servers fit (`free`) and the utilization of each region.
 */
import { getCapacity, type Availability, type CustomerCapacity, type RegionCapacity } from '../../contract/index.ts';
import { stringOf, type Command } from '../command.ts';
import { formatMiB, renderData, renderTable, type Column } from '../output.ts';
import { normalizeRegion } from '../resolve.ts';

/** One row per product and region; `free` is there for operators only. */
export interface CapacityRow {
  region: string;
  product: string;
  availability: Availability;
  free?: number;
}

const isOperatorReport = (capacity: RegionCapacity[] | CustomerCapacity[]): capacity is RegionCapacity[] =>
  capacity.length > 0 && 'compute' in capacity[0];

export function capacityRows(capacity: RegionCapacity[] | CustomerCapacity[]): CapacityRow[] {
  if (isOperatorReport(capacity)) {
    return capacity.flatMap((r) =>
      r.products.map((p) => ({ region: r.region, product: p.product, availability: p.availability, free: p.servers })),
    );
  }
  return (capacity as CustomerCapacity[]).flatMap((r) =>
    r.products.map((p) => ({ region: r.region, product: p.product, availability: p.availability })),
  );
}

export function capacityColumns(operator: boolean): Column<CapacityRow>[] {
  const columns: Column<CapacityRow>[] = [
    { header: 'region', value: (r) => r.region },
    { header: 'product', value: (r) => r.product },
    { header: 'availability', value: (r) => r.availability },
  ];
  if (operator) columns.push({ header: 'free', value: (r) => r.free, align: 'right' });
  return columns;
}

const pct = (value: number) => `${value}%`;

/** Operators: per region, hosts and the utilization of compute, memory, disk and GPUs. */
export function utilizationTable(capacity: RegionCapacity[]): string {
  return renderTable<RegionCapacity>(
    [
      { header: 'region', value: (r) => r.region },
      { header: 'hosts', value: (r) => `${r.active_hosts}/${r.hosts} active`, align: 'right' },
      { header: 'vcpus', value: (r) => `${r.compute.used_vcpus}/${r.compute.sellable_vcpus}`, align: 'right' },
      { header: 'cores', value: (r) => pct(r.compute.pct), align: 'right' },
      {
        header: 'memory',
        value: (r) => `${formatMiB(r.memory_mib.used)}/${formatMiB(r.memory_mib.total)} (${pct(r.memory_mib.pct)})`,
        align: 'right',
      },
      {
        header: 'disk',
        value: (r) => `${r.disk_gib.used}/${r.disk_gib.total} GiB (${pct(r.disk_gib.pct)})`,
        align: 'right',
      },
      { header: 'gpus', value: (r) => (r.gpus.total === 0 ? null : `${r.gpus.used}/${r.gpus.total}`), align: 'right' },
    ],
    capacity,
  );
}

export const capacityCommand: Command = {
  name: 'capacity',
  summary: 'what can still be ordered per product and region',
  usage: '[--region CODE]',
  description:
    'Customers see available|scarce|none per product and region. Operators also see FREE (how many more servers\n' +
    'of the product fit now, NUMA fit included) and the utilization of each region.',
  options: { region: { type: 'string', arg: 'CODE', help: 'only this region' } },
  examples: ['vmcloud capacity', 'vmcloud capacity --region fra1 -o json'],
  async run(ctx, { values }) {
    const regionText = stringOf(values, 'region');
    const region = regionText === undefined ? undefined : normalizeRegion(regionText);
    const client = await ctx.client();
    const answer = await client.call(getCapacity, { query: { region } });
    if (ctx.output !== 'table') {
      ctx.out(renderData(ctx.output, answer));
      return 0;
    }
    const rows = capacityRows(answer.capacity);
    if (rows.length === 0) {
      ctx.out(region ? `No capacity data for ${region}.\n` : 'No capacity data.\n');
      return 0;
    }
    const operator = isOperatorReport(answer.capacity);
    ctx.out(renderTable(capacityColumns(operator), rows));
    if (operator) ctx.out('\nUtilization\n' + utilizationTable(answer.capacity as RegionCapacity[]));
    return 0;
  },
};
