/**
 * `vmcloud server traffic NAME` (a series with a small terminal chart), `vmcloud traffic summary [--month]`,
 * `vmcloud flow-logs list|export|enable|disable`, `vmcloud ddos tier show|set`, `vmcloud ddos attacks`.
 */
import {
  exportFlowLogs,
  getDdosSettings,
  getServerTraffic,
  getTrafficSummary,
  listDdosAttacks,
  listFlowLogs,
  setDdosTier,
  setFlowLogSettings,
  type TrafficStep,
} from '../../contract/index.ts';
import { stringOf, UsageError, type Command, type Group } from '../command.ts';
import { renderData, renderDetail, renderTable } from '../output.ts';
import { resolveServer } from '../resolve.ts';

const blocks = '▁▂▃▄▅▆▇█';

/** A one-line chart of `values` in `width` columns (each column the max of its values). */
export function sparkline(values: readonly number[], width = 60): string {
  if (values.length === 0) return '';
  const columns = Math.min(width, values.length);
  const per = values.length / columns;
  const maxes = Array.from({ length: columns }, (_, c) =>
    Math.max(...values.slice(Math.floor(c * per), Math.max(Math.floor((c + 1) * per), Math.floor(c * per) + 1))),
  );
  const top = Math.max(...maxes);
  return maxes.map((v) => (top <= 0 ? blocks[0] : blocks[Math.min(7, Math.floor((v / top) * 7.999))])).join('');
}

const bytes = (n: number) => {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : 2)} ${units[u]}`;
};

export const serverTraffic: Command = {
  name: 'traffic',
  summary: "a server's traffic: totals and a chart of Mbit/s",
  usage: 'NAME|ID [--since 24h] [--step 5m|1h|1d]',
  args: [{ name: 'server', required: true }],
  options: {
    since: { type: 'string', arg: 'DURATION', help: 'how far back: 6h, 24h, 7d (default 24h)' },
    step: { type: 'string', arg: 'STEP', help: '5m, 1h or 1d (default: 5m up to a day, 1h beyond)' },
  },
  examples: ['vmcloud server traffic web-1', 'vmcloud server traffic web-1 --since 7d --step 1h'],
  async run(ctx, input) {
    const client = await ctx.client();
    const server = await resolveServer(client, input.positionals[0]);
    const since = stringOf(input.values, 'since') ?? '24h';
    const match = /^(\d+)([hd])$/.exec(since);
    if (!match) throw new UsageError('--since takes hours or days, e.g. 24h or 7d');
    const ms = Number(match[1]) * (match[2] === 'h' ? 3_600_000 : 86_400_000);
    const step = (stringOf(input.values, 'step') ?? (ms > 86_400_000 ? '1h' : '5m')) as TrafficStep;
    const to = new Date(ctx.now());
    const series = await client.call(getServerTraffic, {
      params: { id: server.id },
      query: { from: new Date(to.getTime() - ms).toISOString(), to: to.toISOString(), step },
    });
    if (ctx.output !== 'table') {
      ctx.out(renderData(ctx.output, series));
      return 0;
    }
    const out = series.points.map((p) => p.out_mbps);
    const inbound = series.points.map((p) => p.in_mbps);
    ctx.out(
      renderDetail([
        ['Server', `${server.name} (${server.id})`],
        ['Window', `${series.from} → ${series.to}, step ${series.step}, ${series.points.length} points`],
        ['Sent', bytes(series.totals.tx_bytes)],
        ['Received', bytes(series.totals.rx_bytes)],
        ['Billable', bytes(series.totals.billable_bytes)],
        ['Unmetered', bytes(series.totals.unmetered_bytes)],
      ]) +
        `\nout ${sparkline(out)} max ${Math.max(0, ...out).toFixed(1)} Mbit/s\n` +
        `in  ${sparkline(inbound)} max ${Math.max(0, ...inbound).toFixed(1)} Mbit/s\n`,
    );
    return 0;
  },
};

const summary: Command = {
  name: 'summary',
  summary: "the project's traffic of a month: included vs used, overage, 95th percentile",
  usage: '[--month YYYY-MM]',
  options: { month: { type: 'string', arg: 'YYYY-MM', help: 'default: the current month' } },
  examples: ['vmcloud traffic summary', 'vmcloud traffic summary --month 2026-11'],
  async run(ctx, input) {
    const client = await ctx.client();
    const month = stringOf(input.values, 'month');
    const s = await client.call(getTrafficSummary, { query: month ? { month } : {} });
    if (ctx.output !== 'table') {
      ctx.out(renderData(ctx.output, s));
      return 0;
    }
    ctx.out(
      renderDetail([
        ['Month', `${s.month}${s.closed ? ' (closed)' : ' (so far)'}`],
        ['Included', `${s.project.included_tib} TiB`],
        ['Used (billable)', `${s.project.used_tib} TiB`],
        ['Overage', `${s.project.overage_tib} TiB`],
        [
          '95th percentile',
          `${s.project.p95_mbps} Mbit/s (in ${s.project.p95_in_mbps}, out ${s.project.p95_out_mbps})`,
        ],
      ]) +
        '\n' +
        renderTable(
          [
            { header: 'server', value: (r) => r.name },
            { header: 'product', value: (r) => r.product },
            { header: 'billable', value: (r) => bytes(r.billable_bytes), align: 'right' },
            { header: 'included', value: (r) => bytes(r.included_bytes), align: 'right' },
            { header: 'unmetered', value: (r) => bytes(r.unmetered_bytes), align: 'right' },
            { header: 'p95 Mbit/s', value: (r) => r.p95_mbps, align: 'right' },
          ],
          s.servers,
        ),
    );
    return 0;
  },
};

export const trafficGroup: Group = {
  name: 'traffic',
  summary: 'traffic accounting of the project',
  commands: [summary],
};

const flowWindow = {
  server: { type: 'string' as const, arg: 'NAME|ID', help: 'one server (default: every server of the project)' },
  since: { type: 'string' as const, arg: 'DURATION', help: 'how far back: 15m, 1h, 24h (default 1h)' },
  addr: { type: 'string' as const, arg: 'ADDRESS', help: 'source or destination address' },
  port: { type: 'string' as const, arg: 'PORT', help: 'source or destination port' },
};

function windowOf(ctx: { now(): number }, values: Record<string, unknown>) {
  const since = (values.since as string | undefined) ?? '1h';
  const match = /^(\d+)([mhd])$/.exec(since);
  if (!match) throw new UsageError('--since takes minutes, hours or days, e.g. 15m, 1h, 2d');
  const ms = Number(match[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'm' | 'h' | 'd'];
  return {
    from: new Date(ctx.now() - ms).toISOString(),
    to: new Date(ctx.now()).toISOString(),
    ...(values.server ? { server: values.server as string } : {}),
    ...(values.addr ? { addr: values.addr as string } : {}),
    ...(values.port ? { port: values.port as string } : {}),
  };
}

const flowList: Command = {
  name: 'list',
  summary: 'flow records of the project, oldest first',
  usage: '[--server NAME] [--since 1h] [--addr A] [--port P]',
  options: flowWindow,
  examples: ['vmcloud flow-logs list --server web-1 --port 22 --since 24h'],
  async run(ctx, input) {
    const client = await ctx.client();
    const page = await client.call(listFlowLogs, { query: { ...windowOf(ctx, input.values), limit: '1000' } });
    if (ctx.output !== 'table') {
      ctx.out(renderData(ctx.output, page));
      return 0;
    }
    ctx.out(
      renderTable(
        [
          { header: 'start', value: (r) => r.start },
          { header: 'dir', value: (r) => r.direction },
          { header: 'source', value: (r) => `${r.src_addr}:${r.src_port}` },
          { header: 'destination', value: (r) => `${r.dst_addr}:${r.dst_port}` },
          { header: 'proto', value: (r) => r.protocol, align: 'right' },
          { header: 'bytes', value: (r) => r.bytes, align: 'right' },
          { header: 'action', value: (r) => r.action },
        ],
        page.flows,
      ),
    );
    return 0;
  },
};

const flowExport: Command = {
  name: 'export',
  summary: 'export flow records as JSON lines (default) or IPFIX-like CSV',
  usage: '[--format jsonl|csv] [--server NAME] [--since 1h] [--addr A] [--port P]',
  options: { ...flowWindow, format: { type: 'string', arg: 'FORMAT', help: 'jsonl or csv' } },
  examples: ['vmcloud flow-logs export --format csv --since 24h > flows.csv'],
  async run(ctx, input) {
    const client = await ctx.client();
    const format = (stringOf(input.values, 'format') ?? 'jsonl') as 'jsonl' | 'csv';
    if (format !== 'jsonl' && format !== 'csv') throw new UsageError('--format is jsonl or csv');
    const text = await client.request<string>('GET', exportFlowLogs.path, {
      query: { ...windowOf(ctx, input.values), format },
    });
    ctx.out(typeof text === 'string' ? text : `${JSON.stringify(text)}\n`);
    return 0;
  },
};

const flowSet = (enabled: boolean): Command => ({
  name: enabled ? 'enable' : 'disable',
  summary: enabled ? 'log flows of some or every server (owners)' : 'stop logging flows (owners)',
  usage: enabled ? '[--server NAME]... [--retention-days N]' : '',
  options: enabled
    ? {
        server: { type: 'string', multiple: true, arg: 'NAME|ID', help: 'only these servers (default: all)' },
        'retention-days': { type: 'string', arg: 'N', help: 'keep records N days (1–30, default 30)' },
      }
    : {},
  async run(ctx, input) {
    const client = await ctx.client();
    const servers = (input.values.server as string[] | undefined) ?? [];
    const days = stringOf(input.values, 'retention-days');
    const { settings } = await client.call(setFlowLogSettings, {
      body: { enabled, ...(servers.length ? { servers } : {}), ...(days ? { retention_days: Number(days) } : {}) },
    });
    ctx.out(renderData(ctx.output === 'table' ? 'yaml' : ctx.output, settings));
    return 0;
  },
});

export const flowLogsGroup: Group = {
  name: 'flow-logs',
  summary: 'flow records of the project’s servers (kept 30 days)',
  commands: [flowList, flowExport, flowSet(true), flowSet(false)],
};

const tierShow: Command = {
  name: 'show',
  summary: "the project's DDoS tier, policy and custom rules",
  usage: '',
  async run(ctx) {
    const client = await ctx.client();
    const { ddos } = await client.call(getDdosSettings);
    ctx.out(renderData(ctx.output === 'table' ? 'yaml' : ctx.output, ddos));
    return 0;
  },
};

const tierSet: Command = {
  name: 'set',
  summary: 'change the DDoS tier (owners; billed from the change)',
  usage: 'standard|business|enterprise',
  args: [{ name: 'tier', required: true }],
  async run(ctx, input) {
    const tier = input.positionals[0];
    if (tier !== 'standard' && tier !== 'business' && tier !== 'enterprise')
      throw new UsageError('the tier is standard, business or enterprise');
    const client = await ctx.client();
    const { ddos } = await client.call(setDdosTier, { body: { tier } });
    ctx.out(`DDoS tier: ${ddos.tier} (${ddos.policy.scrubbing_capacity_gbps} Gbps scrubbing)\n`);
    return 0;
  },
};

const attacks: Command = {
  name: 'attacks',
  summary: "the project's DDoS attacks, newest first",
  usage: '[--active]',
  options: { active: { type: 'boolean', help: 'only attacks still mitigated' } },
  async run(ctx, input) {
    const client = await ctx.client();
    const list = await client.call(listDdosAttacks, { query: input.values.active ? { status: 'active' } : {} });
    if (ctx.output !== 'table') {
      ctx.out(renderData(ctx.output, list));
      return 0;
    }
    ctx.out(
      renderTable(
        [
          { header: 'id', value: (r) => r.id },
          { header: 'address', value: (r) => r.address },
          { header: 'status', value: (r) => r.status },
          { header: 'vector', value: (r) => r.vector },
          { header: 'started', value: (r) => r.started_at },
          { header: 'ended', value: (r) => r.ended_at ?? '-' },
          { header: 'peak pps', value: (r) => r.peak_pps, align: 'right' },
          { header: 'dropped', value: (r) => r.dropped_packets, align: 'right' },
        ],
        list.attacks,
      ),
    );
    return 0;
  },
};

export const ddosGroup: Group = {
  name: 'ddos',
  summary: 'DDoS protection: tier, attacks',
  commands: [
    {
      ...tierShow,
      name: 'tier',
      summary: 'show the tier (`ddos tier set TIER` to change it)',
      usage: '[set TIER]',
      async run(ctx, input) {
        if (input.positionals[0] === 'set')
          return tierSet.run(ctx, { ...input, positionals: input.positionals.slice(1) });
        if (input.positionals[0] !== undefined && input.positionals[0] !== 'show')
          throw new UsageError('vmcloud ddos tier [show | set TIER]');
        return tierShow.run(ctx, input);
      },
      args: [
        { name: 'verb', required: false },
        { name: 'tier', required: false },
      ],
    },
    attacks,
  ],
};
