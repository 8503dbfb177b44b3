/**
 * `vmcloud network create|list|show|delete|add-subnet|add-route|delete-route`, and the server verbs
 * `vmcloud server networks|attach-network|detach-network`.
 */
import {
  addNetworkRoute,
  addNetworkSubnet,
  attachServerToNetwork,
  createNetwork,
  deleteNetwork,
  deleteNetworkRoute,
  detachServerFromNetwork,
  getNetwork,
  listNetworks,
  listServerNetworks,
  type CreateNetworkBody,
  type ServerNetwork,
  type Network,
} from '../../contract/index.ts';
import {
  flagOf,
  parseKeyValues,
  requiredString,
  stringOf,
  stringsOf,
  UsageError,
  type Command,
  type Group,
} from '../command.ts';
import { formatAge, formatLabels, renderData, renderDetail, renderList, type Column } from '../output.ts';
import { listCommand, regionQuery, selectorFilter } from '../list-command.ts';
import { normalizeRegion } from '../resolve.ts';
import { finishAction, waitOption } from './action.ts';

/** Prints the action (waited for with --wait) and returns the exit code. */

const columns = (nowMs: number): Column<Network>[] => [
  { header: 'name', value: (n) => n.name },
  { header: 'id', value: (n) => n.id },
  { header: 'region', value: (n) => n.region },
  { header: 'ip range', value: (n) => n.ip_range },
  { header: 'servers', value: (n) => n.attachments.length, align: 'right' },
  { header: 'labels', value: (n) => formatLabels(n.labels) },
  { header: 'age', value: (n) => formatAge(n.created_at, nowMs), align: 'right' },
];

export function networkDetail(network: Network, nowMs: number): string {
  return (
    renderDetail([
      ['Name', network.name],
      ['ID', network.id],
      ['Region', network.region],
      ['IP range', network.ip_range],
      ['MTU', network.mtu],
      ['Subnets', network.subnets.map((s) => `${s.ip_range} (gateway ${s.gateway})`).join(', ') || '-'],
      ['Routes', network.routes.map((r) => `${r.destination} via ${r.gateway}`).join(', ') || '-'],
      ['Labels', formatLabels(network.labels)],
      ['Project', network.project_id],
      ['Created', `${network.created_at} (${formatAge(network.created_at, nowMs)} ago)`],
    ]) +
    (network.attachments.length === 0
      ? 'No servers attached.\n'
      : renderList(
          'table',
          [
            { header: 'server', value: (a: Network['attachments'][number]) => a.server_id },
            { header: 'ip', value: (a) => a.ip },
            { header: 'mac', value: (a) => a.mac_address },
            { header: 'status', value: (a) => a.status },
          ],
          network.attachments,
          '',
        ))
  );
}

const routeOf = (text: string) => {
  const [destination, gateway] = text.split(/\s+via\s+|,|=/).map((part) => part.trim());
  if (!destination || !gateway) throw new UsageError(`--route takes DESTINATION=GATEWAY, got ${text}`);
  return { destination, gateway };
};

const create: Command = {
  name: 'create',
  summary: 'create a private network',
  usage: '--name NAME --region CODE --ip-range CIDR [--subnet CIDR]... [--route DEST=GW]... [--label k=v]...',
  description:
    'The range is RFC 1918, /8 to /28, and overlaps neither another network of the project nor a public pool.\n' +
    'Without --subnet the whole range is one subnet; each subnet’s first address is its gateway.',
  options: {
    name: { type: 'string', arg: 'NAME', help: 'network name, unique in the project' },
    region: { type: 'string', arg: 'CODE', help: 'region code' },
    'ip-range': { type: 'string', arg: 'CIDR', help: 'the network’s range, e.g. 10.20.0.0/16' },
    subnet: { type: 'string', multiple: true, arg: 'CIDR', help: 'a subnet inside the range (repeatable)' },
    route: { type: 'string', multiple: true, arg: 'DEST=GW', help: 'a static route (repeatable)' },
    label: { type: 'string', multiple: true, arg: 'k=v', help: 'label (or several, comma separated)' },
  },
  examples: ['vmcloud network create --name net-1 --region fra1 --ip-range 10.20.0.0/24'],
  async run(ctx, { values }) {
    const body: CreateNetworkBody = {
      name: requiredString(values, 'name'),
      region: normalizeRegion(requiredString(values, 'region')),
      ip_range: requiredString(values, 'ip-range'),
    };
    const subnets = stringsOf(values, 'subnet');
    if (subnets.length > 0) body.subnets = subnets.map((ip_range) => ({ ip_range }));
    const routes = stringsOf(values, 'route');
    if (routes.length > 0) body.routes = routes.map(routeOf);
    const labels = parseKeyValues(stringsOf(values, 'label'), '--label');
    if (Object.keys(labels).length > 0) body.labels = labels;
    const client = await ctx.client();
    const { network } = await client.call(createNetwork, { body });
    ctx.out(ctx.output === 'table' ? networkDetail(network, ctx.now()) : renderData(ctx.output, { network }));
    return 0;
  },
};

const list = listCommand({
  plural: 'networks',
  summary: 'list private networks',
  usage: '[--selector k=v,...] [--region CODE] [--limit N] [--all]',
  filters: { ...selectorFilter, region: { type: 'string', arg: 'CODE', help: 'only networks in this region' } },
  examples: ['vmcloud network list', 'vmcloud network list --region fra1 -o json'],
  query: (values) => ({ label_selector: stringOf(values, 'selector'), region: regionQuery(values) }),
  page: async (client, query) => {
    const page = await client.call(listNetworks, { query });
    return { items: page.networks, next_cursor: page.next_cursor };
  },
  columns,
});

const show: Command = {
  name: 'show',
  summary: 'show a network with its subnets, routes and servers',
  usage: 'NAME|ID',
  args: [{ name: 'NAME|ID', required: true }],
  examples: ['vmcloud network show net-1'],
  async run(ctx, { positionals }) {
    const client = await ctx.client();
    const { network } = await client.call(getNetwork, { params: { id: positionals[0].trim() } });
    ctx.out(ctx.output === 'table' ? networkDetail(network, ctx.now()) : renderData(ctx.output, network));
    return 0;
  },
};

const remove: Command = {
  name: 'delete',
  summary: 'delete a network (refused while servers are attached)',
  usage: 'NAME|ID',
  args: [{ name: 'NAME|ID', required: true }],
  examples: ['vmcloud network delete net-1'],
  async run(ctx, { positionals }) {
    const ref = positionals[0].trim();
    const client = await ctx.client();
    await client.call(deleteNetwork, { params: { id: ref } });
    if (ctx.output === 'table') ctx.out(`network ${ref} deleted\n`);
    else ctx.out(renderData(ctx.output, { deleted: ref }));
    return 0;
  },
};

const addSubnet: Command = {
  name: 'add-subnet',
  summary: 'add a subnet inside the network’s range',
  usage: 'NAME|ID --ip-range CIDR',
  args: [{ name: 'NAME|ID', required: true }],
  options: { 'ip-range': { type: 'string', arg: 'CIDR', help: 'the subnet' } },
  examples: ['vmcloud network add-subnet net-1 --ip-range 10.20.1.0/24'],
  async run(ctx, { positionals, values }) {
    const client = await ctx.client();
    const { network } = await client.call(addNetworkSubnet, {
      params: { id: positionals[0].trim() },
      body: { ip_range: requiredString(values, 'ip-range') },
    });
    ctx.out(ctx.output === 'table' ? networkDetail(network, ctx.now()) : renderData(ctx.output, { network }));
    return 0;
  },
};

const routeCommand = (name: 'add-route' | 'delete-route'): Command => ({
  name,
  summary: name === 'add-route' ? 'add a static route' : 'delete a static route',
  usage: 'NAME|ID --destination CIDR --gateway IP',
  args: [{ name: 'NAME|ID', required: true }],
  options: {
    destination: { type: 'string', arg: 'CIDR', help: 'destination range' },
    gateway: { type: 'string', arg: 'IP', help: 'a server address of a subnet' },
  },
  examples: [`vmcloud network ${name} net-1 --destination 10.100.0.0/16 --gateway 10.20.0.254`],
  async run(ctx, { positionals, values }) {
    const client = await ctx.client();
    const body = { destination: requiredString(values, 'destination'), gateway: requiredString(values, 'gateway') };
    const op = name === 'add-route' ? addNetworkRoute : deleteNetworkRoute;
    const { network } = await client.call(op, { params: { id: positionals[0].trim() }, body });
    ctx.out(ctx.output === 'table' ? networkDetail(network, ctx.now()) : renderData(ctx.output, { network }));
    return 0;
  },
});

export const networkGroup: Group = {
  name: 'network',
  summary: 'private networks: create, list, show, subnets, routes, delete',
  commands: [create, list, show, remove, addSubnet, routeCommand('add-route'), routeCommand('delete-route')],
};

const attachNetwork: Command = {
  name: 'attach-network',
  summary: 'attach a server to a private network (a second NIC, hot-plugged when running)',
  usage: 'NAME|ID --network NAME|ID [--ip ADDRESS] [--wait]',
  args: [{ name: 'NAME|ID', required: true }],
  options: {
    network: { type: 'string', arg: 'NAME|ID', help: 'the network' },
    ip: { type: 'string', arg: 'ADDRESS', help: 'this address (inside a subnet, free) instead of the next free one' },
    ...waitOption,
  },
  examples: ['vmcloud server attach-network web-1 --network net-1 --wait'],
  async run(ctx, { positionals, values }) {
    const server = positionals[0].trim();
    const network = requiredString(values, 'network');
    const ip = stringOf(values, 'ip');
    const client = await ctx.client();
    const { action } = await client.call(attachServerToNetwork, {
      params: { id: server },
      body: { network, ...(ip === undefined ? {} : { ip }) },
    });
    return finishAction(ctx, client, action, flagOf(values, 'wait'), {
      label: `attach ${server} to ${network}`,
      done: `server ${server} attached to network ${network}`,
      accepted: `attaching server ${server} to network ${network}: action ${action.id} ${action.status}`,
    });
  },
};

const detachNetwork: Command = {
  name: 'detach-network',
  summary: 'detach a server from a private network',
  usage: 'NAME|ID --network NAME|ID [--wait]',
  args: [{ name: 'NAME|ID', required: true }],
  options: { network: { type: 'string', arg: 'NAME|ID', help: 'the network' }, ...waitOption },
  examples: ['vmcloud server detach-network web-1 --network net-1 --wait'],
  async run(ctx, { positionals, values }) {
    const server = positionals[0].trim();
    const network = requiredString(values, 'network');
    const client = await ctx.client();
    const { action } = await client.call(detachServerFromNetwork, { params: { id: server }, body: { network } });
    return finishAction(ctx, client, action, flagOf(values, 'wait'), {
      label: `detach ${server} from ${network}`,
      done: `server ${server} detached from network ${network}`,
      accepted: `detaching server ${server} from network ${network}: action ${action.id} ${action.status}`,
    });
  },
};

const serverNetworkColumns = (nowMs: number): Column<ServerNetwork>[] => [
  { header: 'network', value: (n) => n.network_name },
  { header: 'id', value: (n) => n.network_id },
  { header: 'ip', value: (n) => n.ip },
  { header: 'subnet', value: (n) => n.subnet?.ip_range ?? '-' },
  { header: 'gateway', value: (n) => n.subnet?.gateway ?? '-' },
  { header: 'mac', value: (n) => n.mac_address },
  { header: 'status', value: (n) => n.status },
  { header: 'attached', value: (n) => formatAge(n.attached_at, nowMs), align: 'right' },
];

const serverNetworks: Command = {
  name: 'networks',
  summary: 'the private networks a server is attached to, with its address on each',
  usage: 'NAME|ID',
  args: [{ name: 'NAME|ID', required: true }],
  examples: ['vmcloud server networks web-1', 'vmcloud server networks web-1 -o json'],
  async run(ctx, { positionals }) {
    const client = await ctx.client();
    const { networks } = await client.call(listServerNetworks, { params: { id: positionals[0].trim() } });
    ctx.out(renderList(ctx.output, serverNetworkColumns(ctx.now()), networks, 'No private networks.'));
    return 0;
  },
};

export const serverNetworkCommands: Command[] = [serverNetworks, attachNetwork, detachNetwork];
