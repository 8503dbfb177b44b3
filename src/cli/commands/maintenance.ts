/** `vmcloud maintenance create|cancel|list|show` (operators write; anyone reads). docs/status-page.md. */
import {
  cancelMaintenance,
  createMaintenance,
  getMaintenance,
  listMaintenances,
  type CreateMaintenanceBody,
  type Maintenance,
} from '../../contract/index.ts';
import { requiredString, stringOf, UsageError, type Command, type Group } from '../command.ts';
import { renderData, renderDetail, renderList, type Column } from '../output.ts';
import { listPages } from '../pagination.ts';
import { componentList } from './incident.ts';

const columns: Column<Maintenance>[] = [
  { header: 'id', value: (m) => m.id },
  { header: 'title', value: (m) => m.title },
  { header: 'status', value: (m) => m.status },
  { header: 'starts', value: (m) => m.starts_at },
  { header: 'ends', value: (m) => m.ends_at },
  { header: 'components', value: (m) => m.components.join(',') },
];

const detail = (m: Maintenance) =>
  renderDetail([
    ['ID', m.id],
    ['Title', m.title],
    ['Status', m.status],
    ['Window', `${m.starts_at} → ${m.ends_at}`],
    ['Components', m.components.join(', ')],
    ['Details', m.body || null],
    ['Cancelled', m.cancelled_at],
  ]);

/** An ISO 8601 time with its zone, as the API wants it. */
function timeOf(text: string, flag: string): string {
  const ms = Date.parse(text);
  if (!/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(text) || Number.isNaN(ms) || !/(Z|[+-]\d{2}:?\d{2})$/i.test(text))
    throw new UsageError(`--${flag} must be an ISO 8601 time with a zone, e.g. 2030-05-01T22:00:00Z, got "${text}"`);
  return new Date(ms).toISOString();
}

const create: Command = {
  name: 'create',
  summary: 'announce a maintenance window (operators)',
  usage: '--title TEXT --components ID[,ID] --starts TIME --ends TIME [--message TEXT]',
  options: {
    title: { type: 'string', arg: 'TEXT', help: 'what customers see' },
    components: { type: 'string', multiple: true, arg: 'IDS', help: 'components in maintenance, e.g. lon1.compute' },
    starts: { type: 'string', arg: 'TIME', help: 'start, ISO 8601 with a zone (2030-05-01T22:00:00Z)' },
    ends: { type: 'string', arg: 'TIME', help: 'end, ISO 8601 with a zone' },
    message: { type: 'string', arg: 'TEXT', help: 'details' },
  },
  examples: [
    "vmcloud --profile operator maintenance create --title 'LON1 network upgrade' --components lon1.network,lon1.compute --starts 2030-05-01T22:00:00Z --ends 2030-05-02T02:00:00Z",
  ],
  async run(ctx, { values }) {
    const components = componentList(values);
    if (components.length === 0) throw new UsageError('missing --components');
    const body: CreateMaintenanceBody = {
      title: requiredString(values, 'title'),
      components,
      starts_at: timeOf(requiredString(values, 'starts'), 'starts'),
      ends_at: timeOf(requiredString(values, 'ends'), 'ends'),
    };
    const message = stringOf(values, 'message');
    if (message !== undefined) body.body = message;
    const client = await ctx.client();
    const { maintenance } = await client.call(createMaintenance, { body });
    ctx.out(ctx.output === 'table' ? detail(maintenance) : renderData(ctx.output, maintenance));
    return 0;
  },
};

const cancel: Command = {
  name: 'cancel',
  summary: 'cancel a maintenance that has not ended (operators)',
  usage: 'ID',
  args: [{ name: 'ID', required: true }],
  async run(ctx, { positionals }) {
    const client = await ctx.client();
    const { maintenance } = await client.call(cancelMaintenance, { params: { id: positionals[0] } });
    ctx.out(ctx.output === 'table' ? detail(maintenance) : renderData(ctx.output, maintenance));
    return 0;
  },
};

const list: Command = {
  name: 'list',
  summary: 'list maintenances, newest first',
  usage: '[--upcoming|--past]',
  options: {
    upcoming: { type: 'boolean', help: 'scheduled or in progress' },
    past: { type: 'boolean', help: 'completed or cancelled' },
  },
  async run(ctx, { values }) {
    if (values.upcoming === true && values.past === true)
      throw new UsageError('--upcoming and --past exclude each other');
    const state = values.upcoming === true ? 'upcoming' : values.past === true ? 'past' : undefined;
    const client = await ctx.client();
    const { items } = await listPages(
      async (cursor) => {
        const page = await client.call(listMaintenances, { query: { cursor, ...(state ? { state } : {}) } });
        return { items: page.maintenances, next_cursor: page.next_cursor };
      },
      true,
      undefined,
    );
    ctx.out(renderList(ctx.output, columns, items, 'No maintenances.'));
    return 0;
  },
};

const show: Command = {
  name: 'show',
  summary: 'show a maintenance',
  usage: 'ID',
  args: [{ name: 'ID', required: true }],
  async run(ctx, { positionals }) {
    const client = await ctx.client();
    const { maintenance } = await client.call(getMaintenance, { params: { id: positionals[0] } });
    ctx.out(ctx.output === 'table' ? detail(maintenance) : renderData(ctx.output, maintenance));
    return 0;
  },
};

export const maintenanceGroup: Group = {
  name: 'maintenance',
  summary: 'maintenance windows on the status page (operators write; anyone reads)',
  commands: [create, cancel, list, show],
};
