/**
 * `vmcloud server create|list|show|start|stop|reboot|delete`; resize, rebuild, protection and ISO in
 * server-lifecycle.ts.
 */
import { VmcError } from '../../core/errors.ts';
import {
  createServer,
  deleteServer,
  getServer,
  listServers,
  rebootServer,
  startServer,
  stopServer,
  type CreateServerBody,
  type Server,
} from '../../contract/index.ts';
import {
  flagOf,
  integerOf,
  parseKeyValues,
  requiredString,
  stringOf,
  stringsOf,
  type Command,
  type Context,
  type Group,
  type Input,
  type Options,
} from '../command.ts';
import { formatAge, formatLabels, renderData, renderDetail, renderList, type Column } from '../output.ts';
import { listPages } from '../pagination.ts';
import { normalizeProduct, normalizeRegion, readSshKeys, readUserData, resolveServer } from '../resolve.ts';
import {
  attachIsoCommand,
  detachIsoCommand,
  protect,
  rebuild,
  resize,
  resizeOptions,
  unprotect,
} from './server-lifecycle.ts';
import { finishAction, waitOption } from './action.ts';

export function serverColumns(nowMs: number): Column<Server>[] {
  return [
    { header: 'name', value: (s) => s.name },
    { header: 'id', value: (s) => s.id },
    { header: 'status', value: (s) => s.status },
    { header: 'product', value: (s) => s.product },
    { header: 'region', value: (s) => s.region },
    { header: 'ipv4', value: (s) => s.ipv4 },
    { header: 'labels', value: (s) => formatLabels(s.labels) },
    { header: 'age', value: (s) => formatAge(s.created_at, nowMs), align: 'right' },
  ];
}

export function serverDetail(server: Server, nowMs: number): string {
  const placement = server.placement;
  return renderDetail([
    ['Name', server.name],
    ['ID', server.id],
    [
      'Status',
      server.desired_state !== server.status ? `${server.status} (desired: ${server.desired_state})` : server.status,
    ],
    ['Product', server.product],
    ['Region', server.region],
    ['Image', server.image],
    ['IPv4', server.ipv4],
    ['Labels', formatLabels(server.labels)],
    ['Disk', server.disk_encrypted ? 'encrypted (LUKS, AES-256-XTS)' : 'not encrypted'],
    [
      'Protection',
      [server.delete_protection && 'delete', server.rebuild_protection && 'rebuild'].filter(Boolean).join(', ') ||
        'none',
    ],
    ...(server.iso ? ([['ISO', server.iso]] as const) : []),
    ['NUMA nodes', placement ? placement.numa_nodes : null],
    ['GPUs', placement ? placement.gpus : null],
    ...(server.error ? ([['Error', server.error]] as const) : []),
    ['Project', server.project_id],
    ['Created', `${server.created_at} (${formatAge(server.created_at, nowMs)} ago)`],
    ['Updated', server.updated_at],
  ]);
}

/** Where to look up what the API refused as unknown (reasons of `invalid` from POST /v1/servers). */
const catalogHints: Record<string, string> = {
  unknown_product: 'vmcloud product list',
  unknown_region: 'vmcloud region list',
  unknown_image: 'vmcloud image list',
  product_not_in_region: 'vmcloud product list --region CODE',
};

/** The API's refusal with the catalog command that lists the valid choices appended. */
export function withCatalogHint(error: unknown): unknown {
  if (!(error instanceof VmcError) || error.reason === undefined || !(error.reason in catalogHints)) return error;
  return new VmcError(error.code, `${error.message}; see \`${catalogHints[error.reason]}\``, {
    reason: error.reason,
    fields: error.fields,
    details: error.details,
    cause: error,
  });
}

const create: Command = {
  name: 'create',
  summary: 'create a server',
  usage:
    '--name NAME --product CODE --region CODE --image SLUG [--label k=v]... [--ssh-key FILE|KEY|NAME]... [--network NAME]... [--firewall NAME]... [--user-data FILE] [--wait]',
  description:
    'Creates a server from the catalog. Products and regions are case-insensitive (vps-starter or VPS-STARTER, fra1 or FRA1).\n' +
    'Without --wait the command returns once the control plane has accepted the request and placed the server.',
  options: {
    name: { type: 'string', arg: 'NAME', help: 'server name, unique in the project' },
    product: { type: 'string', arg: 'CODE', help: 'product code or name (see `vmcloud product list`)' },
    region: { type: 'string', arg: 'CODE', help: 'region code (see `vmcloud region list`)' },
    image: { type: 'string', arg: 'SLUG', help: 'image slug or id (see `vmcloud image list`)' },
    label: { type: 'string', multiple: true, arg: 'k=v', help: 'label (or several, comma separated)' },
    'ssh-key': {
      type: 'string',
      multiple: true,
      arg: 'FILE|KEY|NAME',
      help: 'public key file, inline public key, or a saved SSH key (name or id, see `vmcloud ssh-key list`)',
    },
    network: {
      type: 'string',
      multiple: true,
      arg: 'NAME',
      help: 'attach to this private network of the region at creation (name or id)',
    },
    firewall: {
      type: 'string',
      multiple: true,
      arg: 'NAME',
      help: 'behind this firewall from its first packet (name or id)',
    },
    'user-data': { type: 'string', arg: 'FILE', help: 'cloud-init user-data file' },
    'placement-group': { type: 'string', arg: 'NAME', help: 'placement group' },
    ...waitOption,
  },
  examples: [
    'vmcloud server create --name web-1 --product vps-starter --region fra1 --image debian-12 --wait',
    'vmcloud server create --name gpu-1 --product GPU-T4 --region PAR1 --image pytorch --label team=ml --ssh-key ~/.ssh/id_ed25519.pub',
    'vmcloud server create --name web-2 --product vps-starter --region fra1 --image debian-12 --ssh-key laptop',
    'vmcloud server create --name db-1 --product vps-starter --region fra1 --image debian-12 --network backend --firewall db',
  ],
  async run(ctx, { values }) {
    const name = requiredString(values, 'name');
    const productText = requiredString(values, 'product');
    const region = normalizeRegion(requiredString(values, 'region'));
    const image = requiredString(values, 'image').trim().toLowerCase();
    const labels = parseKeyValues(stringsOf(values, 'label'), '--label');
    const sshKeys = await readSshKeys(stringsOf(values, 'ssh-key'), ctx.cwd);
    const userDataFile = stringOf(values, 'user-data');
    const userData = userDataFile === undefined ? undefined : await readUserData(userDataFile, ctx.cwd);
    const placementGroup = stringOf(values, 'placement-group');

    const client = await ctx.client();
    const product = await normalizeProduct(client, productText);
    const body: CreateServerBody = { name, product, region, image };
    if (Object.keys(labels).length > 0) body.labels = labels;
    if (sshKeys.length > 0) body.ssh_keys = sshKeys;
    if (userData !== undefined) body.user_data = userData;
    if (placementGroup !== undefined) body.placement_group = placementGroup;
    const networks = stringsOf(values, 'network').flatMap((v) =>
      v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    );
    const firewalls = stringsOf(values, 'firewall').flatMap((v) =>
      v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    );
    if (networks.length > 0) body.networks = networks;
    if (firewalls.length > 0) body.firewalls = firewalls;

    const created = await client.call(createServer, { body }).catch((error: unknown) => {
      throw withCatalogHint(error);
    });
    let server = created.server;
    let action = created.action;
    if (flagOf(values, 'wait')) {
      action = await ctx.waitForAction(client, action, { label: `create ${name}` });
      server = (await client.call(getServer, { params: { id: server.id } })).server;
    }
    if (ctx.output !== 'table') {
      ctx.out(renderData(ctx.output, { server, action }));
      return 0;
    }
    ctx.out(serverDetail(server, ctx.now()));
    if (action.status === 'running') {
      ctx.err(
        `action ${action.id} is running: follow it with \`vmcloud action show ${action.id}\` or pass --wait next time\n`,
      );
    }
    return 0;
  },
};

const list: Command = {
  name: 'list',
  summary: 'list servers',
  usage: '[--selector k=v,...] [--region CODE] [--status STATUS] [--limit N] [--all]',
  options: {
    selector: { type: 'string', short: 'l', arg: 'SELECTOR', help: 'label selector, e.g. env=prod,tier!=db' },
    region: { type: 'string', arg: 'CODE', help: 'only servers in this region' },
    status: { type: 'string', arg: 'STATUS', help: 'only servers in this status (running, stopped, …)' },
    limit: { type: 'string', arg: 'N', help: 'servers per page (1-500, default 50)' },
    cursor: { type: 'string', arg: 'CURSOR', help: 'start after this cursor (from a previous page)' },
    all: { type: 'boolean', short: 'A', help: 'fetch every page (follows next_cursor)' },
  },
  examples: ['vmcloud server list', 'vmcloud server list --selector env=prod --region fra1 --all -o json'],
  async run(ctx, { values }) {
    const region = stringOf(values, 'region');
    const limit = integerOf(values, 'limit', { min: 1, max: 500 });
    const client = await ctx.client();
    const query = {
      label_selector: stringOf(values, 'selector'),
      region: region === undefined ? undefined : normalizeRegion(region),
      status: stringOf(values, 'status')?.toLowerCase(),
      limit: limit === undefined ? undefined : String(limit),
    };
    const { items, nextCursor } = await listPages(
      async (cursor) => {
        const page = await client.call(listServers, { query: { ...query, cursor } });
        return { items: page.servers, next_cursor: page.next_cursor };
      },
      flagOf(values, 'all'),
      stringOf(values, 'cursor'),
    );
    ctx.out(renderList(ctx.output, serverColumns(ctx.now()), items, 'No servers found.'));
    if (nextCursor) ctx.err(`more servers: pass --all, or --cursor ${nextCursor} for the next page\n`);
    return 0;
  },
};

const show: Command = {
  name: 'show',
  summary: 'show one server',
  usage: 'NAME|ID',
  args: [{ name: 'NAME|ID', required: true }],
  examples: ['vmcloud server show web-1', 'vmcloud server show srv_01jbz4m6k2x0r8t3q9w5e7y1ab -o yaml'],
  async run(ctx, { positionals }) {
    const client = await ctx.client();
    const server = await resolveServer(client, positionals[0]);
    ctx.out(ctx.output === 'table' ? serverDetail(server, ctx.now()) : renderData(ctx.output, server));
    return 0;
  },
};

interface LifecycleSpec {
  name: 'start' | 'stop' | 'reboot' | 'delete';
  summary: string;
  /** Progressive form for the accepted message: `starting`. */
  doing: string;
  /** State after success: `running`. */
  done: string;
  options?: Options;
  description?: string;
}

function lifecycle(spec: LifecycleSpec): Command {
  return {
    name: spec.name,
    summary: spec.summary,
    usage: `NAME|ID${spec.options?.force ? ' [--force]' : ''} [--wait]`,
    description: spec.description,
    args: [{ name: 'NAME|ID', required: true }],
    options: { ...spec.options, ...waitOption },
    examples: [`vmcloud server ${spec.name} web-1${spec.options?.force ? ' --force' : ''} --wait`],
    async run(ctx: Context, input: Input) {
      const client = await ctx.client();
      const server = await resolveServer(client, input.positionals[0]);
      const params = { id: server.id };
      const { action } =
        spec.name === 'delete'
          ? await client.call(deleteServer, { params })
          : spec.name === 'stop'
            ? await client.call(stopServer, { params, body: { force: flagOf(input.values, 'force') } })
            : await client.call(spec.name === 'start' ? startServer : rebootServer, { params });
      return finishAction(ctx, client, action, flagOf(input.values, 'wait'), {
        label: `${spec.name} ${server.name}`,
        done: `server ${server.name} (${server.id}) ${spec.done}`,
        accepted: `${spec.doing} server ${server.name} (${server.id}): action ${action.id} ${action.status}`,
      });
    },
  };
}

const start = lifecycle({ name: 'start', summary: 'start a stopped server', doing: 'starting', done: 'running' });
const stop = lifecycle({
  name: 'stop',
  summary: 'stop a server (graceful shutdown, then forced)',
  doing: 'stopping',
  done: 'stopped',
  description: 'Asks the guest to shut down and forces it off after the grace period; --force skips the graceful step.',
  options: { force: { type: 'boolean', short: 'f', help: 'power off at once instead of a graceful shutdown' } },
});
const reboot = lifecycle({ name: 'reboot', summary: 'reboot a server', doing: 'rebooting', done: 'rebooted' });
const remove = lifecycle({
  name: 'delete',
  summary: 'delete a server and free its resources',
  doing: 'deleting',
  done: 'deleted',
});

export const serverGroup: Group = {
  name: 'server',
  summary: 'create and operate servers',
  commands: [
    create,
    list,
    show,
    start,
    stop,
    reboot,
    remove,
    resize,
    resizeOptions,
    rebuild,
    protect,
    unprotect,
    attachIsoCommand,
    detachIsoCommand,
  ],
};
