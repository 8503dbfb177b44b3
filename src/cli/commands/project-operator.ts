/**
 * The operators' verbs of `vmcloud project`: `list` every project, `show ID` one of them, `create` a project
 * with its owner (the owner token's secret shown once), `quotas ID` to change its quotas.
 */
import {
  createProject,
  getOperatorProject,
  listProjects,
  setProjectQuotas,
  type OperatorProject,
  type ProjectCounts,
  type QuotasPatch,
} from '../../contract/index.ts';
import { integerOf, requiredString, stringOf, type Command, type Options, type Values } from '../command.ts';
import { listCommand } from '../list-command.ts';
import { formatAge, renderData, renderDetail, renderTable } from '../output.ts';

const resources = ['servers', 'vcpus', 'gpus', 'volumes', 'volume_gib', 'custom_images'] as const;

/** Each resource's usage beside its quota. */
export function quotaTable(quotas: ProjectCounts, usage: ProjectCounts): string {
  return renderTable(
    [
      { header: 'resource', value: (r) => r },
      { header: 'used', value: (r) => usage[r], align: 'right' },
      { header: 'quota', value: (r) => quotas[r], align: 'right' },
    ],
    [...resources],
  );
}

function operatorProjectDetail(project: OperatorProject): string {
  return (
    renderDetail([
      ['Project', project.name],
      ['ID', project.id],
      ['Owners', project.owners.map((o) => o.email).join(', ') || '—'],
      ['Members', String(project.members)],
      ['Created', project.created_at],
    ]) +
    '\n' +
    quotaTable(project.quotas, project.usage)
  );
}

/** `--servers N`, `--vcpus N`… as a quotas patch (the options given only). */
const quotaOptions: Options = Object.fromEntries(
  resources.map((r) => [
    r.replace('_', '-'),
    { type: 'string', arg: 'N', help: `the ${r.replace('_', ' ')} quota` } as const,
  ]),
);
function quotasOf(values: Values): QuotasPatch {
  const patch: QuotasPatch = {};
  for (const r of resources) {
    const value = integerOf(values, r.replace('_', '-'), {
      min: 0,
      max: r === 'volume_gib' ? 1_000_000_000 : 1_000_000,
    });
    if (value !== undefined) patch[r] = value;
  }
  return patch;
}

export const projectList = listCommand<OperatorProject>({
  plural: 'projects',
  summary: 'list every project with its owners, usage and quotas (operators)',
  usage: '[--name TEXT] [--limit N] [--all]',
  filters: { name: { type: 'string', arg: 'TEXT', help: 'only projects whose name contains this (any case)' } },
  examples: ['vmcloud --profile operator project list', 'vmcloud --profile operator project list --name acme'],
  query: (values) => ({ name: stringOf(values, 'name') }),
  page: async (client, query) => {
    const page = await client.call(listProjects, { query });
    return { items: page.projects, next_cursor: page.next_cursor };
  },
  columns: (nowMs) => [
    { header: 'id', value: (p) => p.id },
    { header: 'name', value: (p) => p.name },
    { header: 'owners', value: (p) => p.owners.map((o) => o.email).join(',') || '—' },
    { header: 'members', value: (p) => p.members, align: 'right' },
    { header: 'servers', value: (p) => `${p.usage.servers}/${p.quotas.servers}`, align: 'right' },
    { header: 'vcpus', value: (p) => `${p.usage.vcpus}/${p.quotas.vcpus}`, align: 'right' },
    { header: 'gpus', value: (p) => `${p.usage.gpus}/${p.quotas.gpus}`, align: 'right' },
    { header: 'age', value: (p) => formatAge(p.created_at, nowMs), align: 'right' },
  ],
});

/** `project show ID` (operators): any project. */
export async function showOperatorProject(ctx: Parameters<Command['run']>[0], id: string): Promise<number> {
  const { project } = await (await ctx.client()).call(getOperatorProject, { params: { id: id.trim() } });
  ctx.out(ctx.output === 'table' ? operatorProjectDetail(project) : renderData(ctx.output, project));
  return 0;
}

export const projectCreate: Command = {
  name: 'create',
  summary: "create a project and its owner; prints the owner token's secret once (operators)",
  usage: 'NAME --owner EMAIL [--servers N] [--vcpus N] [--gpus N] [--volumes N] [--volume-gib N] [--custom-images N]',
  args: [{ name: 'NAME', required: true }],
  options: {
    owner: { type: 'string', arg: 'EMAIL', help: 'the owner (a user is made for a new address)' },
    ...quotaOptions,
  },
  examples: ['vmcloud --profile operator project create acme --owner ops@acme.example --servers 20 --vcpus 64'],
  async run(ctx, { positionals, values }) {
    const body = { name: positionals[0], owner_email: requiredString(values, 'owner'), quotas: quotasOf(values) };
    const created = await (await ctx.client()).call(createProject, { body });
    if (ctx.output !== 'table') {
      ctx.out(renderData(ctx.output, created));
      return 0;
    }
    ctx.out(
      [
        `project ${created.project_id} (${body.name}) created, owned by ${body.owner_email}`,
        `Owner token (shown once, pass it on to them): ${created.secret}`,
        '',
      ].join('\n'),
    );
    return 0;
  },
};

export const projectQuotas: Command = {
  name: 'quotas',
  summary: "change a project's quotas: only those given (operators)",
  usage: 'ID [--servers N] [--vcpus N] [--gpus N] [--volumes N] [--volume-gib N] [--custom-images N]',
  args: [{ name: 'ID', required: true }],
  options: quotaOptions,
  examples: ['vmcloud --profile operator project quotas prj_… --servers 50 --gpus 4'],
  async run(ctx, { positionals, values }) {
    const client = await ctx.client();
    const id = positionals[0].trim();
    await client.call(setProjectQuotas, { params: { id }, body: quotasOf(values) });
    const { project } = await client.call(getOperatorProject, { params: { id } });
    ctx.out(ctx.output === 'table' ? operatorProjectDetail(project) : renderData(ctx.output, project));
    return 0;
  },
};
