/** `vmcloud host list|show|set-state|token create` (operators): the hypervisor fleet and its agent tokens. */
import type { CreatedToken, DrainReport, Host } from '../api-types.ts';
import { choiceOf, requiredString, stringOf, UsageError, type Command, type Group } from '../command.ts';
import { formatAge, formatMiB, formatUsage, renderData, renderDetail, renderList, renderTable, sanitize, type Column } from '../output.ts';
import { normalizeRegion } from '../resolve.ts';

const hostStates = ['active', 'maintenance', 'draining'] as const;

const memoryText = (h: Host) => `${formatMiB(h.usage.memory_mib)}/${formatMiB(h.capacity.memory_mib)}`;

/** `1/4 nvidia-a100-80g` on GPU hosts, nothing on the others. */
const gpuText = (h: Host) => {
  if (h.capacity.gpus === 0) return null;
  const model = h.topology.gpus[0]?.model;
  return `${formatUsage(h.usage.gpus, h.capacity.gpus)}${model ? ` ${model}` : ''}`;
};

export function hostColumns(nowMs: number): Column<Host>[] {
  return [
    { header: 'name', value: (h) => h.name },
    { header: 'id', value: (h) => h.id },
    { header: 'region', value: (h) => h.region },
    { header: 'kind', value: (h) => h.kind },
    { header: 'state', value: (h) => h.state },
    { header: 'health', value: (h) => h.health },
    { header: 'vcpus', value: (h) => formatUsage(h.usage.vcpus, h.capacity.vcpus), align: 'right' },
    { header: 'memory', value: memoryText, align: 'right' },
    { header: 'gpus', value: gpuText },
    { header: 'servers', value: (h) => h.usage.servers, align: 'right' },
    { header: 'heartbeat', value: (h) => formatAge(h.last_heartbeat_at, nowMs), align: 'right' },
  ];
}

/** Host detail: identity, state, usage, then one line per NUMA node, GPU and SR-IOV NIC. */
export function hostDetail(host: Host, nowMs: number): string {
  let text = renderDetail([
    ['Name', host.name],
    ['ID', host.id],
    ['Region', host.region],
    ['Kind', host.kind],
    ['State', host.state],
    ['Health', host.health],
    ['CPU', host.cpu_model],
    ['Sockets', host.topology.sockets],
    ['Threads', host.topology.threads],
    ['vCPUs', formatUsage(host.usage.vcpus, host.capacity.vcpus)],
    ['Memory', memoryText(host)],
    ['Disk', `${host.usage.disk_gib}/${host.capacity.disk_gib} GiB`],
    ['GPUs', gpuText(host)],
    ['Servers', host.usage.servers],
    ['Driver', host.driver],
    ['Agent', host.agent_version],
    ['Heartbeat', host.last_heartbeat_at ? `${host.last_heartbeat_at} (${formatAge(host.last_heartbeat_at, nowMs)} ago)` : null],
    ['Generation', host.generation],
  ]);
  if (host.topology.numa_nodes.length > 0) {
    text +=
      '\nNUMA nodes\n' +
      renderTable<Host['topology']['numa_nodes'][number]>(
        [
          { header: 'node', value: (n) => n.id },
          { header: 'cores', value: (n) => n.cores, align: 'right' },
          { header: 'threads', value: (n) => n.threads, align: 'right' },
          { header: 'memory', value: (n) => formatMiB(n.memory_mib), align: 'right' },
        ],
        host.topology.numa_nodes,
      );
  }
  if (host.topology.gpus.length > 0) {
    text +=
      '\nGPUs\n' +
      renderTable<Host['topology']['gpus'][number]>(
        [
          { header: 'pci', value: (g) => g.pci_address },
          { header: 'model', value: (g) => g.model },
          { header: 'numa', value: (g) => g.numa_node, align: 'right' },
          { header: 'iommu-group', value: (g) => g.iommu_group, align: 'right' },
        ],
        host.topology.gpus,
      );
  }
  if (host.topology.nics.length > 0) {
    text +=
      '\nSR-IOV NICs\n' +
      renderTable<Host['topology']['nics'][number]>(
        [
          { header: 'name', value: (n) => n.name },
          { header: 'pci', value: (n) => n.pci_address },
          { header: 'numa', value: (n) => n.numa_node, align: 'right' },
          { header: 'speed', value: (n) => `${n.speed_gbps}G`, align: 'right' },
          { header: 'vfs', value: (n) => n.vfs, align: 'right' },
        ],
        host.topology.nics,
      );
  }
  return text;
}

/** What a drain did: `moved 3 servers, 1 could not move`, then why for each stuck server. */
export function drainText(drain: DrainReport): string {
  const lines = [`drain: moved ${drain.moved.length} server${drain.moved.length === 1 ? '' : 's'}${drain.stuck.length > 0 ? `, ${drain.stuck.length} could not move` : ''}`];
  for (const stuck of drain.stuck) lines.push(`  - ${stuck.server_id}: ${sanitize(stuck.failure?.message ?? stuck.error ?? 'no reason given')}`);
  return lines.join('\n') + '\n';
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
    const { hosts } = await client.get<{ hosts: Host[] }>('/v1/hosts', { region: region === undefined ? undefined : normalizeRegion(region) });
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
    const { host } = await client.get<{ host: Host }>(`/v1/hosts/${encodeURIComponent(positionals[0])}`);
    ctx.out(ctx.output === 'table' ? hostDetail(host, ctx.now()) : renderData(ctx.output, host));
    return 0;
  },
};

const setState: Command = {
  name: 'set-state',
  summary: 'set a host active, in maintenance or draining (no new placements unless active)',
  usage: 'ID active|maintenance|draining',
  description: 'Maintenance and draining take no new servers; draining also moves the host’s servers to other hosts and reports what it moved.',
  args: [
    { name: 'ID', required: true },
    { name: 'STATE', required: true },
  ],
  examples: ['vmcloud host set-state host_01jbz4m6k2x0r8t3q9w5e7y1ab draining'],
  async run(ctx, { positionals }) {
    const state = choiceOf(positionals[1], hostStates, 'the state');
    const client = await ctx.client();
    const answer = await client.patch<{ host: Host; drain?: DrainReport }>(`/v1/hosts/${encodeURIComponent(positionals[0])}`, { state });
    if (ctx.output !== 'table') {
      ctx.out(renderData(ctx.output, answer.drain === undefined ? answer.host : answer));
      return 0;
    }
    ctx.out(`host ${answer.host.name} is now ${answer.host.state}\n`);
    if (answer.drain) ctx.out(drainText(answer.drain));
    return 0;
  },
};

const token: Command = {
  name: 'token',
  summary: 'create a host agent token: `host token create --name NAME` (the secret is shown once)',
  usage: 'create --name NAME',
  description:
    'Calls POST /v1/host-tokens. The secret is printed once: pass it to the agent of the new host with\n' +
    '`vmcloud agent --control-plane URL --token SECRET --region REGION` (or env VMCLOUD_HOST_TOKEN).',
  args: [{ name: 'create', required: true }],
  options: { name: { type: 'string', arg: 'NAME', help: 'what the token is for, e.g. the host name fra1-std-042' } },
  examples: ['vmcloud host token create --name fra1-std-042'],
  async run(ctx, { values, positionals }) {
    if (positionals[0] !== 'create') throw new UsageError(`unknown command "host token ${sanitize(positionals[0])}" (only "host token create")`);
    const name = requiredString(values, 'name');
    const client = await ctx.client();
    const result = await client.post<CreatedToken>('/v1/host-tokens', { name });
    if (ctx.output !== 'table') {
      ctx.out(renderData(ctx.output, result));
      return 0;
    }
    ctx.out(
      renderDetail([
        ['ID', result.token.id],
        ['Name', result.token.name],
        ['Kind', result.token.kind],
        ['Secret', result.secret],
      ]),
    );
    const profile = await ctx.profile();
    ctx.err(
      'Store the secret now: it is shown only once.\n' +
        `hint: on the host, run \`vmcloud agent --control-plane ${profile.url} --token <secret> --region REGION\`\n`,
    );
    return 0;
  },
};

export const hostGroup: Group = { name: 'host', summary: 'operators: hypervisor hosts and host agent tokens', commands: [list, show, setState, token] };
