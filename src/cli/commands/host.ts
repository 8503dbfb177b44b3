/** `vmcloud host list|show|set-state` (operators): the hypervisor fleet. */
import type { Command, Group } from '../command.ts';
import { choiceOf, stringOf } from '../command.ts';
import { pick, pickArray, pickNumber, type Loose } from '../loose.ts';
import { formatAge, formatMiB, formatUsage, renderData, renderDetail, renderList, renderTable, type Column } from '../output.ts';
import { normalizeRegion } from '../resolve.ts';

const hostStates = ['active', 'maintenance', 'draining'] as const;

const vcpusUsed = (h: Loose) => pickNumber(h, 'usage.vcpus', 'usage.threads', 'used.vcpus', 'vcpus_used', 'threads_used');
const vcpusTotal = (h: Loose) => pickNumber(h, 'capacity.vcpus', 'capacity.threads', 'vcpus_total', 'threads_sellable', 'threads_total');
const memoryUsed = (h: Loose) => pickNumber(h, 'usage.memory_mib', 'used.memory_mib', 'memory_used_mib');
const memoryTotal = (h: Loose) => pickNumber(h, 'capacity.memory_mib', 'memory_mib', 'memory_total_mib');
const gpusUsed = (h: Loose) => pickNumber(h, 'usage.gpus', 'used.gpus', 'gpus_used');
const gpusTotal = (h: Loose) => pickNumber(h, 'capacity.gpus', 'gpu_count', 'gpus_total');

const memoryText = (h: Loose) => {
  const used = memoryUsed(h);
  const total = memoryTotal(h);
  if (used === undefined && total === undefined) return null;
  return `${used === undefined ? '-' : formatMiB(used)}/${total === undefined ? '-' : formatMiB(total)}`;
};

const gpuText = (h: Loose) => {
  const total = gpusTotal(h);
  if (!total) return null;
  const model = pick(h, 'gpu_model', 'gpu.model', 'topology.gpus.0.model');
  return `${formatUsage(gpusUsed(h), total)}${typeof model === 'string' ? ` ${model}` : ''}`;
};

export function hostColumns(nowMs: number): Column<Loose>[] {
  return [
    { header: 'name', value: (h) => pick(h, 'name') },
    { header: 'id', value: (h) => pick(h, 'id') },
    { header: 'region', value: (h) => pick(h, 'region') },
    { header: 'kind', value: (h) => pick(h, 'kind', 'shape') },
    { header: 'state', value: (h) => pick(h, 'state') },
    { header: 'health', value: (h) => pick(h, 'health', 'status') },
    { header: 'vcpus', value: (h) => formatUsage(vcpusUsed(h), vcpusTotal(h)), align: 'right' },
    { header: 'memory', value: memoryText, align: 'right' },
    { header: 'gpus', value: gpuText },
    { header: 'servers', value: (h) => pickNumber(h, 'usage.servers', 'servers', 'server_count'), align: 'right' },
    { header: 'heartbeat', value: (h) => formatAge(pick(h, 'last_heartbeat_at') as string | undefined, nowMs), align: 'right' },
  ];
}

/** Host detail: identity, state, usage, then one line per NUMA node and a table of GPUs. */
export function hostDetail(host: Loose, nowMs: number): string {
  let text = renderDetail([
    ['Name', pick(host, 'name')],
    ['ID', pick(host, 'id')],
    ['Region', pick(host, 'region')],
    ['Kind', pick(host, 'kind', 'shape')],
    ['State', pick(host, 'state')],
    ['Health', pick(host, 'health', 'status')],
    ['CPU', pick(host, 'cpu_model', 'cpu.model')],
    ['Sockets', pick(host, 'sockets', 'topology.sockets')],
    ['Threads', pick(host, 'threads_total', 'topology.threads')],
    ['vCPUs', formatUsage(vcpusUsed(host), vcpusTotal(host))],
    ['Memory', memoryText(host)],
    ['GPUs', gpuText(host)],
    ['Servers', pickNumber(host, 'usage.servers', 'servers', 'server_count')],
    ['Driver', pick(host, 'driver')],
    ['Agent', pick(host, 'agent_version')],
    ['Address', pick(host, 'address')],
    ['Heartbeat', pick(host, 'last_heartbeat_at') ? `${pick(host, 'last_heartbeat_at')} (${formatAge(pick(host, 'last_heartbeat_at') as string, nowMs)} ago)` : null],
    ['Generation', pick(host, 'generation')],
  ]);
  const nodes = pickArray(host, 'topology.numa_nodes', 'topology.numaNodes', 'numa_nodes') as Loose[];
  if (nodes.length > 0) {
    text +=
      '\nNUMA nodes\n' +
      renderTable(
        [
          { header: 'node', value: (n) => pick(n, 'id') },
          { header: 'cores', value: (n) => (Array.isArray(n.cores) ? n.cores.length : pick(n, 'cores', 'core_count')), align: 'right' },
          { header: 'threads', value: (n) => (Array.isArray(n.threads) ? n.threads.length : pick(n, 'threads')), align: 'right' },
          { header: 'memory', value: (n) => formatMiB(pickNumber(n, 'memory_mib', 'memoryMiB')), align: 'right' },
          { header: 'free-cores', value: (n) => pick(n, 'free_cores', 'usage.free_cores'), align: 'right' },
        ],
        nodes,
      );
  }
  const gpus = pickArray(host, 'topology.gpus', 'gpus') as Loose[];
  if (gpus.length > 0 && typeof gpus[0] === 'object') {
    text +=
      '\nGPUs\n' +
      renderTable(
        [
          { header: 'pci', value: (g) => pick(g, 'pci_address', 'pciAddress') },
          { header: 'model', value: (g) => pick(g, 'model') },
          { header: 'numa', value: (g) => pick(g, 'numa_node', 'numaNode'), align: 'right' },
          { header: 'server', value: (g) => pick(g, 'server_id', 'serverId') },
        ],
        gpus,
      );
  }
  return text;
}

const list: Command = {
  name: 'list',
  summary: 'list hypervisor hosts with state and usage',
  usage: '[--region CODE]',
  options: { region: { type: 'string', arg: 'CODE', help: 'only hosts in this region' } },
  examples: ['vmcloud host list --region fra1'],
  async run(ctx, { values }) {
    const region = stringOf(values, 'region');
    const client = await ctx.client();
    const { hosts } = await client.get<{ hosts: Loose[] }>('/v1/hosts', { region: region === undefined ? undefined : normalizeRegion(region) });
    ctx.out(renderList(ctx.output, hostColumns(ctx.now()), hosts, 'No hosts.'));
    return 0;
  },
};

const show: Command = {
  name: 'show',
  summary: 'show a host with its topology',
  usage: 'ID',
  args: [{ name: 'ID', required: true }],
  examples: ['vmcloud host show host_01jbz4m6k2x0r8t3q9w5e7y1ab'],
  async run(ctx, { positionals }) {
    const client = await ctx.client();
    const { host } = await client.get<{ host: Loose }>(`/v1/hosts/${encodeURIComponent(positionals[0])}`);
    ctx.out(ctx.output === 'table' ? hostDetail(host, ctx.now()) : renderData(ctx.output, host));
    return 0;
  },
};

const setState: Command = {
  name: 'set-state',
  summary: 'set a host active, in maintenance or draining (no new placements unless active)',
  usage: 'ID active|maintenance|draining',
  args: [
    { name: 'ID', required: true },
    { name: 'STATE', required: true },
  ],
  examples: ['vmcloud host set-state host_01jbz4m6k2x0r8t3q9w5e7y1ab draining'],
  async run(ctx, { positionals }) {
    const state = choiceOf(positionals[1], hostStates, 'the state');
    const client = await ctx.client();
    const { host } = await client.patch<{ host: Loose }>(`/v1/hosts/${encodeURIComponent(positionals[0])}`, { state });
    ctx.out(ctx.output === 'table' ? `host ${String(pick(host, 'name', 'id') ?? positionals[0])} is now ${String(pick(host, 'state') ?? state)}\n` : renderData(ctx.output, host));
    return 0;
  },
};

export const hostGroup: Group = { name: 'host', summary: 'operators: hypervisor hosts', commands: [list, show, setState] };
