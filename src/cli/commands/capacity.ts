/** `vmcloud capacity`: what can still be ordered, per product and region (operators see the figures). */
import { stringOf, type Command } from '../command.ts';
import { firstArray, pick, type Loose } from '../loose.ts';
import { autoColumns, renderData, renderList, renderYaml, type Column } from '../output.ts';
import { normalizeRegion } from '../resolve.ts';

/** Region, product and availability first, then whatever figures the answer carries. */
export function capacityColumns(rows: Loose[]): Column<Loose>[] {
  const lead: Column<Loose>[] = [
    { header: 'region', value: (r) => pick(r, 'region') },
    { header: 'product', value: (r) => pick(r, 'product') },
    { header: 'availability', value: (r) => pick(r, 'availability', 'status') },
  ];
  const known = new Set(['region', 'product', 'availability', 'status']);
  const present = lead.filter((column) => rows.some((row) => column.value(row) !== undefined));
  // autoColumns reads row[key]; with the known keys left out of the sample it only adds the other figures.
  const rest = autoColumns(rows.map((row) => Object.fromEntries(Object.entries(row).filter(([key]) => !known.has(key)))));
  return [...present, ...rest];
}

export const capacityCommand: Command = {
  name: 'capacity',
  summary: 'what can still be ordered per product and region',
  usage: '[--region CODE]',
  options: { region: { type: 'string', arg: 'CODE', help: 'only this region' } },
  examples: ['vmcloud capacity', 'vmcloud capacity --region fra1 -o json'],
  async run(ctx, { values }) {
    const regionText = stringOf(values, 'region');
    const region = regionText === undefined ? undefined : normalizeRegion(regionText);
    const client = await ctx.client();
    const answer = await client.get<unknown>('/v1/capacity', { region });
    if (ctx.output !== 'table') {
      ctx.out(renderData(ctx.output, answer));
      return 0;
    }
    const rows = firstArray(answer, 'capacity', 'entries', 'items').filter(
      (row) => region === undefined || typeof row.region !== 'string' || row.region.toLowerCase() === region,
    );
    if (rows.length === 0 && answer && typeof answer === 'object' && Object.values(answer).every((v) => !Array.isArray(v))) {
      ctx.out(renderYaml(answer));
      return 0;
    }
    ctx.out(renderList('table', capacityColumns(rows), rows, 'No capacity data.'));
    return 0;
  },
};
