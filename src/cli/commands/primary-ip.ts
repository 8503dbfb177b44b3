/** `vmcloud primary-ip create|list|show|update|assign|unassign|set-dns-ptr|delete`. */
import {
  assignPrimaryIp,
  changePrimaryIpDnsPtr,
  createPrimaryIp,
  deletePrimaryIp,
  getPrimaryIp,
  listPrimaryIps,
  unassignPrimaryIp,
  updatePrimaryIp,
  type CreatePrimaryIpBody,
  type PrimaryIp,
  type UpdatePrimaryIpBody,
} from '../../contract/index.ts';
import {
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
import { assignCommand, setDnsPtrCommand, unassignCommand } from './ip-verbs.ts';
import { dnsPtrText, ipTypeOf } from './floating-ip.ts';

const columns = (nowMs: number): Column<PrimaryIp>[] => [
  { header: 'id', value: (p) => p.id },
  { header: 'name', value: (p) => p.name },
  { header: 'ip', value: (p) => p.ip },
  { header: 'region', value: (p) => p.region },
  { header: 'server', value: (p) => p.assignee_id },
  { header: 'auto delete', value: (p) => (p.auto_delete ? 'yes' : 'no') },
  { header: 'age', value: (p) => formatAge(p.created_at, nowMs), align: 'right' },
];

const detail = (p: PrimaryIp, nowMs: number) =>
  renderDetail([
    ['ID', p.id],
    ['Name', p.name],
    ['IP', p.ip],
    ['Type', p.type],
    ['Region', p.region],
    ['Server', p.assignee_id],
    ['Auto delete', p.auto_delete ? 'yes (released with its server)' : 'no (kept when its server is deleted)'],
    ['Reverse DNS', dnsPtrText(p.dns_ptr)],
    ['Labels', formatLabels(p.labels)],
    ['Project', p.project_id],
    ['Created', `${p.created_at} (${formatAge(p.created_at, nowMs)} ago)`],
  ]);

const boolOf = (text: string | undefined, flag: string): boolean | undefined => {
  if (text === undefined) return undefined;
  if (text !== 'true' && text !== 'false') throw new UsageError(`${flag} is true or false, not ${text}`);
  return text === 'true';
};

const create: Command = {
  name: 'create',
  summary: 'allocate a primary IP (IPv4 address or IPv6 /64)',
  usage: '--name NAME --region CODE --type ipv4|ipv6 [--server NAME|ID] [--auto-delete true|false]',
  options: {
    name: { type: 'string', arg: 'NAME', help: 'name, unique in the project' },
    region: { type: 'string', arg: 'CODE', help: 'region code' },
    type: { type: 'string', arg: 'TYPE', help: 'ipv4 or ipv6' },
    server: { type: 'string', arg: 'NAME|ID', help: 'assign it to this server at once' },
    'auto-delete': { type: 'string', arg: 'BOOL', help: 'release it with its server (default false)' },
    label: { type: 'string', multiple: true, arg: 'k=v', help: 'label (or several, comma separated)' },
  },
  examples: ['vmcloud primary-ip create --name web-v4 --region fra1 --type ipv4'],
  async run(ctx, { values }) {
    const body: CreatePrimaryIpBody = {
      name: requiredString(values, 'name'),
      region: normalizeRegion(requiredString(values, 'region')),
      type: ipTypeOf(requiredString(values, 'type'))!,
    };
    const server = stringOf(values, 'server');
    if (server !== undefined) body.server = server;
    const autoDelete = boolOf(stringOf(values, 'auto-delete'), '--auto-delete');
    if (autoDelete !== undefined) body.auto_delete = autoDelete;
    const labels = parseKeyValues(stringsOf(values, 'label'), '--label');
    if (Object.keys(labels).length > 0) body.labels = labels;
    const client = await ctx.client();
    const { primary_ip } = await client.call(createPrimaryIp, { body });
    ctx.out(ctx.output === 'table' ? detail(primary_ip, ctx.now()) : renderData(ctx.output, { primary_ip }));
    return 0;
  },
};

const list = listCommand({
  plural: 'primary IPs',
  summary: 'list primary IPs',
  usage: '[--selector k=v,...] [--region CODE] [--server ID] [--type ipv4|ipv6] [--limit N] [--all]',
  filters: {
    ...selectorFilter,
    region: { type: 'string', arg: 'CODE', help: 'only this region' },
    server: { type: 'string', arg: 'ID', help: 'only those of this server (id)' },
    type: { type: 'string', arg: 'TYPE', help: 'ipv4 or ipv6' },
  },
  examples: ['vmcloud primary-ip list --server srv_…'],
  query: (values) => ({
    label_selector: stringOf(values, 'selector'),
    region: regionQuery(values),
    server_id: stringOf(values, 'server'),
    type: ipTypeOf(stringOf(values, 'type')),
  }),
  page: async (client, query) => {
    const page = await client.call(listPrimaryIps, { query });
    return { items: page.primary_ips, next_cursor: page.next_cursor };
  },
  columns,
});

const show: Command = {
  name: 'show',
  summary: 'show a primary IP',
  usage: 'ID|NAME',
  args: [{ name: 'ID|NAME', required: true }],
  examples: ['vmcloud primary-ip show web-v4'],
  async run(ctx, { positionals }) {
    const client = await ctx.client();
    const { primary_ip } = await client.call(getPrimaryIp, { params: { id: positionals[0].trim() } });
    ctx.out(ctx.output === 'table' ? detail(primary_ip, ctx.now()) : renderData(ctx.output, primary_ip));
    return 0;
  },
};

const update: Command = {
  name: 'update',
  summary: 'rename a primary IP or change auto_delete',
  usage: 'ID|NAME [--name NAME] [--auto-delete true|false]',
  args: [{ name: 'ID|NAME', required: true }],
  options: {
    name: { type: 'string', arg: 'NAME', help: 'new name' },
    'auto-delete': { type: 'string', arg: 'BOOL', help: 'release it with its server' },
  },
  examples: ['vmcloud primary-ip update web-v4 --auto-delete false'],
  async run(ctx, { positionals, values }) {
    const body: UpdatePrimaryIpBody = {};
    const name = stringOf(values, 'name');
    if (name !== undefined) body.name = name;
    const autoDelete = boolOf(stringOf(values, 'auto-delete'), '--auto-delete');
    if (autoDelete !== undefined) body.auto_delete = autoDelete;
    const client = await ctx.client();
    const { primary_ip } = await client.call(updatePrimaryIp, { params: { id: positionals[0].trim() }, body });
    ctx.out(ctx.output === 'table' ? detail(primary_ip, ctx.now()) : renderData(ctx.output, { primary_ip }));
    return 0;
  },
};

const assign = assignCommand({
  noun: 'primary IP',
  summary: 'give a primary IP to a server of its region',
  example: 'vmcloud primary-ip assign web-v4 --server web-2 --wait',
  call: (client, id, server) => client.call(assignPrimaryIp, { params: { id }, body: { server } }),
});

const unassign = unassignCommand({
  noun: 'primary IP',
  summary: 'take a primary IP from its server',
  example: 'vmcloud primary-ip unassign web-v4 --wait',
  call: (client, id) => client.call(unassignPrimaryIp, { params: { id } }),
});

const setDnsPtr = setDnsPtrCommand({
  noun: 'primary IP',
  summary: 'set (or with --clear remove) the reverse DNS name of an address',
  example: 'vmcloud primary-ip set-dns-ptr web-1-ipv6 --ip 2001:db8:2:5::1 --dns-ptr web-1.example.com',
  ipHelp: 'the address (any address inside an IPv6 /64)',
  call: (client, id, body) => client.call(changePrimaryIpDnsPtr, { params: { id }, body }),
  show: (ctx, { primary_ip }) =>
    ctx.out(ctx.output === 'table' ? detail(primary_ip, ctx.now()) : renderData(ctx.output, { primary_ip })),
});

const remove: Command = {
  name: 'delete',
  summary: 'release a primary IP (refused while assigned)',
  usage: 'ID|NAME',
  args: [{ name: 'ID|NAME', required: true }],
  examples: ['vmcloud primary-ip delete web-v4'],
  async run(ctx, { positionals }) {
    const ref = positionals[0].trim();
    const client = await ctx.client();
    await client.call(deletePrimaryIp, { params: { id: ref } });
    ctx.out(ctx.output === 'table' ? `primary IP ${ref} released\n` : renderData(ctx.output, { deleted: ref }));
    return 0;
  },
};

export const primaryIpGroup: Group = {
  name: 'primary-ip',
  summary: 'primary IPs (IPv4 and IPv6 /64): allocate, keep across servers, reverse DNS',
  commands: [create, list, show, update, assign, unassign, setDnsPtr, remove],
};
