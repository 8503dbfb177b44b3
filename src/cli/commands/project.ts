/** `vmcloud project show`: the token's project, its quotas and usage. */
import { getProject, type Project } from '../../contract/index.ts';
import type { Command, Group } from '../command.ts';
import { renderData, renderDetail, renderTable } from '../output.ts';

export function projectDetail(project: Project): string {
  const rows = (['servers', 'vcpus', 'gpus', 'volumes', 'volume_gib', 'custom_images'] as const).map((resource) => ({
    resource,
    used: project.usage[resource],
    quota: project.quotas[resource],
  }));
  return (
    renderDetail([
      ['Project', project.name],
      ['ID', project.id],
      ['Your role', project.role],
    ]) +
    '\n' +
    renderTable(
      [
        { header: 'resource', value: (r) => r.resource },
        { header: 'used', value: (r) => r.used, align: 'right' },
        { header: 'quota', value: (r) => r.quota, align: 'right' },
      ],
      rows,
    )
  );
}

const show: Command = {
  name: 'show',
  summary: 'show the project of the token with quotas and usage',
  usage: '',
  examples: ['vmcloud project show'],
  async run(ctx) {
    const client = await ctx.client();
    const { project } = await client.call(getProject);
    ctx.out(ctx.output === 'table' ? projectDetail(project) : renderData(ctx.output, project));
    return 0;
  },
};

export const projectGroup: Group = { name: 'project', summary: 'your project: quotas and usage', commands: [show] };
