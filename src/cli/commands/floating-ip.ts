/** `vmcloud floating-ip create|list|show|assign|unassign|set-dns-ptr|delete`. */
import {
  assignFloatingIp,
  changeFloatingIpDnsPtr,
  createFloatingIp,
  deleteFloatingIp,
  getFloatingIp,
  listFloatingIps,
  unassignFloatingIp,
  type CreateFloatingIpBody,
  type FloatingIp,
  type IpType,
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
import { formatAge, formatLabels, renderData, renderDetail, type Column } from '../output.ts';
import { listCommand, regionQuery, selectorFilter } from '../list-command.ts';
import { normalizeRegion } from '../resolve.ts';
import { waitOption } from './action.ts';
import { assignCommand, setDnsPtrCommand, unassignCommand } from './ip-verbs.ts';

export const ipTypeOf = (text: string | undefined): IpType | undefined => {
  if (text === undefined) return undefined;
  if (text !== 'ipv4' && text !== 'ipv6') throw new UsageError(`--type is ipv4 or ipv6, not ${text}`);
  return text;
};

const columns = (nowMs: number): Column<FloatingIp>[] => [
  { header: 'id', value: (f) => f.id },
  { header: 'name', value: (f) => f.name },
  { header: 'ip', value: (f) => f.ip },
  { header: 'region', value: (f) => f.region },
  { header: 'server', value: (f) => f.server_id },
  { header: 'labels', value: (f) => formatLabels(f.labels) },
  { header: 'age', value: (f) => formatAge(f.created_at, nowMs), align: 'right' },
];

export const dnsPtrText = (entries: { ip: string; dns_ptr: string }[]) =>
  entries.map((e) => `${e.ip} → ${e.dns_ptr}`).join(', ') || '-';

const detail = (f: FloatingIp, nowMs: number) =>
  renderDetail([
    ['ID', f.id],
    ['Name', f.name || '-'],
    ['Description', f.description || '-'],
    ['IP', f.ip],
    ['Type', f.type],
    ['Region', f.region],
    ['Server', f.server_id],
    ['Reverse DNS', dnsPtrText(f.dns_ptr)],
    ['Labels', formatLabels(f.labels)],
    ['Project', f.project_id],
    ['Created', `${f.created_at} (${formatAge(f.created_at, nowMs)} ago)`],
  ]);

const create: Command = {
  name: 'create',
  summary: 'allocate a floating IP in a region (and assign it with --server)',
  usage: '--region CODE [--type ipv4|ipv6] [--name NAME] [--description TEXT] [--server NAME|ID] [--wait]',
  options: {
    region: { type: 'string', arg: 'CODE', help: 'region code' },
    type: { type: 'string', arg: 'TYPE', help: 'ipv4 (default) or ipv6 (a /64)' },
    name: { type: 'string', arg: 'NAME', help: 'a name' },
    description: { type: 'string', arg: 'TEXT', help: 'a description' },
    server: { type: 'string', arg: 'NAME|ID', help: 'assign it to this server at once' },
    label: { type: 'string', multiple: true, arg: 'k=v', help: 'label (or several, comma separated)' },
    ...waitOption,
  },
  examples: [
    'vmcloud floating-ip create --region fra1',
    'vmcloud floating-ip create --region fra1 --server web-1 --wait',
  ],
  async run(ctx, { values }) {
    const body: CreateFloatingIpBody = { region: normalizeRegion(requiredString(values, 'region')) };
    const type = ipTypeOf(stringOf(values, 'type'));
    if (type) body.type = type;
    for (const key of ['name', 'description', 'server'] as const) {
      const value = stringOf(values, key);
      if (value !== undefined) body[key] = value;
    }
    const labels = parseKeyValues(stringsOf(values, 'label'), '--label');
    if (Object.keys(labels).length > 0) body.labels = labels;
    const client = await ctx.client();
    let { floating_ip, action } = await client.call(createFloatingIp, { body });
    if (action && flagOf(values, 'wait') && action.status === 'running') {
      action = await ctx.waitForAction(client, action, { label: `assign ${floating_ip.ip}` });
      floating_ip = (await client.call(getFloatingIp, { params: { id: floating_ip.id } })).floating_ip;
    }
    ctx.out(ctx.output === 'table' ? detail(floating_ip, ctx.now()) : renderData(ctx.output, { floating_ip, action }));
    return action?.status === 'error' ? 1 : 0;
  },
};

const list = listCommand({
  plural: 'floating IPs',
  summary: 'list floating IPs',
  usage: '[--selector k=v,...] [--region CODE] [--server ID] [--limit N] [--all]',
  filters: {
    ...selectorFilter,
    region: { type: 'string', arg: 'CODE', help: 'only this region' },
    server: { type: 'string', arg: 'ID', help: 'only those assigned to this server (id)' },
  },
  examples: ['vmcloud floating-ip list'],
  query: (values) => ({
    label_selector: stringOf(values, 'selector'),
    region: regionQuery(values),
    server_id: stringOf(values, 'server'),
  }),
  page: async (client, query) => {
    const page = await client.call(listFloatingIps, { query });
    return { items: page.floating_ips, next_cursor: page.next_cursor };
  },
  columns,
});

const show: Command = {
  name: 'show',
  summary: 'show a floating IP',
  usage: 'ID|NAME',
  args: [{ name: 'ID|NAME', required: true }],
  examples: ['vmcloud floating-ip show fip_…'],
  async run(ctx, { positionals }) {
    const client = await ctx.client();
    const { floating_ip } = await client.call(getFloatingIp, { params: { id: positionals[0].trim() } });
    ctx.out(ctx.output === 'table' ? detail(floating_ip, ctx.now()) : renderData(ctx.output, floating_ip));
    return 0;
  },
};

const assign = assignCommand({
  noun: 'floating IP',
  summary: 'assign (or move) a floating IP to a server of its region',
  doneAs: 'routed to',
  example: 'vmcloud floating-ip assign fip_… --server web-1 --wait',
  call: (client, id, server) => client.call(assignFloatingIp, { params: { id }, body: { server } }),
});

const unassign = unassignCommand({
  noun: 'floating IP',
  summary: 'unassign a floating IP',
  example: 'vmcloud floating-ip unassign fip_… --wait',
  call: (client, id) => client.call(unassignFloatingIp, { params: { id } }),
});

const setDnsPtr = setDnsPtrCommand({
  noun: 'floating IP',
  summary: 'set (or with --clear remove) the reverse DNS name of the floating IP',
  example: 'vmcloud floating-ip set-dns-ptr fip_… --ip 198.18.16.5 --dns-ptr www.example.com',
  ipHelp: 'the address (inside the /64 for IPv6)',
  call: (client, id, body) => client.call(changeFloatingIpDnsPtr, { params: { id }, body }),
  show: (ctx, { floating_ip }) =>
    ctx.out(ctx.output === 'table' ? detail(floating_ip, ctx.now()) : renderData(ctx.output, { floating_ip })),
});

const remove: Command = {
  name: 'delete',
  summary: 'release a floating IP (refused while assigned)',
  usage: 'ID|NAME',
  args: [{ name: 'ID|NAME', required: true }],
  examples: ['vmcloud floating-ip delete fip_…'],
  async run(ctx, { positionals }) {
    const ref = positionals[0].trim();
    const client = await ctx.client();
    await client.call(deleteFloatingIp, { params: { id: ref } });
    ctx.out(ctx.output === 'table' ? `floating IP ${ref} released\n` : renderData(ctx.output, { deleted: ref }));
    return 0;
  },
};

export const floatingIpGroup: Group = {
  name: 'floating-ip',
  summary: 'floating IPs: allocate, assign, move, reverse DNS, release',
  commands: [create, list, show, assign, unassign, setDnsPtr, remove],
};
