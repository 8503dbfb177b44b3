/**
 * `vmcloud host list|show|network|set-state|token create|list|revoke` (operators): the hypervisor fleet,
 * each host's network data plane (desired vs reported, drift), and the join tokens its agents join with.
 */
import {
  createHostToken,
  getHost,
  getHostNetwork,
  hostStates,
  listHosts,
  listHostTokens,
  revokeHostToken,
  setHostState,
  type CreateHostTokenBody,
  type DrainReport,
  type Host,
  type HostNetworkView,
  type HostTokenCreated,
  type Token,
} from '../../contract/index.ts';
import { choiceOf, integerOf, requiredString, stringOf, UsageError, type Command, type Group } from '../command.ts';
import {
  formatAge,
  formatMiB,
  formatUsage,
  renderData,
  renderDetail,
  renderList,
  renderTable,
  sanitize,
  type Column,
} from '../output.ts';
import { normalizeRegion } from '../resolve.ts';

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
    [
      'Heartbeat',
      host.last_heartbeat_at ? `${host.last_heartbeat_at} (${formatAge(host.last_heartbeat_at, nowMs)} ago)` : null,
    ],
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
  const lines = [
    `drain: moved ${drain.moved.length} server${drain.moved.length === 1 ? '' : 's'}${drain.stuck.length > 0 ? `, ${drain.stuck.length} could not move` : ''}`,
  ];
  for (const stuck of drain.stuck)
    lines.push(`  - ${stuck.server_id}: ${sanitize(stuck.failure?.message ?? stuck.error ?? 'no reason given')}`);
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
    const { hosts } = await client.call(listHosts, {
      query: { region: region === undefined ? undefined : normalizeRegion(region) },
    });
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
    const { host } = await client.call(getHost, { params: { id: positionals[0] } });
    ctx.out(ctx.output === 'table' ? hostDetail(host, ctx.now()) : renderData(ctx.output, host));
    return 0;
  },
};

const yesNo = (value: boolean) => (value ? 'yes' : 'NO');

/** A host's network: summary, then segments, ports, routes, firewall chains and the drift. */
export function hostNetworkText(view: HostNetworkView, nowMs: number): string {
  const ports = view.segments.flatMap((s) => s.ports.map((p) => ({ ...p, segment: s })));
  let text = renderDetail([
    ['Host', view.host_id],
    ['VTEP', view.vtep ?? 'none'],
    ['Segments', view.segments.length],
    ['Ports', ports.length],
    ['Public routes', view.public_routes.length],
    ['Firewalled', view.firewalls.length],
    ['Reported', view.reported_at ? `${view.reported_at} (${formatAge(view.reported_at, nowMs)} ago)` : 'never'],
    ['Drift', view.drift.length === 0 ? 'none' : view.drift.length],
  ]);
  if (view.segments.length > 0)
    text +=
      '\nSegments\n' +
      renderTable<HostNetworkView['segments'][number]>(
        [
          { header: 'network', value: (s) => s.network_id },
          { header: 'vni', value: (s) => s.vni, align: 'right' },
          { header: 'range', value: (s) => s.ip_range },
          { header: 'mtu', value: (s) => s.mtu, align: 'right' },
          { header: 'bridge', value: (s) => s.bridge },
          { header: 'vxlan', value: (s) => s.vxlan_device },
          { header: 'ports', value: (s) => s.ports.length, align: 'right' },
          { header: 'remotes', value: (s) => s.remotes.length, align: 'right' },
        ],
        view.segments,
      );
  if (ports.length > 0)
    text +=
      '\nPorts\n' +
      renderTable<(typeof ports)[number]>(
        [
          { header: 'server', value: (p) => p.server_id },
          { header: 'network', value: (p) => p.segment.network_id },
          { header: 'ip', value: (p) => p.ip },
          { header: 'mac', value: (p) => p.mac },
          { header: 'tap', value: (p) => p.tap },
          { header: 'in-place', value: (p) => yesNo(p.in_place) },
        ],
        ports,
      );
  if (view.public_routes.length > 0)
    text +=
      '\nPublic routes\n' +
      renderTable<HostNetworkView['public_routes'][number]>(
        [
          { header: 'address', value: (r) => r.address },
          { header: 'kind', value: (r) => `${r.kind} ${r.type}` },
          { header: 'server', value: (r) => r.server_id },
          { header: 'tap', value: (r) => r.tap },
          { header: 'in-place', value: (r) => yesNo(r.in_place) },
        ],
        view.public_routes,
      );
  const chains = view.firewalls.flatMap((s) => s.firewalls.map((f) => ({ ...f, server: s })));
  if (chains.length > 0)
    text +=
      '\nFirewall chains\n' +
      renderTable<(typeof chains)[number]>(
        [
          { header: 'server', value: (f) => f.server.server_id },
          { header: 'chain', value: (f) => f.server.chain },
          { header: 'firewall', value: (f) => f.id },
          { header: 'rules', value: (f) => f.rules, align: 'right' },
          { header: 'version', value: (f) => f.version, align: 'right' },
          { header: 'on-host', value: (f) => f.observed_version ?? 'none', align: 'right' },
        ],
        chains,
      );
  if (view.drift.length > 0) {
    text += '\nDrift\n';
    for (const d of view.drift)
      text += `  - ${d.kind}${d.server_id ? ` ${d.server_id}` : ''}: ${sanitize(d.message)}\n`;
  }
  return text;
}

const network: Command = {
  name: 'network',
  summary: "show a host's network data plane: desired vs reported, with drift",
  usage: 'ID',
  description:
    'GET /v1/hosts/{id}/network: the VXLAN segments (VNI, bridge, VXLAN device, ports and their taps), the\n' +
    'floating and primary IP routes and the firewall chains the host should have, each marked in place or not\n' +
    "from its agent's last report, and the drift between the two. The agent repairs drift at each pass;\n" +
    'exit status 0 either way.',
  args: [{ name: 'ID', required: true }],
  examples: ['vmcloud --profile operator host network host_01jbz4m6k2x0r8t3q9w5e7y1ab'],
  async run(ctx, { positionals }) {
    const client = await ctx.client();
    const { network: view } = await client.call(getHostNetwork, { params: { id: positionals[0] } });
    ctx.out(ctx.output === 'table' ? hostNetworkText(view, ctx.now()) : renderData(ctx.output, view));
    return 0;
  },
};

const setState: Command = {
  name: 'set-state',
  summary: 'set a host active, in maintenance or draining (no new placements unless active)',
  usage: 'ID active|maintenance|draining',
  description:
    'Maintenance and draining take no new servers; draining also moves the host’s servers to other hosts and reports what it moved.',
  args: [
    { name: 'ID', required: true },
    { name: 'STATE', required: true },
  ],
  examples: ['vmcloud host set-state host_01jbz4m6k2x0r8t3q9w5e7y1ab draining'],
  async run(ctx, { positionals }) {
    const state = choiceOf(positionals[1], hostStates, 'the state');
    const client = await ctx.client();
    const answer = await client.call(setHostState, { params: { id: positionals[0] }, body: { state } });
    if (ctx.output !== 'table') {
      ctx.out(renderData(ctx.output, answer.drain === undefined ? answer.host : answer));
      return 0;
    }
    ctx.out(`host ${answer.host.name} is now ${answer.host.state}\n`);
    if (answer.drain) ctx.out(drainText(answer.drain));
    return 0;
  },
};

/** The agent listener's default port (`serve --agent-listen`, default 127.0.0.1:8443). */
const agentListenerPort = 8443;

/** How to start the agent of the new host with this token, without putting the secret on its command line. */
export function joinHint(result: HostTokenCreated, controlPlaneUrl: string): string {
  let host = 'CONTROL-PLANE';
  try {
    host = new URL(controlPlaneUrl).hostname || host;
  } catch {
    // keep the placeholder
  }
  return (
    'Store the secret now: it is shown only once. It is a one-time join token: the first join consumes it.\n' +
    'hint: on the host, put the secret in a file only root can read (e.g. /etc/vmcloud/join-token, mode 0600), then run\n' +
    `  vmcloud agent --control-plane https://${host}:${agentListenerPort} --ca-sha256 ${result.ca_sha256} \\\n` +
    '      --region REGION --join-token-file /etc/vmcloud/join-token\n' +
    '  (or pass it in the environment: VMCLOUD_JOIN_TOKEN; never on the command line). After the join the agent\n' +
    '  keeps its certificate in its state dir and the file can be deleted.\n'
  );
}

export function hostTokenColumns(nowMs: number): Column<Token>[] {
  return [
    { header: 'id', value: (t) => t.id },
    { header: 'name', value: (t) => t.name },
    { header: 'host-id', value: (t) => t.host_id ?? 'not joined' },
    { header: 'prefix', value: (t) => t.prefix },
    { header: 'expires', value: (t) => t.expires_at },
    { header: 'age', value: (t) => formatAge(t.created_at, nowMs), align: 'right' },
  ];
}

const token: Command = {
  name: 'token',
  summary:
    'host join tokens: `host token create --name NAME [--host-id ID]`, `host token list`, `host token revoke ID`',
  usage: 'create --name NAME [--host-id ID] [--expires-in-days N] | list | revoke ID',
  description:
    'create: POST /v1/host-tokens. Prints the one-time join token (shown once) and the SHA-256 fingerprint of\n' +
    "the control plane's host CA, which the agent pins (`vmcloud agent --ca-sha256`). With --host-id, a token\n" +
    'for an existing host whose agent lost its state: joining with it issues a new certificate and revokes the\n' +
    'older ones.\n' +
    "list: the live host tokens; a joined token stays, bound to its host, as the host's credential record.\n" +
    'revoke: revokes the token and the certificates of its host: the agent is refused at once and the host is\n' +
    'down at the next housekeeping pass.',
  args: [
    { name: 'ACTION', required: true },
    { name: 'ID', required: false },
  ],
  options: {
    name: { type: 'string', arg: 'NAME', help: 'what the token is for, e.g. the host name fra1-std-042' },
    'host-id': {
      type: 'string',
      arg: 'ID',
      help: 'a token for this existing host (rotation: its agent lost its state)',
    },
    'expires-in-days': { type: 'string', arg: 'N', help: 'the token cannot join after N days (default: never)' },
  },
  examples: [
    'vmcloud host token create --name fra1-std-042',
    'vmcloud host token create --name fra1-std-042-rejoin --host-id host_01jbz4m6k2x0r8t3q9w5e7y1ab',
    'vmcloud host token list',
    'vmcloud host token revoke tok_01jbz4m6k2x0r8t3q9w5e7y1ab',
  ],
  async run(ctx, { values, positionals }) {
    const action = positionals[0];
    if (action === 'list') {
      const client = await ctx.client();
      const { tokens } = await client.call(listHostTokens);
      ctx.out(renderList(ctx.output, hostTokenColumns(ctx.now()), tokens, 'No host tokens.'));
      return 0;
    }
    if (action === 'revoke') {
      const id = positionals[1];
      if (!id) throw new UsageError('missing the token ID: `host token revoke ID`');
      const client = await ctx.client();
      await client.call(revokeHostToken, { params: { id } });
      ctx.out(
        ctx.output === 'table'
          ? `host token ${id} revoked; the certificates of its host are revoked too\n`
          : renderData(ctx.output, { revoked: id }),
      );
      return 0;
    }
    if (action !== 'create')
      throw new UsageError(
        `unknown command "host token ${sanitize(action)}" (host token create, host token list, host token revoke)`,
      );
    const body: CreateHostTokenBody = { name: requiredString(values, 'name') };
    const hostId = stringOf(values, 'host-id');
    if (hostId !== undefined) body.host_id = hostId;
    const days = integerOf(values, 'expires-in-days', { min: 1, max: 3650 });
    if (days !== undefined) body.expires_in_days = days;
    const client = await ctx.client();
    const result = await client.call(createHostToken, { body });
    if (ctx.output !== 'table') {
      ctx.out(renderData(ctx.output, result));
      return 0;
    }
    ctx.out(
      renderDetail([
        ['ID', result.token.id],
        ['Name', result.token.name],
        ['Kind', result.token.kind],
        ...(result.token.host_id ? [['Host', result.token.host_id] as const] : []),
        ['Secret', result.secret],
        ['CA SHA-256', result.ca_sha256],
      ]),
    );
    const profile = await ctx.profile();
    ctx.err(joinHint(result, profile.url));
    return 0;
  },
};

export const hostGroup: Group = {
  name: 'host',
  summary: 'operators: hypervisor hosts and host agent tokens',
  commands: [list, show, network, setState, token],
};
