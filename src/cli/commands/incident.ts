/** `vmcloud incident create|update|resolve|list|show` (operators write; anyone reads). docs/status-page.md. */
import {
  createIncident,
  getIncident,
  incidentImpacts,
  listIncidents,
  resolveIncident,
  updateIncident,
  type CreateIncidentBody,
  type Incident,
  type IncidentImpact,
  type UpdateIncidentBody,
} from '../../contract/index.ts';
import { requiredString, stringOf, stringsOf, UsageError, type Command, type Group, type Values } from '../command.ts';
import { renderData, renderDetail, renderList, type Column } from '../output.ts';
import { listPages } from '../pagination.ts';

const openStatuses = ['investigating', 'identified', 'monitoring'] as const;
type OpenStatus = (typeof openStatuses)[number];

export const componentList = (values: Values) =>
  stringsOf(values, 'components')
    .flatMap((c) => c.split(','))
    .map((c) => c.trim())
    .filter((c) => c !== '');

function impactOf(values: Values): IncidentImpact | undefined {
  const impact = stringOf(values, 'impact');
  if (impact === undefined) return undefined;
  if (!(incidentImpacts as readonly string[]).includes(impact))
    throw new UsageError(`--impact must be one of ${incidentImpacts.join(', ')}, got "${impact}"`);
  return impact as IncidentImpact;
}

function statusOf(values: Values): OpenStatus | undefined {
  const status = stringOf(values, 'status');
  if (status === undefined) return undefined;
  if (!(openStatuses as readonly string[]).includes(status))
    throw new UsageError(
      `--status must be one of ${openStatuses.join(', ')} (resolve with "incident resolve"), got "${status}"`,
    );
  return status as OpenStatus;
}

const columns: Column<Incident>[] = [
  { header: 'id', value: (i) => i.id },
  { header: 'title', value: (i) => i.title },
  { header: 'impact', value: (i) => i.impact },
  { header: 'status', value: (i) => i.status },
  { header: 'components', value: (i) => i.components.join(',') },
  { header: 'created', value: (i) => i.created_at },
  { header: 'resolved', value: (i) => i.resolved_at },
];

export function incidentDetail(i: Incident): string {
  const head = renderDetail([
    ['ID', i.id],
    ['Title', i.title],
    ['Impact', i.impact],
    ['Status', i.status],
    ['Components', i.components.join(', ')],
    ['Created', i.created_at],
    ['Resolved', i.resolved_at],
  ]);
  const updates = i.updates.map((u) => `  ${u.at}  ${u.status}\n    ${u.body.split('\n').join('\n    ')}`).join('\n');
  return `${head}Updates (newest first):\n${updates}\n`;
}

const idArg = [{ name: 'ID', required: true }];

const create: Command = {
  name: 'create',
  summary: 'open an incident (operators)',
  usage: '--title TEXT --impact none|minor|major|critical --components ID[,ID] --message TEXT [--status STATUS]',
  options: {
    title: { type: 'string', arg: 'TEXT', help: 'what customers see' },
    impact: { type: 'string', arg: 'IMPACT', help: 'none, minor, major or critical' },
    components: {
      type: 'string',
      multiple: true,
      arg: 'IDS',
      help: 'affected components, e.g. fra1.compute,global.api',
    },
    message: { type: 'string', arg: 'TEXT', help: 'the first update' },
    status: { type: 'string', arg: 'STATUS', help: 'investigating (default), identified or monitoring' },
  },
  examples: [
    "vmcloud --profile operator incident create --title 'Slow disks in FRA1' --impact minor --components fra1.storage --message 'Investigating.'",
  ],
  async run(ctx, { values }) {
    const impact = impactOf(values);
    if (!impact) throw new UsageError('missing --impact');
    const components = componentList(values);
    if (components.length === 0) throw new UsageError('missing --components');
    const body: CreateIncidentBody = {
      title: requiredString(values, 'title'),
      impact,
      components,
      body: requiredString(values, 'message'),
    };
    const status = statusOf(values);
    if (status) body.status = status;
    const client = await ctx.client();
    const { incident } = await client.call(createIncident, { body });
    ctx.out(ctx.output === 'table' ? incidentDetail(incident) : renderData(ctx.output, incident));
    return 0;
  },
};

const update: Command = {
  name: 'update',
  summary: 'post an update: a message, and a new status, impact, components or title (operators)',
  usage: 'ID --message TEXT [--status STATUS] [--impact IMPACT] [--components IDS] [--title TEXT]',
  args: idArg,
  options: {
    message: { type: 'string', arg: 'TEXT', help: 'the update' },
    status: { type: 'string', arg: 'STATUS', help: 'investigating, identified or monitoring' },
    impact: { type: 'string', arg: 'IMPACT', help: 'none, minor, major or critical' },
    components: { type: 'string', multiple: true, arg: 'IDS', help: 'the affected components now' },
    title: { type: 'string', arg: 'TEXT', help: 'a new title' },
  },
  examples: ["vmcloud --profile operator incident update inc_… --status identified --message 'A failed switch.'"],
  async run(ctx, { positionals, values }) {
    const body: UpdateIncidentBody = { body: requiredString(values, 'message') };
    const status = statusOf(values);
    if (status) body.status = status;
    const impact = impactOf(values);
    if (impact) body.impact = impact;
    const components = componentList(values);
    if (components.length > 0) body.components = components;
    const title = stringOf(values, 'title');
    if (title !== undefined) body.title = title;
    const client = await ctx.client();
    const { incident } = await client.call(updateIncident, { params: { id: positionals[0] }, body });
    ctx.out(ctx.output === 'table' ? incidentDetail(incident) : renderData(ctx.output, incident));
    return 0;
  },
};

const resolve: Command = {
  name: 'resolve',
  summary: 'resolve an incident (operators)',
  usage: 'ID [--message TEXT]',
  args: idArg,
  options: { message: { type: 'string', arg: 'TEXT', help: 'the closing update (default: resolved)' } },
  async run(ctx, { positionals, values }) {
    const message = stringOf(values, 'message');
    const client = await ctx.client();
    const { incident } = await client.call(resolveIncident, {
      params: { id: positionals[0] },
      body: message === undefined ? {} : { body: message },
    });
    ctx.out(ctx.output === 'table' ? incidentDetail(incident) : renderData(ctx.output, incident));
    return 0;
  },
};

const list: Command = {
  name: 'list',
  summary: 'list incidents, newest first',
  usage: '[--active|--resolved]',
  options: {
    active: { type: 'boolean', help: 'only unresolved incidents' },
    resolved: { type: 'boolean', help: 'only resolved incidents' },
  },
  async run(ctx, { values }) {
    if (values.active === true && values.resolved === true)
      throw new UsageError('--active and --resolved exclude each other');
    const state = values.active === true ? 'active' : values.resolved === true ? 'resolved' : undefined;
    const client = await ctx.client();
    const { items } = await listPages(
      async (cursor) => {
        const page = await client.call(listIncidents, { query: { cursor, ...(state ? { state } : {}) } });
        return { items: page.incidents, next_cursor: page.next_cursor };
      },
      true,
      undefined,
    );
    ctx.out(renderList(ctx.output, columns, items, 'No incidents.'));
    return 0;
  },
};

const show: Command = {
  name: 'show',
  summary: 'show an incident with its updates',
  usage: 'ID',
  args: idArg,
  async run(ctx, { positionals }) {
    const client = await ctx.client();
    const { incident } = await client.call(getIncident, { params: { id: positionals[0] } });
    ctx.out(ctx.output === 'table' ? incidentDetail(incident) : renderData(ctx.output, incident));
    return 0;
  },
};

export const incidentGroup: Group = {
  name: 'incident',
  summary: 'incidents on the status page (operators write; anyone reads)',
  commands: [create, update, resolve, list, show],
};
