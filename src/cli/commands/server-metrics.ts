/**
 * `vmcloud server metrics NAME [--type cpu|disk|network] [--since 1h] [--step SECONDS]`: a server's CPU,
 * disk or network series (`GET /v1/servers/{id}/metrics`) as a compact table, one row per series with its
 * last, average and peak value and a sparkline.
 */
import { getServerMetrics, serverMetricSeries, type ServerMetrics } from '../../contract/index.ts';
import { stringOf, UsageError, type Command } from '../command.ts';
import { renderData, renderTable } from '../output.ts';
import { resolveServer } from '../resolve.ts';
import { sparkline } from './traffic.ts';

const units: Record<string, string> = { cpu: '%', iops: 'op/s', bandwidth: 'B/s', pps: 'pkt/s' };

/** A number with a unit, short: 1.2k, 3.4M. */
function compact(value: number, unit: string): string {
  const steps: Array<[number, string]> = [
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [size, suffix] of steps)
    if (Math.abs(value) >= size) return `${(value / size).toFixed(1)}${suffix} ${unit}`;
  return `${value.toFixed(value < 10 ? 2 : 1)} ${unit}`;
}

/** The rows of the table: series, source, last, average, peak, chart. */
export function metricsRows(answer: ServerMetrics, width = 40): string[][] {
  const rows: string[][] = [];
  for (const [name, series] of Object.entries(answer.metrics.time_series)) {
    const values = series.values.map(([, v]) => Number(v));
    const unit = units[name === 'cpu' ? 'cpu' : (name.split('.')[2] ?? '')] ?? '';
    const type = name.split('.')[0];
    const source = answer.sources[type] ?? '';
    if (values.length === 0) {
      rows.push([name, source, '-', '-', '-', source === 'agent' ? '(not stored by the control plane)' : '(no data)']);
      continue;
    }
    const average = values.reduce((a, b) => a + b, 0) / values.length;
    rows.push([
      name,
      source,
      compact(values.at(-1)!, unit),
      compact(average, unit),
      compact(Math.max(...values), unit),
      sparkline(values, width),
    ]);
  }
  return rows;
}

export const serverMetrics: Command = {
  name: 'metrics',
  summary: "a server's CPU, disk or network: last, average, peak and a chart",
  usage: 'NAME|ID [--type cpu|disk|network] [--since 1h] [--step SECONDS]',
  args: [{ name: 'server', required: true }],
  options: {
    type: { type: 'string', arg: 'TYPE', help: 'cpu, disk or network, or several comma-separated (default cpu)' },
    since: { type: 'string', arg: 'DURATION', help: 'how far back: 30m, 6h, 7d (default 1h)' },
    step: { type: 'string', arg: 'SECONDS', help: 'seconds between points (default: the window over 60)' },
  },
  examples: ['vmcloud server metrics web-1', 'vmcloud server metrics web-1 --type network --since 24h'],
  async run(ctx, input) {
    const type = stringOf(input.values, 'type') ?? 'cpu';
    for (const part of type.split(','))
      if (!(part in serverMetricSeries)) throw new UsageError(`--type takes cpu, disk or network, got ${part}`);
    const since = stringOf(input.values, 'since') ?? '1h';
    const match = /^(\d+)([mhd])$/.exec(since);
    if (!match) throw new UsageError('--since takes minutes, hours or days, e.g. 30m, 6h or 7d');
    const ms = Number(match[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'm' | 'h' | 'd'];
    const step = stringOf(input.values, 'step');
    if (step !== undefined && !/^[1-9][0-9]{0,6}$/.test(step)) throw new UsageError('--step takes whole seconds');
    const client = await ctx.client();
    const server = await resolveServer(client, input.positionals[0]);
    const end = new Date(ctx.now());
    const answer = await client.call(getServerMetrics, {
      params: { id: server.id },
      query: {
        type,
        start: new Date(end.getTime() - ms).toISOString(),
        end: end.toISOString(),
        ...(step ? { step } : {}),
      },
    });
    if (ctx.output !== 'table') {
      ctx.out(renderData(ctx.output, answer));
      return 0;
    }
    ctx.out(
      `${server.name} (${server.id}) ${answer.metrics.start} → ${answer.metrics.end}, step ${answer.metrics.step} s\n`,
    );
    const headers = ['series', 'source', 'last', 'average', 'peak', 'chart'];
    ctx.out(
      renderTable(
        headers.map((header, i) => ({ header, value: (row: string[]) => row[i] })),
        metricsRows(answer),
      ),
    );
    return 0;
  },
};
