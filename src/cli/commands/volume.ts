/** `vmcloud volume create|list|show|attach|detach|resize|delete`. */
import { VmcError } from '../../core/errors.ts';
import {
  attachVolume,
  createVolume,
  deleteVolume,
  detachVolume,
  getVolume,
  listVolumes,
  resizeVolume,
  volumeMaxSizeGiB,
  type CreateVolumeBody,
  type Volume,
} from '../../contract/index.ts';
import {
  flagOf,
  integerOf,
  parseKeyValues,
  requiredString,
  stringOf,
  stringsOf,
  type Command,
  type Group,
  type Options,
} from '../command.ts';
import { formatAge, formatLabels, renderData, renderDetail, type Column } from '../output.ts';
import { listCommand, regionQuery, selectorFilter } from '../list-command.ts';
import { normalizeRegion } from '../resolve.ts';
import { finishAction, waitOption } from './action.ts';

export function volumeColumns(nowMs: number): Column<Volume>[] {
  return [
    { header: 'name', value: (v) => v.name },
    { header: 'id', value: (v) => v.id },
    { header: 'status', value: (v) => v.status },
    { header: 'size', value: (v) => `${v.size_gib} GiB`, align: 'right' },
    { header: 'region', value: (v) => v.region },
    { header: 'server', value: (v) => v.server_id },
    { header: 'labels', value: (v) => formatLabels(v.labels) },
    { header: 'age', value: (v) => formatAge(v.created_at, nowMs), align: 'right' },
  ];
}

export function volumeDetail(volume: Volume, nowMs: number): string {
  return renderDetail([
    ['Name', volume.name],
    ['ID', volume.id],
    ['Status', volume.status],
    ['Size', `${volume.size_gib} GiB`],
    ['Region', volume.region],
    ['Backend', volume.backend],
    ['Encrypted', volume.encrypted ? 'yes (LUKS, AES-256-XTS)' : 'no'],
    ['Server', volume.server_id],
    ...(volume.host_id ? ([['Host', volume.host_id]] as const) : []),
    ['Labels', formatLabels(volume.labels)],
    ...(volume.error ? ([['Error', volume.error]] as const) : []),
    ...(volume.source ? ([['Source', sourceText(volume.source)]] as const) : []),
    ['Project', volume.project_id],
    ['Created', `${volume.created_at} (${formatAge(volume.created_at, nowMs)} ago)`],
    ['Updated', volume.updated_at],
  ]);
}

/** `backup bkp_…` or `snapshot snap-1 of srv_…`. */
function sourceText(source: NonNullable<Volume['source']>): string {
  return source.kind === 'backup' ? `backup ${source.backup_id}` : `snapshot ${source.snapshot} of ${source.server_id}`;
}

/** `SERVER:SNAPSHOT` of `--from-snapshot` (the server by id or name; a snapshot name has no colon). */
function parseSnapshotRef(text: string): { server: string; name: string } {
  const at = text.lastIndexOf(':');
  const server = at > 0 ? text.slice(0, at).trim() : '';
  const name = at > 0 ? text.slice(at + 1).trim() : '';
  if (!server || !name)
    throw new VmcError('invalid', '--from-snapshot takes SERVER:SNAPSHOT (e.g. web-1:snap-1)', {
      fields: [{ field: 'from-snapshot', message: 'SERVER:SNAPSHOT' }],
    });
  return { server, name };
}

/** The API takes a volume's id or its name in the path. */
const volumeRef = (text: string) => text.trim();

const sizeOption = (help: string): Options => ({ 'size-gib': { type: 'string', arg: 'GIB', help } });

const create: Command = {
  name: 'create',
  summary: 'create a volume',
  usage:
    '--name NAME --region CODE (--size-gib GIB | --from-backup ID [--backup-volume VOL] [--server SERVER] | --from-snapshot SERVER:SNAPSHOT) [--label k=v]... [--wait]',
  description:
    'Creates an empty volume. A local volume is placed on a host when first attached (on the server’s host).\n' +
    'Operators may pass --project and --host to create it on a named host at once.\n' +
    'With --from-backup (a backup with a copy in the region) or --from-snapshot (a disk snapshot of a server of\n' +
    'the region) the volume is filled with that disk, placed at once (the server’s host for a snapshot), and\n' +
    '--size-gib is optional (default: the source disk’s size). --backup-volume picks one of the volumes the\n' +
    'backup holds (`vmcloud backup show`) instead of the server’s disk.',
  options: {
    name: { type: 'string', arg: 'NAME', help: 'volume name, unique in the project' },
    ...sizeOption(`size in GiB (1-${volumeMaxSizeGiB})`),
    region: { type: 'string', arg: 'CODE', help: 'region code (see `vmcloud region list`)' },
    label: { type: 'string', multiple: true, arg: 'k=v', help: 'label (or several, comma separated)' },
    project: { type: 'string', arg: 'ID', help: 'operators: the project of the volume' },
    host: { type: 'string', arg: 'HOST', help: 'operators: create it on this host (name or id)' },
    'from-backup': { type: 'string', arg: 'ID', help: 'fill it with this backup of a server disk (bkp_…)' },
    server: {
      type: 'string',
      arg: 'SERVER',
      help: 'with --from-backup: make it on this server’s host and attach it once filled',
    },
    'backup-volume': {
      type: 'string',
      arg: 'VOL',
      help: 'with --from-backup: this volume of the backup (vol_…) instead of the server disk',
    },
    'from-snapshot': {
      type: 'string',
      arg: 'SERVER:SNAPSHOT',
      help: 'fill it with this disk snapshot of a server (server id or name)',
    },
    ...waitOption,
  },
  examples: [
    'vmcloud volume create --name vol-1 --size-gib 10 --region fra1 --wait',
    'vmcloud volume create --name restored --region fra1 --from-backup bkp_01… --wait',
    'vmcloud volume create --name copy --region fra1 --from-snapshot web-1:snap-1 --size-gib 100 --wait',
  ],
  async run(ctx, { values }) {
    const name = requiredString(values, 'name');
    const size = integerOf(values, 'size-gib', { min: 1, max: volumeMaxSizeGiB });
    const fromBackup = stringOf(values, 'from-backup');
    const fromSnapshot = stringOf(values, 'from-snapshot');
    if (size === undefined && fromBackup === undefined && fromSnapshot === undefined)
      throw new VmcError('invalid', '--size-gib is required (unless --from-backup or --from-snapshot)', {
        fields: [{ field: 'size-gib', message: 'required' }],
      });
    const body: CreateVolumeBody = { name, region: normalizeRegion(requiredString(values, 'region')) };
    if (size !== undefined) body.size_gib = size;
    if (fromBackup !== undefined) body.from_backup = fromBackup.trim();
    const backupVolume = stringOf(values, 'backup-volume');
    if (backupVolume !== undefined) body.backup_volume_id = backupVolume.trim();
    const forServer = stringOf(values, 'server');
    if (forServer !== undefined) body.server = forServer.trim();
    if (fromSnapshot !== undefined) body.from_snapshot = parseSnapshotRef(fromSnapshot);
    const labels = parseKeyValues(stringsOf(values, 'label'), '--label');
    if (Object.keys(labels).length > 0) body.labels = labels;
    const project = stringOf(values, 'project');
    const host = stringOf(values, 'host');
    if (project !== undefined) body.project_id = project;
    if (host !== undefined) body.host = host;
    const client = await ctx.client();
    const created = await client.call(createVolume, { body });
    let { volume, action } = created;
    if (flagOf(values, 'wait') && action.status === 'running') {
      action = await ctx.waitForAction(client, action, { label: `create ${name}` });
      volume = (await client.call(getVolume, { params: { id: volume.id } })).volume;
    }
    ctx.out(ctx.output === 'table' ? volumeDetail(volume, ctx.now()) : renderData(ctx.output, { volume, action }));
    return action.status === 'error' ? 1 : 0;
  },
};

const list = listCommand({
  plural: 'volumes',
  summary: 'list volumes',
  usage: '[--selector k=v,...] [--region CODE] [--server ID] [--limit N] [--all]',
  filters: {
    ...selectorFilter,
    region: { type: 'string', arg: 'CODE', help: 'only volumes in this region' },
    server: { type: 'string', arg: 'ID', help: 'only volumes attached to this server (id)' },
  },
  examples: ['vmcloud volume list', 'vmcloud volume list --region fra1 -o json'],
  query: (values) => ({
    label_selector: stringOf(values, 'selector'),
    region: regionQuery(values),
    server_id: stringOf(values, 'server'),
  }),
  page: async (client, query) => {
    const page = await client.call(listVolumes, { query });
    return { items: page.volumes, next_cursor: page.next_cursor };
  },
  columns: volumeColumns,
});

const show: Command = {
  name: 'show',
  summary: 'show one volume',
  usage: 'NAME|ID',
  args: [{ name: 'NAME|ID', required: true }],
  examples: ['vmcloud volume show vol-1'],
  async run(ctx, { positionals }) {
    const client = await ctx.client();
    const { volume } = await client.call(getVolume, { params: { id: volumeRef(positionals[0]) } });
    ctx.out(ctx.output === 'table' ? volumeDetail(volume, ctx.now()) : renderData(ctx.output, volume));
    return 0;
  },
};

const attach: Command = {
  name: 'attach',
  summary: 'attach a volume to a server of its region (hot-plugged when running)',
  usage: 'NAME|ID --server NAME|ID [--wait]',
  args: [{ name: 'NAME|ID', required: true }],
  options: { server: { type: 'string', arg: 'NAME|ID', help: 'the server' }, ...waitOption },
  examples: ['vmcloud volume attach vol-1 --server web-1 --wait'],
  async run(ctx, { positionals, values }) {
    const server = requiredString(values, 'server');
    const ref = volumeRef(positionals[0]);
    const client = await ctx.client();
    const { action } = await client.call(attachVolume, { params: { id: ref }, body: { server } });
    return finishAction(ctx, client, action, flagOf(values, 'wait'), {
      label: `attach ${ref}`,
      done: `volume ${ref} attached to ${server}`,
      accepted: `attaching volume ${ref} to ${server}: action ${action.id} ${action.status}`,
    });
  },
};

const detach: Command = {
  name: 'detach',
  summary: 'detach a volume from its server',
  usage: 'NAME|ID [--wait]',
  args: [{ name: 'NAME|ID', required: true }],
  options: waitOption,
  examples: ['vmcloud volume detach vol-1 --wait'],
  async run(ctx, { positionals, values }) {
    const ref = volumeRef(positionals[0]);
    const client = await ctx.client();
    const { action } = await client.call(detachVolume, { params: { id: ref } });
    return finishAction(ctx, client, action, flagOf(values, 'wait'), {
      label: `detach ${ref}`,
      done: `volume ${ref} detached`,
      accepted: `detaching volume ${ref}: action ${action.id} ${action.status}`,
    });
  },
};

const resize: Command = {
  name: 'resize',
  summary: 'grow a volume (online when attached)',
  usage: 'NAME|ID --size-gib GIB [--wait]',
  args: [{ name: 'NAME|ID', required: true }],
  options: { ...sizeOption('the new, larger size in GiB'), ...waitOption },
  examples: ['vmcloud volume resize vol-1 --size-gib 20 --wait'],
  async run(ctx, { positionals, values }) {
    const size = integerOf(values, 'size-gib', { min: 1, max: volumeMaxSizeGiB });
    if (size === undefined)
      throw new VmcError('invalid', '--size-gib is required', { fields: [{ field: 'size-gib', message: 'required' }] });
    const ref = volumeRef(positionals[0]);
    const client = await ctx.client();
    const { action } = await client.call(resizeVolume, { params: { id: ref }, body: { size_gib: size } });
    return finishAction(ctx, client, action, flagOf(values, 'wait'), {
      label: `resize ${ref}`,
      done: `volume ${ref} is ${size} GiB`,
      accepted: `growing volume ${ref} to ${size} GiB: action ${action.id} ${action.status}`,
    });
  },
};

const remove: Command = {
  name: 'delete',
  summary: 'delete a volume and its data (refused while attached)',
  usage: 'NAME|ID [--wait]',
  args: [{ name: 'NAME|ID', required: true }],
  options: waitOption,
  examples: ['vmcloud volume delete vol-1 --wait'],
  async run(ctx, { positionals, values }) {
    const ref = volumeRef(positionals[0]);
    const client = await ctx.client();
    const { action } = await client.call(deleteVolume, { params: { id: ref } });
    return finishAction(ctx, client, action, flagOf(values, 'wait'), {
      label: `delete ${ref}`,
      done: `volume ${ref} deleted`,
      accepted: `deleting volume ${ref}: action ${action.id} ${action.status}`,
    });
  },
};

export const volumeGroup: Group = {
  name: 'volume',
  summary: 'create, attach, grow and delete volumes',
  commands: [create, list, show, attach, detach, resize, remove],
};
